package difftest

import (
	"fmt"
	"strings"
	"testing"

	"gemu/cpu"
	"gemu/tests/rig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// TestHonest: an ISA test and the hello guest run on gemu and on QEMU
// without a difference, to their end.
func TestHonest(t *testing.T) {
	rig.Need(t, "qemu-system-riscv64")
	for _, g := range []string{"guests/isa/rv64i.elf", "guests/isa/rv64m.elf", "guests/hello/hello.elf"} {
		elf := rig.Guest(t, g)
		r, err := Run(Options{Kernel: elf, Shift: 0, MaxSteps: 200000})
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		if r.Found {
			t.Errorf("%s: a difference on an honest run:\n%s", g, r.Report)
		}
		if r.Steps < 100 {
			t.Errorf("%s: only %d instructions compared", g, r.Steps)
		}
		t.Logf("%s: %d instructions, no difference (gemu: %s, QEMU exited: %v)", g, r.Steps, r.Exit.Reason, r.QEMUExited)
	}
}

// TestPlanted: a bug planted in gemu (the 40th 32-bit addi computes one
// too many) is found at that instruction, naming the register.
func TestPlanted(t *testing.T) {
	rig.Need(t, "qemu-system-riscv64")
	elf := rig.Guest(t, "guests/isa/rv64i.elf")
	var n int
	var at uint64
	var rd int
	plant := func(h *cpu.Hart, s cpu.Step) {
		w := s.Insn
		if s.Len != 4 || s.Trapped || w&0x707f != 0x13 || w>>7&31 == 0 {
			return // not addi rd, rs1, imm
		}
		if n++; n == 40 {
			at, rd = s.PC, int(w>>7&31)
			h.SetX(rd, h.X(rd)+1)
		}
	}
	r, err := Run(Options{Kernel: elf, Shift: 0, plant: plant})
	if err != nil {
		t.Fatal(err)
	}
	if at == 0 {
		t.Fatalf("the guest ran only %d addi", n)
	}
	if !r.Found || r.PC != at {
		t.Fatalf("found=%v at 0x%x, want the planted add at 0x%x\n%s", r.Found, r.PC, at, r.Report)
	}
	for _, want := range []string{
		fmt.Sprintf("after\n    0x%016x:  ", at),
		fmt.Sprintf("  x%d/", rd),
		"gemu's registers:", "QEMU's registers:", "itrace: hart 0, last 16 instructions:", "--> [M] ",
	} {
		if !strings.Contains(r.Report, want) {
			t.Errorf("report lacks %q:\n%s", want, r.Report)
		}
	}
	t.Logf("\n%s", r.Report)
}

// TestEbreakTval: a real difference the finder found. On ebreak gemu
// writes the pc to mtval (privileged spec 3.1.16 allows the address or
// zero; QEMU 8.0 and later write the address), QEMU 7.2 writes zero
// (target/riscv/cpu_helper.c riscv_cpu_do_interrupt sets tval only for
// address and illegal-instruction exceptions).
func TestEbreakTval(t *testing.T) {
	rig.Need(t, "qemu-system-riscv64")
	elf := rig.Guest(t, "guests/isa/trap.elf")
	r, err := Run(Options{Kernel: elf, Shift: 0})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Found || !strings.Contains(r.Report, "ebreak\n  mtval        gemu 0x") {
		t.Fatalf("want the ebreak mtval difference, got found=%v\n%s", r.Found, r.Report)
	}
}
