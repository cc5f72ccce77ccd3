package machine

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/guests"
	"gemu/qemuopt"
)

func TestParsePCIAddr(t *testing.T) {
	tests := []struct {
		in       string
		slot, fn int
		ok       bool
	}{{"1", 1, 0, true}, {"0x1f", 31, 0, true}, {"03.0", 3, 0, true}, {"a.7", 10, 7, true},
		{"20", 0, 0, false}, {"1.8", 0, 0, false}, {"x", 0, 0, false}, {"", 0, 0, false}}
	for _, tc := range tests {
		s, f, err := parsePCIAddr(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (s != tc.slot || f != tc.fn)) {
			t.Errorf("parsePCIAddr(%q) = %d, %d, %v", tc.in, s, f, err)
		}
	}
}

// TestAC97AddrAndErrors checks -device AC97 placement and option errors.
func TestAC97AddrAndErrors(t *testing.T) {
	mk := func(devs ...string) (*Machine, error) {
		cfg := Config{BIOS: "none", KernelData: guests.Demo, Kernel: "demo", Deterministic: true,
			Audiodevs: qemuopt.MustParseFlag("-audiodev", "none,id=snd0"),
			Devices:   qemuopt.MustParseFlag("-device", devs...)}
		return New(cfg)
	}
	m, err := mk("AC97,audiodev=snd0,addr=5", "AC97,audiodev=snd0")
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for slot := 0; slot < 6; slot++ {
		v, _ := m.Bus.Load(0x3000_0000+uint64(slot)<<15, 4)
		ids = append(ids, v)
	}
	want := []uint64{0x0008_1b36, 0x2415_8086, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0x2415_8086}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("bus 0 IDs (-want +got):\n%s", d)
	}
	for _, bad := range []string{"AC97,audiodev=nope", "AC97,audiodv=snd0", "AC97,audiodev=snd0,addr=0", "AC97,bus=pci.1"} {
		if _, err := mk(bad); err == nil {
			t.Errorf("-device %s: no error", bad)
		}
	}
}
