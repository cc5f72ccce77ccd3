package cpu

// The decoded-instruction cache of a cluster: one dpage of pre-decoded slots
// per 4 KiB RAM page that ever held executed code, shared by all harts of
// the cluster. A slot is decoded the first time any hart fetches it
// (Hart.slowFetch) and zeroed (op=opNone) whenever the bytes under it change:
// by a store of any hart (Hart.physStore) or by a write through the bus
// (Cluster.busWrote). Because writes keep it coherent, FENCE.I has nothing
// left to invalidate.
//
// isCode[p] is set while page p holds at least one decoded slot. Such pages
// never enter a hart's write TLB (Hart.fill), so every store to them takes the
// slow path that invalidates; when a page's last decoded slot is invalidated
// the flag drops and stores to the page are fast again.

const slotsPerPage = 4096 / 2

type dpage struct {
	ins   [slotsPerPage]dinst
	valid int // number of slots with op != opNone
}

// mmioPage is the fetch page used for code outside RAM (the boot ROM). Its
// slots stay opNone forever (slowFetch decodes such code into Hart.tmpInst),
// so it is never written and every fetch from it takes the slow path.
var mmioPage dpage

const noPage = ^uint64(0)

type codeCache struct {
	pages  []*dpage // by RAM page index; nil until code runs there
	isCode []bool   // by RAM page index: the page has decoded slots

	// dropped, when set, is called with the RAM page index each time
	// invalidate zeroes slots of a page (the translator's hook).
	dropped func(p uint64)
}

func (cc *codeCache) init(ramSize uint64) {
	n := (ramSize + 4095) >> 12
	cc.pages = make([]*dpage, n)
	cc.isCode = make([]bool, n)
}

// page returns the decoded page for RAM page index p.
func (cc *codeCache) page(p uint64) *dpage {
	dp := cc.pages[p]
	if dp == nil {
		dp = new(dpage)
		cc.pages[p] = dp
	}
	return dp
}

// noteDecoded records one more decoded slot in RAM page p. When p becomes a
// code page, every hart's write TLB is flushed so that no hart keeps a fast
// path to it.
func (c *Cluster) noteDecoded(p uint64) {
	cc := &c.code
	cc.pages[p].valid++
	if !cc.isCode[p] {
		cc.isCode[p] = true
		for _, h := range c.harts {
			h.flushWriteTLB()
		}
	}
}

// invalidate zeroes every decoded slot that may include a byte of the RAM
// range [off, off+n) (a 32-bit instruction starting 2 bytes before off
// overlaps it too).
func (cc *codeCache) invalidate(off, n uint64) {
	if n == 0 {
		return
	}
	start := off
	if start >= 2 {
		start -= 2
	} else {
		start = 0
	}
	end := off + n // exclusive
	for p := start >> 12; p <= (end-1)>>12 && p < uint64(len(cc.pages)); p++ {
		if !cc.isCode[p] {
			continue
		}
		dp := cc.pages[p]
		lo, hi := p<<12, p<<12+4096
		if start > lo {
			lo = start
		}
		if end < hi {
			hi = end
		}
		dropped := false
		for s := lo & 0xfff >> 1; s <= (hi-1)&0xfff>>1; s++ {
			if dp.ins[s].op != opNone {
				dp.ins[s].op = opNone
				dp.valid--
				dropped = true
			}
		}
		if dropped && cc.dropped != nil {
			cc.dropped(p) // the translations of the page are stale too
		}
		if dp.valid == 0 {
			cc.isCode[p] = false
		}
	}
}
