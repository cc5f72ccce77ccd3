package machine

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/devices/audio"
	"gemu/guests"
)

// TestDemoFallsBackToWAV runs the embedded sound demo the way `gemu` with no
// arguments does, in a test binary without the oto driver: the sound of
// all three devices must land in gemu-demo.wav, announced in one line.
func TestDemoFallsBackToWAV(t *testing.T) {
	t.Chdir(t.TempDir())
	var log bytes.Buffer
	demoLog = &log
	defer func() { demoLog = os.Stderr }()
	var console bytes.Buffer
	cfg := Config{Deterministic: true, Shift: DefaultShift, Console: &console}
	ConfigureDemo(&cfg, guests.Demo)
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
	for _, want := range []string{"plays the melody", "plays the bass", "plays the counter-voice"} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, console.String())
		}
	}
	spec, data, err := audio.ReadWAVFile(DemoWAV)
	if err != nil {
		t.Fatal(err)
	}
	// 68 eighth notes at 132 bpm, 10909 frames each; the three voices
	// start within a few milliseconds of each other, and the wav sink's
	// last 1 ms pull may pad the end with silence.
	const frames = 68 * 10909
	if d := cmp.Diff([]any{48000, 2}, []any{spec.Freq, spec.Channels}); d != "" {
		t.Errorf("demo WAV format (-want +got):\n%s", d)
	}
	if n := len(data) / 4; n < frames || n > frames+48000/50 {
		t.Errorf("demo WAV has %d frames, want %d (+ at most 20 ms)", n, frames)
	}
	if bytes.Count(data, []byte{0, 0, 0, 0}) > len(data)/16 {
		t.Error("demo WAV is mostly silence")
	}
}

// TestConfigureDemo: the demo gets one device of each kind on one oto
// audiodev, unless the command line chose devices or audio itself.
func TestConfigureDemo(t *testing.T) {
	names := func(c Config) []string {
		var n []string
		for _, d := range c.Devices {
			n = append(n, d.Raw)
		}
		return append(append(n, c.Audiodevs...), c.Objects...)
	}
	tests := []struct {
		name string
		in   Config
		want []string
	}{
		{"defaults", Config{}, []string{"AC97,audiodev=demo", "virtio-sound-device,audiodev=demo",
			"ivshmem-plain,memdev=demo-shm,audiodev=demo", "oto,id=demo", "memory-backend-ram,id=demo-shm,size=1M"}},
		{"user audiodev", Config{Audiodevs: []string{"wav,id=a,path=x.wav"}}, []string{"wav,id=a,path=x.wav"}},
		{"user device", Config{Devices: []DeviceOpt{{Name: "AC97", Raw: "AC97"}}}, []string{"AC97"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.in
			ConfigureDemo(&cfg, guests.Demo)
			if d := cmp.Diff(tc.want, names(cfg)); d != "" {
				t.Errorf("devices, audiodevs, objects (-want +got):\n%s", d)
			}
			if cfg.BIOS != "none" || !bytes.Equal(cfg.KernelData, guests.Demo) {
				t.Errorf("BIOS %q, kernel %d bytes: want none and the demo", cfg.BIOS, len(cfg.KernelData))
			}
		})
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
		cfg := Config{BIOS: "none", KernelData: guests.Demo, Kernel: "demo", Deterministic: true,
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
