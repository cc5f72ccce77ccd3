package cpu

import (
	"encoding/binary"
	"unsafe"

	. "gemu/cpu/x64"
)

// The translator for amd64 hosts (see jit.go for how it fits).
//
// A block is the run of instructions from one pc up to and including the
// first branch or jump, stopping before the first instruction it does not
// translate, at the end of the 4 KiB page, or after maxBlock instructions.
// Blocks are kept per RAM page and slot, like the decoded instructions they
// are made from (codecache.go): when a write zeroes decoded slots of a page,
// every block of that page is dropped (codeCache.dropped), so self-modifying
// code and DMA into code are seen exactly as by the interpreter. A block
// also records the virtual pc it was made for, since AUIPC, JAL and branch
// targets depend on it.
//
// Generated code runs with RBX = the *Hart. Guest registers live in h.x
// (no register caching yet). It returns to runJIT with h.pc and h.steps
// brought up to date and an exit code in RAX:
//
//	exitNext: the block ended; continue at h.pc.
//	exitSlow: the instruction at h.pc needs the interpreter (a load or
//	          store that missed the TLB: MMIO, a fault, a first touch, a
//	          misaligned or reserved address). steps counts the
//	          instructions before it.
//
// Within a page, a block whose end is a direct jump or branch to a block
// already translated on the same virtual and physical page chains to it
// without returning to Go while the icount budget (h.jitEnd) allows the
// next block whole and nothing asked for attention (h.event). Chained
// blocks live and die together with their page, so a link never outlives
// its target.

const (
	exitNext = 0
	exitSlow = 1

	maxBlock = 64
)

// JITSupported reports whether this host has a translator (amd64 only).
const JITSupported = true

// A jblock is one translated block. n == 0 marks a pc whose first
// instruction is not translated: runJIT interprets it.
type jblock struct {
	code uintptr
	pc   uint64 // the virtual pc it was translated for
	n    uint64 // instructions
	// links are the rel32 fields of chain jumps at the end of the block
	// not yet pointing at their target, with the target pc.
	links []link
}

type link struct {
	at     uintptr // address of the rel32
	target uint64  // guest pc of the target block
}

type jpage struct {
	blk     [slotsPerPage]*jblock
	pending []*jblock // blocks with unpatched links
}

// jitCache is the translator's state in a Cluster: the code region and
// the blocks of each RAM page.
type jitCache struct {
	code  *Code
	pages []*jpage
}

const codeSize = 64 << 20

// SetJIT turns the translator on or off for the harts of c. It reports
// whether the request holds (turning it on fails only when the host will
// not map executable memory).
func (c *Cluster) SetJIT(on bool) bool {
	if !on {
		if c.jit != nil {
			c.jit.code.Free()
			c.jit = nil
			c.code.dropped = nil
		}
		return true
	}
	if c.jit != nil {
		return true
	}
	code, err := NewCode(codeSize)
	if err != nil {
		return false
	}
	j := &jitCache{code: code, pages: make([]*jpage, len(c.code.pages))}
	c.jit = j
	c.code.dropped = func(p uint64) { j.pages[p] = nil }
	return true
}

// JIT reports whether the translator is on.
func (c *Cluster) JIT() bool { return c.jit != nil }

// runJIT is Run with the translator: blocks where it can, the interpreter
// for the rest. Interrupts, RequestStop and WFI are acted on between blocks
// exactly where the interpreter acts on them (h.event is only ever set by Go
// code, which runs between blocks or in the interpreter).
func (h *Hart) runJIT(max uint64) uint64 {
	start := h.steps
	end := start + max
	if end < start {
		end = ^uint64(0)
	}
	j := h.cl.jit
	for h.steps < end {
		if h.event {
			h.event = false
			if h.stopReq {
				h.stopReq = false
				break
			}
			if cause, ok := h.pendingInterrupt(); ok {
				h.trap(cause, 0, true)
			}
		}
		pc := h.pc
		if pc>>12 != h.curVPN {
			if !h.setFetchPage(pc) {
				h.steps++ // the fetch fault counts, as in interp
				continue
			}
		}
		var b *jblock
		if h.curOff != noPage {
			b = j.lookup(h, h.curOff+pc&0xfff, pc)
		}
		if b == nil || b.n > end-h.steps {
			n := uint64(1)
			if b != nil {
				n = end - h.steps
			}
			if h.interp(n) < n || h.wfi {
				break // stopped or waiting
			}
			continue
		}
		h.jitEnd = end
		exit := Call(b.code, unsafe.Pointer(h))
		if jitAfterBlock != nil {
			jitAfterBlock(h)
		}
		if exit == exitSlow {
			if h.interp(1) < 1 || h.wfi {
				break
			}
		}
	}
	return h.steps - start
}

// jitAfterBlock, when set (by tests), is called after each return from
// translated code.
var jitAfterBlock func(h *Hart)

// lookup returns the block at RAM offset off for virtual pc, translating it
// if needed, or nil when the instruction there is not translated.
func (j *jitCache) lookup(h *Hart, off, pc uint64) *jblock {
	jp := j.pages[off>>12]
	if jp == nil {
		jp = new(jpage)
		j.pages[off>>12] = jp
	}
	slot := off & 0xfff >> 1
	b := jp.blk[slot]
	if b == nil || b.pc != pc {
		b = j.translate(h, off, pc)
		if jp = j.pages[off>>12]; jp == nil {
			jp = new(jpage) // the code region was emptied
			j.pages[off>>12] = jp
		}
		jp.blk[slot] = b
		j.link(jp, b)
	}
	if b.n == 0 {
		return nil
	}
	return b
}

// link patches the chain jumps of the blocks of jp whose target now
// exists (all on the same page, so they live and die together).
func (j *jitCache) link(jp *jpage, nb *jblock) {
	if len(nb.links) > 0 {
		jp.pending = append(jp.pending, nb)
	}
	k := 0
	for _, from := range jp.pending {
		n := 0
		for _, l := range from.links {
			t := jp.blk[l.target&0xfff>>1]
			if t != nil && t.pc == l.target && t.n > 0 {
				rel := int64(t.code) - int64(l.at+4)
				binary.LittleEndian.PutUint32(j.code.Bytes(l.at, 4), uint32(int32(rel)))
				continue
			}
			from.links[n] = l
			n++
		}
		from.links = from.links[:n]
		if n > 0 {
			jp.pending[k] = from
			k++
		}
	}
	clear(jp.pending[k:])
	jp.pending = jp.pending[:k]
}

// Offsets into Hart for the generated code.
var (
	offX      = int32(unsafe.Offsetof(Hart{}.x))
	offPC     = int32(unsafe.Offsetof(Hart{}.pc))
	offSteps  = int32(unsafe.Offsetof(Hart{}.steps))
	offEvent  = int32(unsafe.Offsetof(Hart{}.event))
	offEnd    = int32(unsafe.Offsetof(Hart{}.jitEnd))
	offRAM    = int32(unsafe.Offsetof(Hart{}.ram)) // the slice's data pointer
	offTLBR   = int32(unsafe.Offsetof(Hart{}.tlbR))
	offTLBW   = int32(unsafe.Offsetof(Hart{}.tlbW))
	offResOff = int32(unsafe.Offsetof(Hart{}.resOff))
)

func xr(i uint8) Op { return M(RBX, offX+8*int32(i)) }

// translate makes the block at RAM offset off, virtual pc. When the code
// region is full it empties it and drops every block first.
func (j *jitCache) translate(h *Hart, off, pc uint64) *jblock {
	e := emitter{pc0: pc}
	page := h.cl.code.page(off >> 12)
	cur := pc
	ended := false
	for e.n < maxBlock {
		o := off + (cur - pc)
		d := &page.ins[cur>>1&(slotsPerPage-1)]
		if d.op == opNone {
			h.decodeSlot(o, d)
		}
		if !e.inst(d, cur) {
			break
		}
		e.n++
		cur += uint64(d.len)
		if e.ended {
			ended = true
			break
		}
		if cur>>12 != pc>>12 {
			break
		}
	}
	b := &jblock{pc: pc, n: uint64(e.n)}
	if e.n == 0 {
		return b
	}
	if !ended {
		e.exitTo(cur, uint64(e.n))
	}
	e.slowStubs()
	p, err := j.code.Add(e.a.B)
	if err != nil {
		// Full: drop every translation and start over (QEMU's tb_flush).
		j.code.Reset()
		clear(j.pages)
		if p, err = j.code.Add(e.a.B); err != nil {
			panic("cpu: a block does not fit in an empty code region")
		}
	}
	b.code = p
	for _, c := range e.chains {
		b.links = append(b.links, link{at: p + uintptr(c.at), target: c.target})
	}
	return b
}

// decodeSlot decodes the instruction at RAM offset o into its slot, as
// slowFetch does for the interpreter.
func (h *Hart) decodeSlot(o uint64, d *dinst) {
	lo := binary.LittleEndian.Uint16(h.ram[o:])
	if lo&3 == 3 && o&0xfff == 0xffe {
		d.op = opCross
	} else {
		var hi uint16
		if lo&3 == 3 {
			hi = binary.LittleEndian.Uint16(h.ram[o+2:])
		}
		decodeAny(lo, hi, d)
	}
	h.cl.noteDecoded(o >> 12)
}

type slowExit struct {
	at int    // rel32 of the jump to the stub
	pc uint64 // the instruction's pc
	k  int    // instructions before it in the block
}

type chain struct {
	at     int    // rel32 of the chain jump
	target uint64 // guest pc
}

type emitter struct {
	a      Asm
	pc0    uint64
	n      int
	ended  bool
	slow   []slowExit
	chains []chain
}

// exitTo ends the block at guest pc next after n instructions. A target on
// the block's own page gets a chain jump taken when the next block fits the
// budget: steps+maxBlock <= jitEnd is checked (any block is at most
// maxBlock long) and no event is pending.
func (e *emitter) exitTo(next uint64, n uint64) {
	a := &e.a
	a.AluImm(S64, Add, M(RBX, offSteps), int32(n))
	if next>>12 == e.pc0>>12 {
		// if !h.event && h.steps+maxBlock <= h.jitEnd: jmp target
		a.Load(S64, RAX, M(RBX, offSteps))
		a.AluImm(S64, Add, R(RAX), maxBlock)
		a.Alu(S64, Cmp, RAX, M(RBX, offEnd))
		ja := a.Jcc(CondA)
		a.CmpByte(M(RBX, offEvent), 0)
		jne := a.Jcc(CondNE)
		// Chain: the rel32 first points at the exit below; link patches it.
		at := a.Jmp()
		e.chains = append(e.chains, chain{at: at, target: next})
		a.Patch(at, a.Len())
		a.Patch(ja, a.Len())
		a.Patch(jne, a.Len())
	}
	a.MovImm(RAX, next)
	a.Store(S64, M(RBX, offPC), RAX)
	a.MovImm(RAX, exitNext)
	a.Ret()
}

// exitReg ends the block with the next pc in RAX after n instructions.
func (e *emitter) exitReg(n uint64) {
	a := &e.a
	a.Store(S64, M(RBX, offPC), RAX)
	a.AluImm(S64, Add, M(RBX, offSteps), int32(n))
	a.MovImm(RAX, exitNext)
	a.Ret()
}

// slowStubs emits the exits to the interpreter for the instructions whose
// fast path failed.
func (e *emitter) slowStubs() {
	a := &e.a
	for _, s := range e.slow {
		a.Patch(s.at, a.Len())
		a.MovImm(RAX, s.pc)
		a.Store(S64, M(RBX, offPC), RAX)
		if s.k > 0 {
			a.AluImm(S64, Add, M(RBX, offSteps), int32(s.k))
		}
		a.MovImm(RAX, exitSlow)
		a.Ret()
	}
}

// inst emits instruction d at guest pc; false means it is not translated
// (nothing was emitted).
func (e *emitter) inst(d *dinst, pc uint64) bool {
	a := &e.a
	imm := int32(d.imm)
	rd := d.rd
	sink := rd == zeroSink
	alu := func(op AluOp) {
		if sink {
			return
		}
		a.Load(S64, RAX, xr(d.rs1))
		a.Alu(S64, op, RAX, xr(d.rs2))
		a.Store(S64, xr(rd), RAX)
	}
	aluImm := func(op AluOp) {
		if sink {
			return
		}
		a.Load(S64, RAX, xr(d.rs1))
		a.AluImm(S64, op, R(RAX), imm)
		a.Store(S64, xr(rd), RAX)
	}
	setcc := func(c Cond, immediate bool) {
		if sink {
			return
		}
		a.Alu(S32, Xor, RCX, R(RCX))
		a.Load(S64, RAX, xr(d.rs1))
		if immediate {
			a.AluImm(S64, Cmp, R(RAX), imm)
		} else {
			a.Alu(S64, Cmp, RAX, xr(d.rs2))
		}
		a.Setcc(c, RCX)
		a.Store(S64, xr(rd), RCX)
	}
	shiftImm := func(size int, op ShiftOp) {
		if sink {
			return
		}
		a.Load(S64, RAX, xr(d.rs1))
		a.ShiftImm(size, op, RAX, uint8(imm))
		if size == S32 {
			a.Movsxd(RAX, RAX)
		}
		a.Store(S64, xr(rd), RAX)
	}
	shiftReg := func(size int, op ShiftOp) {
		if sink {
			return
		}
		a.Load(S64, RCX, xr(d.rs2))
		a.Load(S64, RAX, xr(d.rs1))
		a.ShiftCL(size, op, RAX)
		if size == S32 {
			a.Movsxd(RAX, RAX)
		}
		a.Store(S64, xr(rd), RAX)
	}
	aluW := func(op AluOp) {
		if sink {
			return
		}
		a.Load(S32, RAX, xr(d.rs1))
		a.Alu(S32, op, RAX, xr(d.rs2))
		a.Movsxd(RAX, RAX)
		a.Store(S64, xr(rd), RAX)
	}
	branch := func(c Cond) {
		a.Load(S64, RAX, xr(d.rs1))
		a.Alu(S64, Cmp, RAX, xr(d.rs2))
		j := a.Jcc(c)
		n := uint64(e.n + 1)
		e.exitTo(pc+uint64(d.len), n)
		a.Patch(j, a.Len())
		e.exitTo(pc+uint64(int64(imm)), n)
		e.ended = true
	}
	switch d.op {
	case opLUI:
		if !sink {
			a.StoreImm(S64, xr(rd), imm)
		}
	case opAUIPC:
		if !sink {
			a.MovImm(RAX, pc+uint64(int64(imm)))
			a.Store(S64, xr(rd), RAX)
		}
	case opADDI:
		aluImm(Add)
	case opXORI:
		aluImm(Xor)
	case opORI:
		aluImm(Or)
	case opANDI:
		aluImm(And)
	case opSLTI:
		setcc(CondL, true)
	case opSLTIU:
		setcc(CondB, true)
	case opSLLI:
		shiftImm(S64, Shl)
	case opSRLI:
		shiftImm(S64, Shr)
	case opSRAI:
		shiftImm(S64, Sar)
	case opADD:
		alu(Add)
	case opSUB:
		alu(Sub)
	case opXOR:
		alu(Xor)
	case opOR:
		alu(Or)
	case opAND:
		alu(And)
	case opSLT:
		setcc(CondL, false)
	case opSLTU:
		setcc(CondB, false)
	case opSLL:
		shiftReg(S64, Shl)
	case opSRL:
		shiftReg(S64, Shr)
	case opSRA:
		shiftReg(S64, Sar)
	case opADDIW:
		if !sink {
			a.Load(S32, RAX, xr(d.rs1))
			a.AluImm(S32, Add, R(RAX), imm)
			a.Movsxd(RAX, RAX)
			a.Store(S64, xr(rd), RAX)
		}
	case opSLLIW:
		shiftImm(S32, Shl)
	case opSRLIW:
		shiftImm(S32, Shr)
	case opSRAIW:
		shiftImm(S32, Sar)
	case opADDW:
		aluW(Add)
	case opSUBW:
		aluW(Sub)
	case opSLLW:
		shiftReg(S32, Shl)
	case opSRLW:
		shiftReg(S32, Shr)
	case opSRAW:
		shiftReg(S32, Sar)
	case opMUL:
		if !sink {
			a.Load(S64, RAX, xr(d.rs1))
			a.Imul2(S64, RAX, xr(d.rs2))
			a.Store(S64, xr(rd), RAX)
		}
	case opMULW:
		if !sink {
			a.Load(S32, RAX, xr(d.rs1))
			a.Imul2(S32, RAX, xr(d.rs2))
			a.Movsxd(RAX, RAX)
			a.Store(S64, xr(rd), RAX)
		}
	case opMULH, opMULHU, opMULHSU:
		if !sink {
			a.Load(S64, RAX, xr(d.rs1))
			switch d.op {
			case opMULH:
				a.Unary(S64, Imul, xr(d.rs2))
			case opMULHU:
				a.Unary(S64, Mul, xr(d.rs2))
			default:
				// mulhu, minus rs2 when rs1 is negative.
				a.Unary(S64, Mul, xr(d.rs2))
				a.Load(S64, RAX, xr(d.rs1))
				a.ShiftImm(S64, Sar, RAX, 63)
				a.Alu(S64, And, RAX, xr(d.rs2))
				a.Alu(S64, Sub, RDX, R(RAX))
			}
			a.Store(S64, xr(rd), RDX)
		}
	case opDIV, opDIVU, opREM, opREMU, opDIVW, opDIVUW, opREMW, opREMUW:
		if !sink {
			e.div(d)
		}
	case opLB, opLH, opLW, opLD, opLBU, opLHU, opLWU:
		e.load(d, pc)
	case opSB, opSH, opSW, opSD:
		e.store(d, pc)
	case opFENCE:
	case opBEQ:
		branch(CondE)
	case opBNE:
		branch(CondNE)
	case opBLT:
		branch(CondL)
	case opBGE:
		branch(CondGE)
	case opBLTU:
		branch(CondB)
	case opBGEU:
		branch(CondAE)
	case opJAL:
		if !sink {
			a.MovImm(RAX, pc+uint64(d.len))
			a.Store(S64, xr(rd), RAX)
		}
		e.exitTo(pc+uint64(int64(imm)), uint64(e.n+1))
		e.ended = true
	case opJALR:
		a.Load(S64, RAX, xr(d.rs1))
		if imm != 0 {
			a.AluImm(S64, Add, R(RAX), imm)
		}
		a.AluImm(S64, And, R(RAX), -2)
		if !sink {
			a.MovImm(RCX, pc+uint64(d.len))
			a.Store(S64, xr(rd), RCX)
		}
		e.exitReg(uint64(e.n + 1))
		e.ended = true
	default:
		return false
	}
	return true
}

// div emits the M extension's divisions, with the results of the
// unprivileged spec's table 7.1 for division by zero and overflow.
func (e *emitter) div(d *dinst) {
	a := &e.a
	size := S64
	switch d.op {
	case opDIVW, opDIVUW, opREMW, opREMUW:
		size = S32
	}
	signed := d.op == opDIV || d.op == opREM || d.op == opDIVW || d.op == opREMW
	rem := d.op == opREM || d.op == opREMU || d.op == opREMW || d.op == opREMUW
	a.Load(S64, RAX, xr(d.rs1))
	a.Load(S64, RCX, xr(d.rs2))
	a.Test(size, R(RCX), RCX)
	jz := a.Jcc(CondE)
	var jm1 int
	if signed {
		// Divisor -1: the quotient is -dividend (wrapping for the most
		// negative one, as the spec wants) and the remainder 0.
		a.AluImm(size, Cmp, R(RCX), -1)
		jm1 = a.Jcc(CondE)
	}
	if signed {
		a.SignExtendAX(size)
		a.Unary(size, Idiv, R(RCX))
	} else {
		a.Alu(S32, Xor, RDX, R(RDX))
		a.Unary(size, Div, R(RCX))
	}
	if rem {
		a.Mov(S64, RAX, RDX)
	}
	done := []int{a.Jmp()}
	if signed {
		a.Patch(jm1, a.Len())
		if rem {
			a.Alu(S32, Xor, RAX, R(RAX))
		} else {
			a.Unary(size, Neg, R(RAX))
		}
		done = append(done, a.Jmp())
	}
	// Divisor zero: quotient all ones, remainder the dividend.
	a.Patch(jz, a.Len())
	if !rem {
		a.MovImm(RAX, ^uint64(0))
	}
	for _, j := range done {
		a.Patch(j, a.Len())
	}
	if size == S32 {
		a.Movsxd(RAX, RAX)
	}
	a.Store(S64, xr(d.rd), RAX)
}

// tlbLookup emits the software TLB probe for an access of size bytes at
// x[rs1]+imm: on a hit RAX holds the RAM offset; a miss (or a misaligned
// address, folded into the tag compare as in run.go) jumps to the slow exit
// of this instruction. It clobbers RCX, RDX and RSI.
func (e *emitter) tlbLookup(d *dinst, pc uint64, size int, tlb int32) {
	a := &e.a
	a.Load(S64, RAX, xr(d.rs1))
	if d.imm != 0 {
		a.AluImm(S64, Add, R(RAX), d.imm)
	}
	a.Mov(S64, RCX, RAX)
	a.ShiftImm(S64, Shr, RCX, 12-4) // index*16 = (va>>12&255)<<4
	a.AluImm(S32, And, R(RCX), (tlbSize-1)<<4)
	a.Alu(S64, Add, RCX, M(RBX, tlb))
	a.Mov(S64, RSI, RAX)
	a.AluImm(S64, And, R(RSI), int32(^(0xfff &^ uint64(size-1))))
	a.Alu(S64, Cmp, RSI, M(RCX, 0))
	e.slow = append(e.slow, slowExit{at: a.Jcc(CondNE), pc: pc, k: e.n})
	a.Alu(S64, Add, RAX, M(RCX, 8))
	a.Load(S64, RDX, M(RBX, offRAM))
}

func (e *emitter) load(d *dinst, pc uint64) {
	a := &e.a
	var size int
	sx := true
	switch d.op {
	case opLB:
		size = S8
	case opLBU:
		size, sx = S8, false
	case opLH:
		size = S16
	case opLHU:
		size, sx = S16, false
	case opLW:
		size = S32
	case opLWU:
		size, sx = S32, false
	default:
		size = S64
	}
	e.tlbLookup(d, pc, size, offTLBR)
	m := MI(RDX, RAX, 1, 0)
	if sx {
		a.LoadSX(size, RAX, m)
	} else {
		a.Load(size, RAX, m)
	}
	a.Store(S64, xr(d.rd), RAX)
}

func (e *emitter) store(d *dinst, pc uint64) {
	a := &e.a
	size := map[uint8]int{opSB: S8, opSH: S16, opSW: S32, opSD: S64}[d.op]
	e.tlbLookup(d, pc, size, offTLBW)
	a.Load(S64, RCX, xr(d.rs2))
	a.Store(size, MI(RDX, RAX, 1, 0), RCX)
	// A store into the reserved granule breaks the reservation.
	a.AluImm(S64, And, R(RAX), -8)
	a.Alu(S64, Cmp, RAX, M(RBX, offResOff))
	j := a.Jcc(CondNE)
	a.StoreImm(S64, M(RBX, offResOff), -1) // noRes
	a.Patch(j, a.Len())
}
