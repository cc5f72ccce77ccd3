package cpu

// Traps (privileged spec 3.1.6.1, 3.1.7-3.1.9, 3.3.2, 4.1.1): exceptions,
// interrupts, delegation, and the xRET instructions.

// exception raises a synchronous exception for the instruction at h.pc. The
// instruction does not retire, so minstret does not count it.
func (h *Hart) exception(cause, tval uint64) {
	h.csr.instretAdj--
	h.trap(cause, tval, false)
}

// setPriv changes the privilege level and with it the TLB set.
func (h *Hart) setPriv(p uint8) {
	if p != h.priv {
		h.priv = p
		h.selectTLB()
	}
}

// trap enters the handler for cause (an interrupt when intr), with epc = h.pc.
func (h *Hart) trap(cause, tval uint64, intr bool) {
	c := &h.csr
	epc, from := h.pc, h.priv
	deleg := c.medeleg
	code := cause
	if intr {
		deleg = c.mideleg
		code |= 1 << 63
	}
	if h.priv <= PrivS && cause < 64 && deleg>>cause&1 != 0 {
		c.scause = code
		c.sepc = h.pc
		c.stval = tval
		s := c.mstatus &^ (mstatusSPIE | mstatusSPP | mstatusSIE)
		if c.mstatus&mstatusSIE != 0 {
			s |= mstatusSPIE
		}
		if h.priv == PrivS {
			s |= mstatusSPP
		}
		c.mstatus = s
		h.pc = tvecTarget(c.stvec, cause, intr)
		h.setPriv(PrivS)
	} else {
		c.mcause = code
		c.mepc = h.pc
		c.mtval = tval
		s := c.mstatus &^ (mstatusMPIE | mstatusMPP | mstatusMIE)
		if c.mstatus&mstatusMIE != 0 {
			s |= mstatusMPIE
		}
		s |= uint64(h.priv) << mstatusMPPShift
		c.mstatus = s
		h.pc = tvecTarget(c.mtvec, cause, intr)
		h.setPriv(PrivM)
		h.trapTriggers()
		if s&mstatusMPRV != 0 {
			h.selectTLB() // MPP, the effective data privilege, changed
		}
	}
	h.kick()
	h.trapCount++
	if h.TrapHook != nil {
		h.TrapHook(Trap{Hart: c.mhartid, Interrupt: intr, Cause: cause, EPC: epc, Tval: tval, From: from, To: h.priv})
	}
}

// Trap describes one trap taken by a hart, for Hart.TrapHook. It carries what
// QEMU's -d int logs for each trap (target/riscv/cpu_helper.c,
// riscv_cpu_do_interrupt: "hart:%d, async:%d, cause:%x, epc:0x%x,
// tval:0x%x, desc=%s"), plus the privilege levels around it.
type Trap struct {
	Hart      uint64 // mhartid of the hart
	Interrupt bool   // an interrupt (QEMU's async:1), else an exception
	Cause     uint64 // exception or interrupt code, without the interrupt bit
	EPC       uint64 // the pc the trap was taken at, now in mepc or sepc
	Tval      uint64 // the value written to mtval or stval
	From, To  uint8  // privilege level before and after (PrivU, PrivS, PrivM)
}

// Name returns QEMU's name for the trap cause, the desc= of -d int
// (riscv_excp_names, riscv_intr_names and riscv_cpu_get_trap_name in QEMU
// 7.2's target/riscv/cpu.c).
func (t Trap) Name() string {
	names := excpNames[:]
	if t.Interrupt {
		names = intrNames[:]
	}
	if t.Cause < uint64(len(names)) {
		return names[t.Cause]
	}
	return "(unknown)"
}

var excpNames = [...]string{
	"misaligned_fetch", "fault_fetch", "illegal_instruction", "breakpoint",
	"misaligned_load", "fault_load", "misaligned_store", "fault_store",
	"user_ecall", "supervisor_ecall", "hypervisor_ecall", "machine_ecall",
	"exec_page_fault", "load_page_fault", "reserved", "store_page_fault",
	"reserved", "reserved", "reserved", "reserved",
	"guest_exec_page_fault", "guest_load_page_fault", "reserved", "guest_store_page_fault",
}

var intrNames = [...]string{
	"u_software", "s_software", "vs_software", "m_software",
	"u_timer", "s_timer", "vs_timer", "m_timer",
	"u_external", "s_external", "vs_external", "m_external",
	"reserved", "reserved", "reserved", "reserved",
}

// tvecTarget: vectored mode sends interrupts to BASE+4*cause.
func tvecTarget(tvec, cause uint64, intr bool) uint64 {
	base := tvec &^ 3
	if tvec&1 != 0 && intr {
		return base + 4*cause
	}
	return base
}

// interruptOrder is the priority of simultaneous interrupts (privileged spec
// 3.1.9): MEI, MSI, MTI, SEI, SSI, STI.
var interruptOrder = [...]uint64{11, 3, 7, 9, 1, 5}

// pendingInterrupt returns the interrupt to take now, if any. Interrupts for
// M mode are enabled below M, or in M with mstatus.MIE; interrupts delegated
// to S are enabled below S, or in S with mstatus.SIE, and never in M.
func (h *Hart) pendingInterrupt() (uint64, bool) {
	c := &h.csr
	p := c.mip & c.mie
	if p == 0 {
		return 0, false
	}
	m := p &^ c.mideleg
	if h.priv == PrivM && c.mstatus&mstatusMIE == 0 {
		m = 0
	}
	if m == 0 {
		m = p & c.mideleg
		if h.priv > PrivS || h.priv == PrivS && c.mstatus&mstatusSIE == 0 {
			m = 0
		}
	}
	if m == 0 {
		return 0, false
	}
	for _, i := range interruptOrder {
		if m>>i&1 != 0 {
			return i, true
		}
	}
	return 0, false
}

// mret returns from an M-mode trap (privileged spec 3.3.2).
func (h *Hart) mret() {
	c := &h.csr
	s := c.mstatus
	mpp := uint8(s >> mstatusMPPShift & 3)
	s &^= mstatusMIE | mstatusMPP
	if s&mstatusMPIE != 0 {
		s |= mstatusMIE
	}
	s |= mstatusMPIE
	if mpp != PrivM {
		s &^= mstatusMPRV
	}
	old := c.mstatus
	c.mstatus = s
	h.pc = c.mepc
	h.setPriv(mpp)
	h.mretTriggers()
	if (old^s)&(mstatusMPRV|mstatusMPP) != 0 && old&mstatusMPRV != 0 {
		h.selectTLB() // the effective data privilege changed
	}
	h.kick()
}

// sret returns from an S-mode trap.
func (h *Hart) sret() {
	c := &h.csr
	s := c.mstatus
	spp := uint8(s >> 8 & 1)
	s &^= mstatusSIE | mstatusSPP | mstatusMPRV
	if s&mstatusSPIE != 0 {
		s |= mstatusSIE
	}
	s |= mstatusSPIE
	old := c.mstatus
	c.mstatus = s
	h.pc = c.sepc
	h.setPriv(spp)
	if old&mstatusMPRV != 0 {
		h.selectTLB()
	}
	h.kick()
}
