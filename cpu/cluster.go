package cpu

import (
	"gemu/bus"
	"gemu/clock"
)

// A Cluster is the harts of one machine and what they share: the bus, the
// clock, the decoded-instruction cache (codecache.go) and the view each hart
// needs of the others' LR/SC reservations (reservation.go).
//
// The harts of a cluster belong to one goroutine, which may run them in turn
// (a quantum each): nothing here is locked. A store by any hart, and any
// write to RAM made through the bus (device DMA, a debugger), invalidates the
// decoded instructions of every hart under it and breaks every hart's
// reservation on it.
type Cluster struct {
	bus     *bus.Bus
	clk     *clock.Clock
	ram     []byte
	ramBase uint64
	harts   []*Hart

	code codeCache
	jit  *jitCache // the translator's blocks, nil when it is off (jit_amd64.go)
}

// NewCluster returns an empty cluster on bus b with time from clk, and
// installs its write observer on b (bus.Bus.ObserveWrites), so a bus carries
// at most one cluster.
func NewCluster(b *bus.Bus, clk *clock.Clock) *Cluster {
	c := &Cluster{bus: b, clk: clk, ram: b.RAM, ramBase: b.RAMBase}
	c.code.init(uint64(len(b.RAM)))
	b.ObserveWrites(c.busWrote)
	if DefaultJIT {
		c.SetJIT(true)
	}
	return c
}

// NewHart adds a hart with mhartid id to the cluster, in reset state at pc 0.
func (c *Cluster) NewHart(id uint64) *Hart {
	h := &Hart{
		cl:      c,
		bus:     c.bus,
		clk:     c.clk,
		ram:     c.ram,
		ramBase: c.ramBase,
	}
	h.csr.mhartid = id
	h.pmp = make([]pmpRange, 0, numPMP)
	h.stimer = c.clk.NewTimer(h.stimecmpFired)
	h.Reset(0)
	c.harts = append(c.harts, h)
	return h
}

// Harts returns the harts in the order NewHart created them.
func (c *Cluster) Harts() []*Hart { return c.harts }

// New returns a hart with mhartid hartID, alone in a new cluster on bus b:
// NewCluster(b, clk).NewHart(hartID). Harts that share a bus must come from
// one cluster, so a second New on the same bus panics.
func New(b *bus.Bus, clk *clock.Clock, hartID uint64) *Hart {
	return NewCluster(b, clk).NewHart(hartID)
}

// busWrote is the bus's write observer: RAM [paddr, paddr+n) was written
// by a device or a debugger.
func (c *Cluster) busWrote(paddr, n uint64) {
	c.wrote(paddr-c.ramBase, n)
}

// wrote keeps the shared state coherent after the RAM range [off, off+n) was
// written by anyone but a hart's fast store path, which checks its own
// reservation and never reaches a page that is decoded code or reserved by
// another hart (see Hart.fill).
func (c *Cluster) wrote(off, n uint64) {
	c.breakReservations(off, n)
	c.code.invalidate(off, n)
}
