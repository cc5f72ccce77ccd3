package cpu

import "encoding/binary"

// Address translation (privileged spec 4.3, 4.4, 4.5: Sv39 and Sv48), the
// software TLBs, and the slow paths of loads, stores and fetches.

const (
	satpBare = 0
	satpSv39 = 8
	satpSv48 = 9
)

// PTE bits (privileged spec 4.3.1).
const (
	pteV = 1 << 0
	pteR = 1 << 1
	pteW = 1 << 2
	pteX = 1 << 3
	pteU = 1 << 4
	pteG = 1 << 5
	pteA = 1 << 6
	pteD = 1 << 7
)

// Access kinds.
const (
	accR = iota
	accW
	accX
)

// Exception causes (privileged spec 3.1.15).
const (
	excInstrMisaligned = 0
	excInstrAccess     = 1
	excIllegal         = 2
	excBreakpoint      = 3
	excLoadMisaligned  = 4
	excLoadAccess      = 5
	excStoreMisaligned = 6
	excStoreAccess     = 7
	excEcallU          = 8
	excEcallS          = 9
	excEcallM          = 11
	excInstrPage       = 12
	excLoadPage        = 13
	excStorePage       = 15

	excNone = ^uint64(0)
)

var pageFault = [3]uint64{excLoadPage, excStorePage, excInstrPage}
var accessFault = [3]uint64{excLoadAccess, excStoreAccess, excInstrAccess}

// A TLB entry maps one 4 KiB virtual page to RAM: the RAM slice index of a
// virtual address va is va+add. tag is the virtual page address (low 12 bits
// zero). The hot loop compares it against va with the low bits below the
// access size kept, so a misaligned access misses and takes the slow path
// (TinyEMU's trick). tlbInvalid has low bits set and so never matches.
type tlbEntry struct {
	tag uint64
	add uint64
}

// The TLBs are direct-mapped with tlbSize entries each, far more than the
// working set of most code between two flushes, so that flushes are cheap
// only if they touch just the entries in use: each array keeps a log of the
// indexes it filled since its last flush (up to tlbLogMax, then a flush
// clears it whole). QEMU's TLB is dynamic in size (accel/tcg/cputlb.c,
// tlb_mmu_resize_locked) for the same reason.
const (
	tlbSize    = 1024
	tlbLogMax  = 128
	tlbInvalid = ^uint64(0)
)

type tlbSet struct {
	r, w, x [tlbSize]tlbEntry
	// log[k] lists the indexes filled in the array of access kind k
	// (accR, accW, accX) since it was last flushed; over[k] says the log
	// overflowed and a flush must clear the whole array.
	log  [3][]uint16
	over [3]bool
	// user is set when this set (S mode's) holds a load/store translation
	// of a U=1 page, made with mstatus.SUM=1: clearing SUM must drop it.
	user bool
}

func (s *tlbSet) array(k int) *[tlbSize]tlbEntry {
	switch k {
	case accR:
		return &s.r
	case accW:
		return &s.w
	}
	return &s.x
}

// note records that entry i of the array of kind k was filled.
func (s *tlbSet) note(k int, i uint64) {
	if len(s.log[k]) < tlbLogMax {
		s.log[k] = append(s.log[k], uint16(i))
	} else {
		s.over[k] = true
	}
}

// flush drops every translation of the array of kind k.
func (s *tlbSet) flush(k int) {
	t := s.array(k)
	if s.over[k] {
		for i := range t {
			t[i].tag = tlbInvalid
		}
	} else {
		for _, i := range s.log[k] {
			t[i].tag = tlbInvalid
		}
	}
	s.log[k] = s.log[k][:0]
	s.over[k] = false
}

// flushTLB drops every translation of every set and the fetch page cache
// (satp writes, SFENCE.VMA, MXR changes).
func (h *Hart) flushTLB() {
	for i := range h.sets {
		s := &h.sets[i]
		s.flush(accR)
		s.flush(accW)
		s.flush(accX)
		s.user = false
	}
	h.lpAddr, h.lpMask = tlbInvalid, 0
	h.selectTLB()
}

// flushTLBPage drops the translations of the 4 KiB page holding va (an
// SFENCE.VMA with rs1 != x0). When va may lie in a superpage some entries
// were made from (entries are per 4 KiB page, so one superpage gives many),
// it drops everything instead, as QEMU's tlb_flush_page does for its
// large-page region (accel/tcg/cputlb.c, tlb_flush_page_locked).
func (h *Hart) flushTLBPage(va uint64) {
	if va&h.lpMask == h.lpAddr {
		h.flushTLB()
		return
	}
	tag := va &^ 0xfff
	i := va >> 12 & (tlbSize - 1)
	for k := range h.sets {
		s := &h.sets[k]
		for _, t := range [...]*[tlbSize]tlbEntry{&s.r, &s.w, &s.x} {
			if t[i].tag == tag {
				t[i].tag = tlbInvalid
			}
		}
	}
	h.selectTLB()
}

// addLargePage widens the region that holds every superpage translation
// in the TLB to include the one of va, size bytes (QEMU's
// tlb_add_large_page).
func (h *Hart) addLargePage(va, size uint64) {
	mask := ^(size - 1)
	if h.lpAddr != tlbInvalid {
		mask &= h.lpMask
		for (h.lpAddr^va)&mask != 0 {
			mask <<= 1
		}
	}
	h.lpAddr, h.lpMask = va&mask, mask
}

// selectTLB points tlbR/tlbW at the set of the privilege that loads and
// stores use (MPRV may make it MPP) and tlbX at the current privilege's set.
func (h *Hart) selectTLB() {
	d := &h.sets[h.dataPriv()&3]
	h.tlbR, h.tlbW = &d.r, &d.w
	h.tlbX = &h.sets[h.priv&3].x
	h.curVPN = tlbInvalid
	h.curPage = nil
}

// sumCleared is called when mstatus.SUM goes from 1 to 0: S-mode
// translations of user pages are no longer allowed.
func (h *Hart) sumCleared() {
	s := &h.sets[PrivS]
	if s.user {
		s.flush(accR)
		s.flush(accW)
		s.user = false
	}
}

// flushWriteTLB drops the write translations of every set (a page became a
// code page and stores to it must now take the slow path).
func (h *Hart) flushWriteTLB() {
	for i := range h.sets {
		h.sets[i].flush(accW)
	}
}

// dataPriv is the privilege used for loads and stores: MPRV makes M-mode
// accesses use MPP's (privileged spec 3.1.6.3).
func (h *Hart) dataPriv() uint8 {
	if h.csr.mstatus&mstatusMPRV != 0 && h.priv == PrivM {
		return uint8(h.csr.mstatus >> mstatusMPPShift & 3)
	}
	return h.priv
}

// translate maps va for an access of kind acc, returning the physical address
// or the exception cause.
func (h *Hart) translate(va uint64, acc int) (uint64, uint64) {
	priv := h.priv
	if acc != accX {
		priv = h.dataPriv()
	}
	mode := h.csr.satp >> 60
	h.lastU, h.lastLevel = false, 0
	if priv == PrivM || mode == satpBare {
		return va, excNone
	}
	if h.hooks != nil && h.hooks.Walk != nil {
		pa, exc := h.walk(va, acc, priv, mode)
		h.walkHooked(va, acc, priv, pa, exc)
		return pa, exc
	}
	return h.walk(va, acc, priv, mode)
}

// walk is translate's Sv39/Sv48 page-table walk.
func (h *Hart) walk(va uint64, acc int, priv uint8, mode uint64) (uint64, uint64) {
	levels := 3
	if mode == satpSv48 {
		levels = 4
	}
	// The address must be sign-extended from its top translated bit.
	vabits := uint(12 + 9*levels)
	if uint64(int64(va<<(64-vabits))>>(64-vabits)) != va {
		return 0, pageFault[acc]
	}
	a := (h.csr.satp & (1<<44 - 1)) << 12
	for i := levels - 1; i >= 0; i-- {
		pteAddr := a + (va>>(12+9*uint(i))&511)*8
		// The walk's accesses are checked by PMP as S-mode reads
		// (privileged spec 3.7.1).
		if !h.pmpAllows(pteAddr, 8, accR, PrivS) {
			return 0, accessFault[acc]
		}
		pte, ok := h.physLoad(pteAddr, 8)
		if !ok {
			return 0, accessFault[acc]
		}
		if pte&pteV == 0 || pte&(pteR|pteW) == pteW || pte>>54 != 0 {
			return 0, pageFault[acc]
		}
		ppn := pte >> 10 & (1<<44 - 1)
		if pte&(pteR|pteX) == 0 {
			a = ppn << 12
			continue
		}
		// Leaf: permissions.
		h.lastU, h.lastLevel = pte&pteU != 0, uint8(i)
		if priv == PrivU {
			if pte&pteU == 0 {
				return 0, pageFault[acc]
			}
		} else if pte&pteU != 0 {
			if acc == accX || h.csr.mstatus&mstatusSUM == 0 {
				return 0, pageFault[acc]
			}
		}
		switch acc {
		case accX:
			if pte&pteX == 0 {
				return 0, pageFault[acc]
			}
		case accR:
			if pte&pteR == 0 && (h.csr.mstatus&mstatusMXR == 0 || pte&pteX == 0) {
				return 0, pageFault[acc]
			}
		case accW:
			if pte&pteW == 0 {
				return 0, pageFault[acc]
			}
		}
		if i > 0 && ppn&(1<<(9*uint(i))-1) != 0 {
			return 0, pageFault[acc] // misaligned superpage
		}
		// Accessed and dirty bits are set by the hart (Svadu behaviour).
		if pte&pteA == 0 || (acc == accW && pte&pteD == 0) {
			npte := pte | pteA
			if acc == accW {
				npte |= pteD
			}
			if !h.pmpAllows(pteAddr, 8, accW, PrivS) || !h.physStore(pteAddr, 8, npte) {
				return 0, accessFault[acc]
			}
		}
		off := uint64(1)<<(12+9*uint(i)) - 1
		return ppn<<12&^off | va&off, excNone
	}
	return 0, pageFault[acc]
}

// physLoad reads physical memory (RAM directly, else the bus).
func (h *Hart) physLoad(pa uint64, size int) (uint64, bool) {
	off := pa - h.ramBase
	if pa >= h.ramBase && off < uint64(len(h.ram)) && uint64(size) <= uint64(len(h.ram))-off {
		return readRAM(h.ram[off:], size), true
	}
	return h.bus.Load(pa, size)
}

// physStore writes physical memory, keeping every hart's decoded code and
// LR/SC reservation coherent (Cluster.wrote).
func (h *Hart) physStore(pa uint64, size int, v uint64) bool {
	off := pa - h.ramBase
	if pa >= h.ramBase && off < uint64(len(h.ram)) && uint64(size) <= uint64(len(h.ram))-off {
		writeRAM(h.ram[off:], size, v)
		h.cl.wrote(off, uint64(size))
		return true
	}
	return h.bus.Store(pa, size, v)
}

func readRAM(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func writeRAM(b []byte, size int, v uint64) {
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, v)
	}
}

// ramPage returns the RAM offset of the 4 KiB page holding pa, or false.
func (h *Hart) ramPage(pa uint64) (uint64, bool) {
	p := pa &^ 0xfff
	off := p - h.ramBase
	if p >= h.ramBase && off < uint64(len(h.ram)) && uint64(len(h.ram))-off >= 4096 {
		return off, true
	}
	return 0, false
}

// fill installs a translation of va's page into the TLB of kind acc when the
// page is RAM and PMP allows the access on all of it. Pages holding decoded
// code, and pages where another hart holds a reservation, never enter the
// write TLB, so that stores to them reach physStore, which invalidates the
// decoded instructions and breaks the reservations. While a load or store
// trigger is armed no data translation enters (trigger.go).
func (h *Hart) fill(va, pa uint64, acc int) {
	off, ok := h.ramPage(pa)
	if !ok {
		return
	}
	priv := h.priv
	if acc != accX {
		if h.trigLS {
			return
		}
		priv = h.dataPriv()
	}
	// A write entry needs read permission too, so that AMOs (which read
	// and write) may use it.
	if !h.pmpPage(pa, acc, priv) || acc == accW && !h.pmpPage(pa, accR, priv) {
		return
	}
	if acc != accX && h.lastU && h.dataPriv() == PrivS {
		h.sets[PrivS].user = true
	}
	if acc == accW && (h.cl.code.isCode[off>>12] || h.cl.otherReserved(h, off>>12)) {
		return
	}
	if h.lastLevel > 0 {
		h.addLargePage(va, 1<<(12+9*uint64(h.lastLevel)))
	}
	s := &h.sets[priv&3]
	i := va >> 12 & (tlbSize - 1)
	e := &s.array(acc)[i]
	if e.tag == tlbInvalid {
		s.note(acc, i)
	}
	e.tag = va &^ 0xfff
	e.add = off - va&^0xfff
}

// load is the general load: size 1, 2, 4 or 8 at any alignment. On failure it
// has raised the exception and returns ok=false.
func (h *Hart) load(va uint64, size int) (uint64, bool) {
	e := &h.tlbR[va>>12&(tlbSize-1)]
	if e.tag == va&^(0xfff&^uint64(size-1)) {
		return readRAM(h.ram[va+e.add:], size), true
	}
	return h.loadSlow(va, size)
}

func (h *Hart) loadSlow(va uint64, size int) (uint64, bool) {
	if h.trigLS && h.trigHit(tdLoad, va, uint64(size)) {
		return 0, false
	}
	if va&0xfff+uint64(size) > 4096 {
		// Crosses a page: byte by byte (either page may fault).
		var v uint64
		for i := 0; i < size; i++ {
			b, ok := h.loadSlow(va+uint64(i), 1)
			if !ok {
				return 0, false
			}
			v |= b << (8 * i)
		}
		return v, true
	}
	pa, exc := h.translate(va, accR)
	if exc != excNone {
		h.exception(exc, va)
		return 0, false
	}
	h.fill(va, pa, accR)
	if !h.pmpAllows(pa, uint64(size), accR, h.dataPriv()) {
		h.exception(excLoadAccess, va)
		return 0, false
	}
	if pa&uint64(size-1) != 0 && !h.bus.InRAM(pa, uint64(size)) {
		// Misaligned device access: split into bytes.
		var v uint64
		for i := 0; i < size; i++ {
			b, ok := h.physLoad(pa+uint64(i), 1)
			if !ok {
				h.exception(excLoadAccess, va)
				return 0, false
			}
			v |= b << (8 * i)
		}
		return v, true
	}
	v, ok := h.physLoad(pa, size)
	if !ok {
		h.exception(excLoadAccess, va)
		return 0, false
	}
	return v, true
}

// store is the general store.
func (h *Hart) store(va uint64, size int, v uint64) bool {
	e := &h.tlbW[va>>12&(tlbSize-1)]
	if e.tag == va&^(0xfff&^uint64(size-1)) {
		off := va + e.add
		writeRAM(h.ram[off:], size, v)
		if off&^7 == h.resOff {
			h.resOff = noRes
		}
		return true
	}
	return h.storeSlow(va, size, v)
}

func (h *Hart) storeSlow(va uint64, size int, v uint64) bool {
	if h.trigLS && h.trigHit(tdStore, va, uint64(size)) {
		return false
	}
	if va&0xfff+uint64(size) > 4096 {
		// Crosses a page: translate both pages before writing anything.
		end := va + uint64(size) - 1
		pa1, exc := h.translate(va, accW)
		if exc != excNone {
			h.exception(exc, va)
			return false
		}
		pa2, exc := h.translate(end&^0xfff, accW)
		if exc != excNone {
			h.exception(exc, end&^0xfff)
			return false
		}
		n1 := 4096 - va&0xfff
		if !h.pmpAllows(pa1, n1, accW, h.dataPriv()) {
			h.exception(excStoreAccess, va)
			return false
		}
		if !h.pmpAllows(pa2, uint64(size)-n1, accW, h.dataPriv()) {
			h.exception(excStoreAccess, end&^0xfff)
			return false
		}
		for i := 0; i < size; i++ {
			a := va + uint64(i)
			pa := pa1 + uint64(i)
			if a&^0xfff != va&^0xfff {
				pa = pa2 + a&0xfff
			}
			if !h.physStore(pa, 1, v>>(8*i)) {
				h.exception(excStoreAccess, a)
				return false
			}
		}
		return true
	}
	pa, exc := h.translate(va, accW)
	if exc != excNone {
		h.exception(exc, va)
		return false
	}
	h.fill(va, pa, accW)
	if !h.pmpAllows(pa, uint64(size), accW, h.dataPriv()) {
		h.exception(excStoreAccess, va)
		return false
	}
	if pa&uint64(size-1) != 0 && !h.bus.InRAM(pa, uint64(size)) {
		for i := 0; i < size; i++ {
			if !h.physStore(pa+uint64(i), 1, v>>(8*i)) {
				h.exception(excStoreAccess, va)
				return false
			}
		}
		return true
	}
	if !h.physStore(pa, size, v) {
		h.exception(excStoreAccess, va)
		return false
	}
	return true
}

// fetchParcel reads the 16-bit parcel at va for instruction fetch.
func (h *Hart) fetchParcel(va uint64) (uint16, bool) {
	pa, exc := h.translate(va, accX)
	if exc != excNone {
		h.exception(exc, va)
		return 0, false
	}
	v, ok := h.physLoad(pa, 2)
	if !ok || !h.pmpAllows(pa, 2, accX, h.priv) {
		h.exception(excInstrAccess, va)
		return 0, false
	}
	return uint16(v), true
}
