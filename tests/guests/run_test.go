package guests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const helloLine = "Hello from gemu: a freestanding RISC-V guest on the virt board."

// runEmu runs an emulator on the hello guest and returns its output; the
// guest must power off with status 0.
func runEmu(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// TestHelloOnGemu runs the hello ELF on gemu with both clocks: it prints the
// greeting and powers off with status 0. (The embedded default guest, the
// sound demo, is tested in machine/audio_test.go.)
func TestHelloOnGemu(t *testing.T) {
	if files, _ := filepath.Glob("../../cmd/gemu/*.go"); len(files) == 0 {
		t.Skip("cmd/gemu has no Go files yet")
	}
	bin := filepath.Join(t.TempDir(), "gemu")
	if msg, err := exec.Command("go", "build", "-o", bin, "gemu/cmd/gemu").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/gemu: %v\n%s", err, msg)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"kernel", []string{"-machine", "virt", "-bios", "none", "-kernel", "hello/hello.elf", "-nographic"}},
		{"icount", []string{"-icount", "auto", "-bios", "none", "-kernel", "hello/hello.elf", "-nographic"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if out := runEmu(t, bin, tc.args...); !strings.Contains(out, helloLine) {
				t.Errorf("output %q lacks %q", out, helloLine)
			}
		})
	}
}

// TestHelloOnQEMU checks the guest against the reference board.
func TestHelloOnQEMU(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-riscv64")
	if err != nil {
		t.Skip("qemu-system-riscv64 not installed (tests/setup.sh installs it)")
	}
	if _, err := os.Stat("hello/hello.elf"); err != nil {
		t.Fatal(err)
	}
	out := runEmu(t, qemu, "-machine", "virt", "-bios", "none", "-kernel", "hello/hello.elf",
		"-nographic", "-monitor", "none", "-serial", "stdio")
	if !strings.Contains(out, helloLine) {
		t.Errorf("output %q lacks %q", out, helloLine)
	}
}

// firmware is Debian's OpenSBI (package opensbi, installed by setup.sh).
const firmware = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"

// TestSBIHello boots OpenSBI with an S-mode payload (-bios FILE -kernel
// ELF at 0x80200000) on QEMU and gemu: the payload prints through SBI,
// probes SBI extensions and powers off with SBI system reset.
func TestSBIHello(t *testing.T) {
	requireTools(t)
	if _, err := os.Stat(firmware); err != nil {
		t.Fatalf("%s missing: run tests/setup.sh (package opensbi)", firmware)
	}
	dir := t.TempDir()
	if out, err := exec.Command("make", "-s", "O="+dir, "sbi").CombinedOutput(); err != nil {
		t.Fatalf("make sbi: %v\n%s", err, out)
	}
	elf := filepath.Join(dir, "sbi", "hello_sbi.elf")
	args := []string{"-machine", "virt", "-bios", firmware, "-kernel", elf, "-nographic"}
	check := func(t *testing.T, out string) {
		for _, want := range []string{"OpenSBI", "Hello from S-mode via SBI", "SBI OK"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	}
	t.Run("qemu", func(t *testing.T) {
		qemu, err := exec.LookPath("qemu-system-riscv64")
		if err != nil {
			t.Skip("qemu-system-riscv64 not installed (tests/setup.sh installs it)")
		}
		check(t, runEmu(t, qemu, append(args, "-monitor", "none", "-serial", "stdio")...))
	})
	t.Run("gemu", func(t *testing.T) {
		if files, _ := filepath.Glob("../../cmd/gemu/*.go"); len(files) == 0 {
			t.Skip("cmd/gemu has no Go files yet")
		}
		bin := filepath.Join(t.TempDir(), "gemu")
		if msg, err := exec.Command("go", "build", "-o", bin, "gemu/cmd/gemu").CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/gemu: %v\n%s", err, msg)
		}
		check(t, runEmu(t, bin, args...))
		check(t, runEmu(t, bin, append([]string{"-icount", "auto"}, args...)...))
	})
}
