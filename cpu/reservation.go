package cpu

// LR/SC reservations across the harts of a cluster (unprivileged spec 8.2:
// an SC fails if another hart, or a device, wrote the reserved bytes since
// the LR). Each hart holds at most one reservation, the RAM offset of an
// 8-byte granule in Hart.resOff (noRes when none); any write overlapping
// the granule breaks it.
//
// A hart's own stores check its reservation on the store fast path (run.go).
// Every other write must see it too, so:
//
//   - stores of the other harts: a page holding a reservation is kept out of
//     the other harts' write TLBs while it is reserved (reserve drops their
//     entries, Hart.fill will not install one), so their stores to it take
//     the slow path, Hart.physStore, which calls breakReservations;
//   - AMOs and SCs write through physStore as well, so they are atomic with
//     respect to the other harts (which run on the same goroutine) and break
//     their reservations;
//   - writes through the bus (DMA, a debugger) reach Cluster.busWrote.
//
// With one hart (the virt board's default) reserve and otherReserved cost a
// length check.

const noRes = ^uint64(0)

// reserve gives h the reservation of the granule at RAM offset off (8-byte
// aligned) and takes the page out of the other harts' write TLBs.
func (c *Cluster) reserve(h *Hart, off uint64) {
	h.resOff = off
	if len(c.harts) < 2 {
		return
	}
	for _, o := range c.harts {
		if o != h {
			o.dropWriteTLBPage(off >> 12)
		}
	}
}

// otherReserved reports whether a hart other than h holds a reservation in
// RAM page p.
func (c *Cluster) otherReserved(h *Hart, p uint64) bool {
	if len(c.harts) < 2 {
		return false
	}
	for _, o := range c.harts {
		if o != h && o.resOff != noRes && o.resOff>>12 == p {
			return true
		}
	}
	return false
}

// breakReservations clears every hart's reservation that overlaps the RAM
// range [off, off+n).
func (c *Cluster) breakReservations(off, n uint64) {
	for _, o := range c.harts {
		if o.resOff != noRes && off&^7 <= o.resOff && o.resOff < off+n {
			o.resOff = noRes
		}
	}
}

// dropWriteTLBPage removes h's write translations that lead to RAM page p.
func (h *Hart) dropWriteTLBPage(p uint64) {
	for s := range h.sets {
		w := &h.sets[s].w
		for i := range w {
			e := &w[i]
			if e.tag != tlbInvalid && (e.tag+e.add)>>12 == p {
				e.tag = tlbInvalid
			}
		}
	}
}
