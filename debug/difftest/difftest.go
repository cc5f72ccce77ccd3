// Package difftest is a difference finder (nemu's "difftest"): it runs one
// guest on gemu and on QEMU 7.2 in lock-step through QEMU's gdbstub and
// stops at the first instruction after which the pc, an integer or
// floating-point register, fcsr, a CSR, the privilege level or a written
// memory word differ. It prints both states and gemu's last instructions.
//
// By default it compares at block ends (Block mode): gemu runs a block
// (up to a branch, jump, SYSTEM instruction, fence.i, trap or interrupt)
// and QEMU, which has no block step in its gdbstub, is run to the same
// point with a breakpoint on the block's last instruction (kept, since a
// branch always ends a block) and one single step over it; for an
// interrupt, with a temporary breakpoint on the handler. When a block
// differs, both are started again, run in Block mode to the start of that
// block and single-stepped through it, so the report names the exact
// instruction (both emulators are deterministic under -icount). Step mode
// single-steps and compares after every instruction.
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

	Mode Mode

	// fpAll compares all f registers, not only those written (tests).
	fpAll bool

	// plant, set only by tests, is a bug planted in gemu: it is called at
	// the start of each run (a bisecting re-run starts again) and what it
	// returns runs after each gemu instruction and may change the hart's
	// state.
	plant func() func(h *cpu.Hart, s cpu.Step)
}

// Mode is how QEMU is driven.
type Mode int

const (
	// Block compares at block ends and bisects a differing block by
	// single-stepping it in a second run.
	Block Mode = iota
	// Step single-steps QEMU after every gemu instruction.
	Step
)

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
	Blocks     uint64 // comparisons at block ends (Block mode)
	Packets    uint64 // GDB packets exchanged with QEMU (of the last run)
	// Bisected: a block differed and a second run single-stepped it;
	// PC and Report are from that run.
	Bisected bool
	// BlockPC is where the differing block started (Block mode).
	BlockPC uint64

	blockStart uint64 // instructions before the differing block
}

// csrs are the CSRs compared after traps and SYSTEM instructions: the trap
// state a kernel reads. mip, time and the counters are left out (devices
// and host timing move them).
// ignore masks the bits of QEMU 7.2's hypervisor extension, which gemu
// does not have: mideleg's read-only-one VSSIP/VSTIP/VSEIP/SGEIP, mie's
// VS and SGEIE enables, mstatus.GVA and MPV, medeleg's VS-mode ecall
// (bit 10); and medeleg bit 11 (M-mode ecall), which QEMU 7.2 lets a
// guest set (target/riscv/csr.c DELEGABLE_EXCPS) where the privileged spec
// (3.1.8) makes it read-only zero, as gemu does; and the Sscofpmf
// counter-overflow interrupt bit 13 (LCOFI) of mie and mideleg, an
// extension gemu does not have.
var csrs = []struct {
	name   string
	num    uint32
	ignore uint64
}{
	{"mstatus", 0x300, 3 << 38}, {"mepc", 0x341, 0}, {"mcause", 0x342, 0}, {"mtval", 0x343, 0},
	{"mtvec", 0x305, 0}, {"mie", 0x304, 0x3444}, {"mideleg", 0x303, 0x3444}, {"medeleg", 0x302, 3 << 10},
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
	if opt.Mode == Step {
		return runOnce(opt, 0)
	}
	r, err := runOnce(opt, noSingle)
	if err != nil || !r.Found {
		return r, err
	}
	// A block differed: run again to its start and single-step it.
	r2, err := runOnce(opt, r.blockStart)
	if err != nil {
		return r, err
	}
	r2.Bisected, r2.BlockPC, r2.Blocks = true, r.BlockPC, r.Blocks
	if !r2.Found || r2.Steps > r.Steps {
		// Not reproduced within the block: report the block.
		r.Report += fmt.Sprintf("difftest: single-stepping the block again found no difference in it (%s); see docs/debugging.md\n",
			map[bool]string{true: "a later one was found", false: "none at all"}[r2.Found])
		return r, nil
	}
	return r2, nil
}

// noSingle: never switch to single steps.
const noSingle = ^uint64(0)

// runOnce runs gemu and QEMU once, in blocks up to instruction
// singleFrom and single steps after it.
func runOnce(opt Options, singleFrom uint64) (Result, error) {
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
	d := &differ{opt: opt, m: m, q: c, singleFrom: singleFrom, bps: map[uint64]bool{}}
	if opt.plant != nil {
		d.plant = opt.plant()
	}
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
	if err := d.compare(m.Hart, []rec{{s: cpu.Step{PC: m.Hart.PC(), Trapped: true}}}); err != nil {
		return Result{}, err
	}
	ex, err := m.Run()
	if d.err == nil && !d.done && len(d.blk) > 0 {
		// The guest stopped gemu inside a block (power-off): step QEMU
		// through the rest.
		d.finish(m.Hart)
	}
	d.res.Packets = c.packets
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
	opt   Options
	m     *machine.Machine
	q     *client
	tr    *tracer.Tracer
	plant func(h *cpu.Hart, s cpu.Step)
	prev  [32]uint64 // gemu's registers before the instruction
	res   Result
	err   error
	done  bool

	singleFrom uint64          // single-step after this many instructions
	blk        []rec           // gemu's instructions since the last comparison
	bps        map[uint64]bool // QEMU breakpoints kept (block-ending instructions)
}

// rec is one gemu step of the current block.
type rec struct {
	s     cpu.Step
	store uint64 // the address a store or AMO wrote
	wrote bool   // store is valid
}

func (d *differ) step(h *cpu.Hart, s cpu.Step) {
	if d.done {
		return
	}
	if d.plant != nil {
		d.plant(h, s)
	}
	d.res.Steps++
	r := rec{s: s}
	r.store, r.wrote = storeAddr(s, &d.prev)
	for i := 1; i < 32; i++ {
		d.prev[i] = h.X(i)
	}
	d.blk = append(d.blk, r)
	max := d.opt.MaxSteps != 0 && d.res.Steps >= d.opt.MaxSteps
	if d.res.Steps <= d.singleFrom && !blockEnd(s) && !max && d.res.Steps != d.singleFrom {
		return
	}
	if err := d.advance(h); err != nil && !errors.Is(err, errNoStop) {
		// (errNoStop: QEMU went elsewhere; the comparison shows where.)
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
	if err := d.compare(h, d.blk); err != nil {
		d.fail(h, err)
		return
	}
	d.blk = d.blk[:0]
	if max {
		d.stop(h)
	}
}

// finish steps QEMU through the instructions of an unfinished block and
// compares, when gemu stopped inside a block.
func (d *differ) finish(h *cpu.Hart) {
	for range d.blk {
		if err := d.q.step(); err != nil {
			if errors.Is(err, io.EOF) {
				d.res.QEMUExited = true
				return
			}
			d.err = err
			return
		}
	}
	if err := d.compare(h, d.blk); err != nil {
		d.err = err
	}
}

// advance runs QEMU through the instructions gemu ran since the last
// comparison (d.blk). One instruction is one single step. A longer block
// ends at its last instruction E (straight-line code before it, so QEMU
// reaches E first at the block's end): QEMU continues to a breakpoint on
// E and single-steps E. A block that ends with an interrupt taken
// continues to a temporary breakpoint on the handler gemu entered. When
// the breakpoint address was also run earlier in the block, it single-steps
// every instruction instead.
func (d *differ) advance(h *cpu.Hart) error {
	blk := d.blk
	if len(blk) > 1 {
		d.res.Blocks++
	}
	last := blk[len(blk)-1].s
	target, keep, stepAfter := last.PC, blockEnd(last) && !last.Trapped, true
	if last.Len == 0 { // interrupt: stop at the handler
		target, keep, stepAfter = h.PC(), false, false
	}
	ran := false
	for _, r := range blk[:len(blk)-1] {
		ran = ran || r.s.PC == target
	}
	if len(blk) == 1 || ran || (!stepAfter && blk[0].s.PC == target) {
		for range blk {
			if err := d.q.step(); err != nil {
				return err
			}
		}
		return nil
	}
	temp := false
	if !d.bps[target] {
		if err := d.q.breakpoint(true, target); err != nil {
			return err
		}
		d.bps[target], temp = keep, !keep
	}
	err := d.q.cont(contTimeout)
	if temp {
		delete(d.bps, target)
		if err2 := d.q.breakpoint(false, target); err == nil {
			err = err2
		}
	}
	if err != nil {
		return err
	}
	if stepAfter {
		return d.q.step()
	}
	return nil
}

// contTimeout bounds a continue to a block end; QEMU runs a block in
// microseconds, so only a QEMU that went elsewhere takes this long.
const contTimeout = 10 * time.Second

// blockEnd reports whether gemu's step ends a block: a trap or
// interrupt, a branch or jump, a SYSTEM instruction (CSRs, ecall, xRET,
// wfi, sfence.vma) or fence.i.
func blockEnd(s cpu.Step) bool {
	if s.Trapped || s.Len == 0 {
		return true
	}
	w := s.Insn
	if s.Len == 4 {
		switch w & 0x7f {
		case 0x63, 0x6f, 0x67, 0x73: // BRANCH, JAL, JALR, SYSTEM
			return true
		case 0x0f: // MISC-MEM: fence.i
			return w>>12&7 == 1
		}
		return false
	}
	f3 := w >> 13 & 7
	switch w & 3 {
	case 1: // c.j, c.beqz, c.bnez
		return f3 >= 5
	case 2: // c.jr, c.jalr, c.ebreak: funct3 4, rs2 0
		return f3 == 4 && w>>2&31 == 0 && (w>>7&31 != 0 || w>>12&1 == 1)
	}
	return false
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

// compare checks gemu's state after the instructions of blk against
// QEMU's: pc and x1-x31 always; the CSRs and the privilege level when one
// of them trapped or was a SYSTEM instruction; fcsr and the f registers
// they wrote when one was a floating-point instruction (or trapped, or
// was SYSTEM) and mstatus.FS is on; the memory words stores wrote. A
// difference ends the run with a report.
func (d *differ) compare(h *cpu.Hart, blk []rec) error {
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
	withCSRs, withFP := false, false
	var fregs uint32 // f registers written
	for _, r := range blk {
		sys := r.s.Trapped || r.s.Len == 4 && r.s.Insn&0x7f == 0x73
		withCSRs = withCSRs || sys
		if rd, ok := fpDest(r.s); ok || sys || isFP(r.s) {
			withFP = true
			if ok {
				fregs |= 1 << rd
			}
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
	if ms, _ := h.ReadCSR(0x300); withFP && ms&(3<<13) != 0 && d.q.fcsr >= 0 {
		if d.opt.fpAll {
			fregs = ^uint32(0)
		}
		for i := 0; i < 32; i++ {
			if fregs&(1<<i) == 0 {
				continue
			}
			qv, err := d.q.reg(d.q.f0 + i)
			if err != nil {
				return err
			}
			if gv := h.F(i); gv != qv {
				diffs = append(diffs, fmt.Sprintf("%-12s gemu 0x%016x  qemu 0x%016x", fmt.Sprintf("f%d/%s", i, fName(i)), gv, qv))
			}
		}
		qv, err := d.q.reg(d.q.fcsr)
		if err != nil {
			return err
		}
		if gv, _ := h.ReadCSR(0x003); gv&0xff != qv&0xff {
			diffs = append(diffs, fmt.Sprintf("%-12s gemu 0x%016x  qemu 0x%016x", "fcsr", gv, qv))
		}
	}
	seen := map[uint64]bool{}
	for _, r := range blk {
		a := r.store &^ 7
		if !r.wrote || seen[a] {
			continue
		}
		seen[a] = true
		gb, gok := d.gemuMem(h, a)
		qb, qerr := d.q.mem(a, 8)
		if gok && qerr == nil && string(gb) != string(qb) {
			diffs = append(diffs, fmt.Sprintf("%-12s gemu %x  qemu %x", fmt.Sprintf("mem[0x%x]", a), gb, qb))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	s := blk[len(blk)-1].s
	d.res.Found = true
	d.res.PC = s.PC
	d.res.BlockPC = blk[0].s.PC
	if d.res.Steps >= uint64(len(blk)) {
		d.res.blockStart = d.res.Steps - uint64(len(blk))
	}
	var b strings.Builder
	switch {
	case d.res.Steps == 0:
		fmt.Fprintf(&b, "difftest: gemu and QEMU differ at reset, at 0x%x\n", s.PC)
	case len(blk) > 1:
		fmt.Fprintf(&b, "difftest: gemu and QEMU differ at the end of a block of %d instructions from 0x%x, after %d instructions, after\n    %s\n",
			len(blk), blk[0].s.PC, d.res.Steps, disasm.Line(s.PC, s.Insn))
	case s.Len == 0 && s.Trapped:
		fmt.Fprintf(&b, "difftest: gemu and QEMU differ after %d instructions, after an interrupt taken at 0x%x\n", d.res.Steps, s.PC)
	default:
		fmt.Fprintf(&b, "difftest: gemu and QEMU differ after %d instructions, after\n    %s\n", d.res.Steps, disasm.Line(s.PC, s.Insn))
	}
	for _, l := range diffs {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("gemu's registers:\n" + tracer.CPUState(h, withFP))
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

// fpDest returns the f register a floating-point instruction writes: the
// loads (FLW/FLD, C.FLD, C.FLDSP), the fused multiply-adds and OP-FP
// (whose integer-result forms, compares and moves to x registers, name
// an f register that is simply compared again).
func fpDest(s cpu.Step) (int, bool) {
	if s.Trapped || s.Len == 0 {
		return 0, false
	}
	w := s.Insn
	if s.Len == 4 {
		switch w & 0x7f {
		case 0x07, 0x43, 0x47, 0x4b, 0x4f, 0x53:
			return int(w >> 7 & 31), true
		}
		return 0, false
	}
	switch {
	case w&3 == 0 && w>>13&7 == 1: // C.FLD rd'
		return int(w>>2&7) + 8, true
	case w&3 == 2 && w>>13&7 == 1: // C.FLDSP
		return int(w >> 7 & 31), true
	}
	return 0, false
}

// isFP reports floating-point stores (which change fcsr only by trapping,
// but make the state worth comparing once FS is on).
func isFP(s cpu.Step) bool {
	if s.Len == 4 {
		return s.Insn&0x7f == 0x27
	}
	return s.Len == 2 && (s.Insn&3 == 0 || s.Insn&3 == 2) && s.Insn>>13&7 == 5 // C.FSD, C.FSDSP
}

// fName is the ABI name of f register i.
func fName(i int) string {
	return [32]string{"ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1",
		"fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5",
		"fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"}[i&31]
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
