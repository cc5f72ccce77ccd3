package xv6

import (
	"os"
	"testing"
	"time"

	"gemu/tests/rig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// build skips without the tarball or the tools, else builds (cached).
func build(t *testing.T) *Tree {
	t.Helper()
	dir := rig.SharedGuests(t)
	tb := Tarball(dir)
	if tb == "" {
		t.Skipf("no xv6-riscv-*.tar.gz in %s", dir)
	}
	rig.Need(t, "riscv64-unknown-elf-gcc", "make", "tar")
	tr, err := Build(tb)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// deadline is when a run gives up in wall time: two minutes before go
// test's -timeout would panic, so a hang fails with the console shown.
// Progress is judged by Expect (CPU time with a silent console), not by
// this.
func deadline(t *testing.T) time.Time {
	if d, ok := t.Deadline(); ok {
		return d.Add(-2 * time.Minute)
	}
	return time.Time{}
}

// run boots xv6 on bin with the Makefile's command line at -smp cpus:
// prompt, ls, and usertests -q if usertests and not -short.
func run(t *testing.T, emulator func(testing.TB) string, cpus int, usertests bool) {
	tr := build(t)
	bin := emulator(t)
	img, err := tr.FreshImage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	args, err := tr.QEMUArgs(img, cpus)
	if err != nil {
		t.Fatal(err)
	}
	tm, out, err := Run(bin, args, usertests && !testing.Short(), deadline(t))
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	t.Logf("-smp %d: boot to prompt %v (CPU %v), usertests -q %v (CPU %v)", cpus,
		tm.Boot.Round(time.Millisecond), tm.BootCPU.Round(time.Millisecond),
		tm.Usertests.Round(time.Second), tm.UsertestsCPU.Round(time.Second))
}

func qemu(t testing.TB) string { return rig.Need(t, rig.QEMU) }

// TestGemu: stock xv6-riscv, unmodified, with its own QEMU command line
// (-smp 3, modern virtio-mmio via -global, virtio-blk-device on slot 0):
// boot, ls, usertests -q. GEMU_XV6_CPUS changes -smp.
func TestGemu(t *testing.T) {
	t.Parallel()
	run(t, rig.Gemu, CPUs, true)
}

// TestQEMU: the same on the reference.
func TestQEMU(t *testing.T) {
	t.Parallel()
	run(t, qemu, CPUs, true)
}

// TestGemuSMP1 and TestQEMUSMP1: one hart (boot and ls; usertests too
// with GEMU_XV6_SMP1_USERTESTS=1).
func TestGemuSMP1(t *testing.T) {
	t.Parallel()
	run(t, rig.Gemu, 1, os.Getenv("GEMU_XV6_SMP1_USERTESTS") == "1")
}

func TestQEMUSMP1(t *testing.T) {
	t.Parallel()
	run(t, qemu, 1, os.Getenv("GEMU_XV6_SMP1_USERTESTS") == "1")
}
