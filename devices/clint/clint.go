// Package clint models the SiFive Core-Local Interruptor as QEMU's virt board
// maps it at 0x2000000 ("sifive,clint0"): per-hart software-interrupt
// registers (msip), per-hart timer compare registers (mtimecmp) and the
// shared machine timer (mtime).
//
// Register map (SiFive CLINT; RISC-V ACLINT spec §2/§3 keeps the same
// offsets):
//
//	0x0000 + 4*h   msip[h]      bit 0 drives MSIP of hart h
//	0x4000 + 8*h   mtimecmp[h]  MTIP of hart h = (mtime >= mtimecmp[h])
//	0xbff8         mtime        10 MHz, read from the machine clock
//
// mtime is never ticked: it is computed from clock.Clock when read, and MTIP
// is raised by a clock.Timer armed at the time mtimecmp will be reached.
// Writes to mtime are ignored and traced: the hart's time CSR reads the same
// machine clock, and an offset here alone would make the two disagree.
package clint

import (
	"math"

	"gemu/bus"
	"gemu/clock"
)

// Register offsets.
const (
	MSIPBase     = 0x0000
	MTimeCmpBase = 0x4000
	MTime        = 0xbff8
	Size         = 0x10000
)

// Lines are the interrupt outputs of one hart.
type Lines struct {
	MSIP func(level bool)
	MTIP func(level bool)
}

type hart struct {
	lines    Lines
	msip     bool
	mtimecmp uint64
	mtip     bool
	timer    *clock.Timer
}

// CLINT is the device. It belongs to the emulation goroutine.
type CLINT struct {
	clk   *clock.Clock
	harts []*hart
	Trace bus.TraceFunc
	// GuestError, when set, gets one sentence for each access a driver
	// should not make (-d guest_errors); Unimp, for what QEMU's CLINT
	// does and this one does not (-d unimp).
	GuestError, Unimp bus.TraceFunc
}

// New returns a CLINT for len(harts) harts. At reset every mtimecmp is all
// ones (no timer interrupt), as on QEMU.
func New(clk *clock.Clock, harts []Lines) *CLINT {
	c := &CLINT{clk: clk}
	for _, l := range harts {
		h := &hart{lines: l}
		h.timer = clk.NewTimer(func() { c.update(h) })
		c.harts = append(c.harts, h)
	}
	c.Reset()
	return c
}

// Reset puts the registers in their reset state and lowers all lines.
func (c *CLINT) Reset() {
	for _, h := range c.harts {
		h.msip = false
		h.mtimecmp = math.MaxUint64
		h.timer.Stop()
		set(h.lines.MSIP, false)
		h.mtip = false
		set(h.lines.MTIP, false)
	}
}

func set(f func(bool), level bool) {
	if f != nil {
		f(level)
	}
}

func (c *CLINT) tracef(format string, args ...any) {
	if c.Trace != nil {
		c.Trace(format, args...)
	}
}

// update recomputes MTIP of h and, while it is low, arms the timer for the
// moment mtime reaches mtimecmp.
func (c *CLINT) update(h *hart) {
	now := c.clk.Ticks()
	level := now >= h.mtimecmp
	if level != h.mtip {
		h.mtip = level
		set(h.lines.MTIP, level)
	}
	if level || h.mtimecmp > math.MaxInt64/clock.NsPerTick {
		// Due, or too far away to ever be reached: nothing to wait for.
		h.timer.Stop()
		return
	}
	h.timer.Set(int64(h.mtimecmp) * clock.NsPerTick)
}

// Read implements bus.Device. 4- and 8-byte accesses are supported; a 4-byte
// access reads either half of a 64-bit register.
func (c *CLINT) Read(off uint64, size int) uint64 {
	v := c.read(off &^ 7)
	if size <= 4 {
		v >>= 8 * (off & 4)
		v &= 0xffffffff
	}
	if size < 4 {
		v &= 1<<(8*size) - 1
	}
	c.tracef("clint: read off=%#x size=%d -> %#x", off, size, v)
	return v
}

// read returns the 64-bit register at the 8-aligned offset off.
func (c *CLINT) read(off uint64) uint64 {
	switch {
	case off < MTimeCmpBase:
		// Two msip words per 8 bytes.
		var v uint64
		for i := uint64(0); i < 2; i++ {
			if h := c.hart((off + 4*i) / 4); h != nil && h.msip {
				v |= 1 << (32 * i)
			}
		}
		return v
	case off < MTime:
		if h := c.hart((off - MTimeCmpBase) / 8); h != nil {
			return h.mtimecmp
		}
	case off == MTime:
		return c.clk.Ticks()
	}
	return 0
}

func (c *CLINT) hart(i uint64) *hart {
	if i < uint64(len(c.harts)) {
		return c.harts[i]
	}
	return nil
}

// Write implements bus.Device.
func (c *CLINT) Write(off uint64, size int, val uint64) {
	c.tracef("clint: write off=%#x size=%d val=%#x", off, size, val)
	switch {
	case off < MTimeCmpBase:
		for i := uint64(0); i*4 < uint64(size) || i == 0; i++ {
			h := c.hart(off/4 + i)
			if h == nil || (off+4*i)&3 != 0 {
				break
			}
			level := (val>>(32*i))&1 != 0
			if level != h.msip {
				h.msip = level
				set(h.lines.MSIP, level)
			}
		}
	case off < MTime:
		h := c.hart((off - MTimeCmpBase) / 8)
		if h == nil {
			return
		}
		switch {
		case size == 8 && off&7 == 0:
			h.mtimecmp = val
		case size == 4 && off&7 == 0:
			h.mtimecmp = h.mtimecmp&^0xffffffff | val&0xffffffff
		case size == 4 && off&7 == 4:
			h.mtimecmp = h.mtimecmp&0xffffffff | val<<32
		default:
			return
		}
		c.update(h)
	case off&^7 == MTime:
		c.tracef("clint: write to mtime ignored (mtime follows the machine clock)")
		if c.Unimp != nil {
			c.Unimp("write %#x to mtime ignored: gemu's mtime follows the machine clock (QEMU's aclint mtimer accepts it)", val)
		}
	default:
		if c.GuestError != nil {
			c.GuestError("write %#x at offset %#x: no CLINT register there (SiFive CLINT: msip at 0, mtimecmp at 0x4000, mtime at 0xbff8)", val, off)
		}
	}
}
