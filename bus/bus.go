// Package bus is the physical address space of the board: one flat RAM slice,
// a table of MMIO regions, bounds-checked DMA accessors for devices, and the
// interrupt lines devices raise.
//
// The harts reach RAM directly through RAM/RAMBase for speed (and keep track
// of their own stores) and fall back to Load/Store for everything else.
// Devices never touch RAM directly: they use ReadDMA/WriteDMA (or the sized
// helpers), which return an error for any range that is not entirely inside
// RAM. A guest-controlled address therefore can never reach host memory
// outside the RAM slice. Every write to RAM made through the bus is reported
// to the write observer (ObserveWrites), which is how the cpu keeps decoded
// instructions and LR/SC reservations coherent with DMA.
package bus

import (
	"errors"
	"fmt"
	"sort"
)

// Device is a memory-mapped register block. Offsets are relative to the start
// of the region; size is 1, 2, 4 or 8 bytes. Accesses are little-endian.
// Registers that do not exist should read as zero and ignore writes unless the
// real device documents otherwise.
type Device interface {
	Read(off uint64, size int) uint64
	Write(off uint64, size int, val uint64)
}

type region struct {
	base, size uint64
	dev        Device
	name       string
}

// Bus is the physical address space. It is owned by the emulation goroutine.
type Bus struct {
	RAMBase uint64
	RAM     []byte

	regions []region // sorted by base, non-overlapping
	last    int      // index of the most recently hit region

	written WriteObserver // nil until ObserveWrites
}

// A WriteObserver is told that the n bytes of RAM at physical address paddr
// were just written through the bus. The range is never empty and always lies
// inside RAM.
type WriteObserver func(paddr, n uint64)

// ErrDMA is wrapped by every DMA error: the range is not entirely in RAM.
var ErrDMA = errors.New("bus: DMA outside guest RAM")

// New returns a bus with ramSize bytes of zeroed RAM at ramBase.
func New(ramBase, ramSize uint64) *Bus {
	return &Bus{
		RAMBase: ramBase,
		RAM:     make([]byte, ramSize),
	}
}

// ObserveWrites makes o the bus's write observer: it is called after every
// write to RAM made through WriteDMA, the sized Write helpers and Store. A
// bus has one observer, the processor's (package cpu installs it when the
// harts are created); ObserveWrites panics if one is installed already,
// since two would mean two independent sets of harts on one memory.
func (b *Bus) ObserveWrites(o WriteObserver) {
	if b.written != nil {
		panic("bus: a write observer is installed already")
	}
	b.written = o
}

// Map adds an MMIO region. It fails if the region is empty, wraps, or overlaps
// RAM or another region.
func (b *Bus) Map(base, size uint64, dev Device, name string) error {
	if size == 0 || base+size < base {
		return fmt.Errorf("bus: region %q at %#x has invalid size %#x", name, base, size)
	}
	if overlaps(base, size, b.RAMBase, uint64(len(b.RAM))) {
		return fmt.Errorf("bus: region %q [%#x,%#x) overlaps RAM", name, base, base+size)
	}
	for _, r := range b.regions {
		if overlaps(base, size, r.base, r.size) {
			return fmt.Errorf("bus: region %q [%#x,%#x) overlaps %q [%#x,%#x)",
				name, base, base+size, r.name, r.base, r.base+r.size)
		}
	}
	b.regions = append(b.regions, region{base, size, dev, name})
	sort.Slice(b.regions, func(i, j int) bool { return b.regions[i].base < b.regions[j].base })
	b.last = 0
	return nil
}

func overlaps(a, an, b, bn uint64) bool {
	return a < b+bn && b < a+an
}

// find returns the region holding [addr, addr+size) or nil.
func (b *Bus) find(addr uint64, size int) *region {
	if b.last < len(b.regions) {
		r := &b.regions[b.last]
		if addr-r.base < r.size && addr-r.base+uint64(size) <= r.size {
			return r
		}
	}
	i := sort.Search(len(b.regions), func(i int) bool { return b.regions[i].base > addr }) - 1
	if i < 0 {
		return nil
	}
	r := &b.regions[i]
	if addr-r.base >= r.size || addr-r.base+uint64(size) > r.size {
		return nil
	}
	b.last = i
	return r
}

// InRAM reports whether [addr, addr+n) lies entirely inside RAM.
func (b *Bus) InRAM(addr, n uint64) bool {
	off := addr - b.RAMBase
	return addr >= b.RAMBase && off <= uint64(len(b.RAM)) && n <= uint64(len(b.RAM))-off
}

// Load reads size bytes at a physical address (RAM or MMIO). ok is false when
// nothing is mapped there; the hart turns that into an access fault.
func (b *Bus) Load(addr uint64, size int) (val uint64, ok bool) {
	if b.InRAM(addr, uint64(size)) {
		off := addr - b.RAMBase
		for i := size - 1; i >= 0; i-- {
			val = val<<8 | uint64(b.RAM[off+uint64(i)])
		}
		return val, true
	}
	r := b.find(addr, size)
	if r == nil {
		return 0, false
	}
	return r.dev.Read(addr-r.base, size), true
}

// Store writes size bytes at a physical address (RAM or MMIO). ok is false
// when nothing is mapped there. A write to RAM is reported to the write
// observer.
func (b *Bus) Store(addr uint64, size int, val uint64) (ok bool) {
	if b.InRAM(addr, uint64(size)) {
		off := addr - b.RAMBase
		for i := 0; i < size; i++ {
			b.RAM[off+uint64(i)] = byte(val >> (8 * i))
		}
		b.noteWrite(addr, uint64(size))
		return true
	}
	r := b.find(addr, size)
	if r == nil {
		return false
	}
	r.dev.Write(addr-r.base, size, val)
	return true
}

// Slice returns the RAM bytes [addr, addr+n) for a device that wants to read
// guest memory in place. The slice aliases guest RAM: callers must not keep it
// across guest execution, and must use WriteDMA (not the slice) for writes so
// that the write observer sees them.
func (b *Bus) Slice(addr, n uint64) ([]byte, error) {
	if !b.InRAM(addr, n) {
		return nil, fmt.Errorf("%w: [%#x,+%#x)", ErrDMA, addr, n)
	}
	off := addr - b.RAMBase
	return b.RAM[off : off+n : off+n], nil
}

// ReadDMA copies guest RAM at addr into p.
func (b *Bus) ReadDMA(addr uint64, p []byte) error {
	s, err := b.Slice(addr, uint64(len(p)))
	if err != nil {
		return err
	}
	copy(p, s)
	return nil
}

// WriteDMA copies p into guest RAM at addr.
func (b *Bus) WriteDMA(addr uint64, p []byte) error {
	s, err := b.Slice(addr, uint64(len(p)))
	if err != nil {
		return err
	}
	copy(s, p)
	b.noteWrite(addr, uint64(len(p)))
	return nil
}

// noteWrite reports the RAM write [addr, addr+n) to the write observer.
func (b *Bus) noteWrite(addr, n uint64) {
	if b.written != nil && n != 0 {
		b.written(addr, n)
	}
}

// Read16, Read32, Read64 and Write16, Write32, Write64 are little-endian DMA
// helpers for descriptor fields.
func (b *Bus) Read16(addr uint64) (uint16, error) {
	s, err := b.Slice(addr, 2)
	if err != nil {
		return 0, err
	}
	return uint16(s[0]) | uint16(s[1])<<8, nil
}

func (b *Bus) Read32(addr uint64) (uint32, error) {
	s, err := b.Slice(addr, 4)
	if err != nil {
		return 0, err
	}
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24, nil
}

func (b *Bus) Read64(addr uint64) (uint64, error) {
	lo, err := b.Read32(addr)
	if err != nil {
		return 0, err
	}
	hi, err := b.Read32(addr + 4)
	return uint64(lo) | uint64(hi)<<32, err
}

func (b *Bus) Write16(addr uint64, v uint16) error {
	return b.WriteDMA(addr, []byte{byte(v), byte(v >> 8)})
}

func (b *Bus) Write32(addr uint64, v uint32) error {
	return b.WriteDMA(addr, []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)})
}

func (b *Bus) Write64(addr uint64, v uint64) error {
	var p [8]byte
	for i := range p {
		p[i] = byte(v >> (8 * i))
	}
	return b.WriteDMA(addr, p[:])
}

// InterruptController receives level changes of its input lines.
type InterruptController interface {
	SetLevel(source int, level bool)
}

// IRQ is one level-triggered interrupt line into a controller. The zero value
// is a line to nowhere, which is convenient for devices under unit test.
type IRQ struct {
	C InterruptController
	N int
}

// Set drives the line high or low.
func (q IRQ) Set(level bool) {
	if q.C != nil {
		q.C.SetLevel(q.N, level)
	}
}
