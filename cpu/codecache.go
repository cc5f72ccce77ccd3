package cpu

import (
	"sync"
	"weak"

	"gemu/bus"
)

// The decoded-instruction cache: one dpage of pre-decoded slots per 4 KiB RAM
// page that ever held executed code, shared by all harts on a bus. A slot is
// decoded the first time it is fetched and zeroed (op=opNone) whenever the
// bytes under it change: by a store of any hart (physStore) or by a device's
// DMA (bus.CodeWritten). Because stores keep it coherent, FENCE.I has nothing
// left to invalidate.
//
// bus.CodePage[p] is set while page p holds at least one decoded slot. Such
// pages never enter a hart's write TLB, so every store to them takes the slow
// path that invalidates; when a page's last decoded slot is invalidated the
// flag drops and stores to the page are fast again.

const slotsPerPage = 4096 / 2

type dpage struct {
	ins   [slotsPerPage]dinst
	valid int // number of slots with op != opNone
}

// mmioPage is the fetch page used for code outside RAM (the boot ROM): it is
// never written, so every fetch from it takes the slow path.
var mmioPage dpage

const noPage = ^uint64(0)

type codeCache struct {
	b     *bus.Bus
	pages []*dpage
	harts []*Hart
}

var codeCaches struct {
	sync.Mutex
	m map[weak.Pointer[bus.Bus]]weak.Pointer[codeCache]
}

// sharedCodeCache returns the code cache of bus b, creating it (and hooking
// b.CodeWritten) for the first hart, and registers h with it.
func sharedCodeCache(b *bus.Bus, h *Hart) *codeCache {
	codeCaches.Lock()
	defer codeCaches.Unlock()
	if codeCaches.m == nil {
		codeCaches.m = make(map[weak.Pointer[bus.Bus]]weak.Pointer[codeCache])
	}
	for k, v := range codeCaches.m {
		if k.Value() == nil || v.Value() == nil {
			delete(codeCaches.m, k)
		}
	}
	key := weak.Make(b)
	cc := codeCaches.m[key].Value()
	if cc == nil {
		cc = &codeCache{b: b, pages: make([]*dpage, len(b.CodePage))}
		codeCaches.m[key] = weak.Make(cc)
		b.CodeWritten = cc.dmaWritten
	}
	cc.harts = append(cc.harts, h)
	return cc
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

// noteDecoded records one more decoded slot in RAM page p.
func (cc *codeCache) noteDecoded(p uint64) {
	cc.pages[p].valid++
	if !cc.b.CodePage[p] {
		cc.b.CodePage[p] = true
		for _, h := range cc.harts {
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
		dp := cc.pages[p]
		if dp == nil || dp.valid == 0 {
			continue
		}
		lo, hi := p<<12, p<<12+4096
		if start > lo {
			lo = start
		}
		if end < hi {
			hi = end
		}
		for s := lo & 0xfff >> 1; s <= (hi-1)&0xfff>>1; s++ {
			if dp.ins[s].op != opNone {
				dp.ins[s].op = opNone
				dp.valid--
			}
		}
		if dp.valid == 0 {
			cc.b.CodePage[p] = false
		}
	}
}

// dmaWritten is the bus.CodeWritten hook.
func (cc *codeCache) dmaWritten(paddr, n uint64) {
	cc.invalidate(paddr-cc.b.RAMBase, n)
}

// LR/SC across harts. A hart's own stores check its reservation on the fast
// path; stores by other harts must reach physStore, so a page holding a
// reservation is kept out of the other harts' write TLBs while it is
// reserved. With one hart (the virt board's default) none of this costs
// anything.

// reserved is called when h takes a reservation on RAM offset off.
func (cc *codeCache) reserved(h *Hart, off uint64) {
	if len(cc.harts) < 2 {
		return
	}
	for _, o := range cc.harts {
		if o != h {
			o.dropWriteTLBPage(off >> 12)
		}
	}
}

// otherReserved reports whether a hart other than h holds a reservation in
// RAM page p.
func (cc *codeCache) otherReserved(h *Hart, p uint64) bool {
	if len(cc.harts) < 2 {
		return false
	}
	for _, o := range cc.harts {
		if o != h && o.resOff != noRes && o.resOff>>12 == p {
			return true
		}
	}
	return false
}

// breakReservations clears every reservation overlapping [off, off+n).
func (cc *codeCache) breakReservations(off, n uint64) {
	for _, o := range cc.harts {
		if o.resOff != noRes && off&^7 <= o.resOff && o.resOff < off+n {
			o.resOff = noRes
		}
	}
}

// dropWriteTLBPage removes the write translations that lead to RAM page p.
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
