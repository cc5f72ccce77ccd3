package machine

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/devices/audio"
	"gemu/tests/guests/ac97/elf"
)

// TestDemoFallsBackToWAV runs the embedded sound demo the way `gemu` with no
// arguments does, in a test binary without the oto driver: the sound must
// land in gemu-demo.wav, announced in one line.
func TestDemoFallsBackToWAV(t *testing.T) {
	t.Chdir(t.TempDir())
	var log bytes.Buffer
	demoLog = &log
	defer func() { demoLog = os.Stderr }()
	var console bytes.Buffer
	cfg := Config{Deterministic: true, Shift: DefaultShift, Console: &console}
	ConfigureDemo(&cfg, elf.Demo)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.CloseInput()
	ex, err := m.Run()
	if err != nil || ex.Code != 0 {
		t.Fatalf("exit %+v err %v; console:\n%s", ex, err, console.String())
	}
	if !strings.Contains(log.String(), DemoWAV) {
		t.Errorf("no notice naming %s: %q", DemoWAV, log.String())
	}
	spec, data, err := audio.ReadWAVFile(DemoWAV)
	if err != nil {
		t.Fatal(err)
	}
	// 68 eighth notes at 132 bpm, 10909 frames each; the wav sink's last
	// 1 ms pull may pad the end with up to 48 frames of silence.
	const frames = 68 * 10909
	if d := cmp.Diff([]any{48000, 2}, []any{spec.Freq, spec.Channels}); d != "" {
		t.Errorf("demo WAV format (-want +got):\n%s", d)
	}
	if n := len(data) / 4; n < frames || n > frames+48 || !bytes.Equal(data[4*frames:], make([]byte, len(data)-4*frames)) {
		t.Errorf("demo WAV has %d frames, want %d (+ at most 48 of silence)", n, frames)
	}
	if bytes.Count(data, []byte{0, 0, 0, 0}) > len(data)/16 {
		t.Error("demo WAV is mostly silence")
	}
}

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
		cfg := Config{BIOS: "none", KernelData: elf.Demo, Kernel: "demo", Deterministic: true,
			Audiodevs: []string{"none,id=snd0"}}
		for _, d := range devs {
			o, err := ParseDeviceOpt(d)
			if err != nil {
				return nil, err
			}
			cfg.Devices = append(cfg.Devices, o)
		}
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
	for _, bad := range []string{"AC97,audiodev=nope", "AC97,audiodv=snd0", "AC97,audiodev=snd0,addr=0"} {
		if _, err := mk(bad); err == nil {
			t.Errorf("-device %s: no error", bad)
		}
	}
}
