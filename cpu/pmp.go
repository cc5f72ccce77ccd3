package cpu

// Physical memory protection (privileged spec 1.12, section 3.7): 16
// entries, QEMU's count for virt, with 4-byte granularity (G = 0), the
// OFF, TOR, NA4 and NAPOT modes and the L bit.
//
// Checking costs nothing on the hot path: a translation enters a software
// TLB only when PMP allows the access kind on its whole 4 KiB page (pmpPage),
// so every load, store and fetch that hits the TLB is allowed. Pages that
// PMP splits, or forbids, stay out of the TLB: their accesses take the slow
// path, which checks each access exactly (pmpAllows) and raises an access
// fault with the virtual address in xtval. Every pmpcfg/pmpaddr write
// recomputes the ranges and flushes the TLBs, as QEMU does.

// pmpcfg fields.
const (
	pmpR    = 1 << 0
	pmpW    = 1 << 1
	pmpX    = 1 << 2
	pmpA    = 3 << 3
	pmpL    = 1 << 7
	pmpOff  = 0 << 3
	pmpTOR  = 1 << 3
	pmpNA4  = 2 << 3
	pmpNAPO = 3 << 3
)

// pmpRange is one active entry as a byte range [lo, hi) and its cfg byte.
type pmpRange struct {
	lo, hi uint64
	cfg    uint8
}

// pmpPerm maps an access kind to the pmpcfg permission bit.
var pmpPerm = [3]uint8{accR: pmpR, accW: pmpW, accX: pmpX}

// pmpUpdate recomputes the active ranges from the CSRs (in entry order,
// the lowest-numbered matching entry wins) and flushes the TLBs.
func (h *Hart) pmpUpdate() {
	c := &h.csr
	h.pmp = h.pmp[:0]
	for i := range numPMP {
		cfg := c.pmpcfg[i]
		addr := c.pmpaddr[i]
		var lo, hi uint64
		switch cfg & pmpA {
		case pmpOff:
			continue
		case pmpTOR:
			if i > 0 {
				lo = c.pmpaddr[i-1] << 2
			}
			hi = addr << 2
		case pmpNA4:
			lo, hi = addr<<2, addr<<2+4
		case pmpNAPO:
			// Trailing ones t give a 2^(t+3)-byte region.
			t := uint(0)
			for t < 54 && addr>>t&1 != 0 {
				t++
			}
			lo = (addr &^ (1<<t - 1)) << 2
			hi = lo + 1<<(t+3)
			if t >= 54 {
				lo, hi = 0, ^uint64(0) // all of the 56-bit space and more
			}
		}
		h.pmp = append(h.pmp, pmpRange{lo, hi, cfg})
	}
	h.flushTLB()
}

// pmpAllows reports whether PMP lets privilege priv make an access of kind
// acc to the bytes [pa, pa+n).
func (h *Hart) pmpAllows(pa, n uint64, acc int, priv uint8) bool {
	end := pa + n
	for _, r := range h.pmp {
		if end <= r.lo || pa >= r.hi || r.lo >= r.hi {
			continue // no byte matches
		}
		if pa < r.lo || end > r.hi {
			return false // matches only some bytes: fails (3.7.1.4)
		}
		if priv == PrivM && r.cfg&pmpL == 0 {
			return true
		}
		return r.cfg&pmpPerm[acc] != 0
	}
	// No entry matches: M succeeds, S and U fail, since entries are
	// implemented (3.7.1), active or not. (QEMU 7.2 gets there another
	// way: with no active entry its mret to S or U is an illegal
	// instruction.)
	return priv == PrivM
}

// pmpPage reports whether the whole 4 KiB page at pa (aligned) is allowed
// to priv for acc, so that a TLB entry for it needs no further check.
func (h *Hart) pmpPage(pa uint64, acc int, priv uint8) bool {
	if priv == PrivM && len(h.pmp) == 0 {
		return true
	}
	return h.pmpAllows(pa&^0xfff, 4096, acc, priv)
}
