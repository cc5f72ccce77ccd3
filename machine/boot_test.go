package machine

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gemu/bus"
)

// Images that overlap are refused with QEMU's kind of message, naming
// both regions (issue 10, defect 3): an ELF segment where the device tree
// goes (the tree overwrote it and the guest hung), and -bios default with
// a kernel ELF at 0x80000000 over OpenSBI.
func TestImagesOverlap(t *testing.T) {
	code := (&prog{}).finish(0x5555).bytes()
	ram := uint64(32 << 20)
	dtbAt := RAMBase + ram - 2<<20 // riscv_compute_fdt_addr for a small tree
	t.Run("ELF over the device tree", func(t *testing.T) {
		cfg := bare(elf64(code, dtbAt, nil), nil)
		cfg.RAMSize = ram
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), "ROM regions are overlapping") || !strings.Contains(err.Error(), "device tree") {
			t.Errorf("New = %v, want the device tree overlap refused", err)
		}
	})
	t.Run("kernel ELF over the firmware", func(t *testing.T) {
		if _, err := os.Stat(DefaultBIOS); err != nil {
			t.Skip("no OpenSBI:", err)
		}
		cfg := bare(elf64(code, RAMBase, nil), nil)
		cfg.BIOS = "default"
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), "ROM regions are overlapping") || !strings.Contains(err.Error(), "firmware") {
			t.Errorf("New = %v, want the firmware overlap refused", err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("message is not one line: %q", err)
		}
	})
	t.Run("segments of one ELF", func(t *testing.T) {
		m := cheapMachine(16 << 20)
		if err := m.place("a", RAMBase, make([]byte, 0x100)); err != nil {
			t.Fatal(err)
		}
		if err := m.place("b", RAMBase+0x100, make([]byte, 0x100)); err != nil {
			t.Errorf("adjacent images refused: %v", err)
		}
		if err := m.place("c", RAMBase+0x1ff, make([]byte, 1)); err == nil {
			t.Error("overlapping image accepted")
		}
		if err := m.place("d", RAMBase+0x1ff, nil); err != nil {
			t.Errorf("empty image refused: %v", err)
		}
	})
}

// cheapMachine is just enough board for the image loader: a bus with RAM
// and a RAM size, no devices.
func cheapMachine(ram uint64) *Machine {
	return &Machine{Bus: bus.New(RAMBase, ram), Config: Config{RAMSize: ram}}
}

// Host files are read only up to the RAM size, and devices are refused
// (issue 10, defect 5: -kernel /dev/zero or -initrd /dev/zero read until
// the host ran out of memory).
func TestImageReadsBounded(t *testing.T) {
	code := (&prog{}).finish(0x5555).bytes()
	dir := t.TempDir()
	kernel := filepath.Join(dir, "k")
	if err := os.WriteFile(kernel, code, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 64<<20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // an endless writer
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		zero := make([]byte, 1<<16)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.Write(zero); err != nil {
				return
			}
		}
	}()
	for _, tc := range []struct {
		name           string
		kernel, initrd string
		want           string
	}{
		{"kernel /dev/zero", "/dev/zero", "", "is a device"},
		{"initrd /dev/zero", kernel, "/dev/zero", "is a device"},
		{"initrd directory", kernel, dir, "is a directory"},
		{"initrd larger than RAM", kernel, big, "larger than RAM"},
		{"initrd endless pipe", kernel, fifo, "larger than RAM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := New(Config{BIOS: "none", Kernel: tc.kernel, Initrd: tc.initrd, RAMSize: 16 << 20})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want %q", err, tc.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// fuzzLoadOne is one FuzzLoad input: the loader on a machine
// that has only RAM, so that an input costs microseconds, not a 16 MiB
// board (issue 10, item 8).
func fuzzLoadOne(t *testing.T, m *Machine, data []byte) {
	m.images = m.images[:0]
	l, err := m.loadImage("kernel fuzz", data, RAMBase)
	if err != nil {
		return
	}
	var total uint64
	for i, im := range m.images {
		total += uint64(len(im.data))
		if !m.Bus.InRAM(im.addr, uint64(len(im.data))) {
			t.Fatalf("image %s outside RAM", im.name)
		}
		for _, o := range m.images[:i] {
			if len(o.data) > 0 && len(im.data) > 0 && im.addr < o.addr+uint64(len(o.data)) && o.addr < im.addr+uint64(len(im.data)) {
				t.Fatalf("images %s and %s overlap", o.name, im.name)
			}
		}
	}
	if total > m.Config.RAMSize {
		t.Fatalf("%d bytes of images in %d bytes of RAM", total, m.Config.RAMSize)
	}
	if !l.isELF && !bytes.Equal(m.images[0].data, data) {
		t.Fatal("raw image not loaded as is")
	}
}
