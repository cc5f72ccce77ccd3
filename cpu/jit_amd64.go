package cpu

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"gemu/cpu/x64"
)

// The translator for amd64 hosts (see jit.go for how it fits).
//
// A block is a superblock: the instructions from one pc on, going on past
// conditional branches (the taken side leaves the block) and following
// direct jumps within the page, stopping at JALR, before the first
// instruction it does not translate, at the end of the 4 KiB page, or after
// jitMaxBlock instructions. Blocks are kept per RAM page and slot, like the
// decoded instructions they are made from (codecache.go): when a write
// zeroes decoded slots of a page, every block of that page is dropped
// (codeCache.dropped), so self-modifying code and DMA into code are seen
// exactly as by the interpreter. A block only holds code of its own page. It
// also records the virtual pc it was made for, since AUIPC, JAL and branch
// targets depend on it.
//
// Generated code runs with RBX = the *Hart and R15 = h.steps (stepsReg).
// The guest registers a block uses live in host registers for the whole
// block (fixed per block, see emitter.reg): loaded at its entry, written
// back to h.x at its exits. The step count is added to R15 at every branch
// and exit, so a branch back to an instruction of the same block that
// follows a branch (or the block's start) is a jump within the block: a
// loop runs in host registers. The code returns to runJIT with h.x, h.pc
// and h.steps up to date and an exit code in RAX:
//
//	exitNext: the block ended; continue at h.pc.
//	exitSlow: the instruction at h.pc needs the interpreter (a load or
//	          store that missed the TLB: MMIO, a fault, a first touch, a
//	          misaligned or reserved address). steps counts the
//	          instructions before it.
//
// Translated: RV64I and M (divisions with the spec's table 7.1 results),
// loads and stores including FLW/FLD/FSW/FSD through the software TLB
// inline (a miss, MMIO, a misaligned address or FS Off exits to the
// interpreter at that instruction), AMOs through the write TLB (as
// execAMO's fast path), branches, JAL, JALR, FENCE, and FP arithmetic on
// SSE2/FMA3 where the host's result and flags are provably the
// soft-float's (jit_fp_amd64.go; the rest exits). Left to the
// interpreter: CSR instructions, LR/SC, ECALL, EBREAK, xRET, WFI,
// FENCE.I, SFENCE.VMA, and code outside RAM. A pc whose first
// instruction is not translated is interpreted with the straight-line run
// that follows it (untranslated).
//
// Code goes on from a block to the next, and around a loop, without
// returning to Go while the icount budget allows any next block whole
// (R15 < h.jitEnd, see runJIT; h.event is acted on by runJIT, see checks):
// a direct jump or branch to the same page through a patched chain jump
// (chained blocks live and die together with their page, so a link never
// outlives its target); JALR and jumps to another page through the hart's
// jump cache, looked up inline.

const (
	exitNext = 0
	exitSlow = 1

	jitMaxBlock = 64

	// jitSuperblock lets blocks go on past conditional branches and
	// follow direct jumps within their page.
	jitSuperblock = true

	// jitSlice bounds the instructions translated code runs before it
	// returns to runJIT (tens of microseconds).

	jitSlice = 1 << 16
)

// JITSupported reports whether this host has a translator (amd64 only).
const JITSupported = true

// A jblock is one translated block. n == 0 marks a pc whose first
// instruction is not translated: runJIT interprets it.
type jblock struct {
	code  uintptr // the entry from Go (x64.Call)
	chain uintptr // the entry from other blocks and the jump cache
	pc    uint64  // the virtual pc it was translated for
	n     uint64  // instructions
	// interp, when n == 0, is how many instructions from pc on the
	// translator does not translate, up to the first that ends a block:
	// runJIT interprets them in one go.
	interp uint64
	// links are the rel32 fields of chain jumps at the end of the block
	// not yet pointing at their target, with the target pc.
	links []link
	// next is a block of the same RAM slot made for another virtual pc
	// (the page mapped at several addresses: shared libraries in the
	// processes of a guest), up to jitSlotBlocks in all.
	next *jblock
}

// jitSlotBlocks bounds the blocks kept per RAM slot, for as many virtual
// addresses of the page. One dropped from the list stays in the code
// region, valid (its page is unchanged) and still reached by the chain
// jumps patched to it, until the page or the whole region is dropped.
const jitSlotBlocks = 4

// find returns the block of jp for virtual pc at slot, or nil.
func (jp *jpage) find(slot, pc uint64) *jblock {
	for b := jp.blk[slot]; b != nil; b = b.next {
		if b.pc == pc {
			return b
		}
	}
	return nil
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
	code  *x64.Code
	pages []*jpage
	e     emitter // reused by translate
}

// codeSize is the code region's size: mapped at once, backed as used. A
// Debian boot to the shell translates about 50 MiB; when full, every
// block is dropped (QEMU's tb_flush) and translation starts over.
const codeSize = 256 << 20

// SetJIT turns the translator on or off for the harts of c. It reports
// whether the request holds (turning it on fails only when the host will
// not map executable memory).
func (c *Cluster) SetJIT(on bool) bool {
	if !on {
		if c.jit != nil {
			c.jit.code.Reset() // unmapped by the cleanup
			c.jit = nil
			c.code.dropped = nil
		}
		return true
	}
	if c.jit != nil {
		return true
	}
	c.jumpCachesStale() // from an earlier time on: RAM may have changed
	code, err := x64.NewCode(codeSize)
	if err != nil {
		return false
	}
	j := &jitCache{code: code, pages: make([]*jpage, len(c.code.pages))}
	c.jit = j
	// Unmap the region once the cluster is unreachable (tests and fuzzers
	// make many); no code runs then, since its harts are gone too.
	runtime.AddCleanup(c, func(code *x64.Code) { code.Free() }, code)
	c.code.dropped = func(p uint64) {
		j.pages[p] = nil
		c.jumpCachesStale()
	}
	return true
}

// jumpCachesStale makes every hart empty its jump cache before it next
// enters translated code: blocks were dropped.
func (c *Cluster) jumpCachesStale() {
	for _, h := range c.harts {
		h.jcStale = true
	}
}

// The jump cache of a hart maps a virtual pc to a block's code for
// transitions that cannot be patched: indirect jumps (JALR) and direct
// ones to another page. Generated code looks it up inline (emitter.jumpTo)
// and takes an entry only when the fetch TLB still maps the pc's page to
// the RAM page the entry was made for (add), so that satp, privilege and
// mapping changes need no flush; dropped blocks empty it (jcStale).
const jcSize = 1024

type jcEntry struct {
	pc   uint64 // odd (never a pc) when empty
	add  uint64 // the fetch TLB's add for pc's page when it was made
	code uintptr
	_    uint64 // 32 bytes, for indexing by shift
}

type jumpCache [jcSize]jcEntry

func (c *jumpCache) clear() {
	for i := range c {
		c[i] = jcEntry{pc: 1}
	}
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
	if h.jc == nil {
		h.jc = new(jumpCache)
		h.jc.clear()
	}
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
		if b == nil || b.n == 0 || b.n > end-h.steps {
			// Not translated here (b.n == 0: a run of b.interp
			// instructions the translator leaves alone), outside RAM,
			// or the budget ends inside the block: interpret.
			n := uint64(1)
			switch {
			case b == nil:
			case b.n == 0:
				n = min(b.interp, end-h.steps)
			default:
				n = end - h.steps
			}
			if h.interp(n) < n || h.wfi {
				break // stopped or waiting
			}
			continue
		}
		if h.jcStale {
			h.jc.clear()
			h.jcStale = false
		}
		if e := &h.tlbX[pc>>12&(tlbSize-1)]; e.tag == pc&^0xfff {
			h.jc[pc>>1&(jcSize-1)] = jcEntry{pc: pc, add: e.add, code: b.chain}
		}
		// Return to Go now and then even when the budget is huge:
		// generated code has no preemption points, and a goroutine that
		// never reaches one holds up every stop-the-world of the runtime.
		// Translated code goes on (chained blocks, loops) while
		// steps < h.jitEnd, that is while the budget allows any next
		// block whole: steps+jitMaxBlock <= min(end, steps+jitSlice).
		if lim := min(end, h.steps+jitSlice); lim >= jitMaxBlock && !jitNoChain && h.jitHook == nil {
			h.jitEnd = lim - jitMaxBlock + 1
		} else {
			h.jitEnd = 0 // every block returns
		}
		exit := x64.Call(b.code, unsafe.Pointer(h))
		if jitAfterBlock != nil {
			jitAfterBlock(h)
		}
		if h.jitHook != nil {
			h.jitHook(h)
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

// jitNoChain, when set (by tests), makes every block return to Go, so that
// jitAfterBlock sees each one.
var jitNoChain bool

// lookup returns the block at RAM offset off for virtual pc, translating it
// if needed (n == 0 when the instruction there is not translated).
func (j *jitCache) lookup(h *Hart, off, pc uint64) *jblock {
	jp := j.pages[off>>12]
	if jp == nil {
		jp = new(jpage)
		j.pages[off>>12] = jp
	}
	slot := off & 0xfff >> 1
	b := jp.blk[slot]
	if b != nil && b.pc == pc {
		return b
	}
	if b = jp.find(slot, pc); b != nil {
		return b
	}
	b = j.translate(h, off, pc)
	if jp = j.pages[off>>12]; jp == nil {
		jp = new(jpage) // the code region was emptied
		j.pages[off>>12] = jp
	}
	b.next = jp.blk[slot]
	for k, o := 1, b; o.next != nil; k, o = k+1, o.next {
		if k == jitSlotBlocks {
			o.next = nil
			break
		}
	}
	jp.blk[slot] = b
	j.link(jp, b)
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
			t := jp.find(l.target&0xfff>>1, l.target)
			if t != nil && t.n > 0 {
				rel := int64(t.chain) - int64(l.at+4)
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
	offEnd    = int32(unsafe.Offsetof(Hart{}.jitEnd))
	offRAM    = int32(unsafe.Offsetof(Hart{}.ram)) // the slice's data pointer
	offTLBR   = int32(unsafe.Offsetof(Hart{}.tlbR))
	offTLBW   = int32(unsafe.Offsetof(Hart{}.tlbW))
	offResOff = int32(unsafe.Offsetof(Hart{}.resOff))
	offTLBX   = int32(unsafe.Offsetof(Hart{}.tlbX))
	offJC     = int32(unsafe.Offsetof(Hart{}.jc))
	offF      = int32(unsafe.Offsetof(Hart{}.f))
	offMstat  = int32(unsafe.Offsetof(Hart{}.csr) + unsafe.Offsetof(csrFile{}.mstatus))
)

// xmem is guest register i in h.x. Generated code reads and writes guest
// registers only through emitter.src and emitter.setX (and the helpers
// built on them): the block's cache registers hold the current values of
// the guest registers assigned to them, and h.x is brought up to date only
// at the block's exits (write-back).
func xmem(i uint8) x64.Op { return x64.M(x64.RBX, offX+8*int32(i)) }

// stepsReg holds h.steps while translated code runs: loaded at the Go
// entry of a block, stored at every return to Go, carried across chained
// blocks and loops.
const stepsReg = x64.R15

// cacheRegs are the host registers that hold guest registers within a
// block: all that the generated code does not otherwise use (RAX, RCX,
// RDX and RSI are scratch, RBX holds the hart, R15 the step count, RSP and
// RBP are Go's).
var cacheRegs = [...]x64.Reg{x64.RDI, x64.R8, x64.R9, x64.R10, x64.R11, x64.R12, x64.R13, x64.R14}

// reg returns the cache slot of guest register g, assigning a free one on
// first use; -1 when g is x0 (or the x0 sink) or no slot is left, in which
// case g lives in h.x for the whole block.
//
// The assignment is fixed for the block. Every assigned register is
// loaded at the block's entry (the loads are emitted last, once the set is
// known), so at every point of the block each cache register holds its
// guest register's current value; that is what lets any instruction start
// of the block be the target of a back edge.
func (e *emitter) reg(g uint8) int {
	if g == 0 || g >= 32 {
		return -1
	}
	for i := 0; i < e.nreg; i++ {
		if e.hreg[i] == g {
			return i
		}
	}
	if e.nreg == len(cacheRegs) {
		return -1
	}
	e.hreg[e.nreg] = g
	e.nreg++
	return e.nreg - 1
}

// plan assigns the cache registers before the block is emitted, to the
// guest registers the block uses most (a use inside a loop of the block
// counts 8 times): it walks the instructions the way translate will.
// Registers it does not foresee get a free cache register on first use,
// or live in h.x.
func (e *emitter) plan(h *Hart, page *dpage, pageOff, pc uint64) {
	var use [32]int
	var pcs [jitMaxBlock]uint64
	var regs [jitMaxBlock][3]uint8
	cur := pc
	n := 0
scan:
	for n < jitMaxBlock {
		d := &page.ins[cur>>1&(slotsPerPage-1)]
		if d.op == opNone {
			h.decodeSlot(pageOff+cur&0xfff, d)
		}
		pcs[n] = cur
		r := &regs[n]
		n++
		next := cur + uint64(d.len)
		switch op := d.op; {
		case op == opLUI || op == opAUIPC:
			r[0] = d.rd
		case op == opJAL:
			r[0] = d.rd
			t := cur + uint64(int64(d.imm))
			for k := 0; k < n; k++ {
				if pcs[k] == t {
					for ; k < n; k++ {
						for _, g := range regs[k] {
							use[g&31] += 7
						}
					}
					break scan
				}
			}
			if t>>12 != pc>>12 {
				break scan
			}
			next = t
		case op == opJALR:
			r[0], r[1] = d.rd, d.rs1
			break scan
		case op >= opBEQ && op <= opBGEU:
			r[0], r[1] = d.rs1, d.rs2
			t := cur + uint64(int64(d.imm))
			for k := 0; k < n; k++ {
				if pcs[k] == t { // a loop, which ends the block: weigh its body
					for ; k < n; k++ {
						for _, g := range regs[k] {
							use[g&31] += 8
						}
					}
					break scan
				}
			}
		case op >= opLB && op <= opLWU,
			op >= opADDI && op <= opSRAI, op >= opADDIW && op <= opSRAIW:
			r[0], r[1] = d.rd, d.rs1
		case op >= opSB && op <= opSD:
			r[0], r[1] = d.rs1, d.rs2
		case op >= opADD && op <= opAND, op >= opADDW && op <= opSRAW,
			op >= opMUL && op <= opREMUW, op == opAMO:
			r[0], r[1], r[2] = d.rd, d.rs1, d.rs2
		case op == opFP:
			if f := d.fn &^ fpD; f == fpLoad || f == fpStore {
				r[0] = d.rs1
			}
		case op == opFENCE:
		default:
			break scan // not translated: the block ends before it
		}
		for _, g := range r {
			use[g&31]++
		}
		cur = next
		if cur>>12 != pc>>12 {
			break
		}
	}
	use[0] = 0
	for e.nreg < len(cacheRegs) {
		best := 0
		for g := 1; g < 32; g++ {
			if use[g] > use[best] {
				best = g
			}
		}
		if best == 0 {
			break
		}
		e.hreg[e.nreg] = uint8(best)
		e.nreg++
		use[best] = 0
	}
}

// src returns an operand holding guest register g: its cache register,
// or h.x when it has none.
func (e *emitter) src(g uint8) x64.Op {
	if i := e.reg(g); i >= 0 {
		e.read(i)
		return x64.R(cacheRegs[i])
	}
	return xmem(g)
}

// dst returns the host register to compute guest register g into in
// place, marking it written; ok is false when g has no cache register (x0
// or none left: compute elsewhere and setX).
func (e *emitter) dst(g uint8) (x64.Reg, bool) {
	i := e.reg(g)
	if i < 0 {
		return 0, false
	}
	e.read(i) // the in-place forms read it
	e.dirty |= 1 << i
	return cacheRegs[i], true
}

// noReg is inPlace's "no later operand".
const noReg = 0xff

// inPlace picks where a two-operand host instruction computes guest
// register rd = rs1 op ...: rd's own cache register (ok true) unless rd is
// later, an operand still to be read after rs1 is in place (and not also
// rs1), else RAX (ok false: the caller then does setX(rd, RAX)). It loads
// rs1 there (size bytes) unless the register already holds it.
func (e *emitter) inPlace(size int, rd, rs1, later uint8) (x64.Reg, bool) {
	r, ok := x64.RAX, false
	if rd != later || rd == rs1 {
		if c, in := e.dst(rd); in {
			r, ok = c, true
		}
	}
	if rd != rs1 || !ok {
		e.a.Load(size, r, e.src(rs1))
	}
	return r, ok
}

// dstNew is dst for a write that does not depend on g's old value.
func (e *emitter) dstNew(g uint8) (x64.Reg, bool) {
	i := e.reg(g)
	if i < 0 {
		return 0, false
	}
	e.dirty |= 1 << i
	return cacheRegs[i], true
}

// read notes a read of cache slot i: unless the block wrote it before
// (in emission order, which is the only path through a block without a
// loop), its entry must load it.
func (e *emitter) read(i int) {
	if e.dirty&(1<<i) == 0 {
		e.needLoad |= 1 << i
	}
}

// setX writes host register from to guest register g.
func (e *emitter) setX(g uint8, from x64.Reg) {
	if g == zeroSink || g == 0 {
		return
	}
	if r, ok := e.dstNew(g); ok {
		if r != from {
			e.a.Mov(x64.S64, r, from)
		}
		return
	}
	e.a.Store(x64.S64, xmem(g), from)
}

// setImm writes the constant v to guest register g (clobbering RCX).
func (e *emitter) setImm(g uint8, v uint64) {
	if g == zeroSink || g == 0 {
		return
	}
	if r, ok := e.dstNew(g); ok {
		e.a.MovImm(r, v)
		return
	}
	if int64(v) == int64(int32(v)) {
		e.a.StoreImm(x64.S64, xmem(g), int32(v))
		return
	}
	e.a.MovImm(x64.RCX, v)
	e.a.Store(x64.S64, xmem(g), x64.RCX)
}

// writeBack stores the cache registers written before an exit whose
// mask of written slots was mask into h.x; in a block with a loop, every
// one the block writes (an earlier iteration may have written them).
func (e *emitter) writeBack(mask uint32) {
	if e.loop {
		mask = e.dirty
	}
	for i := 0; i < e.nreg; i++ {
		if mask&(1<<i) != 0 {
			e.a.Store(x64.S64, xmem(e.hreg[i]), cacheRegs[i])
		}
	}
}

// flush adds the instructions run since the last flush on this path (the
// current one included) to the step count. It changes the flags.
func (e *emitter) flush() {
	if e.pend > 0 {
		e.a.AluImm(x64.S64, x64.Add, x64.R(stepsReg), int32(e.pend))
	}
	e.pend = 0
}

// label returns the code offset of an instruction start of this block at
// guest pc where the step count was flushed, for a back edge; ok false
// when there is none.
func (e *emitter) label(pc uint64) (int, bool) {
	for _, l := range e.labels {
		if l.pc == pc {
			return l.at, true
		}
	}
	return 0, false
}

// checks emits the test that lets the code go on without returning to
// Go: the budget allows any next block whole (steps+jitMaxBlock <=
// h.jitEnd's limit, see runJIT). It returns the jump taken when it must
// return. h.event needs no test here: only Go code sets it (kick: CSR
// writes, device callbacks, RequestStop, debuggers), which runs while the
// hart is outside translated code, and runJIT acts on it before it enters
// a block; a hart's Run and its devices share one goroutine.
func (e *emitter) checks() []int {
	a := &e.a
	a.Alu(x64.S64, x64.Cmp, stepsReg, x64.M(x64.RBX, offEnd))
	return []int{a.Jcc(x64.CondAE)}
}

// backEdge jumps to the instruction at code offset at (guest pc) of this
// block, a loop kept in host registers, when checks allow; else it
// returns to Go at pc. The step count must be flushed.
func (e *emitter) backEdge(at int, pc uint64) {
	a := &e.a
	e.loop = true
	out := e.checks()
	j := a.Jmp()
	a.Patch(j, at)
	e.exits = append(e.exits, exitStub{jumps: out, pc: pc, plain: true, dirty: e.dirty})
}

// exitTo leaves the block for guest pc next from a point where the step
// count is flushed: through the stub emitted after the body.
func (e *emitter) exitTo(next uint64) {
	if at, ok := e.label(next); ok {
		e.backEdge(at, next)
		return
	}
	e.exits = append(e.exits, exitStub{jumps: []int{e.a.Jmp()}, pc: next, dirty: e.dirty})
}

// exitReg ends the block with the next pc in RAX (step count flushed),
// continuing through the jump cache when it can.
func (e *emitter) exitReg() {
	e.writeBack(e.dirty)
	out := append(e.checks(), e.jumpTo()...)
	e.tails = append(e.tails, out...)
}

// exitStubs emits the exits of the body: write back, then go on to the
// target block (a patched chain jump on the same page, the jump cache
// otherwise) or return to Go.
func (e *emitter) exitStubs() {
	a := &e.a
	for _, s := range e.exits {
		for _, j := range s.jumps {
			a.Patch(j, a.Len())
		}
		e.writeBack(s.dirty)
		a.MovImm(x64.RAX, s.pc)
		if s.plain {
			e.tails = append(e.tails, a.Jmp())
			continue
		}
		e.tails = append(e.tails, e.checks()...)
		if s.pc>>12 == e.pc0>>12 {
			// Chain: the rel32 first points at the exit; link patches it.
			at := a.Jmp()
			e.chains = append(e.chains, chain{at: at, target: s.pc})
			e.tails = append(e.tails, at)
		} else {
			e.tails = append(e.tails, e.jumpTo()...)
		}
	}
	// The return to Go with RAX = the next pc, h.x written back.
	for _, j := range e.tails {
		a.Patch(j, a.Len())
	}
	a.Store(x64.S64, x64.M(x64.RBX, offSteps), stepsReg)
	a.Store(x64.S64, x64.M(x64.RBX, offPC), x64.RAX)
	a.MovImm(x64.RAX, exitNext)
	a.Ret()
}

// jumpTo emits the jump cache lookup for the pc in RAX: the entry must be
// for that pc and the fetch TLB must map its page where it did when the
// entry was made. It returns the jumps to patch to the exit (RAX kept).
func (e *emitter) jumpTo() []int {
	a := &e.a
	a.Mov(x64.S64, x64.RCX, x64.RAX)
	a.ShiftImm(x64.S64, x64.Shl, x64.RCX, 4) // (pc>>1 & (jcSize-1)) * 32
	a.AluImm(x64.S32, x64.And, x64.R(x64.RCX), (jcSize-1)<<5)
	a.Alu(x64.S64, x64.Add, x64.RCX, x64.M(x64.RBX, offJC))
	a.Alu(x64.S64, x64.Cmp, x64.RAX, x64.M(x64.RCX, 0))
	j1 := a.Jcc(x64.CondNE)
	a.Mov(x64.S64, x64.RDX, x64.RAX)
	a.ShiftImm(x64.S64, x64.Shr, x64.RDX, 12-4)
	a.AluImm(x64.S32, x64.And, x64.R(x64.RDX), (tlbSize-1)<<4)
	a.Alu(x64.S64, x64.Add, x64.RDX, x64.M(x64.RBX, offTLBX))
	a.Mov(x64.S64, x64.RSI, x64.RAX)
	a.AluImm(x64.S64, x64.And, x64.R(x64.RSI), -4096)
	a.Alu(x64.S64, x64.Cmp, x64.RSI, x64.M(x64.RDX, 0))
	j2 := a.Jcc(x64.CondNE)
	a.Load(x64.S64, x64.RSI, x64.M(x64.RDX, 8))
	a.Alu(x64.S64, x64.Cmp, x64.RSI, x64.M(x64.RCX, 8))
	j3 := a.Jcc(x64.CondNE)
	a.JmpMem(x64.M(x64.RCX, 16))
	return []int{j1, j2, j3}
}

// slowStubs emits the exits to the interpreter for the instructions whose
// fast path failed: count the instructions before it, write back, return
// exitSlow with h.pc at the instruction.
func (e *emitter) slowStubs() {
	a := &e.a
	if len(e.slow) == 0 {
		return
	}
	var tail []int
	for _, s := range e.slow {
		a.Patch(s.at, a.Len())
		if k := s.k - e.base[s.k]; k > 0 {
			a.AluImm(x64.S64, x64.Add, x64.R(stepsReg), int32(k))
		}
		e.writeBack(e.dirtyAt[s.k])
		a.MovImm(x64.RAX, s.pc)
		tail = append(tail, a.Jmp())
	}
	for _, j := range tail {
		a.Patch(j, a.Len())
	}
	a.Store(x64.S64, x64.M(x64.RBX, offSteps), stepsReg)
	a.Store(x64.S64, x64.M(x64.RBX, offPC), x64.RAX)
	a.MovImm(x64.RAX, exitSlow)
	a.Ret()
}

// entries emits, once the body is done, the block's two entries into
// e.pro, which goes before the body: the one from Go (load the step
// count) and, right after it, the one for chained jumps and the jump cache
// (load the cache registers), falling through into the body. It returns
// the chain entry's offset.
func (e *emitter) entries() int {
	a := &e.pro
	a.Load(x64.S64, stepsReg, x64.M(x64.RBX, offSteps))
	chain := a.Len()
	for i := 0; i < e.nreg; i++ {
		if e.loop || e.needLoad&(1<<i) != 0 {
			a.Load(x64.S64, cacheRegs[i], xmem(e.hreg[i]))
		}
	}
	return chain
}

// translate makes the block at RAM offset off, virtual pc. When the code
// region is full it empties it and drops every block first.
//
// A block is a superblock: it goes on past conditional branches (the
// taken side leaves through an exit stub) and follows direct jumps within
// its page, up to jitMaxBlock instructions. The step count is flushed at
// every branch, so the instruction after one starts with nothing pending:
// a label that later branches of the block may jump back to, keeping the
// loop in host registers.
func (j *jitCache) translate(h *Hart, off, pc uint64) *jblock {
	e := &j.e
	*e = emitter{pc0: pc, a: x64.Asm{B: e.a.B[:0]}, slow: e.slow[:0], chains: e.chains[:0],
		exits: e.exits[:0], tails: e.tails[:0], labels: e.labels[:0], base: e.base[:0],
		dirtyAt: e.dirtyAt[:0], pro: x64.Asm{B: e.pro.B[:0]}}
	page := h.cl.code.page(off >> 12)
	pageOff := off &^ 0xfff
	e.plan(h, page, pageOff, pc)
	cur := pc
	for e.n < jitMaxBlock {
		d := &page.ins[cur>>1&(slotsPerPage-1)]
		if d.op == opNone {
			h.decodeSlot(pageOff+cur&0xfff, d)
		}
		nl := len(e.labels)
		if e.pend == 0 {
			e.labels = append(e.labels, jlabel{pc: cur, at: e.a.Len()})
		}
		e.base = append(e.base, e.n-e.pend)
		e.dirtyAt = append(e.dirtyAt, e.dirty)
		e.next = cur + uint64(d.len)
		e.pend++ // this one, from here on
		if !e.inst(d, cur) {
			e.base = e.base[:e.n]
			e.dirtyAt = e.dirtyAt[:e.n]
			e.labels = e.labels[:nl]
			e.pend--
			break
		}
		e.n++
		if e.ended {
			break
		}
		cur = e.next
		if cur>>12 != pc>>12 {
			break
		}
	}
	b := &jblock{pc: pc, n: uint64(e.n)}
	if e.n == 0 {
		b.interp = untranslated(h, page, off, pc)
		return b
	}
	if !e.ended {
		e.flush()
		e.exitTo(cur)
	}
	e.exitStubs()
	e.slowStubs()
	chainEntry := e.entries()
	// The body's jumps are relative, so it moves behind the entries whole.
	shift := e.pro.Len()
	code := append(e.pro.B, e.a.B...)
	e.pro.B = code
	p, err := j.code.Add(code)
	if err != nil {
		// Full: drop every translation and start over (QEMU's tb_flush).
		j.code.Reset()
		clear(j.pages)
		h.cl.jumpCachesStale()
		if p, err = j.code.Add(code); err != nil {
			panic("cpu: a block does not fit in an empty code region")
		}
	}
	b.code = p
	b.chain = p + uintptr(chainEntry)
	if perfMap != nil {
		perfMapAdd(p, len(code), pc, code)
	}

	for _, c := range e.chains {
		b.links = append(b.links, link{at: p + uintptr(shift+c.at), target: c.target})
	}
	return b
}

// untranslated counts the instructions from pc on (at RAM offset off, in
// decoded page page) that the translator leaves to the interpreter,
// stopping after one that may change the flow (a jump, a trap, an xRET, a
// CSR) or at the first it does translate, the end of the page or
// jitMaxBlock instructions. At least 1.
func untranslated(h *Hart, page *dpage, off, pc uint64) uint64 {
	var n uint64
	for cur := pc; n < jitMaxBlock && cur>>12 == pc>>12; n++ {
		d := &page.ins[cur>>1&(slotsPerPage-1)]
		if d.op == opNone {
			h.decodeSlot(off+(cur-pc), d)
		}
		var e emitter
		if n > 0 && e.inst(d, cur) {
			break
		}
		switch d.op {
		case opFP, opAMO, opCSR:
			// straight-line: the next one may be interpreted too
		default:
			return n + 1
		}
		cur += uint64(d.len)
	}
	return n
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
	k  int    // its index in the block (emitter.n)
}

type chain struct {
	at     int    // rel32 of the chain jump
	target uint64 // guest pc
}

// exitStub is an exit of the body to guest pc, emitted after it.
type exitStub struct {
	jumps []int // rel32s to patch to the stub
	pc    uint64
	plain bool   // return to Go (a back edge whose checks failed)
	dirty uint32 // slots written before it
}

type jlabel struct {
	pc uint64
	at int
}

type emitter struct {
	// hreg[i] is the guest register cacheRegs[i] holds, for i < nreg;
	// dirty has bit i when the block writes it.
	hreg  [len(cacheRegs)]uint8
	nreg  int
	dirty uint32
	// Without a loop (loop false) the entry loads only the slots in
	// needLoad (read before the block writes them) and each exit writes
	// back the slots written before it: dirtyAt[k] at instruction k, an
	// exit stub's dirty. A block with a loop loads every slot and writes
	// back every written one at every exit.
	needLoad uint32
	dirtyAt  []uint32
	loop     bool

	a     x64.Asm
	pro   x64.Asm // the entries, emitted last, placed first
	pc0   uint64
	n     int    // instructions emitted
	next  uint64 // the pc after the current instruction (a followed jump changes it)
	ended bool
	// pend is the number of instructions on the current path since the
	// last flush of the step count; base[k] is the index of the first of
	// them when instruction k started.
	pend   int
	base   []int
	labels []jlabel
	slow   []slowExit
	chains []chain
	exits  []exitStub
	tails  []int   // jumps to the return to Go
	fp     fpState // jit_fp_amd64.go
}

// inst emits instruction d at guest pc; false means it is not translated
// (nothing was emitted).
func (e *emitter) inst(d *dinst, pc uint64) bool {
	a := &e.a
	imm := int32(d.imm)
	rd := d.rd
	sink := rd == zeroSink
	alu := func(op x64.AluOp) {
		if sink {
			return
		}
		if d.rs1 == 0 && (op == x64.Add || op == x64.Or || op == x64.Xor) {
			// x0 op rs2 (C.MV is ADD rd, x0, rs2): a move.
			if r, ok := e.dst(rd); ok {
				a.Load(x64.S64, r, e.src(d.rs2))
			} else {
				a.Load(x64.S64, x64.RAX, e.src(d.rs2))
				e.setX(rd, x64.RAX)
			}
			return
		}
		if rd != d.rs2 || rd == d.rs1 {
			if r, ok := e.dst(rd); ok {
				// In place: rd = rd op rs2, or rd = rs1 then op rs2.
				if rd != d.rs1 {
					a.Load(x64.S64, r, e.src(d.rs1))
				}
				a.Alu(x64.S64, op, r, e.src(d.rs2))
				return
			}
		}
		a.Load(x64.S64, x64.RAX, e.src(d.rs1))
		a.Alu(x64.S64, op, x64.RAX, e.src(d.rs2))
		e.setX(rd, x64.RAX)
	}
	aluImm := func(op x64.AluOp) {
		if sink {
			return
		}
		if d.rs1 == 0 && op != x64.And {
			e.setImm(rd, uint64(int64(imm))) // LI
			return
		}
		if r, ok := e.dst(rd); ok {
			if rd != d.rs1 {
				a.Load(x64.S64, r, e.src(d.rs1))
			}
			if imm != 0 || op == x64.And {
				a.AluImm(x64.S64, op, x64.R(r), imm)
			}
			return
		}
		a.Load(x64.S64, x64.RAX, e.src(d.rs1))
		a.AluImm(x64.S64, op, x64.R(x64.RAX), imm)
		e.setX(rd, x64.RAX)
	}
	setcc := func(c x64.Cond, immediate bool) {
		if sink {
			return
		}
		a.Alu(x64.S32, x64.Xor, x64.RCX, x64.R(x64.RCX))
		a.Load(x64.S64, x64.RAX, e.src(d.rs1))
		if immediate {
			a.AluImm(x64.S64, x64.Cmp, x64.R(x64.RAX), imm)
		} else {
			a.Alu(x64.S64, x64.Cmp, x64.RAX, e.src(d.rs2))
		}
		a.Setcc(c, x64.RCX)
		e.setX(rd, x64.RCX)
	}
	shiftImm := func(size int, op x64.ShiftOp) {
		if sink {
			return
		}
		r, ok := e.inPlace(x64.S64, rd, d.rs1, noReg)
		a.ShiftImm(size, op, r, uint8(imm))
		if size == x64.S32 {
			a.Movsxd(r, r)
		}
		if !ok {
			e.setX(rd, x64.RAX)
		}
	}
	shiftReg := func(size int, op x64.ShiftOp) {
		if sink {
			return
		}
		a.Load(x64.S64, x64.RCX, e.src(d.rs2))
		r, ok := e.inPlace(x64.S64, rd, d.rs1, noReg) // rs2 is in RCX already
		a.ShiftCL(size, op, r)
		if size == x64.S32 {
			a.Movsxd(r, r)
		}
		if !ok {
			e.setX(rd, x64.RAX)
		}
	}
	aluW := func(op x64.AluOp) {
		if sink {
			return
		}
		r, ok := e.inPlace(x64.S32, rd, d.rs1, d.rs2)
		a.Alu(x64.S32, op, r, e.src(d.rs2))
		a.Movsxd(r, r)
		if !ok {
			e.setX(rd, x64.RAX)
		}
	}
	branch := func(c x64.Cond) {
		e.flush() // the branch included, taken or not
		l := e.src(d.rs1)
		if r, ok := l.IsReg(); ok {
			a.Alu(x64.S64, x64.Cmp, r, e.src(d.rs2))
		} else {
			a.Load(x64.S64, x64.RAX, l)
			a.Alu(x64.S64, x64.Cmp, x64.RAX, e.src(d.rs2))
		}
		target := pc + uint64(int64(imm))
		if at, ok := e.label(target); ok {
			// A loop within the block. The block ends with it, so that
			// the code after the loop gets registers of its own.
			j := a.Jcc(c ^ 1)
			e.backEdge(at, target)
			a.Patch(j, a.Len())
			e.exitTo(e.next)
			e.ended = true
			return
		} else {
			e.exits = append(e.exits, exitStub{jumps: []int{a.Jcc(c)}, pc: target, dirty: e.dirty})
		}
		if !jitSuperblock {
			e.exitTo(e.next)
			e.ended = true
		}
	}
	switch d.op {
	case opLUI:
		e.setImm(rd, uint64(int64(imm)))
	case opAUIPC:
		e.setImm(rd, pc+uint64(int64(imm)))
	case opADDI:
		if JITFault {
			imm++ // the mutation checks' deliberate bug
		}
		aluImm(x64.Add)
	case opXORI:
		aluImm(x64.Xor)
	case opORI:
		aluImm(x64.Or)
	case opANDI:
		aluImm(x64.And)
	case opSLTI:
		setcc(x64.CondL, true)
	case opSLTIU:
		setcc(x64.CondB, true)
	case opSLLI:
		shiftImm(x64.S64, x64.Shl)
	case opSRLI:
		shiftImm(x64.S64, x64.Shr)
	case opSRAI:
		shiftImm(x64.S64, x64.Sar)
	case opADD:
		alu(x64.Add)
	case opSUB:
		alu(x64.Sub)
	case opXOR:
		alu(x64.Xor)
	case opOR:
		alu(x64.Or)
	case opAND:
		alu(x64.And)
	case opSLT:
		setcc(x64.CondL, false)
	case opSLTU:
		setcc(x64.CondB, false)
	case opSLL:
		shiftReg(x64.S64, x64.Shl)
	case opSRL:
		shiftReg(x64.S64, x64.Shr)
	case opSRA:
		shiftReg(x64.S64, x64.Sar)
	case opADDIW:
		if !sink {
			r, ok := e.dst(rd)
			if !ok {
				r = x64.RAX
			}
			if imm == 0 {
				// SEXT.W
				if s, isReg := e.src(d.rs1).IsReg(); isReg {
					a.Movsxd(r, s)
				} else {
					a.LoadSX(x64.S32, r, e.src(d.rs1))
				}
			} else {
				if rd != d.rs1 || !ok {
					a.Load(x64.S32, r, e.src(d.rs1))
				}
				a.AluImm(x64.S32, x64.Add, x64.R(r), imm)
				a.Movsxd(r, r)
			}
			if !ok {
				e.setX(rd, x64.RAX)
			}
		}
	case opSLLIW:
		shiftImm(x64.S32, x64.Shl)
	case opSRLIW:
		shiftImm(x64.S32, x64.Shr)
	case opSRAIW:
		shiftImm(x64.S32, x64.Sar)
	case opADDW:
		aluW(x64.Add)
	case opSUBW:
		aluW(x64.Sub)
	case opSLLW:
		shiftReg(x64.S32, x64.Shl)
	case opSRLW:
		shiftReg(x64.S32, x64.Shr)
	case opSRAW:
		shiftReg(x64.S32, x64.Sar)
	case opMUL:
		if !sink {
			r, ok := e.inPlace(x64.S64, rd, d.rs1, d.rs2)
			a.Imul2(x64.S64, r, e.src(d.rs2))
			if !ok {
				e.setX(rd, x64.RAX)
			}
		}
	case opMULW:
		if !sink {
			a.Load(x64.S32, x64.RAX, e.src(d.rs1))
			a.Imul2(x64.S32, x64.RAX, e.src(d.rs2))
			a.Movsxd(x64.RAX, x64.RAX)
			e.setX(rd, x64.RAX)
		}
	case opMULH, opMULHU, opMULHSU:
		if !sink {
			a.Load(x64.S64, x64.RAX, e.src(d.rs1))
			switch d.op {
			case opMULH:
				a.Unary(x64.S64, x64.Imul, e.src(d.rs2))
			case opMULHU:
				a.Unary(x64.S64, x64.Mul, e.src(d.rs2))
			default:
				// mulhu, minus rs2 when rs1 is negative.
				a.Unary(x64.S64, x64.Mul, e.src(d.rs2))
				a.Load(x64.S64, x64.RAX, e.src(d.rs1))
				a.ShiftImm(x64.S64, x64.Sar, x64.RAX, 63)
				a.Alu(x64.S64, x64.And, x64.RAX, e.src(d.rs2))
				a.Alu(x64.S64, x64.Sub, x64.RDX, x64.R(x64.RAX))
			}
			e.setX(rd, x64.RDX)
		}
	case opDIV, opDIVU, opREM, opREMU, opDIVW, opDIVUW, opREMW, opREMUW:
		if !sink {
			e.div(d)
		}
	case opLB, opLH, opLW, opLD, opLBU, opLHU, opLWU:
		e.load(d, pc)
	case opSB, opSH, opSW, opSD:
		e.store(d, pc)
	case opFP:
		switch d.fn &^ fpD {
		case fpLoad:
			e.fpLoad(d, pc)
		case fpStore:
			e.fpStore(d, pc)
		default:
			return e.fpArith(d, pc) // jit_fp_amd64.go
		}
	case opAMO:
		if d.fn == amoLR || d.fn == amoSC {
			return false
		}
		e.amo(d, pc)
	case opFENCE:
	case opBEQ:
		branch(x64.CondE)
	case opBNE:
		branch(x64.CondNE)
	case opBLT:
		branch(x64.CondL)
	case opBGE:
		branch(x64.CondGE)
	case opBLTU:
		branch(x64.CondB)
	case opBGEU:
		branch(x64.CondAE)
	case opJAL:
		e.setImm(rd, pc+uint64(d.len))
		target := pc + uint64(int64(imm))
		if _, ok := e.label(target); !ok && target>>12 == e.pc0>>12 && jitSuperblock {
			e.next = target // go on translating there
			break
		}
		e.flush()
		e.exitTo(target)
		e.ended = true
	case opJALR:
		a.Load(x64.S64, x64.RAX, e.src(d.rs1))
		if imm != 0 {
			a.AluImm(x64.S64, x64.Add, x64.R(x64.RAX), imm)
		}
		a.AluImm(x64.S64, x64.And, x64.R(x64.RAX), -2)
		e.setImm(rd, pc+uint64(d.len))
		e.flush()
		e.exitReg()
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
	size := x64.S64
	switch d.op {
	case opDIVW, opDIVUW, opREMW, opREMUW:
		size = x64.S32
	}
	signed := d.op == opDIV || d.op == opREM || d.op == opDIVW || d.op == opREMW
	rem := d.op == opREM || d.op == opREMU || d.op == opREMW || d.op == opREMUW
	a.Load(x64.S64, x64.RAX, e.src(d.rs1))
	a.Load(x64.S64, x64.RCX, e.src(d.rs2))
	a.Test(size, x64.R(x64.RCX), x64.RCX)
	jz := a.Jcc(x64.CondE)
	var jm1 int
	if signed {
		// Divisor -1: the quotient is -dividend (wrapping for the most
		// negative one, as the spec wants) and the remainder 0.
		a.AluImm(size, x64.Cmp, x64.R(x64.RCX), -1)
		jm1 = a.Jcc(x64.CondE)
	}
	if signed {
		a.SignExtendAX(size)
		a.Unary(size, x64.Idiv, x64.R(x64.RCX))
	} else {
		a.Alu(x64.S32, x64.Xor, x64.RDX, x64.R(x64.RDX))
		a.Unary(size, x64.Div, x64.R(x64.RCX))
	}
	if rem {
		a.Mov(x64.S64, x64.RAX, x64.RDX)
	}
	done := []int{a.Jmp()}
	if signed {
		a.Patch(jm1, a.Len())
		if rem {
			a.Alu(x64.S32, x64.Xor, x64.RAX, x64.R(x64.RAX))
		} else {
			a.Unary(size, x64.Neg, x64.R(x64.RAX))
		}
		done = append(done, a.Jmp())
	}
	// Divisor zero: quotient all ones, remainder the dividend.
	a.Patch(jz, a.Len())
	if !rem {
		a.MovImm(x64.RAX, ^uint64(0))
	}
	for _, j := range done {
		a.Patch(j, a.Len())
	}
	if size == x64.S32 {
		a.Movsxd(x64.RAX, x64.RAX)
	}
	e.setX(d.rd, x64.RAX)
}

// tlbLookup emits the software TLB probe for an access of size bytes at
// x[rs1]+imm: on a hit RAX holds the RAM offset; a miss (or a misaligned
// address, folded into the tag compare as in run.go) jumps to the slow exit
// of this instruction. It clobbers RCX, RDX and RSI.
func (e *emitter) tlbLookup(d *dinst, pc uint64, size int, tlb int32) {
	a := &e.a
	if r, ok := e.src(d.rs1).IsReg(); ok && d.imm != 0 {
		a.Lea(x64.RAX, x64.M(r, d.imm))
	} else {
		a.Load(x64.S64, x64.RAX, e.src(d.rs1))
		if d.imm != 0 {
			a.AluImm(x64.S64, x64.Add, x64.R(x64.RAX), d.imm)
		}
	}
	a.Mov(x64.S64, x64.RCX, x64.RAX)
	a.ShiftImm(x64.S64, x64.Shr, x64.RCX, 12-4) // index*16 = (va>>12&255)<<4
	a.AluImm(x64.S32, x64.And, x64.R(x64.RCX), (tlbSize-1)<<4)
	a.Alu(x64.S64, x64.Add, x64.RCX, x64.M(x64.RBX, tlb))
	a.Mov(x64.S64, x64.RSI, x64.RAX)
	a.AluImm(x64.S64, x64.And, x64.R(x64.RSI), int32(^(0xfff &^ uint64(size-1))))
	a.Alu(x64.S64, x64.Cmp, x64.RSI, x64.M(x64.RCX, 0))
	e.slow = append(e.slow, slowExit{at: a.Jcc(x64.CondNE), pc: pc, k: e.n})
	a.Alu(x64.S64, x64.Add, x64.RAX, x64.M(x64.RCX, 8))
	a.Load(x64.S64, x64.RDX, x64.M(x64.RBX, offRAM))
}

func (e *emitter) load(d *dinst, pc uint64) {
	a := &e.a
	var size int
	sx := true
	switch d.op {
	case opLB:
		size = x64.S8
	case opLBU:
		size, sx = x64.S8, false
	case opLH:
		size = x64.S16
	case opLHU:
		size, sx = x64.S16, false
	case opLW:
		size = x64.S32
	case opLWU:
		size, sx = x64.S32, false
	default:
		size = x64.S64
	}
	e.tlbLookup(d, pc, size, offTLBR)
	m := x64.MI(x64.RDX, x64.RAX, 1, 0)
	r, ok := e.dstNew(d.rd) // rs1 was read (tlbLookup)
	if !ok {
		r = x64.RAX
	}
	if sx {
		a.LoadSX(size, r, m)
	} else {
		a.Load(size, r, m)
	}
	if !ok {
		e.setX(d.rd, x64.RAX)
	}
}

func (e *emitter) store(d *dinst, pc uint64) {
	a := &e.a
	size := 1 << (d.op - opSB) // opSB, opSH, opSW, opSD are in order
	e.tlbLookup(d, pc, size, offTLBW)
	r, ok := e.src(d.rs2).IsReg()
	if !ok {
		a.Load(x64.S64, x64.RCX, e.src(d.rs2))
		r = x64.RCX
	}
	e.storeTail(size, r)
}

// storeTail stores register r at RAM offset RAX (RDX: RAM) and breaks the
// hart's reservation when the store hits its granule.
func (e *emitter) storeTail(size int, r x64.Reg) {
	a := &e.a
	a.Store(size, x64.MI(x64.RDX, x64.RAX, 1, 0), r)
	// A store into the reserved granule breaks the reservation.
	a.AluImm(x64.S64, x64.And, x64.R(x64.RAX), -8)
	a.Alu(x64.S64, x64.Cmp, x64.RAX, x64.M(x64.RBX, offResOff))
	j := a.Jcc(x64.CondNE)
	a.StoreImm(x64.S64, x64.M(x64.RBX, offResOff), -1) // noRes
	a.Patch(j, a.Len())
}

// amo is an AMO (not LR or SC) through the write TLB, as execAMO's fast
// path: an entry means a RAM page this privilege may read and write, with
// no decoded code and no other hart's reservation; a miss or a misaligned
// address exits to the interpreter.
func (e *emitter) amo(d *dinst, pc uint64) {
	a := &e.a
	size := int(d.aux)
	addr := *d
	addr.imm = 0
	e.tlbLookup(&addr, pc, size, offTLBW)
	m := x64.MI(x64.RDX, x64.RAX, 1, 0)
	if size == 4 {
		a.LoadSX(x64.S32, x64.RCX, m) // old
		a.Load(x64.S32, x64.RSI, e.src(d.rs2))
		a.Movsxd(x64.RSI, x64.RSI) // src
	} else {
		a.Load(x64.S64, x64.RCX, m)
		a.Load(x64.S64, x64.RSI, e.src(d.rs2))
	}
	keep := func(c x64.Cond) { // RSI = src if src c old, else old
		a.Alu(x64.S64, x64.Cmp, x64.RSI, x64.R(x64.RCX))
		j := a.Jcc(c)
		a.Mov(x64.S64, x64.RSI, x64.RCX)
		a.Patch(j, a.Len())
	}
	switch d.fn {
	case amoSWAP:
	case amoADD:
		a.Alu(x64.S64, x64.Add, x64.RSI, x64.R(x64.RCX))
	case amoXOR:
		a.Alu(x64.S64, x64.Xor, x64.RSI, x64.R(x64.RCX))
	case amoAND:
		a.Alu(x64.S64, x64.And, x64.RSI, x64.R(x64.RCX))
	case amoOR:
		a.Alu(x64.S64, x64.Or, x64.RSI, x64.R(x64.RCX))
	case amoMIN:
		keep(x64.CondL)
	case amoMAX:
		keep(x64.CondG)
	case amoMINU:
		keep(x64.CondB)
	default: // amoMAXU
		keep(x64.CondA)
	}
	a.Store(size, m, x64.RSI)
	// The store breaks the hart's own reservation of the granule.
	a.AluImm(x64.S64, x64.And, x64.R(x64.RAX), -8)
	a.Alu(x64.S64, x64.Cmp, x64.RAX, x64.M(x64.RBX, offResOff))
	j := a.Jcc(x64.CondNE)
	a.StoreImm(x64.S64, x64.M(x64.RBX, offResOff), -1) // noRes
	a.Patch(j, a.Len())
	if d.rd != zeroSink {
		e.setX(d.rd, x64.RCX)
	}
}

func fr(i uint8) x64.Op { return x64.M(x64.RBX, offF+8*int32(i&31)) }

// fpCheck sends the instruction to the interpreter (which raises the
// illegal-instruction exception) while mstatus.FS is Off.
func (e *emitter) fpCheck(pc uint64) {
	a := &e.a
	a.Load(x64.S64, x64.RCX, x64.M(x64.RBX, offMstat))
	a.AluImm(x64.S32, x64.And, x64.R(x64.RCX), mstatusFS)
	e.slow = append(e.slow, slowExit{at: a.Jcc(x64.CondE), pc: pc, k: e.n})
}

// fpLoad is FLW and FLD: a single is NaN-boxed (upper 32 bits ones) and
// the write makes FS Dirty, as setF32 and setF64 do.
func (e *emitter) fpLoad(d *dinst, pc uint64) {
	a := &e.a
	e.fpCheck(pc)
	size := x64.S32
	if d.fn&fpD != 0 {
		size = x64.S64
	}
	e.tlbLookup(d, pc, size, offTLBR)
	a.Load(size, x64.RAX, x64.MI(x64.RDX, x64.RAX, 1, 0))
	if size == x64.S32 {
		a.MovImm(x64.RCX, 0xffffffff00000000)
		a.Alu(x64.S64, x64.Or, x64.RAX, x64.R(x64.RCX))
	}
	a.Store(x64.S64, fr(d.rd), x64.RAX)
	a.AluImm(x64.S64, x64.Or, x64.M(x64.RBX, offMstat), mstatusFS)
}

// fpStore is FSW and FSD.
func (e *emitter) fpStore(d *dinst, pc uint64) {
	a := &e.a
	e.fpCheck(pc)
	size := x64.S32
	if d.fn&fpD != 0 {
		size = x64.S64
	}
	e.tlbLookup(d, pc, size, offTLBW)
	a.Load(x64.S64, x64.RCX, fr(d.rs2))
	e.storeTail(size, x64.RCX)
}

// perfMap is Linux perf's map of JIT code (/tmp/perf-<pid>.map, one line
// "start size name" per block, tools/perf/Documentation/jit-interface.txt
// in the kernel tree), written when GEMU_PERFMAP=1, so that `perf record`
// and `perf report` name the guest pc of hot blocks. Reused addresses (the
// code region emptied) get new lines; perf takes the last one. With
// GEMU_PERFMAP=dir (a directory) each block's code also goes to
// dir/<start>-<pc>.bin, for `objdump -D -b binary -mi386:x86-64
// --adjust-vma=0x<start>`.
var perfMap = func() *os.File {
	v := os.Getenv("GEMU_PERFMAP")
	if v == "" {
		return nil
	}
	if v != "1" {
		perfDump = v
	}
	f, err := os.Create(fmt.Sprintf("/tmp/perf-%d.map", os.Getpid()))
	if err != nil {
		return nil
	}
	return f
}()

var (
	perfMapMu sync.Mutex
	perfDump  string
)

func perfMapAdd(code uintptr, size int, pc uint64, b []byte) {
	perfMapMu.Lock()
	fmt.Fprintf(perfMap, "%x %x gemu:pc=%#x\n", code, size, pc)
	perfMapMu.Unlock()
	if perfDump != "" {
		name := fmt.Sprintf("%s/%x-%x.bin", perfDump, code, pc)
		os.WriteFile(name, b, 0o644) // best effort, for debugging
	}
}
