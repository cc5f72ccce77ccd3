package xv6

import (
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

// run boots xv6 on bin with the Makefile's command line (-smp CPUs, see
// the package comment): prompt, ls, and usertests -q unless -short.
func run(t *testing.T, emulator func(testing.TB) string) {
	tr := build(t)
	bin := emulator(t)
	img, err := tr.FreshImage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	args, err := tr.QEMUArgs(img)
	if err != nil {
		t.Fatal(err)
	}
	tm, out, err := Run(bin, args, !testing.Short(), 15*time.Minute)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	t.Logf("boot to prompt %v, usertests -q %v", tm.Boot.Round(time.Millisecond), tm.Usertests.Round(time.Second))
}

// TestGemu: stock xv6-riscv, unmodified, with its own QEMU command line
// (modern virtio-mmio via -global, virtio-blk-device on slot 0).
func TestGemu(t *testing.T) {
	t.Parallel()
	run(t, rig.Gemu)
}

// TestQEMU: the same on the reference.
func TestQEMU(t *testing.T) {
	t.Parallel()
	run(t, func(t testing.TB) string { return rig.Need(t, rig.QEMU) })
}
