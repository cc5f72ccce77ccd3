package cpu

// SYSTEM instructions (Zicsr, privileged spec 3.3) and the A extension.

// execCSR runs CSRRW/CSRRS/CSRRC and their immediate forms (Zicsr, chapter
// 9 of the unprivileged spec): a CSR that does not exist, is above the
// current privilege, or is read-only and written raises illegal-instruction.
func (h *Hart) execCSR(d *dinst) bool {
	f3 := d.fn
	n := uint32(d.imm) & 0xfff
	src := h.x[d.rs1]
	if f3 >= 5 {
		src = uint64(d.rs1) // uimm
	}
	write := f3&3 == 1 || d.rs1 != 0
	old, ok := h.csrRead(n)
	if !ok {
		h.exception(excIllegal, uint64(d.raw))
		return false
	}
	if write {
		base := old
		if n == csrMip {
			// Read-modify-write uses the software-writable SEIP bit, not
			// the PLIC's line (privileged spec 3.1.9).
			base = old&^MipSEIP | h.csr.mipSW&MipSEIP
		}
		var v uint64
		switch f3 & 3 {
		case 1:
			v = src
		case 2:
			v = base | src
		default:
			v = base &^ src
		}
		if !h.csrWrite(n, v) {
			h.exception(excIllegal, uint64(d.raw))
			return false
		}
	}
	h.x[d.rd] = old
	return true
}

// execSystem runs the rare instructions: illegal words, ECALL, EBREAK, MRET,
// SRET, SFENCE.VMA. It returns false after raising an exception.
func (h *Hart) execSystem(d *dinst) bool {
	switch d.op {
	case opECALL:
		h.exception(excEcallU+uint64(h.priv), 0)
		return false
	case opEBREAK:
		h.exception(excBreakpoint, h.pc)
		return false
	case opMRET:
		if h.priv != PrivM {
			break
		}
		h.mret()
		return true
	case opSRET:
		if h.priv < PrivS || h.priv == PrivS && h.csr.mstatus&mstatusTSR != 0 {
			break
		}
		h.sret()
		return true
	case opSFENCE:
		if h.priv < PrivS || h.priv == PrivS && h.csr.mstatus&mstatusTVM != 0 {
			break
		}
		// rs1 != x0 fences one page (privileged spec 4.2.1). The ASID in
		// rs2 is not looked at: the entries have no ASID tag, so every
		// address space's translation of that page goes.
		if d.rs1 != 0 {
			h.flushTLBPage(h.x[d.rs1])
		} else {
			h.flushTLB()
		}
		return true
	}
	h.exception(excIllegal, uint64(d.raw))
	return false
}

// amoAddr translates va for an atomic access (write permission, natural
// alignment) and returns its physical address.
func (h *Hart) amoAddr(va uint64, size int, acc int) (uint64, bool) {
	if va&uint64(size-1) != 0 {
		cause := uint64(excStoreMisaligned)
		if acc == accR {
			cause = excLoadMisaligned
		}
		h.exception(cause, va)
		return 0, false
	}
	kind := uint64(tdLoad)
	if acc == accW {
		kind = tdLoad | tdStore // an AMO both reads and writes; SC writes
	}
	if h.trigLS && h.trigHit(kind, va, uint64(size)) {
		return 0, false
	}
	pa, exc := h.translate(va, acc)
	if exc != excNone {
		h.exception(exc, va)
		return 0, false
	}
	// PMP: an AMO needs read and write permission, LR read, SC write.
	if !h.pmpAllows(pa, uint64(size), accR, h.dataPriv()) && acc == accR ||
		acc == accW && !h.pmpAllows(pa, uint64(size), accW, h.dataPriv()) {
		cause := uint64(excStoreAccess)
		if acc == accR {
			cause = excLoadAccess
		}
		h.exception(cause, va)
		return 0, false
	}
	return pa, true
}

// The funct5 field of the A extension's instructions (unprivileged spec
// chapter 8 and its instruction listings): dinst.fn of opAMO.
const (
	amoADD  = 0x00
	amoSWAP = 0x01
	amoLR   = 0x02
	amoSC   = 0x03
	amoXOR  = 0x04
	amoOR   = 0x08
	amoAND  = 0x0c
	amoMIN  = 0x10
	amoMAX  = 0x14
	amoMINU = 0x18
	amoMAXU = 0x1c
)

// execAMO runs LR, SC and the AMOs (unprivileged spec chapter 8). The
// harts of a cluster run on one goroutine and an AMO is one instruction, so
// it is atomic with respect to the other harts; its store goes through
// physStore and so breaks their reservations and keeps decoded code right.
func (h *Hart) execAMO(d *dinst) bool {
	size := int(d.aux)
	va := h.x[d.rs1]
	ext := func(v uint64) uint64 {
		if size == 4 {
			return sx32(v)
		}
		return v
	}
	switch d.fn {
	case amoLR:
		pa, ok := h.amoAddr(va, size, accR)
		if !ok {
			return false
		}
		v, ok := h.physLoad(pa, size)
		if !ok {
			h.exception(excLoadAccess, va)
			return false
		}
		h.resOff = noRes
		if h.bus.InRAM(pa, uint64(size)) {
			h.cl.reserve(h, (pa-h.ramBase)&^7)
		}
		h.x[d.rd] = ext(v)
		return true
	case amoSC:
		pa, ok := h.amoAddr(va, size, accW)
		if !ok {
			return false
		}
		if h.resOff == noRes || !h.bus.InRAM(pa, uint64(size)) || (pa-h.ramBase)&^7 != h.resOff {
			h.resOff = noRes
			h.x[d.rd] = 1
			return true
		}
		h.resOff = noRes
		if !h.physStore(pa, size, h.x[d.rs2]) {
			h.exception(excStoreAccess, va)
			return false
		}
		h.x[d.rd] = 0
		return true
	}
	// The write TLB's fast path, as for stores: an entry there means the
	// page is RAM, readable and writable by this privilege (fill), holds
	// no decoded code and no other hart's reservation. The translator
	// does the same inline (jit_amd64.go, emitter.amo).
	if e := &h.tlbW[va>>12&(tlbSize-1)]; e.tag == va&^(0xfff&^uint64(size-1)) {
		off := va + e.add
		old := ext(readRAM(h.ram[off:], size))
		writeRAM(h.ram[off:], size, amoValue(d.fn, old, ext(h.x[d.rs2])))
		if off&^7 == h.resOff {
			h.resOff = noRes
		}
		h.x[d.rd] = old
		return true
	}
	pa, ok := h.amoAddr(va, size, accW)
	if !ok {
		return false
	}
	h.fill(va, pa, accW)
	old, ok := h.physLoad(pa, size)
	if !ok {
		h.exception(excStoreAccess, va)
		return false
	}
	old = ext(old)
	v := amoValue(d.fn, old, ext(h.x[d.rs2]))
	if !h.physStore(pa, size, v) {
		h.exception(excStoreAccess, va)
		return false
	}
	h.x[d.rd] = old
	return true
}

// amoValue is what AMO fn stores, given the old memory value and rs2
// (both sign-extended from 32 bits for the W forms: unsigned min/max then
// compare the 32-bit values, since sign-extension keeps their order).
func amoValue(fn uint8, old, src uint64) uint64 {
	switch fn {
	case amoSWAP:
		return src
	case amoADD:
		return old + src
	case amoXOR:
		return old ^ src
	case amoAND:
		return old & src
	case amoOR:
		return old | src
	case amoMIN:
		if int64(src) < int64(old) {
			return src
		}
	case amoMAX:
		if int64(src) > int64(old) {
			return src
		}
	case amoMINU:
		if src < old {
			return src
		}
	default: // amoMAXU
		if src > old {
			return src
		}
	}
	return old
}
