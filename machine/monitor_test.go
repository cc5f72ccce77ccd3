package machine

import (
	"strings"
	"testing"

	"gemu/qemuopt"
)

// TestMonitorJack plugs and unplugs a virtio-sound-pci jack through the
// monitor's commands (run on the emulation goroutine's behalf directly).
func TestMonitorJack(t *testing.T) {
	cfg := bare([]byte{0x6f, 0, 0, 0}, nil)
	cfg.Audiodevs = qemuopt.MustParseFlag("-audiodev", "none,id=a")
	cfg.Devices = qemuopt.MustParseFlag("-device", "virtio-sound-pci,audiodev=a,jacks=2,id=snd,addr=3")
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f := m.PCI.Function(3, 0); f == nil || f.ReadConfig(0, 4) != 0x10591af4 {
		t.Fatalf("no virtio-sound-pci at 00:03.0")
	}
	steps := []struct{ cmd, want string }{
		{"info jacks", "snd/virtio-snd: 0=on 1=on\n"},
		{"jack 1 off", ""},
		{"jack snd 0 off", ""},
		{"info jacks", "snd/virtio-snd: 0=off 1=off\n"},
		{"jack 2 on", "jack: virtio-snd: no jack 2"},
		{"jack nosuch 0 on", `jack: no sound device "nosuch"`},
		{"jack 0 maybe", "usage"},
		{"frobnicate", "unknown command"},
	}
	for _, s := range steps {
		if got := m.mon.run(s.cmd); !strings.HasPrefix(got, s.want) {
			t.Errorf("%q: %q, want prefix %q", s.cmd, got, s.want)
		}
	}
	for _, bad := range []string{"streams=0", "jacks=9", "chmaps=19", "vectors=65"} {
		cfg.Devices = qemuopt.MustParseFlag("-device", "virtio-sound-pci,audiodev=a,"+bad)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
