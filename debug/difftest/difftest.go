// Package difftest is a difference finder (nemu's "difftest"): it runs one
// guest on gemu and on QEMU 7.2 in lock-step, single-stepping QEMU through
// its gdbstub after every gemu instruction, and stops at the first
// instruction after which the pc, an integer register, a CSR, the
// privilege level or a written memory word differ. It prints both states
// and gemu's last instructions.
//
// Both run with -icount and the same shift, so timer interrupts fall due
// at the same instruction count, and QEMU single-steps with interrupts and
// timers enabled (Qqemu.sstep=1). Where that is exact and where not is in
// docs/debugging.md.
package difftest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"time"

	"gemu/cpu"
	"gemu/debug/disasm"
	"gemu/debug/tracer"
	"gemu/machine"

	"golang.org/x/arch/riscv64/riscv64asm"
)

// Options says what to run.
type Options struct {
	Kernel   string // the guest, an ELF run with -bios none on both
	Shift    uint   // -icount shift of both
	QEMU     string // QEMU binary (default qemu-system-riscv64)
	MaxSteps uint64 // stop after this many instructions (0: until the guest ends)
	Ring     int    // instructions shown in a report (default 16)
	Log      io.Writer

	// plant, set only by tests, is a bug planted in gemu: it runs after
	// each gemu instruction and may change the hart's state.
	plant func(h *cpu.Hart, s cpu.Step)
}

// Result is what Run found.
type Result struct {
	Steps  uint64 // instructions compared
	Found  bool   // a difference was found
	PC     uint64 // the address of the instruction after which it showed
	Report string // both states and the ring buffer, when Found
	Exit   machine.Exit
	// QEMUExited: QEMU ended (the guest powered off) with the last
	// instruction compared.
	QEMUExited bool
}

// csrs are the CSRs compared after traps and SYSTEM instructions: the trap
// state a kernel reads. mip, time and the counters are left out (devices
// and host timing move them).
// ignore masks the bits of QEMU 7.2's hypervisor extension, which gemu
// does not have: mideleg's read-only-one VSSIP/VSTIP/VSEIP/SGEIP, mie's
// VS and SGEIE enables, mstatus.GVA and MPV.
var csrs = []struct {
	name   string
	num    uint32
	ignore uint64
}{
	{"mstatus", 0x300, 3 << 38}, {"mepc", 0x341, 0}, {"mcause", 0x342, 0}, {"mtval", 0x343, 0},
	{"mtvec", 0x305, 0}, {"mie", 0x304, 0x1444}, {"mideleg", 0x303, 0x1444}, {"medeleg", 0x302, 0},
	{"mscratch", 0x340, 0}, {"sepc", 0x141, 0}, {"scause", 0x142, 0}, {"stval", 0x143, 0},
	{"stvec", 0x105, 0}, {"sscratch", 0x140, 0}, {"satp", 0x180, 0},
}

// Run runs the difference finder.
func Run(opt Options) (Result, error) {
	if opt.QEMU == "" {
		opt.QEMU = "qemu-system-riscv64"
	}
	if opt.Ring == 0 {
		opt.Ring = 16
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	addr := l.Addr().String()
	l.Close()
	icount := fmt.Sprintf("shift=%d", opt.Shift)
	q := exec.Command(opt.QEMU, "-M", "virt", "-bios", "none", "-kernel", opt.Kernel,
		"-display", "none", "-serial", "null", "-monitor", "none", "-icount", icount,
		"-S", "-gdb", "tcp:"+addr)
	q.Stdout, q.Stderr = opt.Log, opt.Log
	if err := q.Start(); err != nil {
		return Result{}, fmt.Errorf("difftest: %w", err)
	}
	defer func() {
		q.Process.Kill()
		q.Wait()
	}()
	c, err := dial(addr, 10*time.Second)
	if err != nil {
		return Result{}, err
	}
	defer c.close()
	if err := c.start(); err != nil {
		return Result{}, err
	}

	m, err := machine.New(machine.Config{BIOS: "none", Kernel: opt.Kernel, Deterministic: true,
		Shift: opt.Shift, NoReboot: true})
	if err != nil {
		return Result{}, err
	}
	m.CloseInput()
	d := &differ{opt: opt, m: m, q: c}
	tr := tracer.New(tracer.Options{Ring: opt.Ring})
	d.tr = tr
	ring := tr.Hooks(m.Hart, 0)
	for i := 1; i < 32; i++ {
		d.prev[i] = m.Hart.X(i)
	}
	m.Hart.SetHooks(&cpu.Hooks{Step: func(h *cpu.Hart, s cpu.Step) {
		ring.Step(h, s)
		d.step(h, s)
	}})
	// The first comparison: the reset state.
	if err := d.compare(m.Hart, cpu.Step{PC: m.Hart.PC()}, true); err != nil {
		return Result{}, err
	}
	ex, err := m.Run()
	if d.err != nil {
		return d.res, d.err
	}
	d.res.Exit = ex
	if err != nil && !d.res.Found {
		return d.res, err
	}
	return d.res, nil
}

type differ struct {
	opt  Options
	m    *machine.Machine
	q    *client
	tr   *tracer.Tracer
	prev [32]uint64 // gemu's registers before the instruction
	res  Result
	err  error
	done bool
}

func (d *differ) step(h *cpu.Hart, s cpu.Step) {
	if d.done {
		return
	}
	if d.opt.plant != nil {
		d.opt.plant(h, s)
	}
	d.res.Steps++
	if err := d.q.step(); err != nil {
		if errors.Is(err, io.EOF) {
			// QEMU exited: the guest powered it off with this
			// instruction, as it did gemu (Run reports gemu's exit).
			d.res.QEMUExited = true
			d.stop(h)
			return
		}
		d.fail(h, err)
		return
	}
	if err := d.compare(h, s, s.Trapped || s.Insn&0x7f == 0x73); err != nil {
		d.fail(h, err)
		return
	}
	for i := 1; i < 32; i++ {
		d.prev[i] = h.X(i)
	}
	if d.opt.MaxSteps != 0 && d.res.Steps >= d.opt.MaxSteps {
		d.stop(h)
	}
}

func (d *differ) fail(h *cpu.Hart, err error) {
	d.err = err
	d.stop(h)
}

func (d *differ) stop(h *cpu.Hart) {
	d.done = true
	h.RequestStop()
	d.m.Stop()
}

// compare checks gemu's state after step s against QEMU's; withCSRs adds
// the CSRs and the privilege level. A difference ends the run with a report.
func (d *differ) compare(h *cpu.Hart, s cpu.Step, withCSRs bool) error {
	qr, err := d.q.regs()
	if err != nil {
		return err
	}
	var diffs []string
	var g [33]uint64
	for i := 1; i < 32; i++ {
		g[i] = h.X(i)
	}
	g[32] = h.PC()
	for i := 1; i < 33; i++ {
		if g[i] != qr[i] {
			name := "pc"
			if i < 32 {
				name = fmt.Sprintf("x%d/%s", i, disasm.XName(i))
			}
			diffs = append(diffs, fmt.Sprintf("%-12s gemu 0x%016x  qemu 0x%016x", name, g[i], qr[i]))
		}
	}
	if withCSRs {
		qp, err := d.q.reg(d.q.priv)
		if err != nil {
			return err
		}
		if uint64(h.Priv()) != qp&3 {
			diffs = append(diffs, fmt.Sprintf("%-12s gemu %d  qemu %d", "priv", h.Priv(), qp&3))
		}
		for _, c := range csrs {
			n, ok := d.q.csr[c.name]
			if !ok {
				continue
			}
			qv, err := d.q.reg(n)
			if err != nil {
				return err
			}
			gv, _ := h.ReadCSR(c.num)
			if (gv^qv)&^c.ignore != 0 {
				diffs = append(diffs, fmt.Sprintf("%-12s gemu 0x%016x  qemu 0x%016x", c.name, gv, qv))
			}
		}
	}
	if a, ok := storeAddr(s, &d.prev); ok {
		a &^= 7
		gb, gok := d.gemuMem(h, a)
		qb, qerr := d.q.mem(a, 8)
		if gok && qerr == nil && string(gb) != string(qb) {
			diffs = append(diffs, fmt.Sprintf("%-12s gemu %x  qemu %x", fmt.Sprintf("mem[0x%x]", a), gb, qb))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	d.res.Found = true
	d.res.PC = s.PC
	var b strings.Builder
	if s.Len == 0 && s.Trapped {
		fmt.Fprintf(&b, "difftest: gemu and QEMU differ after %d instructions, after an interrupt taken at 0x%x\n", d.res.Steps, s.PC)
	} else {
		fmt.Fprintf(&b, "difftest: gemu and QEMU differ after %d instructions, after\n    %s\n", d.res.Steps, disasm.Line(s.PC, s.Insn))
	}
	for _, l := range diffs {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("gemu's registers:\n" + tracer.CPUState(h, false))
	b.WriteString("QEMU's registers:\n")
	fmt.Fprintf(&b, " %-8s %016x\n", "pc", qr[32])
	for i := 0; i < 32; i++ {
		fmt.Fprintf(&b, " %-8s %016x", fmt.Sprintf("x%d/%s", i, disasm.XName(i)), qr[i])
		if i%4 == 3 {
			b.WriteString("\n")
		}
	}
	var ring strings.Builder
	d.tr.Dump(&ring, "gemu's last instructions")
	b.WriteString(ring.String())
	d.res.Report = b.String()
	d.stop(h)
	return nil
}

func (d *differ) gemuMem(h *cpu.Hart, va uint64) ([]byte, bool) {
	pa, ok := h.DebugTranslate(va)
	if !ok || !d.m.Bus.InRAM(pa, 8) {
		return nil, false
	}
	b := make([]byte, 8)
	if d.m.Bus.ReadDMA(pa, b) != nil {
		return nil, false
	}
	return b, true
}

var stores = map[string]bool{
	"SB": true, "SH": true, "SW": true, "SD": true, "FSW": true, "FSD": true,
	"C.SW": true, "C.SD": true, "C.SWSP": true, "C.SDSP": true, "C.FSD": true, "C.FSDSP": true,
}

// storeAddr returns the address a store or AMO wrote, from the registers
// before it ran.
func storeAddr(s cpu.Step, x *[32]uint64) (uint64, bool) {
	if s.Len == 0 || s.Trapped {
		return 0, false
	}
	if s.Len == 4 && s.Insn&0x7f == 0x2f { // AMO, SC
		return x[s.Insn>>15&31], true
	}
	b := []byte{byte(s.Insn), byte(s.Insn >> 8), byte(s.Insn >> 16), byte(s.Insn >> 24)}
	in, err := riscv64asm.Decode(b[:s.Len])
	if err != nil || !stores[in.Op.String()] {
		return 0, false
	}
	for _, a := range in.Args {
		if ro, ok := a.(riscv64asm.RegOffset); ok {
			return x[(ro.OfsReg-riscv64asm.X0)&31] + uint64(int64(ro.Ofs.Imm)), true
		}
	}
	return 0, false
}
