package machine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gemu/devices/virtio"
	"gemu/qemuopt"
)

// TestDriveAndGlobals: a virtio-blk-device on slot 0 sits behind a legacy
// transport unless -global virtio-mmio.force-legacy=false; a second
// machine cannot open the image a first one writes (QEMU's locks).
func TestDriveAndGlobals(t *testing.T) {
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := func(globals ...string) Config {
		return Config{BIOS: "none", KernelData: (&prog{}).loop().bytes(),
			Drives:  qemuopt.MustParseFlag("-drive", "file="+img+",if=none,format=raw,id=x0"),
			Devices: qemuopt.MustParseFlag("-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"),
			Globals: qemuopt.MustParseFlag("-global", globals...)}
	}
	for _, tc := range []struct {
		globals []string
		version uint64
	}{{nil, 1}, {[]string{"virtio-mmio.force-legacy=false"}, 2}, {[]string{"driver=virtio-mmio,property=force-legacy,value=on"}, 1}} {
		m, err := New(cfg(tc.globals...))
		if err != nil {
			t.Fatal(err)
		}
		s := m.VirtioSlot(0)
		if v := s.Read(virtio.RegVersion, 4); v != tc.version || s.Read(virtio.RegDeviceID, 4) != virtio.DeviceIDBlock {
			t.Errorf("%v: slot 0 version %d device %d", tc.globals, v, s.Read(virtio.RegDeviceID, 4))
		}
		if v := m.VirtioSlot(5).Read(virtio.RegVersion, 4); v != tc.version {
			t.Errorf("%v: empty slot version %d", tc.globals, v)
		}
		if s.Read(virtio.RegConfig, 8) != 2048 {
			t.Errorf("capacity %d sectors", s.Read(virtio.RegConfig, 8))
		}
		// A second machine on the same image is refused while this one runs.
		if _, err := New(cfg()); err == nil || !strings.Contains(err.Error(), "lock") {
			t.Errorf("second machine on the image: %v", err)
		}
		if err := m.finish(); err != nil {
			t.Fatal(err)
		}
	}
	// The global defaults -device properties too.
	c := cfg("virtio-blk-device.serial=abc")
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	m.finish()
}
