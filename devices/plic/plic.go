// Package plic models the RISC-V Platform-Level Interrupt Controller as
// QEMU's virt board configures it ("sifive,plic-1.0.0" at 0xc000000): 96
// interrupt sources (source 0 does not exist), 3 priority bits, and two
// contexts per hart (2h = M mode, 2h+1 = S mode).
//
// Register map (RISC-V PLIC specification 1.0.0, §3-§8):
//
//	0x000000 + 4*s                  priority of source s (0 = never)
//	0x001000 + 4*(s/32)             pending bits (read-only)
//	0x002000 + 0x80*c + 4*(s/32)    enable bits of context c
//	0x200000 + 0x1000*c             priority threshold of context c
//	0x200004 + 0x1000*c             claim (read) / complete (write)
//
// Gateways follow QEMU 7.2's hw/intc/sifive_plic.c, not the letter of the
// spec's level-triggered gateway (§5): a source becomes pending each time
// its device signals it (SetLevel(s, true), QEMU's qemu_set_irq(irq, 1)),
// whether the line was high already or the source is claimed; a drop of
// the line (SetLevel(s, false)) changes nothing; a claim clears the pending
// bit; a completion only ends the claim, it does not re-pend a line that is
// still high. So a device that leaves its line high without signalling
// again (the 16550's THR-empty condition, which xv6 never clears by reading
// IIR) interrupts once, not forever, and a new signal interrupts again.
// Devices signal where QEMU's models call qemu_set_irq: the UART on every
// serial_update_irq, virtio-mmio on every virtio_notify. Each context's
// output (MEIP or SEIP of its hart) is high while some pending, unclaimed,
// enabled source has a priority above the context's threshold (§7).
package plic

import (
	"math/bits"

	"gemu/bus"
)

// Layout of QEMU's virt PLIC.
const (
	NumSources   = 96
	MaxPriority  = 7 // 3 priority bits
	PriorityBase = 0x000000
	PendingBase  = 0x001000
	EnableBase   = 0x002000
	EnableStride = 0x80
	ContextBase  = 0x200000
	ContextSize  = 0x1000
	// Size is the MMIO window QEMU maps (and the device tree declares).
	Size = 0x600000
)

const words = NumSources / 32

type context struct {
	out       func(level bool)
	enable    [words]uint32
	threshold uint32
	level     bool
}

// PLIC is the controller. It implements bus.InterruptController (SetLevel)
// and bus.Device. It belongs to the emulation goroutine.
type PLIC struct {
	priority [NumSources]uint32
	pending  [words]uint32
	claimed  [words]uint32 // claimed and not yet completed
	line     [words]uint32 // current input levels (for -d plic and tests)
	ctx      []*context
	Trace    bus.TraceFunc
	// GuestError, when set, gets one sentence for each access a driver
	// should not make (-d guest_errors).
	GuestError bus.TraceFunc
}

// New returns a PLIC with one context per element of outputs; outputs[c]
// is called when the interrupt output of context c changes.
func New(outputs []func(level bool)) *PLIC {
	p := &PLIC{}
	for _, o := range outputs {
		p.ctx = append(p.ctx, &context{out: o})
	}
	return p
}

// Reset clears every register, pending and claimed bits included, as
// QEMU's sifive_plic_reset does. Input line levels are kept: they belong to
// the devices, which reset themselves (and signal again if they must).
func (p *PLIC) Reset() {
	p.priority = [NumSources]uint32{}
	p.pending = [words]uint32{}
	p.claimed = [words]uint32{}
	for _, c := range p.ctx {
		c.enable = [words]uint32{}
		c.threshold = 0
	}
	p.update()
}

func (p *PLIC) tracef(format string, args ...any) {
	if p.Trace != nil {
		p.Trace(format, args...)
	}
}

func (p *PLIC) guestError(format string, args ...any) {
	if p.GuestError != nil {
		p.GuestError(format, args...)
	}
}

func bit(s int) (int, uint32) { return s / 32, 1 << (s % 32) }

// SetLevel implements bus.InterruptController: level true is the device
// signalling its source, which pends it every time (QEMU 7.2
// sifive_plic_irq_request), even if the line was high already or the
// source is claimed; level false only records the line. The request
// already forwarded stays pending until claimed (spec §6 "Interrupt
// Pending Bits"; tests/isa/plic_latch.S checks QEMU does the same).
// Out-of-range sources (and source 0) are ignored.
func (p *PLIC) SetLevel(source int, level bool) {
	if source <= 0 || source >= NumSources {
		return
	}
	w, m := bit(source)
	if level != (p.line[w]&m != 0) {
		p.tracef("plic: source %d line %v", source, level)
	}
	if !level {
		p.line[w] &^= m
		return
	}
	p.line[w] |= m
	if p.pending[w]&m != 0 {
		return
	}
	p.pending[w] |= m
	p.update()
}

// best returns the highest-priority pending, unclaimed source enabled for
// c with priority above its threshold (ties: lowest ID, spec §8), or 0.
// (A claimed source can be pending again: its device signalled during the
// claim. It waits for the completion, as in QEMU's sifive_plic_claimed.)
func (p *PLIC) best(c *context) int {
	id, prio := 0, c.threshold
	for w := 0; w < words; w++ {
		cand := p.pending[w] &^ p.claimed[w] & c.enable[w]
		for cand != 0 {
			b := bits.TrailingZeros32(cand)
			cand &^= 1 << b
			s := 32*w + b
			if p.priority[s] > prio {
				id, prio = s, p.priority[s]
			}
		}
	}
	return id
}

func (p *PLIC) update() {
	for _, c := range p.ctx {
		level := p.best(c) != 0
		if level != c.level {
			c.level = level
			if c.out != nil {
				c.out(level)
			}
		}
	}
}

// Read implements bus.Device. Registers are 32 bits; an 8-byte read returns
// two adjacent registers, narrower reads the low bytes.
func (p *PLIC) Read(off uint64, size int) uint64 {
	var v uint64
	if size == 8 {
		v = uint64(p.read(off)) | uint64(p.read(off+4))<<32
	} else {
		v = uint64(p.read(off&^3) >> (8 * (off & 3)))
		if size < 4 {
			v &= 1<<(8*size) - 1
		}
	}
	p.tracef("plic: read off=%#x size=%d -> %#x", off, size, v)
	return v
}

func (p *PLIC) context(off uint64, base, stride uint64) (*context, uint64) {
	i := (off - base) / stride
	if i >= uint64(len(p.ctx)) {
		return nil, 0
	}
	return p.ctx[i], (off - base) % stride
}

func (p *PLIC) read(off uint64) uint32 {
	switch {
	case off < PendingBase:
		if s := off / 4; s < NumSources {
			return p.priority[s]
		}
	case off < EnableBase:
		if w := (off - PendingBase) / 4; w < words {
			return p.pending[w]
		}
	case off < ContextBase:
		if c, r := p.context(off, EnableBase, EnableStride); c != nil && r/4 < words {
			return c.enable[r/4]
		}
	default:
		c, r := p.context(off, ContextBase, ContextSize)
		if c == nil {
			return 0
		}
		switch r {
		case 0:
			return c.threshold
		case 4:
			return uint32(p.claim(c))
		}
	}
	return 0
}

// claim implements the claim read (spec §8): the best source stops being
// pending and is marked claimed until its completion.
func (p *PLIC) claim(c *context) int {
	s := p.best(c)
	if s != 0 {
		w, m := bit(s)
		p.pending[w] &^= m
		p.claimed[w] |= m
		p.update()
	}
	p.tracef("plic: claim -> %d", s)
	return s
}

// Write implements bus.Device.
func (p *PLIC) Write(off uint64, size int, val uint64) {
	p.tracef("plic: write off=%#x size=%d val=%#x", off, size, val)
	if size == 8 {
		p.write(off, uint32(val))
		p.write(off+4, uint32(val>>32))
		return
	}
	if size != 4 || off&3 != 0 {
		p.guestError("%d-byte write of %#x at offset %#x ignored: PLIC registers take aligned 32-bit writes only (RISC-V PLIC spec, memory map)", size, val, off)
		return // the spec defines 32-bit accesses only
	}
	p.write(off, uint32(val))
}

func (p *PLIC) write(off uint64, v uint32) {
	switch {
	case off < PendingBase:
		if s := off / 4; s > 0 && s < NumSources {
			p.priority[s] = min(v, MaxPriority) // WARL: clamp to the implemented bits
		}
	case off < EnableBase:
		// Pending bits are read-only.
		p.guestError("write %#x to pending word %d (offset %#x) ignored: the pending bits are read-only (RISC-V PLIC spec §5)", v, (off-PendingBase)/4, off)
	case off < ContextBase:
		if c, r := p.context(off, EnableBase, EnableStride); c != nil && r/4 < words {
			if r/4 == 0 {
				v &^= 1 // source 0 does not exist
			}
			c.enable[r/4] = v
		}
	default:
		c, r := p.context(off, ContextBase, ContextSize)
		if c == nil {
			return
		}
		switch r {
		case 0:
			c.threshold = min(v, MaxPriority)
		case 4:
			p.complete(c, v)
			return
		}
	}
	p.update()
}

// complete implements the completion write (spec §9): ignored unless the
// source is enabled for the context; it ends the claim. A line that is
// still high does not pend again (QEMU 7.2 sifive_plic_write only clears
// the claimed bit); a source its device signalled during the claim is
// pending already and is offered again now.
func (p *PLIC) complete(c *context, s uint32) {
	if s == 0 || s >= NumSources {
		return
	}
	w, m := bit(int(s))
	if c.enable[w]&m == 0 {
		p.tracef("plic: complete %d ignored (not enabled for context)", s)
		p.guestError("completion of source %d ignored: it is not enabled for this context (RISC-V PLIC spec §9)", s)
		return
	}
	p.claimed[w] &^= m
	p.update()
}
