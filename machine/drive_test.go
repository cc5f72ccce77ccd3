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

// TestVirtioBlkPCI: -device virtio-blk-pci and -drive if=virtio, which
// creates one after the -device ones (QEMU's drive_new), at the first free
// slot or its addr=.
func TestVirtioBlkPCI(t *testing.T) {
	dir := t.TempDir()
	var imgs []string
	for _, n := range []string{"a.img", "b.img", "c.img", "d.img"} {
		img := filepath.Join(dir, n)
		if err := os.WriteFile(img, make([]byte, 1<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	m, err := New(Config{BIOS: "none", KernelData: (&prog{}).loop().bytes(),
		Drives: qemuopt.MustParseFlag("-drive", "file="+imgs[0]+",if=virtio,format=raw",
			"file="+imgs[1]+",if=none,id=y,format=raw", "file="+imgs[2]+",if=virtio,addr=5,format=raw"),
		Devices: qemuopt.MustParseFlag("-device", "virtio-blk-pci,drive=y,addr=3")})
	if err != nil {
		t.Fatal(err)
	}
	defer m.finish()
	for _, slot := range []int{1, 3, 5} {
		f := m.PCI.Function(slot, 0)
		if f == nil {
			t.Errorf("slot %d: no function", slot)
			continue
		}
		// 1af4:1042 (virtio 1.x, device type 2), class 0x010000, rev 1.
		if id, cl := f.ReadConfig(0, 4), f.ReadConfig(8, 4); id != 0x10421af4 || cl != 0x01000001 {
			t.Errorf("slot %d: id %#x class/rev %#x", slot, id, cl)
		}
	}
	if f := m.PCI.Function(2, 0); f != nil {
		t.Errorf("slot 2 holds %#x", f.ReadConfig(0, 4))
	}
	// The drive of a -drive if=virtio is taken.
	_, err = New(Config{BIOS: "none", KernelData: (&prog{}).loop().bytes(),
		Drives:  qemuopt.MustParseFlag("-drive", "file="+imgs[3]+",if=virtio,format=raw"),
		Devices: qemuopt.MustParseFlag("-device", "virtio-blk-pci,drive=virtio0")})
	if err == nil || !strings.Contains(err.Error(), "-device virtio-blk-pci,drive=virtio0: Property 'virtio-blk-pci.drive' can't take value 'virtio0', it's in use") {
		t.Errorf("second device on virtio0: %v", err)
	}
}
