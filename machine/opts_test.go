package machine

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDeviceOpt(t *testing.T) {
	tests := []struct {
		in      string
		want    DeviceOpt
		wantErr string
	}{
		{in: "AC97", want: DeviceOpt{Name: "AC97", Props: map[string]string{}}},
		{in: "AC97,audiodev=snd0,addr=3", want: DeviceOpt{Name: "AC97", Keys: []string{"audiodev", "addr"},
			Props: map[string]string{"audiodev": "snd0", "addr": "3"}}},
		{in: "driver=ivshmem-plain,memdev=hm", want: DeviceOpt{Name: "ivshmem-plain", Keys: []string{"memdev"},
			Props: map[string]string{"memdev": "hm"}}},
		{in: "x,path=a,,b,flag", want: DeviceOpt{Name: "x", Keys: []string{"path", "flag"},
			Props: map[string]string{"path": "a,b", "flag": "on"}}},
		{in: "", wantErr: "no device name"},
		{in: "a=b", wantErr: "no device name"},
		{in: "x,=3", wantErr: "empty option name"},
		{in: "x,a=1,a=2", wantErr: "given twice"},
	}
	for _, tc := range tests {
		got, err := ParseDeviceOpt(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		tc.want.Raw = tc.in
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestCheck(t *testing.T) {
	o, _ := ParseDeviceOpt("AC97,audiodev=a,bogus=1")
	if err := o.Check("audiodev", "addr"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("Check = %v, want error naming bogus", err)
	}
	if err := o.Check("audiodev", "bogus"); err != nil {
		t.Errorf("Check = %v, want nil", err)
	}
}
