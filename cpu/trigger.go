package cpu

// Debug triggers (RISC-V Debug Specification 1.0, chapter 5 "Sdtrig"), as
// QEMU 7.2's target/riscv/debug.c offers them to M-mode software: two
// triggers, each an address match (mcontrol, type 2, or mcontrol6, type 6)
// on execute, load and store, with match = 0 (equal) and action = 0
// (breakpoint exception). tcontrol.mte gates them in M mode (5.7.4) and is
// saved in mpte by a trap into M mode and restored by mret.
//
// The hot loop pays nothing while no trigger is armed. An armed execute
// trigger makes Run go one instruction at a time and compare the pc first
// (runTriggered); an armed load or store trigger keeps data translations
// out of the TLB, so every access takes the slow path, which compares its
// address (trigHit).
//
// A debugger's watchpoints (gdb's watch, rwatch, awatch through the GDB
// stub) use the same slow path, invisible to the guest: an access that
// overlaps one stops Run before the access, with the pc at the instruction,
// as a RISC-V trigger with timing = before does (Debug Specification
// 5.5.2); gdb then steps over the instruction itself (RISC-V watchpoints are
// "non-steppable" to gdb).

const numTriggers = 2

// DebugWatch is a debugger's data watchpoint over the virtual addresses
// [Addr, Addr+Len), on loads, stores or both (an AMO is both).
type DebugWatch struct {
	Addr, Len   uint64
	Load, Store bool
}

// SetDebugWatches replaces the debugger's watchpoints (none: nil).
func (h *Hart) SetDebugWatches(ws []DebugWatch) {
	h.dbgWatch = append(h.dbgWatch[:0], ws...)
	h.dbgHitOK = false
	h.triggersChanged()
}

// DebugWatchHit reports the watchpoint that stopped the last Run, and the
// accessed address, and forgets it. The pc is at the instruction that made
// the access, which has not run (it is not counted in minstret).
func (h *Hart) DebugWatchHit() (w DebugWatch, addr uint64, ok bool) {
	if !h.dbgHitOK {
		return DebugWatch{}, 0, false
	}
	h.dbgHitOK = false
	if h.dbgStop {
		h.dbgStop, h.stopReq = false, false
	}
	return h.dbgHit, h.dbgHitAddr, true
}

// dbgWatchHit checks the debugger's watchpoints for an access of kind at
// [a, a+size): on a hit it records it and makes Run stop before the
// instruction.
func (h *Hart) dbgWatchHit(kind, a, size uint64) bool {
	for _, w := range h.dbgWatch {
		if (kind&tdLoad != 0 && w.Load || kind&tdStore != 0 && w.Store) &&
			a < w.Addr+w.Len && w.Addr < a+size {
			h.dbgHit, h.dbgHitAddr, h.dbgHitOK = w, a, true
			h.csr.instretAdj-- // the instruction does not retire
			if !h.stopReq {
				h.dbgStop = true
				h.RequestStop()
			}
			return true
		}
	}
	return false
}

// tdata1 fields common to mcontrol and mcontrol6.
const (
	tdLoad     = 1 << 0
	tdStore    = 1 << 1
	tdExecute  = 1 << 2
	tdU        = 1 << 3
	tdS        = 1 << 4
	tdM        = 1 << 6
	tdType2    = 2 << 60
	tdType6    = 6 << 60
	tdTypeNone = 15 << 60 // a trigger that exists but is disabled

	// The bits kept by a write: the privilege and access enables and the
	// size fields (sizelo/sizehi of mcontrol, size of mcontrol6, both
	// accepted and compared as "any size"). match, chain, action, select
	// and timing hold only 0, the values QEMU 7.2 supports.
	tdKeep2 = tdLoad | tdStore | tdExecute | tdU | tdS | tdM | 3<<16 | 3<<21
	tdKeep6 = tdLoad | tdStore | tdExecute | tdU | tdS | tdM | 7<<16

	tcontrolMTE  = 1 << 3
	tcontrolMPTE = 1 << 7
)

func (h *Hart) triggerCSRRead(n uint32) uint64 {
	c := &h.csr
	switch n {
	case csrTselect:
		return c.tselect
	case csrTdata1:
		return c.tdata1[c.tselect]
	case csrTdata2:
		return c.tdata2[c.tselect]
	case csrTinfo:
		return 1<<2 | 1<<6 // mcontrol and mcontrol6
	case csrTcontrol:
		return c.tcontrol
	}
	return 0 // tdata3: no textra matching
}

func (h *Hart) triggerCSRWrite(n uint32, v uint64) {
	c := &h.csr
	switch n {
	case csrTselect:
		if v < numTriggers {
			c.tselect = v
		}
	case csrTdata1:
		switch v >> 60 {
		case 2:
			v = tdType2 | v&tdKeep2
		case 6:
			v = tdType6 | v&tdKeep6
		default:
			v = tdTypeNone
		}
		c.tdata1[c.tselect] = v
	case csrTdata2:
		c.tdata2[c.tselect] = v
	case csrTcontrol:
		c.tcontrol = v & (tcontrolMTE | tcontrolMPTE)
	}
	h.triggersChanged()
}

// triggersChanged recomputes which kinds of trigger are armed, drops the
// TLB when data triggers come or go, and leaves the hot loop so that Run
// picks the right path.
func (h *Hart) triggersChanged() {
	var x, ls bool
	for i := range numTriggers {
		d := h.csr.tdata1[i]
		if t := d >> 60; t != 2 && t != 6 || d&(tdU|tdS|tdM) == 0 {
			continue
		}
		x = x || d&tdExecute != 0
		ls = ls || d&(tdLoad|tdStore) != 0
	}
	ls = ls || len(h.dbgWatch) > 0
	if ls != h.trigLS {
		h.trigLS = ls
		h.flushTLB()
	}
	if x != h.trigX {
		h.trigX = x
		h.RequestStop()
	}
}

// trigHit reports whether a trigger with any of the access bits in kind
// fires for address a at the current privilege, and if so raises the
// breakpoint exception with a in xtval.
func (h *Hart) trigHit(kind, a, size uint64) bool {
	if len(h.dbgWatch) > 0 && kind != tdExecute && h.dbgWatchHit(kind, a, size) {
		return true
	}
	c := &h.csr
	var mode uint64
	switch h.priv {
	case PrivU:
		mode = tdU
	case PrivS:
		mode = tdS
	default:
		if c.tcontrol&tcontrolMTE == 0 {
			return false
		}
		mode = tdM
	}
	if kind != tdExecute {
		switch h.dataPriv() {
		case PrivU:
			mode = tdU
		case PrivS:
			mode = tdS
		}
	}
	for i := range numTriggers {
		d := c.tdata1[i]
		if t := d >> 60; t != 2 && t != 6 || d&kind == 0 || d&mode == 0 {
			continue
		}
		if t := c.tdata2[i]; t-a < size {
			h.exception(excBreakpoint, a)
			return true
		}
	}
	return false
}

// runTriggered is Run while an execute trigger is armed: one instruction
// at a time, the pc compared before each.
func (h *Hart) runTriggered(max uint64) uint64 {
	start := h.steps
	for h.steps-start < max && h.trigX {
		if h.wfi && h.csr.mip&h.csr.mie == 0 {
			break
		}
		if h.stopReq {
			h.stopReq = false
			break
		}
		h.TakeInterrupt()
		if h.trigHit(tdExecute, h.pc, 1) {
			h.steps++ // the trapped instruction counts, as in Run
			continue
		}
		h.inTrig = true
		n := h.Run(1)
		h.inTrig = false
		if n == 0 {
			break
		}
	}
	return h.steps - start
}

// trapTriggers applies tcontrol on a trap into M mode: mpte = mte, mte = 0.
func (h *Hart) trapTriggers() {
	c := &h.csr
	c.tcontrol = c.tcontrol&^(tcontrolMPTE|tcontrolMTE) | (c.tcontrol&tcontrolMTE)<<4
}

// mretTriggers applies tcontrol on mret: mte = mpte.
func (h *Hart) mretTriggers() {
	c := &h.csr
	c.tcontrol = c.tcontrol&^tcontrolMTE | (c.tcontrol&tcontrolMPTE)>>4
}
