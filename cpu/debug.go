package cpu

// Debugger access for the GDB stub (gdbstub): side-effect-free
// address translation, register and CSR writes, a privilege-level switch, a
// single step that holds interrupts off, and taking a pending interrupt
// without executing an instruction. Nothing here is on the hot path.

// DebugTranslate maps the virtual address va to a physical address the way
// an instruction fetch in the hart's current privilege level would (bare in
// M mode or with satp.MODE=Bare, else an Sv39/Sv48 walk of satp, privileged
// spec 4.3.2 and 4.4), but the way a debugger wants it:
//
//   - no side effects: no accessed/dirty bit updates, no TLB fill, no
//     exception;
//   - lenient: any valid leaf is accepted whatever its R/W/X/U bits, since a
//     debugger may look at (and patch) any mapped page;
//   - page-table entries are read from RAM only, never from a device.
//
// ok is false when va is not mapped (not sign-extended, invalid or reserved
// PTE, PTE outside RAM, misaligned superpage).
func (h *Hart) DebugTranslate(va uint64) (pa uint64, ok bool) {
	mode := h.csr.satp >> 60
	if h.priv == PrivM || mode == satpBare {
		return va, true
	}
	levels := 3
	if mode == satpSv48 {
		levels = 4
	}
	vabits := uint(12 + 9*levels)
	if uint64(int64(va<<(64-vabits))>>(64-vabits)) != va {
		return 0, false
	}
	a := (h.csr.satp & (1<<44 - 1)) << 12
	for i := levels - 1; i >= 0; i-- {
		pteAddr := a + (va>>(12+9*uint(i))&511)*8
		if !h.bus.InRAM(pteAddr, 8) {
			return 0, false
		}
		pte := readRAM(h.ram[pteAddr-h.ramBase:], 8)
		if pte&pteV == 0 || pte&(pteR|pteW) == pteW || pte>>54 != 0 {
			return 0, false
		}
		ppn := pte >> 10 & (1<<44 - 1)
		if pte&(pteR|pteX) == 0 {
			a = ppn << 12
			continue
		}
		if i > 0 && ppn&(1<<(9*uint(i))-1) != 0 {
			return 0, false
		}
		off := uint64(1)<<(12+9*uint(i)) - 1
		return ppn<<12&^off | va&off, true
	}
	return 0, false
}

// SetF sets the raw 64 bits of floating-point register i. When the FP unit
// is on (mstatus.FS != Off) the state becomes Dirty, as after an FP
// instruction, so an OS that saves FP state lazily keeps the new value.
func (h *Hart) SetF(i int, v uint64) {
	h.f[i&31] = v
	if h.fpEnabled() {
		h.fsDirty()
	}
}

// WriteCSR writes CSR n as M mode would (for debuggers); ok is false for a
// CSR the hart does not implement, a read-only one, or FP CSRs while FS is
// Off. Side effects are those of a CSR instruction (satp flushes the TLBs,
// mip changes re-evaluate interrupts, ...).
func (h *Hart) WriteCSR(n uint32, v uint64) (ok bool) {
	n &= 0xfff
	priv := h.priv
	h.priv = PrivM
	// No steps adjustment (unlike ReadCSR): csrWrite of a counter takes
	// steps as counting the writing instruction, so the next instruction
	// to run reads exactly v.
	if _, ok = h.csrRead(n); ok {
		ok = h.csrWrite(n, v)
	}
	h.priv = priv
	h.selectTLB() // csrWrite may have selected M mode's TLB set
	h.kick()
	return ok
}

// SetPriv moves the hart to privilege level p (PrivU, PrivS or PrivM; other
// values are ignored), as a debugger writing GDB's virtual "priv" register.
func (h *Hart) SetPriv(p uint8) {
	if p == PrivU || p == PrivS || p == PrivM {
		h.setPriv(p)
		h.kick()
	}
}

// TakeInterrupt enters the trap handler of the highest-priority pending
// and enabled interrupt, if any, without executing an instruction (it also
// ends a WFI). It reports whether it took one. A debugger that checks
// breakpoints before each instruction calls it first, so that a breakpoint
// on the first instruction of a handler is seen.
func (h *Hart) TakeInterrupt() bool {
	cause, ok := h.pendingInterrupt()
	if !ok {
		return false
	}
	h.wfi = false
	h.trap(cause, 0, true)
	return true
}

// Step executes exactly the one instruction at PC with interrupts held off
// (QEMU's default for gdb single steps), so that stepping does not wander
// into a timer handler. It reports whether an instruction ran (not when the
// hart waits in WFI). A CSR instruction is stepped with interrupts live, so
// that a read of mip or sip sees the true pending bits.
func (h *Hart) Step() bool {
	if h.wfi {
		if h.csr.mip&h.csr.mie == 0 {
			return false
		}
		h.wfi = false
	}
	if h.atCSRInstruction() {
		return h.Run(1) == 1
	}
	// Hide the pending bits for this one instruction: Run's interrupt check
	// reads mip&mie. updateMip recomputes mip from its sources afterwards
	// (and the instruction may itself have changed them).
	h.csr.mip = 0
	n := h.Run(1)
	h.updateMip()
	return n == 1
}

// atCSRInstruction reports whether the instruction at PC is a Zicsr
// instruction (SYSTEM opcode with funct3 != 0, unprivileged spec 9.1).
// Opcode and funct3 are both in the first 16-bit parcel, so an instruction
// that crosses a page needs no second translation. Code outside RAM (the
// boot ROM) is taken as not CSR.
func (h *Hart) atCSRInstruction() bool {
	pa, ok := h.DebugTranslate(h.pc)
	if !ok || !h.bus.InRAM(pa, 2) {
		return false
	}
	w := readRAM(h.ram[pa-h.ramBase:], 2)
	return w&0x7f == 0x73 && w>>12&7 != 0
}
