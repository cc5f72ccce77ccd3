package qemuopt

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseFlag(t *testing.T) {
	for _, tc := range []struct {
		flag, arg string
		want      []Item
		err       bool
	}{
		{"-device", "AC97,audiodev=a", []Item{{"driver", "AC97"}, {"audiodev", "a"}}, false},
		{"-machine", "virt,dumpdtb=x", []Item{{"type", "virt"}, {"dumpdtb", "x"}}, false},
		{"-m", "512", []Item{{"size", "512"}}, false},
		{"-smp", "1,sockets=1", []Item{{"cpus", "1"}, {"sockets", "1"}}, false},
		{"-icount", "auto,sleep=on", []Item{{"shift", "auto"}, {"sleep", "on"}}, false},
		{"-chardev", "socket,id=c,path=/s", []Item{{"backend", "socket"}, {"id", "c"}, {"path", "/s"}}, false},
		{"-audiodev", "none,id=a", []Item{{"driver", "none"}, {"id", "a"}}, false},
		{"-object", "memory-backend-ram,id=m,size=1M", []Item{{"qom-type", "memory-backend-ram"}, {"id", "m"}, {"size", "1M"}}, false},
		{"-drive", "file=a.img,if=none,id=d0", []Item{{"file", "a.img"}, {"if", "none"}, {"id", "d0"}}, false},
		{"-drive", "a.img", []Item{{"a.img", "on"}}, false},
		{"-global", "virtio-blk-device.num-queues=2", []Item{{"driver", "virtio-blk-device"}, {"property", "num-queues"}, {"value", "2"}}, false},
		{"-global", "isa-fdc.driveA=a,,b", []Item{{"driver", "isa-fdc"}, {"property", "driveA"}, {"value", "a,,b"}}, false},
		{"-global", "driver=AC97,property=x,value=1", []Item{{"driver", "AC97"}, {"property", "x"}, {"value", "1"}}, false},
		{"-object", "rng,flag", nil, true},
		{"-nosuch", "x", nil, true},
	} {
		o, err := ParseFlag(tc.flag, tc.arg)
		if tc.err {
			if err == nil {
				t.Errorf("%s %s: no error", tc.flag, tc.arg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tc.flag, tc.arg, err)
			continue
		}
		if d := cmp.Diff(tc.want, o.Items, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", tc.flag, tc.arg, d)
		}
		if o.Flag != tc.flag || o.Raw != tc.arg {
			t.Errorf("%s %s: Flag %q Raw %q", tc.flag, tc.arg, o.Flag, o.Raw)
		}
	}
}

func TestMustParseFlagAndClone(t *testing.T) {
	opts := MustParseFlag("-device", "AC97", "ivshmem-plain,memdev=m")
	if len(opts) != 2 || opts[1].String("memdev", "") != "m" {
		t.Fatalf("MustParseFlag = %+v", opts)
	}
	c := opts[1].Clone()
	c.Items[1].Value = "changed"
	if opts[1].String("memdev", "") != "m" || c.String("memdev", "") != "changed" {
		t.Error("Clone shares its items")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParseFlag of a bad argument did not panic")
		}
	}()
	MustParseFlag("-object", "x,bad")
}
