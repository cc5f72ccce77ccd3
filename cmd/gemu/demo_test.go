package main

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/guests"
	"gemu/machine"
	"gemu/qemuopt"
)

// TestConfigureDemo: the demo gets one device of each kind on one oto
// audiodev, unless the command line chose devices or audio itself.
func TestConfigureDemo(t *testing.T) {
	raws := func(c machine.Config) []string {
		var n []string
		for _, list := range [][]*qemuopt.Opts{c.Devices, c.Audiodevs, c.Objects, c.Globals} {
			for _, o := range list {
				n = append(n, o.Flag+" "+o.Raw)
			}
		}
		return n
	}
	tests := []struct {
		name     string
		in       machine.Config
		want     []string
		wantHook bool
	}{
		{"defaults", machine.Config{}, []string{"-device AC97,audiodev=demo", "-device virtio-sound-device,audiodev=demo",
			"-device ivshmem-plain,memdev=demo-shm,audiodev=demo", "-audiodev oto,id=demo,out.frequency=48000",
			"-object memory-backend-ram,id=demo-shm,size=1M", "-global virtio-mmio.force-legacy=false"}, true},
		{"user audiodev", machine.Config{Audiodevs: flags("-audiodev", "wav,id=a,path=x.wav")},
			[]string{"-audiodev wav,id=a,path=x.wav"}, false},
		{"user device", machine.Config{Devices: flags("-device", "AC97")}, []string{"-device AC97"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.in
			configureDemo(&cfg, guests.Demo, &bytes.Buffer{})
			if d := cmp.Diff(tc.want, raws(cfg)); d != "" {
				t.Errorf("devices, audiodevs, objects (-want +got):\n%s", d)
			}
			if cfg.BIOS != "none" || !bytes.Equal(cfg.KernelData, guests.Demo) {
				t.Errorf("BIOS %q, kernel %d bytes: want none and the demo", cfg.BIOS, len(cfg.KernelData))
			}
			if (cfg.OpenAudiodev != nil) != tc.wantHook {
				t.Errorf("OpenAudiodev set: %v, want %v", cfg.OpenAudiodev != nil, tc.wantHook)
			}
		})
	}
}
