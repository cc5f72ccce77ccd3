package cpu

// Observation hooks for tracers and the difference finder (package
// gemu/debug): QEMU's -d in_asm, exec, cpu and mmu, the instruction ring
// buffer, the function trace and lock-step comparison with QEMU.
//
// The whole API is one struct of optional callbacks, installed per hart
// with SetHooks. While a hart has no hooks (h.hooks == nil, the default) the
// interpreter pays one nil compare per Run call and one per page walk,
// nothing per instruction. With hooks set, Run goes one instruction at a
// time through runHooked, the way it does for armed execute triggers, so
// every instruction boundary is visible. Execution engines other than the
// interpreter (a translator) must leave a hart with hooks to Run.

// Hooks are the callbacks of one hart; any may be nil. They run on the
// emulation goroutine between instructions and may read the hart (X, PC,
// ReadCSR, DebugTranslate) and call RequestStop, but must not change it.
type Hooks struct {
	// Block is called before the first instruction of each block, where
	// QEMU's TCG starts a translation block: after a jump, a taken or
	// untaken branch, a trap or xRET, a CSR instruction, FENCE.I,
	// SFENCE.VMA, WFI, at the start of a code page, and every 512
	// instructions of straight-line code.
	Block func(h *Hart, pc uint64)

	// Step is called after each instruction, whether it completed or
	// trapped, and after an interrupt is entered between instructions
	// (Step.Len is 0 then). The hart is already in its new state.
	Step func(h *Hart, s Step)

	// Walk is called for each address translation the software TLB could
	// not serve while paging applies (S or U mode with satp.MODE Sv39 or
	// Sv48): QEMU's riscv_cpu_tlb_fill.
	Walk func(h *Hart, w Walk)
}

// Step describes one instruction (or interrupt entry) for Hooks.Step.
type Step struct {
	PC   uint64 // address of the instruction (for an interrupt: epc)
	Insn uint32 // its encoding, 16 bits for a compressed one; 0 if unreadable
	Len  uint8  // 2 or 4; 0 for an interrupt taken between instructions
	Priv uint8  // privilege level it ran at
	// Trapped: it raised an exception, or (Len 0) an interrupt was
	// entered; the hart is at the handler and the last Trap tells which.
	Trapped bool
}

// Access kinds of Walk.Access, QEMU's MMUAccessType numbers.
const (
	AccessLoad  = 0
	AccessStore = 1
	AccessFetch = 2
)

// Walk describes one page-table walk for Hooks.Walk.
type Walk struct {
	VA     uint64
	PA     uint64 // the translation, when Cause is 0
	Access int    // AccessLoad, AccessStore or AccessFetch
	Priv   uint8  // the privilege the access is checked at (QEMU's mmu_idx)
	// Cause is the exception the walk raises (12 fetch, 13 load or 15
	// store page fault; 1, 5 or 7 access fault), 0 when it succeeds.
	Cause uint64
}

// SetHooks installs k on the hart (nil removes them). The hart leaves its
// fast path at the next instruction boundary.
func (h *Hart) SetHooks(k *Hooks) {
	h.hooks = k
	h.RequestStop() // a running fast loop returns; the caller runs again
}

// CurrentHooks returns the hooks SetHooks installed, or nil.
func (h *Hart) CurrentHooks() *Hooks { return h.hooks }

// maxBlock is QEMU's TCG_MAX_INSNS, the longest translation block.
const maxBlock = 512

// runHooked is Run while hooks are set: one instruction at a time, with
// interrupts, execute triggers and the hooks handled between them.
func (h *Hart) runHooked(max uint64) uint64 {
	start := h.steps
	k := h.hooks
	var d dinst
	for h.steps-start < max && h.hooks == k {
		if h.wfi {
			if h.csr.mip&h.csr.mie == 0 {
				break
			}
			h.wfi = false
		}
		if h.stopReq {
			h.stopReq = false
			break
		}
		if epc, priv := h.pc, h.priv; h.TakeInterrupt() {
			h.newBlock = true
			if k.Step != nil {
				k.Step(h, Step{PC: epc, Priv: priv, Trapped: true})
			}
			continue
		}
		pc, priv := h.pc, h.priv
		if h.newBlock || pc&0xfff == 0 || h.blockLen >= maxBlock {
			h.newBlock, h.blockLen = false, 0
			if k.Block != nil {
				k.Block(h, pc)
			}
		}
		h.blockLen++
		raw, n := h.PeekInsn(pc)
		traps := h.trapCount
		if h.trigX && h.trigHit(tdExecute, pc, 1) {
			h.steps++ // the trapped instruction counts, as in Run
		} else {
			h.inTrig = true
			ran := h.Run(1)
			h.inTrig = false
			if ran == 0 {
				break
			}
		}
		trapped := h.trapCount != traps
		if trapped || h.pc != pc+uint64(n) || n == 0 {
			h.newBlock = true
		} else {
			decodeAny(uint16(raw), uint16(raw>>16), &d)
			h.newBlock = endsBlock(d.op)
		}
		if k.Step != nil {
			k.Step(h, Step{PC: pc, Insn: raw, Len: uint8(n), Priv: priv, Trapped: trapped})
		}
	}
	return h.steps - start
}

// endsBlock reports whether QEMU 7.2 ends a translation block after an
// instruction of kind op (target/riscv/insn_trans: branches and jumps,
// trans_csr*'s do_csr_post, fence.i, sfence.vma, wfi, the xRETs and
// ecall/ebreak).
func endsBlock(op uint8) bool {
	switch op {
	case opJAL, opJALR, opBEQ, opBNE, opBLT, opBGE, opBLTU, opBGEU,
		opCSR, opFENCEI, opSFENCE, opWFI, opMRET, opSRET, opECALL, opEBREAK, opIllegal:
		return true
	}
	return false
}

// PeekInsn returns the instruction at virtual address va as the hart would
// fetch it now (16 bits for a compressed one) and its length, without side
// effects; n is 0 when va is not mapped or not memory.
func (h *Hart) PeekInsn(va uint64) (raw uint32, n int) {
	lo, ok := h.peekParcel(va)
	if !ok {
		return 0, 0
	}
	if lo&3 != 3 {
		return uint32(lo), 2
	}
	hi, ok := h.peekParcel(va + 2)
	if !ok {
		return 0, 0
	}
	return uint32(lo) | uint32(hi)<<16, 4
}

func (h *Hart) peekParcel(va uint64) (uint16, bool) {
	pa, ok := h.DebugTranslate(va)
	if !ok {
		return 0, false
	}
	if h.bus.InRAM(pa, 2) {
		return uint16(readRAM(h.ram[pa-h.ramBase:], 2)), true
	}
	v, ok := h.bus.Load(pa, 2) // the boot ROM
	return uint16(v), ok
}

// walkHooked reports a translation to Hooks.Walk.
func (h *Hart) walkHooked(va uint64, acc int, priv uint8, pa, exc uint64) {
	w := Walk{VA: va, Access: AccessLoad, Priv: priv}
	switch acc {
	case accW:
		w.Access = AccessStore
	case accX:
		w.Access = AccessFetch
	}
	if exc != excNone {
		w.Cause = exc
	} else {
		w.PA = pa
	}
	h.hooks.Walk(h, w)
}
