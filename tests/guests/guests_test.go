// Package guests checks the guest programs built by guests/Makefile: the
// committed images are what the sources build, the embedded demo is the
// committed file, and the hello guests run on gemu and on QEMU, bare metal
// and under OpenSBI.
package guests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gemu/guests"
	"gemu/tests/rig"
)

func TestMain(m *testing.M) { rig.Main(m) }

const helloLine = "Hello from gemu: a freestanding RISC-V guest on the virt board."

// committed asks the Makefile which images are committed (paths relative
// to the repository).
func committed(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command(rig.Make, "-s", "-C", rig.Path("guests"), "list").Output()
	if err != nil {
		t.Fatalf("make list: %v", err)
	}
	list := strings.Fields(string(out))
	if len(list) == 0 {
		t.Fatal("make list printed no guests")
	}
	return list
}

// TestReproducible rebuilds every committed guest image into a temporary
// directory and requires it to be byte-identical to the committed file, so
// the committed binaries provably come from the sources.
func TestReproducible(t *testing.T) {
	dir := rig.Guests(t, "all")
	for _, g := range committed(t) {
		t.Run(g, func(t *testing.T) {
			want, err := os.ReadFile(rig.Path(g))
			if err != nil {
				t.Fatalf("committed guest: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(dir, g))
			if err != nil {
				t.Fatalf("rebuilt guest: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: rebuilt image (%d bytes) differs from the committed one (%d bytes); run `make -C guests` and commit", g, len(got), len(want))
			}
		})
	}
}

// TestEmbedded checks the embedded demo is the committed file and looks
// like an RV64 executable.
func TestEmbedded(t *testing.T) {
	want, err := os.ReadFile(rig.Path("guests/demo/demo.elf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(guests.Demo, want) {
		t.Error("guests.Demo differs from guests/demo/demo.elf")
	}
	// ELF magic, ELFCLASS64, little-endian, e_machine = EM_RISCV (243).
	if d := guests.Demo; len(d) < 20 || string(d[:4]) != "\x7fELF" || d[4] != 2 || d[5] != 1 || d[18] != 243 {
		t.Error("guests.Demo is not a little-endian RV64 ELF")
	}
}

// TestHelloOnGemu runs the hello ELF on gemu with both clocks: it prints the
// greeting and powers off with status 0.
func TestHelloOnGemu(t *testing.T) {
	bin := rig.Gemu(t)
	hello := rig.Path("guests/hello/hello.elf")
	tests := []struct {
		name string
		args []string
	}{
		{"kernel", []string{"-machine", "virt", "-bios", "none", "-kernel", hello, "-nographic"}},
		{"icount", []string{"-icount", "auto", "-bios", "none", "-kernel", hello, "-nographic"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig.Contains(t, rig.ExecOK(t, bin, tc.args...), helloLine)
		})
	}
}

// TestHelloOnQEMU checks the guest against the reference board.
func TestHelloOnQEMU(t *testing.T) {
	qemu := rig.Need(t, rig.QEMU)
	rig.Contains(t, rig.ExecOK(t, qemu, "-machine", "virt", "-bios", "none", "-kernel", rig.Path("guests/hello/hello.elf"),
		"-nographic", "-monitor", "none", "-serial", "stdio"), helloLine)
}

// firmware is Debian's OpenSBI (package opensbi, installed by setup.sh).
const firmware = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"

// TestSBIHello boots OpenSBI with an S-mode payload (-bios FILE -kernel
// ELF at 0x80200000) on QEMU and gemu: the payload prints through SBI,
// probes SBI extensions and powers off with SBI system reset.
func TestSBIHello(t *testing.T) {
	if _, err := os.Stat(firmware); err != nil {
		t.Skipf("%s missing (package opensbi; tests/setup.sh installs it)", firmware)
	}
	elf := filepath.Join(rig.Guests(t, "sbi"), "guests/sbi/hello_sbi.elf")
	args := []string{"-machine", "virt", "-bios", firmware, "-kernel", elf, "-nographic"}
	want := []string{"OpenSBI", "Hello from S-mode via SBI", "SBI OK"}
	t.Run("qemu", func(t *testing.T) {
		qemu := rig.Need(t, rig.QEMU)
		rig.Contains(t, rig.ExecOK(t, qemu, append(args, "-monitor", "none", "-serial", "stdio")...), want...)
	})
	t.Run("gemu", func(t *testing.T) {
		bin := rig.Gemu(t)
		rig.Contains(t, rig.ExecOK(t, bin, args...), want...)
		rig.Contains(t, rig.ExecOK(t, bin, append([]string{"-icount", "auto"}, args...)...), want...)
	})
}
