// Package tracer turns a hart's observation hooks (cpu.Hooks) into the logs
// a kernel or driver writer reads:
//
//   - QEMU's -d in_asm (each block's disassembly the first time it runs),
//     exec (one "Trace" line per block executed) and cpu (the registers
//     before each block), and -d mmu (each page-table walk), in the line
//     formats of QEMU 7.2 (accel/tcg/translator.c, accel/tcg/cpu-exec.c,
//     target/riscv/cpu.c riscv_cpu_dump_state, target/riscv/cpu_helper.c
//     riscv_cpu_tlb_fill);
//   - an instruction ring buffer (nemu's itrace): the last N instructions
//     with the registers each wrote, printed by Dump when something goes
//     wrong (Trap reports illegal instructions and trap loops itself);
//   - a function trace (nemu's ftrace): calls and returns, indented, named
//     from ELF symbols.
//
// Everything is off unless asked for: a Tracer with no option set attaches
// no hooks, so the harts keep their fast path.
package tracer

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"gemu/cpu"
	"gemu/debug/disasm"
	"gemu/debug/symbols"
)

// Options says what to trace.
type Options struct {
	InAsm, Exec, CPU, MMU bool
	FPU                   bool // -d cpu also prints the FP registers
	Ring                  int  // instructions kept for Dump; 0: no ring buffer
	Ftrace                bool // function calls and returns
	Syms                  *symbols.Table
	// Out receives the -d lines and the function trace; Prefix, if set,
	// returns what goes before each line (the machine's time stamp).
	Out    io.Writer
	Prefix func() string
}

func (o Options) any() bool {
	return o.InAsm || o.Exec || o.CPU || o.MMU || o.Ring > 0 || o.Ftrace
}

// Tracer traces the harts attached to it.
type Tracer struct {
	opt   Options
	mu    sync.Mutex // Dump may come from the console goroutine
	harts []*hartState
}

type hartState struct {
	t       *Tracer
	h       *cpu.Hart
	id      int
	seen    map[uint64]bool // blocks already listed by in_asm
	ring    []entry
	next    int // next ring slot
	n       int // entries filled
	x       [32]uint64
	f       [32]uint64
	depth   int // function-trace indentation
	lastExc cpu.Trap
	repeats int
	pending string // a dump Trap asked for, done after the instruction
}

// entry is one ring-buffer record.
type entry struct {
	pc      uint64
	insn    uint32
	len     uint8
	priv    uint8
	trapped bool
	nw      uint8
	w       [2]write
}

type write struct {
	fp  bool
	reg uint8
	val uint64
}

// New returns a tracer with options opt.
func New(opt Options) *Tracer {
	if opt.Out == nil {
		opt.Out = io.Discard
	}
	return &Tracer{opt: opt}
}

// Enabled reports whether the tracer attaches hooks at all.
func (t *Tracer) Enabled() bool { return t != nil && t.opt.any() }

// Attach installs the tracer's hooks on h (hart number id in logs). It does
// nothing when no option is set.
func (t *Tracer) Attach(h *cpu.Hart, id int) {
	if !t.Enabled() {
		return
	}
	h.SetHooks(t.Hooks(h, id))
}

// Hooks returns the tracer's hooks for h without installing them, for a
// caller that adds its own (the difference finder).
func (t *Tracer) Hooks(h *cpu.Hart, id int) *cpu.Hooks {
	s := &hartState{t: t, h: h, id: id, seen: map[uint64]bool{}}
	if t.opt.Ring > 0 {
		s.ring = make([]entry, t.opt.Ring)
	}
	s.snapshot()
	t.harts = append(t.harts, s)
	k := &cpu.Hooks{}
	if t.opt.InAsm || t.opt.Exec || t.opt.CPU {
		k.Block = s.block
	}
	if t.opt.Ring > 0 || t.opt.Ftrace {
		k.Step = s.step
	}
	if t.opt.MMU {
		k.Walk = s.walk
	}
	return k
}

func (t *Tracer) printf(format string, args ...any) {
	if t.opt.Prefix != nil {
		io.WriteString(t.opt.Out, t.opt.Prefix())
	}
	fmt.Fprintf(t.opt.Out, format, args...)
}

func (s *hartState) snapshot() {
	for i := 1; i < 32; i++ {
		s.x[i] = s.h.X(i)
		s.f[i] = s.h.F(i)
	}
	s.f[0] = s.h.F(0)
}

// block prints in_asm, exec and cpu for the block starting at pc.
func (s *hartState) block(h *cpu.Hart, pc uint64) {
	t := s.t
	name := t.opt.Syms.Name(pc)
	if t.opt.InAsm {
		key := pc ^ uint64(h.Priv())<<62
		if !s.seen[key] {
			s.seen[key] = true
			var b strings.Builder
			fmt.Fprintf(&b, "----------------\nIN: %s\nPriv: %d; Virt: 0\n", name, h.Priv())
			a := pc
			for i := 0; i < 512; i++ {
				insn, n := h.PeekInsn(a)
				if n == 0 {
					break
				}
				b.WriteString(disasm.Line(a, insn) + "\n")
				a += uint64(n)
				if EndsBlock(insn) || a&0xfff == 0 {
					break
				}
			}
			b.WriteString("\n")
			t.printf("%s", b.String())
		}
	}
	if t.opt.Exec {
		// QEMU prints the host address of the translated code; gemu has
		// none. flags: the privilege (QEMU's TB flags start with mem_idx).
		t.printf("Trace %d: 0x0 [0000000000000000/%016x/%08x/00000000] %s\n", s.id, pc, h.Priv(), name)
	}
	if t.opt.CPU {
		t.printf("%s", CPUState(h, t.opt.FPU))
	}
}

// EndsBlock reports whether a block ends after insn: jumps and branches,
// SYSTEM instructions (CSR accesses, ecall, ebreak, xRET, wfi,
// sfence.vma) and fence.i, as in QEMU 7.2.
func EndsBlock(insn uint32) bool {
	if insn&3 != 3 {
		w := insn & 0xffff
		switch {
		case w&3 == 1 && w>>13 >= 5: // c.j, c.beqz, c.bnez
			return true
		case w&3 == 2 && w>>13 == 4 && w>>2&31 == 0 && w>>7&31 != 0: // c.jr, c.jalr
			return true
		case w == 0x9002: // c.ebreak
			return true
		case w == 0:
			return true
		}
		return false
	}
	switch insn & 0x7f {
	case 0x63, 0x67, 0x6f, 0x73:
		return true
	case 0x0f:
		return insn>>12&7 == 1
	}
	return false
}

// CPUState is QEMU's riscv_cpu_dump_state (-d cpu, with fpu the FP
// registers too) for h, without the hypervisor registers gemu does not
// have.
func CPUState(h *cpu.Hart, fpu bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, " %-8s %016x\n", "pc", h.PC())
	for _, c := range []struct {
		name string
		n    uint32
	}{
		{"mhartid", 0xf14}, {"mstatus", 0x300}, {"mip", 0x344}, {"mie", 0x304},
		{"mideleg", 0x303}, {"medeleg", 0x302}, {"mtvec", 0x305}, {"stvec", 0x105},
		{"mepc", 0x341}, {"sepc", 0x141}, {"mcause", 0x342}, {"scause", 0x142},
		{"mtval", 0x343}, {"stval", 0x143}, {"mscratch", 0x340}, {"sscratch", 0x140},
		{"satp", 0x180},
	} {
		v, _ := h.ReadCSR(c.n)
		fmt.Fprintf(&b, " %-8s %016x\n", c.name, v)
	}
	for i := 0; i < 32; i++ {
		fmt.Fprintf(&b, " %-8s %016x", fmt.Sprintf("x%d/%s", i, disasm.XName(i)), h.X(i))
		if i%4 == 3 {
			b.WriteString("\n")
		}
	}
	for i := 0; fpu && i < 32; i++ {
		fmt.Fprintf(&b, " %-8s %016x", fmt.Sprintf("f%d/%s", i, disasm.FName(i)), h.F(i))
		if i%4 == 3 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// walk prints QEMU's two riscv_cpu_tlb_fill lines for a page-table walk.
func (s *hartState) walk(h *cpu.Hart, w cpu.Walk) {
	ret := 0
	if w.Cause != 0 {
		ret = 1 // TRANSLATE_FAIL
	}
	s.t.printf("riscv_cpu_tlb_fill ad %x rw %d mmu_idx %d\n", w.VA, w.Access, w.Priv)
	s.t.printf("riscv_cpu_tlb_fill address=%x ret %d physical %016x\n", w.VA, ret, w.PA)
}

// step records the instruction in the ring buffer and the function trace.
func (s *hartState) step(h *cpu.Hart, st cpu.Step) {
	t := s.t
	if s.ring != nil {
		t.mu.Lock()
		e := &s.ring[s.next]
		*e = entry{pc: st.PC, insn: st.Insn, len: st.Len, priv: st.Priv, trapped: st.Trapped}
		for i := 1; i < 32; i++ {
			if v := h.X(i); v != s.x[i] {
				s.x[i] = v
				if e.nw < 2 {
					e.w[e.nw] = write{reg: uint8(i), val: v}
					e.nw++
				}
			}
		}
		for i := 0; i < 32; i++ {
			if v := h.F(i); v != s.f[i] {
				s.f[i] = v
				if e.nw < 2 {
					e.w[e.nw] = write{fp: true, reg: uint8(i), val: v}
					e.nw++
				}
			}
		}
		s.next = (s.next + 1) % len(s.ring)
		s.n = min(s.n+1, len(s.ring))
		t.mu.Unlock()
	}
	if t.opt.Ftrace {
		s.ftrace(h, st)
	}
	if s.pending != "" {
		r := s.pending
		s.pending = ""
		t.Dump(t.opt.Out, r)
	}
}

// ftrace prints calls (jal/jalr linking ra or t0), returns (jr ra), trap
// entries and xRETs, indented by call depth.
func (s *hartState) ftrace(h *cpu.Hart, st cpu.Step) {
	t := s.t
	indent := func() string { return strings.Repeat("  ", min(s.depth, 40)) }
	name := func(pc uint64) string {
		if n := t.opt.Syms.Name(pc); n != "" {
			return n
		}
		return "???"
	}
	if st.Trapped {
		t.printf("0x%016x: %strap  [%s@0x%x]\n", st.PC, indent(), name(h.PC()), h.PC())
		s.depth++
		return
	}
	w := st.Insn
	call, ret := false, false
	if st.Len == 2 {
		if w&3 == 2 && w>>12&0xf == 9 && w>>7&31 != 0 && w>>2&31 == 0 { // c.jalr
			call = true
		} else if w&0xffff == 0x8082 { // c.jr ra
			ret = true
		}
	} else {
		rd, rs1 := w>>7&31, w>>15&31
		switch {
		case w&0x7f == 0x6f && (rd == 1 || rd == 5):
			call = true
		case w&0x7f == 0x67 && (rd == 1 || rd == 5):
			call = true
		case w&0x7f == 0x67 && rd == 0 && rs1 == 1 && w>>20 == 0:
			ret = true
		case w == 0x30200073 || w == 0x10200073: // mret, sret
			if s.depth > 0 {
				s.depth--
			}
			t.printf("0x%016x: %s%s  [%s]\n", st.PC, indent(), map[uint32]string{0x30200073: "mret", 0x10200073: "sret"}[w], name(st.PC))
			return
		}
	}
	switch {
	case call:
		t.printf("0x%016x: %scall [%s@0x%x]\n", st.PC, indent(), name(h.PC()), h.PC())
		s.depth++
	case ret:
		if s.depth > 0 {
			s.depth--
		}
		fn := "???"
		if f, _, ok := t.opt.Syms.Lookup(st.PC); ok {
			fn = f.Name
		}
		t.printf("0x%016x: %sret  [%s]\n", st.PC, indent(), fn)
	}
}

// Trap is given every trap a hart takes (wire it from cpu.Hart.TrapHook).
// With a ring buffer it dumps the buffer on an illegal instruction and when
// the same exception repeats at the same pc three times in a row (a trap
// loop: the handler returns to the faulting instruction, or faults itself).
func (t *Tracer) Trap(tr cpu.Trap) {
	if t == nil || t.opt.Ring == 0 {
		return
	}
	var s *hartState
	for _, hs := range t.harts {
		if uint64(hs.id) == tr.Hart {
			s = hs
		}
	}
	if s == nil || tr.Interrupt {
		return
	}
	// The dump waits for the Step hook, so that the trapping instruction
	// is in the buffer.
	if tr.Cause == 2 {
		s.pending = fmt.Sprintf("illegal instruction at 0x%x (hart %d)", tr.EPC, tr.Hart)
	}
	last := s.lastExc
	s.lastExc = tr
	if last.Cause == tr.Cause && last.EPC == tr.EPC && last.Tval == tr.Tval {
		s.repeats++
		if s.repeats == 2 {
			s.pending = fmt.Sprintf("trap loop: %s at 0x%x taken 3 times in a row (hart %d)", tr.Name(), tr.EPC, tr.Hart)
		}
	} else {
		s.repeats = 0
	}
}

// Dump prints the ring buffers of all harts to w, oldest first, after a
// line saying why. The last line of each hart is marked "-->".
func (t *Tracer) Dump(w io.Writer, reason string) {
	if t == nil || t.opt.Ring == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "itrace: %s\n", reason)
	for _, s := range t.harts {
		fmt.Fprintf(&b, "itrace: hart %d, last %d instructions:\n", s.id, s.n)
		for i := 0; i < s.n; i++ {
			e := s.ring[(s.next-s.n+i+len(s.ring))%len(s.ring)]
			mark := "    "
			if i == s.n-1 {
				mark = "--> "
			}
			b.WriteString(mark + e.String() + "\n")
		}
		// The instruction running now (a device access reports from
		// inside it) or, after a trap, the next one.
		pc := s.h.PC()
		if insn, n := s.h.PeekInsn(pc); n > 0 {
			fmt.Fprintf(&b, "pc: [%s] %s\n", "USHM"[s.h.Priv()&3:s.h.Priv()&3+1], disasm.Line(pc, insn))
		}
	}
	io.WriteString(w, b.String())
}

func (e entry) String() string {
	p := "USHM"[e.priv&3 : e.priv&3+1]
	if e.len == 0 {
		return fmt.Sprintf("[%s] 0x%016x:  (interrupt taken)", p, e.pc)
	}
	s := fmt.Sprintf("[%s] %s", p, disasm.Line(e.pc, e.insn))
	var ws []string
	for _, w := range e.w[:e.nw] {
		if w.fp {
			ws = append(ws, fmt.Sprintf("f%d=0x%x", w.reg, w.val))
		} else {
			ws = append(ws, fmt.Sprintf("%s=0x%x", disasm.XName(int(w.reg)), w.val))
		}
	}
	if e.trapped {
		ws = append(ws, "(trapped)")
	}
	if len(ws) > 0 {
		s = fmt.Sprintf("%-80s ; %s", s, strings.Join(ws, " "))
	}
	return s
}
