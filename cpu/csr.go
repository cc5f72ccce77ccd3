package cpu

import "gemu/clock"

// Control and status registers (privileged spec chapters 2, 3, 4; Zicntr;
// Sstc). Every CSR not listed in csrRead raises illegal-instruction, which is
// how OpenSBI and Linux probe for optional features.

// mstatus fields (privileged spec 3.1.6).
const (
	mstatusSIE  = 1 << 1
	mstatusMIE  = 1 << 3
	mstatusSPIE = 1 << 5
	mstatusUBE  = 1 << 6
	mstatusMPIE = 1 << 7
	mstatusSPP  = 1 << 8
	mstatusVS   = 3 << 9
	mstatusMPP  = 3 << 11
	mstatusFS   = 3 << 13
	mstatusXS   = 3 << 15
	mstatusMPRV = 1 << 17
	mstatusSUM  = 1 << 18
	mstatusMXR  = 1 << 19
	mstatusTVM  = 1 << 20
	mstatusTW   = 1 << 21
	mstatusTSR  = 1 << 22
	mstatusUXL  = 2 << 32
	mstatusSXL  = 2 << 34
	mstatusSD   = 1 << 63

	mstatusFSShift  = 13
	mstatusMPPShift = 11

	// Bits software may write (the XLEN fields are read-only 64-bit, VS is
	// hard-wired to 0 because there is no V extension, and the hart is
	// little-endian only).
	mstatusWritable = mstatusSIE | mstatusMIE | mstatusSPIE | mstatusMPIE | mstatusSPP |
		mstatusMPP | mstatusFS | mstatusMPRV | mstatusSUM | mstatusMXR |
		mstatusTVM | mstatusTW | mstatusTSR
	// The sstatus view (privileged spec 4.1.1).
	sstatusMask = mstatusSIE | mstatusSPIE | mstatusUBE | mstatusSPP | mstatusVS |
		mstatusFS | mstatusXS | mstatusSUM | mstatusMXR | mstatusUXL | mstatusSD
)

// misa: MXL=2 (64-bit) and the extensions A, C, D, F, I, M, S, U.
//
//lint:ignore SA4000 the letter arithmetic names each extension bit
const misaValue = 2<<62 | 1<<('A'-'A') | 1<<('C'-'A') | 1<<('D'-'A') | 1<<('F'-'A') |
	1<<('I'-'A') | 1<<('M'-'A') | 1<<('S'-'A') | 1<<('U'-'A')

// menvcfg/senvcfg fields.
const (
	envcfgFIOM = 1 << 0
	envcfgSTCE = 1 << 63
)

// Interrupts that software may write in mip, mie, mideleg.
const (
	sInts       = MipSSIP | MipSTIP | MipSEIP
	allInts     = sInts | MipMSIP | MipMTIP | MipMEIP
	midelegMask = sInts
	// Exceptions that can be delegated: all defined causes except ecall from M.
	medelegMask = 0xb3ff // causes 0-9, 12, 13, 15
)

const numPMP = 16

type csrFile struct {
	mstatus    uint64
	medeleg    uint64
	mideleg    uint64
	mie        uint64
	mip        uint64 // effective value: mipSW | mipHW | Sstc STIP
	mipSW      uint64 // bits written by software
	mipHW      uint64 // bits driven by devices (SetPending)
	stip       bool   // Sstc comparator output
	mtvec      uint64
	stvec      uint64
	mepc       uint64
	sepc       uint64
	mcause     uint64
	scause     uint64
	mtval      uint64
	stval      uint64
	mscratch   uint64
	sscratch   uint64
	mcounteren uint64
	scounteren uint64
	menvcfg    uint64
	senvcfg    uint64
	mcountinh  uint64
	mhartid    uint64
	satp       uint64
	stimecmp   uint64
	fflags     uint64
	frm        uint64
	pmpcfg     [numPMP]uint8
	pmpaddr    [numPMP]uint64
	// minstret = steps + instretAdj, mcycle = steps + cycleAdj, while
	// counting; while mcountinhibit stops one, it reads its frozen value.
	instretAdj uint64
	cycleAdj   uint64
	cycleStop  uint64
	instretStp uint64
	// Debug triggers (trigger.go).
	tselect  uint64
	tdata1   [numTriggers]uint64
	tdata2   [numTriggers]uint64
	tcontrol uint64
}

// CSR numbers.
const (
	csrFflags   = 0x001
	csrFrm      = 0x002
	csrFcsr     = 0x003
	csrCycle    = 0xc00
	csrTime     = 0xc01
	csrInstret  = 0xc02
	csrSstatus  = 0x100
	csrSie      = 0x104
	csrStvec    = 0x105
	csrScounten = 0x106
	csrSenvcfg  = 0x10a
	csrSscratch = 0x140
	csrSepc     = 0x141
	csrScause   = 0x142
	csrStval    = 0x143
	csrSip      = 0x144
	csrStimecmp = 0x14d
	csrSatp     = 0x180
	csrMvendor  = 0xf11
	csrMarch    = 0xf12
	csrMimp     = 0xf13
	csrMhartid  = 0xf14
	csrMconfig  = 0xf15
	csrMstatus  = 0x300
	csrMisa     = 0x301
	csrMedeleg  = 0x302
	csrMideleg  = 0x303
	csrMie      = 0x304
	csrMtvec    = 0x305
	csrMcounten = 0x306
	csrMenvcfg  = 0x30a
	csrMcountih = 0x320
	csrMscratch = 0x340
	csrMepc     = 0x341
	csrMcause   = 0x342
	csrMtval    = 0x343
	csrMip      = 0x344
	csrPmpcfg0  = 0x3a0
	csrPmpaddr0 = 0x3b0
	csrMcycle   = 0xb00
	csrMinstret = 0xb02
	csrTselect  = 0x7a0
	csrTdata1   = 0x7a1
	csrTdata2   = 0x7a2
	csrTdata3   = 0x7a3
	csrTinfo    = 0x7a4
	csrTcontrol = 0x7a5
)

// mcountinhibit bits.
const (
	inhibitCY = 1 << 0
	inhibitIR = 1 << 2
)

// cycles and instret are mcycle and minstret as the instruction in flight
// reads them (steps already counts it), or their frozen values while
// mcountinhibit stops them.
func (h *Hart) cycles() uint64 {
	if h.csr.mcountinh&inhibitCY != 0 {
		return h.csr.cycleStop
	}
	return h.steps - 1 + h.csr.cycleAdj
}

func (h *Hart) instret() uint64 {
	if h.csr.mcountinh&inhibitIR != 0 {
		return h.csr.instretStp
	}
	return h.steps - 1 + h.csr.instretAdj
}

// mstatusRead returns mstatus with the SD summary bit computed.
func (h *Hart) mstatusRead() uint64 {
	s := h.csr.mstatus
	if s&mstatusFS == mstatusFS {
		s |= mstatusSD
	}
	return s
}

// counterAllowed applies mcounteren/scounteren to the user counter i
// (privileged spec 3.1.11, 4.1.5).
func (h *Hart) counterAllowed(i uint) bool {
	if h.priv < PrivM && h.csr.mcounteren>>i&1 == 0 {
		return false
	}
	if h.priv < PrivS && h.csr.scounteren>>i&1 == 0 {
		return false
	}
	return true
}

func (h *Hart) fpEnabled() bool { return h.csr.mstatus&mstatusFS != 0 }

// stimecmpAllowed: in S mode stimecmp needs menvcfg.STCE and mcounteren.TM
// (Sstc spec).
func (h *Hart) stimecmpAllowed() bool {
	if h.priv == PrivM {
		return true
	}
	return h.csr.menvcfg&envcfgSTCE != 0 && h.csr.mcounteren&2 != 0
}

// csrRead returns the value of CSR n, or ok=false when the access is illegal
// (the CSR does not exist or the privilege is too low).
func (h *Hart) csrRead(n uint32) (uint64, bool) {
	if uint8(n>>8&3) > h.priv {
		return 0, false
	}
	c := &h.csr
	switch {
	case n >= 0xc00 && n <= 0xc1f:
		if !h.counterAllowed(uint(n - 0xc00)) {
			return 0, false
		}
		switch n {
		case csrCycle:
			return h.cycles(), true
		case csrTime:
			return h.clk.Ticks(), true
		case csrInstret:
			return h.instret(), true
		}
		return 0, true // hpmcounter3..31 are hard-wired to 0
	case n >= 0xb03 && n <= 0xb1f, n >= 0x323 && n <= 0x33f:
		return 0, true // mhpmcounter*, mhpmevent*
	case n >= csrPmpcfg0 && n < csrPmpcfg0+16:
		if n&1 != 0 {
			return 0, false // odd pmpcfg do not exist on RV64
		}
		i := int(n-csrPmpcfg0) * 4
		var v uint64
		for j := 0; j < 8; j++ {
			if i+j < numPMP {
				v |= uint64(c.pmpcfg[i+j]) << (8 * j)
			}
		}
		return v, true
	case n >= csrPmpaddr0 && n < csrPmpaddr0+64:
		i := int(n - csrPmpaddr0)
		if i < numPMP {
			return c.pmpaddr[i], true
		}
		return 0, true
	}
	switch n {
	case csrFflags, csrFrm, csrFcsr:
		if !h.fpEnabled() {
			return 0, false
		}
		switch n {
		case csrFflags:
			return c.fflags, true
		case csrFrm:
			return c.frm, true
		}
		return c.frm<<5 | c.fflags, true
	case csrSstatus:
		return h.mstatusRead() & sstatusMask, true
	case csrSie:
		return c.mie & c.mideleg, true
	case csrStvec:
		return c.stvec, true
	case csrScounten:
		return c.scounteren, true
	case csrSenvcfg:
		return c.senvcfg, true
	case csrSscratch:
		return c.sscratch, true
	case csrSepc:
		return c.sepc, true
	case csrScause:
		return c.scause, true
	case csrStval:
		return c.stval, true
	case csrSip:
		return c.mip & c.mideleg, true
	case csrStimecmp:
		if !h.stimecmpAllowed() {
			return 0, false
		}
		return c.stimecmp, true
	case csrSatp:
		if h.priv == PrivS && c.mstatus&mstatusTVM != 0 {
			return 0, false
		}
		return c.satp, true
	case csrMvendor, csrMarch, csrMimp, csrMconfig:
		return 0, true
	case csrMhartid:
		return c.mhartid, true
	case csrMstatus:
		return h.mstatusRead(), true
	case csrMisa:
		return misaValue, true
	case csrMedeleg:
		return c.medeleg, true
	case csrMideleg:
		return c.mideleg, true
	case csrMie:
		return c.mie, true
	case csrMtvec:
		return c.mtvec, true
	case csrMcounten:
		return c.mcounteren, true
	case csrMenvcfg:
		return c.menvcfg, true
	case csrMcountih:
		return c.mcountinh, true
	case csrMscratch:
		return c.mscratch, true
	case csrMepc:
		return c.mepc, true
	case csrMcause:
		return c.mcause, true
	case csrMtval:
		return c.mtval, true
	case csrMip:
		return c.mip, true
	case csrMcycle:
		return h.cycles(), true
	case csrMinstret:
		return h.instret(), true
	case csrTselect, csrTdata1, csrTdata2, csrTdata3, csrTinfo, csrTcontrol:
		return h.triggerCSRRead(n), true
	}
	return 0, false
}

// csrWrite writes v to CSR n. The caller has already checked, with csrRead,
// that the CSR exists and is accessible; csrWrite checks the read-only rule
// and returns false for a write to a read-only CSR.
func (h *Hart) csrWrite(n uint32, v uint64) bool {
	if n>>10&3 == 3 {
		return false // read-only (privileged spec 2.1)
	}
	c := &h.csr
	switch {
	case n >= 0xb03 && n <= 0xb1f, n >= 0x323 && n <= 0x33f:
		return true
	case n >= csrPmpcfg0 && n < csrPmpcfg0+16:
		i := int(n-csrPmpcfg0) * 4
		for j := 0; j < 8; j++ {
			if i+j >= numPMP || c.pmpcfg[i+j]&0x80 != 0 {
				continue // absent or locked
			}
			b := uint8(v >> (8 * j))
			b &^= 0x60 // reserved bits
			if b&3 == 2 {
				b &^= 2 // W without R is reserved: drop W
			}
			c.pmpcfg[i+j] = b
		}
		h.pmpUpdate()
		return true
	case n >= csrPmpaddr0 && n < csrPmpaddr0+64:
		i := int(n - csrPmpaddr0)
		// Locked entries, and the address below a locked TOR entry,
		// ignore writes (privileged spec 3.7.1.3).
		if i < numPMP && c.pmpcfg[i]&pmpL == 0 &&
			!(i+1 < numPMP && c.pmpcfg[i+1]&(pmpL|pmpA) == pmpL|pmpTOR) {
			c.pmpaddr[i] = v & (1<<54 - 1)
			h.pmpUpdate()
		}
		return true
	}
	switch n {
	case csrFflags:
		c.fflags = v & 0x1f
		h.fsDirty()
	case csrFrm:
		c.frm = v & 7
		h.fsDirty()
	case csrFcsr:
		c.fflags = v & 0x1f
		c.frm = v >> 5 & 7
		h.fsDirty()
	case csrSstatus:
		h.writeMstatus(c.mstatus&^sstatusMask | v&sstatusMask)
	case csrSie:
		c.mie = c.mie&^c.mideleg | v&c.mideleg
		h.kick()
	case csrStvec:
		c.stvec = legalTvec(v)
	case csrScounten:
		c.scounteren = v & 0xffffffff
	case csrSenvcfg:
		c.senvcfg = v & envcfgFIOM
	case csrSscratch:
		c.sscratch = v
	case csrSepc:
		c.sepc = v &^ 1
	case csrScause:
		c.scause = v
	case csrStval:
		c.stval = v
	case csrSip:
		// Only SSIP is writable through sip (privileged spec 4.1.3).
		m := c.mideleg & MipSSIP
		c.mipSW = c.mipSW&^m | v&m
		h.updateMip()
	case csrStimecmp:
		c.stimecmp = v
		h.updateStimer()
	case csrSatp:
		h.writeSatp(v)
	case csrMstatus:
		h.writeMstatus(v)
	case csrMisa:
		// WARL, fixed.
	case csrMedeleg:
		c.medeleg = v & medelegMask
	case csrMideleg:
		c.mideleg = v & midelegMask
		h.kick()
	case csrMie:
		c.mie = v & allInts
		h.kick()
	case csrMtvec:
		c.mtvec = legalTvec(v)
	case csrMcounten:
		c.mcounteren = v & 0xffffffff
	case csrMenvcfg:
		c.menvcfg = v & (envcfgFIOM | envcfgSTCE)
		h.updateStimer()
	case csrMcountih:
		// Freeze the counters this write stops at their value after
		// this instruction; restart the others from there.
		v &= inhibitCY | inhibitIR
		old := c.mcountinh
		if v&^old&inhibitCY != 0 {
			c.cycleStop = h.steps + c.cycleAdj
		} else if old&^v&inhibitCY != 0 {
			c.cycleAdj = c.cycleStop - h.steps
		}
		if v&^old&inhibitIR != 0 {
			c.instretStp = h.steps + c.instretAdj
		} else if old&^v&inhibitIR != 0 {
			c.instretAdj = c.instretStp - h.steps
		}
		c.mcountinh = v
	case csrMscratch:
		c.mscratch = v
	case csrMepc:
		c.mepc = v &^ 1
	case csrMcause:
		c.mcause = v
	case csrMtval:
		c.mtval = v
	case csrMip:
		// SSIP, STIP (when Sstc is off) and SEIP are writable by M mode.
		m := uint64(sInts)
		if c.menvcfg&envcfgSTCE != 0 {
			m &^= MipSTIP
		}
		c.mipSW = c.mipSW&^m | v&m
		h.updateMip()
	case csrMcycle:
		// steps already counts this instruction; reads subtract one, so
		// the next instruction reads exactly v.
		c.cycleAdj = v - h.steps
		c.cycleStop = v
	case csrMinstret:
		c.instretAdj = v - h.steps
		c.instretStp = v
	case csrTselect, csrTdata1, csrTdata2, csrTdata3, csrTinfo, csrTcontrol:
		h.triggerCSRWrite(n, v)
	default:
		return false
	}
	return true
}

// legalTvec keeps the direct (0) and vectored (1) modes; the reserved modes
// fall back to direct.
func legalTvec(v uint64) uint64 {
	if v&3 >= 2 {
		return v &^ 3
	}
	return v
}

func (h *Hart) writeMstatus(v uint64) {
	c := &h.csr
	old := c.mstatus
	n := c.mstatus&^mstatusWritable | v&mstatusWritable
	if n&mstatusMPP == 2<<mstatusMPPShift {
		n &^= mstatusMPP // MPP is WARL: the reserved level reads as U
	}
	c.mstatus = n
	switch {
	case (old^n)&mstatusMXR != 0:
		h.flushTLB()
	case old&^n&mstatusSUM != 0:
		h.sumCleared()
	}
	if (old^n)&(mstatusMPRV|mstatusMPP) != 0 {
		h.selectTLB()
	}
	h.kick()
}

// writeSatp accepts Bare, Sv39 and Sv48; any other mode leaves satp
// unchanged (satp is WARL, privileged spec 4.1.11). The ASID field is 16 bits.
func (h *Hart) writeSatp(v uint64) {
	switch v >> 60 {
	case satpBare, satpSv39, satpSv48:
	default:
		return
	}
	h.csr.satp = v
	h.flushTLB()
}

// fsDirty marks the FP state Dirty (mstatus.FS=3), as every FP register or
// fcsr write must.
func (h *Hart) fsDirty() { h.csr.mstatus |= mstatusFS }

// updateMip recomputes the effective mip and lets the hot loop look at it.
func (h *Hart) updateMip() {
	c := &h.csr
	m := c.mipSW | c.mipHW
	if c.menvcfg&envcfgSTCE != 0 {
		m &^= MipSTIP
		if c.stip {
			m |= MipSTIP
		}
	}
	c.mip = m
	h.kick()
}

// updateStimer re-evaluates the Sstc comparator and arms the timer for the
// moment time reaches stimecmp.
func (h *Hart) updateStimer() {
	c := &h.csr
	h.stimer.Stop()
	if c.menvcfg&envcfgSTCE == 0 {
		c.stip = false
		h.updateMip()
		return
	}
	now := h.clk.Ticks()
	c.stip = now >= c.stimecmp
	if !c.stip && c.stimecmp < (1<<63-1)/clock.NsPerTick {
		h.stimer.Set(int64(c.stimecmp) * clock.NsPerTick)
	}
	h.updateMip()
}

func (h *Hart) stimecmpFired() { h.updateStimer() }
