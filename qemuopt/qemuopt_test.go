package qemuopt

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		syn     Syntax
		arg     string
		implied string
		want    []Item
		help    bool
		err     bool
	}{
		// QemuOpts (util/qemu-option.c get_opt_name_value).
		{QemuOpts, "AC97,audiodev=snd0", "driver", []Item{{"driver", "AC97"}, {"audiodev", "snd0"}}, false, false},
		{QemuOpts, "driver=AC97,addr=3", "driver", []Item{{"driver", "AC97"}, {"addr", "3"}}, false, false},
		{QemuOpts, "virt,dumpdtb=a,,b.dtb", "type", []Item{{"type", "virt"}, {"dumpdtb", "a,b.dtb"}}, false, false},
		{QemuOpts, "x,,y,k=v", "type", []Item{{"type", "x,y"}, {"k", "v"}}, false, false},
		{QemuOpts, "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0", "driver",
			[]Item{{"driver", "virtio-blk-device"}, {"drive", "x0"}, {"bus", "virtio-mmio-bus.0"}}, false, false},
		{QemuOpts, "AC97,flag,noother", "driver", []Item{{"driver", "AC97"}, {"flag", "on"}, {"other", "off"}}, false, false},
		{QemuOpts, "AC97,help", "driver", []Item{{"driver", "AC97"}}, true, false},
		{QemuOpts, "help", "driver", nil, true, false},
		{QemuOpts, "?", "type", nil, true, false},
		{QemuOpts, "file=fs.img,if=none,format=raw,id=x0", "", []Item{{"file", "fs.img"}, {"if", "none"}, {"format", "raw"}, {"id", "x0"}}, false, false},
		{QemuOpts, "a=1,a=2", "", []Item{{"a", "1"}, {"a", "2"}}, false, false},
		{QemuOpts, "k=", "", []Item{{"k", ""}}, false, false},
		{QemuOpts, "=v", "", nil, false, true},
		{QemuOpts, "a,,b=1", "", nil, false, true},
		// keyval (util/keyval.c).
		{Keyval, "wav,id=snd0,path=out.wav,out.frequency=48000", "driver",
			[]Item{{"driver", "wav"}, {"id", "snd0"}, {"path", "out.wav"}, {"out.frequency", "48000"}}, false, false},
		{Keyval, "memory-backend-file,id=m,size=1M,mem-path=/dev/shm/a,,b", "qom-type",
			[]Item{{"qom-type", "memory-backend-file"}, {"id", "m"}, {"size", "1M"}, {"mem-path", "/dev/shm/a,b"}}, false, false},
		{Keyval, "help", "driver", nil, true, false},
		{Keyval, "wav,flag", "driver", nil, false, true},
		{Keyval, "wav,out..x=1", "driver", nil, false, true},
		{Keyval, "wav,a b=1", "driver", nil, false, true},
	} {
		var o *Opts
		var err error
		if tc.syn == Keyval {
			o, err = ParseKeyval("-x", tc.arg, tc.implied)
		} else {
			o, err = Parse("-x", tc.arg, tc.implied)
		}
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error, got %+v", tc.arg, o.Items)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.arg, err)
			continue
		}
		if d := cmp.Diff(tc.want, o.Items, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%q: items (-want +got):\n%s", tc.arg, d)
		}
		if o.Help != tc.help {
			t.Errorf("%q: Help = %v", tc.arg, o.Help)
		}
	}
}

func TestAccessors(t *testing.T) {
	o, err := Parse("-device", "AC97,a=1,a=2,on=yes,sz=1.5k,n=0x10", "driver")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := o.Get("a"); v != "2" {
		t.Errorf("last value wins: got %q", v)
	}
	if b, err := o.Bool("on", false); err != nil || !b {
		t.Errorf("Bool = %v, %v", b, err)
	}
	if b, err := o.Bool("absent", true); err != nil || !b {
		t.Errorf("Bool default = %v, %v", b, err)
	}
	if n, err := o.Size("sz", 0); err != nil || n != 1536 {
		t.Errorf("Size = %v, %v", n, err)
	}
	if n, err := o.Uint("n", 0); err != nil || n != 16 {
		t.Errorf("Uint = %v, %v", n, err)
	}
	o.Get("driver")
	if err := o.Unused(); err != nil {
		t.Errorf("Unused after reading every key: %v", err)
	}
	if err := o.Check("driver", "a", "on", "sz"); err == nil || err.Error() != `-device AC97,a=1,a=2,on=yes,sz=1.5k,n=0x10: unknown parameter "n" (known: a, driver, on, sz)` {
		t.Errorf("Check: %v", err)
	}
	if _, err := o.Bool("sz", false); err == nil {
		t.Error("Bool of 1.5k: no error")
	}
	o2, _ := Parse("-device", "AC97,typo=1", "driver")
	o2.Get("driver")
	if err := o2.Unused(); err == nil {
		t.Error("Unused: no error for an unread key")
	}
}

func TestParseBool(t *testing.T) {
	for s, want := range map[string]bool{"on": true, "yes": true, "true": true, "y": true, "off": false, "no": false, "false": false, "n": false} {
		if got, err := ParseBool(s); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "1", "0", "ON", "enable"} {
		if _, err := ParseBool(s); err == nil {
			t.Errorf("ParseBool(%q): no error", s)
		}
	}
}

// The cases follow QEMU's tests/unit/test-cutils.c test_qemu_strtosz_*.
func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		s    string
		unit byte
		want uint64
	}{
		{"0", 'B', 0},
		{"12345", 'B', 12345},
		{"12345B", 'B', 12345},
		{"1K", 'B', 1 << 10},
		{"1k", 'B', 1 << 10},
		{"1M", 'B', 1 << 20},
		{"1G", 'B', 1 << 30},
		{"1T", 'B', 1 << 40},
		{"1P", 'B', 1 << 50},
		{"1E", 'B', 1 << 60},
		{"1.5G", 'B', 3 << 29},
		{"12.345M", 'B', 12944670}, // 12.345 * 2^20 truncated
		{"1.k", 'B', 1024},
		{"0x20", 'B', 32},
		{"0x20", 'M', 32 << 20},
		{"512", 'M', 512 << 20},
		{"512M", 'M', 512 << 20},
		{"1G", 'M', 1 << 30},
		{"1024K", 'M', 1 << 20},
		{"15E", 'B', 15 << 60},
	} {
		got, err := ParseSize(tc.s, tc.unit)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q, %c) = %d, %v; want %d", tc.s, tc.unit, got, err, tc.want)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1e3", "1Q", "1KB", "0x1.8", "0x20M", "16E", "18446744073709551616", ".", "1 M", "M"} {
		if got, err := ParseSize(s, 'B'); !errors.Is(err, ErrSize) {
			t.Errorf("ParseSize(%q) = %d, %v; want an ErrSize", s, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"AC97,audiodev=a", "a,,b,c=d,,e,help", "x=1,y", "wav,out.frequency=1"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, kv bool) {
		var o *Opts
		var err error
		if kv {
			o, err = ParseKeyval("-x", s, "driver")
		} else {
			o, err = Parse("-x", s, "driver")
		}
		if err != nil {
			return
		}
		for _, it := range o.Items {
			if it.Key == "" {
				t.Fatalf("%q: empty key", s)
			}
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1", "1.5G", "0x10", "12.345M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s, 'B')
		if err != nil || strings.HasPrefix(strings.ToLower(s), "0x") {
			return // in hex, B and E are digits (QEMU: 0x1E is 30)
		}
		if m, err := ParseSize(s+"B", 'B'); err == nil && m != n {
			t.Fatalf("%q: %d, with B suffix %d", s, n, m)
		}
	})
}
