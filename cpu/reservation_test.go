package cpu

import (
	"testing"

	"gemu/bus"
	"gemu/clock"
)

// twoHarts returns two harts of one cluster on a 1 MiB RAM, h0 at RAM base
// and h1 at RAM base + 0x100.
func twoHarts(t *testing.T) (*bus.Bus, *Hart, *Hart) {
	t.Helper()
	b := bus.New(ramBase, 1<<20)
	clk := clock.NewDeterministic(0, nil)
	c := NewCluster(b, clk)
	h0, h1 := c.NewHart(0), c.NewHart(1)
	if got := c.Harts(); len(got) != 2 || got[0] != h0 || got[1] != h1 {
		t.Fatalf("Harts() = %v", got)
	}
	h0.Reset(ramBase)
	h1.Reset(ramBase + 0x100)
	openPMP(h0)
	openPMP(h1)
	return b, h0, h1
}

func TestReservationAcrossHarts(t *testing.T) {
	const data = ramBase + 0x2000
	for _, tc := range []struct {
		name string
		// h1's program (x1 = data, x5 = 5), run one instruction at a time
		// between h0's LR and SC; dma, when set, runs there too.
		h1     []uint32
		dma    func(b *bus.Bus)
		wantSC uint64 // 0: SC succeeded, 1: failed
	}{
		{name: "store to the granule", h1: []uint32{sd(5, 1, 0)}, wantSC: 1},
		{name: "byte store into the granule", h1: []uint32{sb(5, 1, 7)}, wantSC: 1},
		{name: "store to the next granule", h1: []uint32{sd(5, 1, 8)}, wantSC: 0},
		{name: "load of the granule", h1: []uint32{ld(6, 1, 0)}, wantSC: 0},
		{name: "AMO on the granule", h1: []uint32{amoaddd(6, 1, 5)}, wantSC: 1},
		{name: "LR and SC of the other hart", h1: []uint32{lrd(6, 1), scd(7, 1, 5)}, wantSC: 1},
		{name: "DMA to the granule", dma: func(b *bus.Bus) { b.Write32(data+4, 1) }, wantSC: 1},
		{name: "DMA next to the granule", dma: func(b *bus.Bus) { b.WriteDMA(data+8, make([]byte, 64)) }, wantSC: 0},
	} {
		b, h0, h1 := twoHarts(t)
		h0.loadWords(ramBase, lrd(2, 1), scd(3, 1, 4), jal(0, 0))
		// h1 stores to the page first, so that a fast path to it sits in
		// its write TLB before the LR.
		h1.loadWords(ramBase+0x100, append(append([]uint32{sd(5, 1, 16)}, tc.h1...), jal(0, 0))...)
		for _, h := range []*Hart{h0, h1} {
			h.SetX(1, data)
			h.SetX(4, 99)
			h.SetX(5, 5)
		}
		h1.Run(1)
		h0.Run(1) // LR
		for range tc.h1 {
			h1.Run(1)
		}
		if tc.dma != nil {
			tc.dma(b)
		}
		h0.Run(1) // SC
		if h0.X(3) != tc.wantSC {
			t.Errorf("%s: SC wrote %d, want %d", tc.name, h0.X(3), tc.wantSC)
		}
	}
}

func TestReservedPageKeepsOtherHartsSlow(t *testing.T) {
	// While h0 holds a reservation, h1 installs no write translation of
	// the page; once it is gone, h1's stores are fast again.
	const data = ramBase + 0x2000
	_, h0, h1 := twoHarts(t)
	h0.loadWords(ramBase, lrd(2, 1), sd(5, 1, 0), jal(0, 0))
	h1.loadWords(ramBase+0x100, sd(5, 1, 8), sd(5, 1, 8), jal(0, 0))
	for _, h := range []*Hart{h0, h1} {
		h.SetX(1, data)
	}
	inTLB := func() bool {
		e := h1.tlbW[data>>12&(tlbSize-1)]
		return e.tag == data&^0xfff
	}
	h0.Run(1) // LR
	h1.Run(1)
	if inTLB() {
		t.Fatal("h1 has a write translation of a page h0 reserved")
	}
	h0.Run(1) // h0's own store ends the reservation
	h1.Run(1)
	if !inTLB() {
		t.Fatal("h1 has no write translation after the reservation ended")
	}
}
