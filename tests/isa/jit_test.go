package isa

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"gemu/cpu"
	"gemu/machine"
	"gemu/tests/rig"
)

// The translator's lock-step check on the ISA tests: each test runs on two
// machines in this process with the deterministic clock, one translating
// and one interpreting (the reference). After every block the translating
// hart returns from (cpu.Hart.SetJITHook: blocks do not chain then), its
// architectural state is sent to the interpreting machine, which compares
// it with its own hart's after the same number of instructions
// (cpu.Hooks.Step): pc, privilege, x and f registers, fcsr, the trap and
// translation CSRs and the instruction count. Both machines schedule their
// harts alike (machine.Run's quanta count instructions), so -smp tests are
// compared too, hart by hart.

// lockstepCSRs are the CSRs compared after every block.
var lockstepCSRs = []struct {
	name string
	n    uint32
}{
	{"fcsr", 0x003}, {"sstatus", 0x100}, {"sie", 0x104}, {"stvec", 0x105},
	{"sscratch", 0x140}, {"sepc", 0x141}, {"scause", 0x142}, {"stval", 0x143},
	{"sip", 0x144}, {"satp", 0x180}, {"mstatus", 0x300}, {"medeleg", 0x302},
	{"mideleg", 0x303}, {"mie", 0x304}, {"mtvec", 0x305}, {"mscratch", 0x340},
	{"mepc", 0x341}, {"mcause", 0x342}, {"mtval", 0x343}, {"mip", 0x344},
	{"mcycle", 0xb00}, {"minstret", 0xb02},
}

// archState is one hart's architectural state.
type archState struct {
	hart  int
	steps uint64 // Instret: instructions executed, trapped ones included
	pc    uint64
	priv  uint8
	x, f  [32]uint64
	csr   [22]uint64 // lockstepCSRs; ^0 when not readable
}

func snapshot(id int, h *cpu.Hart) archState {
	s := archState{hart: id, steps: h.Instret(), pc: h.PC(), priv: h.Priv()}
	for i := range 32 {
		s.x[i], s.f[i] = h.X(i), h.F(i)
	}
	for i, c := range lockstepCSRs {
		v, ok := h.ReadCSR(c.n)
		if !ok {
			v = ^uint64(0)
		}
		s.csr[i] = v
	}
	return s
}

// diff describes how got (the translator's) differs from want.
func (got *archState) diff(want *archState) string {
	var d []string
	if got.pc != want.pc {
		d = append(d, fmt.Sprintf("pc %#x, interpreter %#x", got.pc, want.pc))
	}
	if got.priv != want.priv {
		d = append(d, fmt.Sprintf("priv %d, interpreter %d", got.priv, want.priv))
	}
	for i := range 32 {
		if got.x[i] != want.x[i] {
			d = append(d, fmt.Sprintf("x%d %#x, interpreter %#x", i, got.x[i], want.x[i]))
		}
		if got.f[i] != want.f[i] {
			d = append(d, fmt.Sprintf("f%d %#x, interpreter %#x", i, got.f[i], want.f[i]))
		}
	}
	for i, c := range lockstepCSRs {
		if got.csr[i] != want.csr[i] {
			d = append(d, fmt.Sprintf("%s %#x, interpreter %#x", c.name, got.csr[i], want.csr[i]))
		}
	}
	return strings.Join(d, "; ")
}

// lockstep runs elf on a translating and an interpreting machine and
// returns the first difference ("" if none) and how many block ends were
// compared.
func lockstep(t *testing.T, elf string, harts int) (fail string, blocks int) {
	cfg := func(e machine.Engine) machine.Config {
		return machine.Config{BIOS: "none", Kernel: elf, Harts: harts, Engine: e,
			Deterministic: true, Shift: machine.DefaultShift}
	}
	jm, jout := rig.Boot(t, cfg(machine.EngineJIT))
	im, iout := rig.Boot(t, cfg(machine.EngineInterp))

	states := make(chan archState, 1024)
	stop := make(chan struct{}) // closed when the interpreter is done
	last := make([]uint64, len(jm.Harts))
	for id, h := range jm.Harts {
		h.SetJITHook(func(h *cpu.Hart) {
			// A block that left its first instruction to the
			// interpreter returns where the last one ended.
			if h.Instret() == last[id] {
				return
			}
			last[id] = h.Instret()
			select {
			case states <- snapshot(id, h):
			case <-stop:
				jm.Stop()
			}
		})
	}
	jdone := make(chan error, 1)
	go func() {
		ex, err := jm.Run()
		if err == nil && ex.Code != 0 {
			err = fmt.Errorf("exit status %d (%s)", ex.Code, ex.Reason)
		}
		close(states)
		jdone <- err
	}()

	var pending *archState
	more := true
	for id, h := range im.Harts {
		h.SetHooks(&cpu.Hooks{Step: func(h *cpu.Hart, s cpu.Step) {
			if fail != "" || !more {
				return
			}
			if pending == nil {
				st, ok := <-states
				if !ok {
					more = false
					return
				}
				pending = &st
			}
			if pending.hart != id {
				return // the translating machine had nothing to say of this turn
			}
			switch n := h.Instret(); {
			case n < pending.steps:
				return
			case n > pending.steps:
				fail = fmt.Sprintf("hart %d: the interpreter went past instruction %d (pc %#x) to %d", id, pending.steps, pending.pc, n)
			default:
				want := snapshot(id, h)
				if d := pending.diff(&want); d != "" {
					fail = fmt.Sprintf("hart %d after %d instructions (block %d): %s", id, n, blocks+1, d)
				}
				blocks++
				pending = nil
			}
			if fail != "" {
				im.Stop()
			}
		}})
	}
	ex, err := im.Run()
	close(stop)
	extra := 0
	for range states { // let the translating machine finish or stop
		extra++
	}
	jerr := <-jdone
	switch {
	case fail != "":
	case err != nil || ex.Code != 0:
		fail = fmt.Sprintf("interpreter: %v, exit %d (%s); console:\n%s", err, ex.Code, ex.Reason, iout)
	case jerr != nil:
		fail = fmt.Sprintf("translator: %v; console:\n%s", jerr, jout)
	case pending != nil || extra > 0:
		fail = fmt.Sprintf("the translating machine ran on after the interpreter stopped (%d blocks)", extra)
	case jout.String() != iout.String():
		fail = fmt.Sprintf("consoles differ:\n%s\ninterpreter:\n%s", jout, iout)
	}
	return fail, blocks
}

// TestJITLockstep compares the translator with the interpreter after every
// block of every ISA test. GEMU_ISA_LOCKSTEP=name runs one test.
func TestJITLockstep(t *testing.T) {
	if !cpu.JITSupported {
		t.Skip("no translator on this host")
	}
	tests := build(t)
	only := os.Getenv("GEMU_ISA_LOCKSTEP")
	total := 0
	for _, name := range sortedKeys(tests) {
		if only != "" && name != only {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if bug := marker(t, name, gemuKnownRE); bug != "" && os.Getenv("GEMU_ISA_ALL") != "1" {
				t.Skip("known gemu bug (GEMU_ISA_ALL=1 runs it): " + bug)
			}
			harts := 1
			if n := marker(t, name, smpRE); n != "" {
				harts, _ = strconv.Atoi(n)
			}
			fail, blocks := lockstep(t, tests[name], harts)
			if fail != "" {
				t.Fatal(fail)
			}
			t.Logf("%d blocks compared", blocks)
			total += blocks
		})
	}
	if only == "" && total < 1000 {
		t.Errorf("only %d blocks compared in all", total)
	}
}

// TestJITLockstepFails is the mutation check: with the translator's
// deliberate bug (cpu.JITFault: ADDI adds one too many) the lock-step
// comparison must find a difference.
func TestJITLockstepFails(t *testing.T) {
	if !cpu.JITSupported {
		t.Skip("no translator on this host")
	}
	tests := build(t)
	cpu.JITFault = true
	defer func() { cpu.JITFault = false }()
	fail, _ := lockstep(t, tests["rv64i"], 1)
	if fail == "" {
		t.Fatal("the lock-step comparison passed a translator that gets ADDI wrong")
	}
	t.Logf("as it should: %.200s", fail)
}
