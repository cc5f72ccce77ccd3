package rig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gemu/machine"
)

func TestMain(m *testing.M) { Main(m) }

func TestRoot(t *testing.T) {
	for _, f := range []string{"go.mod", "guests/Makefile", "tests/rig/rig.go"} {
		if _, err := os.Stat(Path(f)); err != nil {
			t.Errorf("Root %s: %v", Root(), err)
		}
	}
}

// skipped reports whether f skipped the subtest it ran in.
func skipped(t *testing.T, f func(t *testing.T)) bool {
	var sub *testing.T
	t.Run("sub", func(t *testing.T) { sub = t; f(t) })
	return sub.Skipped()
}

func TestNeed(t *testing.T) {
	if !skipped(t, func(t *testing.T) { Need(t, "sh", "gemu-no-such-tool") }) {
		t.Error("Need did not skip for a missing tool")
	}
	var p string
	if skipped(t, func(t *testing.T) { p = Need(t, "sh") }) || filepath.Base(p) != "sh" {
		t.Errorf("Need(sh) = %q or skipped", p)
	}
}

func TestSharedGuests(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GEMU_GUESTS", dir)
	if got := SharedGuests(t); got != dir {
		t.Errorf("SharedGuests = %q, want $GEMU_GUESTS %q", got, dir)
	}
	t.Setenv("GEMU_GUESTS", filepath.Join(dir, "none"))
	if !skipped(t, func(t *testing.T) { SharedGuests(t) }) {
		t.Error("SharedGuests did not skip for a missing directory")
	}
	t.Setenv("GEMU_GUESTS", "")
	if got, want := sharedGuests(), filepath.Join(Root(), "..", "shared", "guests"); got != want {
		t.Errorf("default %q, want %q", got, want)
	}
}

func TestRun(t *testing.T) {
	r, err := run(time.Minute, "sh", "-c", `printf 'a\r\nb\n'; echo err >&2; exit 3`)
	if err != nil || r.Code != 3 || r.Out != "a\nb\nerr\n" {
		t.Errorf("run = %+v, %v; want exit 3 and both streams", r, err)
	}
	if _, err := run(100*time.Millisecond, "sleep", "10"); err == nil || !strings.Contains(err.Error(), "hung") {
		t.Errorf("a hang gave %v", err)
	}
	if _, err := run(time.Minute, filepath.Join(t.TempDir(), "nothing")); err == nil {
		t.Error("a missing binary gave no error")
	}
}

func TestTail(t *testing.T) {
	if got := Tail("a\nb\nc", 2); got != "b\nc" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail("a", 5); got != "a" {
		t.Errorf("Tail = %q", got)
	}
}

const helloLine = "Hello from gemu: a freestanding RISC-V guest on the virt board."

// TestMachine runs the committed hello guest in this process.
func TestMachine(t *testing.T) {
	out := MachineOK(t, machine.Config{BIOS: "none", Kernel: Path("guests/hello/hello.elf"), Deterministic: true,
		Shift: machine.DefaultShift}, helloLine)
	if strings.Contains(out, "\r") {
		t.Errorf("console keeps carriage returns: %q", out)
	}
}

// TestBuilds builds gemu and a guest (once each, however often asked) and
// runs one on the other.
func TestBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gemu and a guest")
	}
	bin := Gemu(t)
	if again := Gemu(t); again != bin {
		t.Errorf("second Gemu built again: %s, %s", bin, again)
	}
	elf := Guest(t, "guests/hello/hello.elf")
	if again := Guest(t, "guests/hello/hello.elf"); again != elf {
		t.Errorf("second Guest built again: %s, %s", elf, again)
	}
	Contains(t, ExecOK(t, bin, "-bios", "none", "-kernel", elf, "-nographic"), helloLine)
	if r := Exec(t, Timeout, bin, "-bios", "none"); r.Code == 0 || !strings.Contains(r.Out, "-kernel") {
		t.Errorf("gemu without -kernel: %+v", r)
	}
	if o := Guests(t, "sbi"); !exists(filepath.Join(o, "guests/sbi/hello_sbi.elf")) {
		t.Errorf("Guests(sbi) built nothing under %s", o)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestQEMU10 fetches the QEMU 10 reference (once per machine) and checks
// it is the emulator the virtio-sound tests need.
func TestQEMU10(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no download")
	}
	q := QEMU10(t)
	out, err := q.Command("-machine", "virt", "-device", "help").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	Contains(t, string(out), `name "virtio-sound-device"`, `name "virtio-sound-pci"`)
}
