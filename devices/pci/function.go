// Package pci is the PCI side of the virt board: QEMU's generic ECAM host
// bridge (GPEX) with its I/O and memory windows, type-0 configuration headers
// for the functions plugged into it, BAR decoding, and INTx routing onto the
// PLIC.
//
// A device model embeds nothing: it creates a *Function with NewFunction,
// declares its BARs (each backed by a bus.Device), and the Host decodes
// accesses to the windows onto those BARs while the guest has them enabled.
// DMA by a function goes through Function.ReadDMA/WriteDMA, which refuse to
// move data while the guest has bus mastering disabled (PCI Local Bus spec
// 3.0, 6.2.2: Command register bit 2).
package pci

import (
	"errors"
	"fmt"

	"gemu/bus"
)

// Standard type-0 configuration header offsets (PCI Local Bus spec 3.0,
// section 6.1, figure 6-1).
const (
	VendorID      = 0x00
	DeviceID      = 0x02
	Command       = 0x04
	Status        = 0x06
	RevisionID    = 0x08
	ClassProg     = 0x09
	CacheLineSize = 0x0c
	LatencyTimer  = 0x0d
	HeaderType    = 0x0e
	BAR0          = 0x10
	SubVendorID   = 0x2c
	SubsystemID   = 0x2e
	ROMAddress    = 0x30
	CapPointer    = 0x34
	InterruptLine = 0x3c
	InterruptPin  = 0x3d

	// HeaderSize is the size of the standard header; capabilities and
	// device-specific registers live above it.
	HeaderSize = 0x40
)

// Command register bits (spec 6.2.2).
const (
	CmdIO          = 1 << 0
	CmdMemory      = 1 << 1
	CmdBusMaster   = 1 << 2
	CmdParity      = 1 << 6
	CmdSERR        = 1 << 8
	CmdINTxDisable = 1 << 10
)

// Status register bits (spec 6.2.3).
const (
	StatusInterrupt = 1 << 3
	StatusCapList   = 1 << 4
	StatusFastB2B   = 1 << 7
	StatusDevselMed = 1 << 9
	// statusW1C are the error bits a guest clears by writing one.
	statusW1C = 0xf900
)

// BAR low-bit encodings (spec 6.2.5.1).
const (
	barIOSpace   = 0x1
	barMem64     = 0x4
	barPrefetch  = 0x8
	unmappedAddr = ^uint64(0)
)

// BARKind says what a base address register decodes.
type BARKind int

const (
	BARNone  BARKind = iota
	BARIO            // I/O space, at most 64 KiB on this board
	BARMem32         // 32-bit memory space
	BARMem64         // 64-bit memory space; occupies this BAR and the next
)

// BAR declares one base address register. Size must be a power of two (at
// least 4 for I/O, 16 for memory, as the spec requires).
type BAR struct {
	Kind     BARKind
	Size     uint64
	Prefetch bool
	Dev      bus.Device
}

// ID is what a function shows in its header.
type ID struct {
	Vendor, Device       uint16
	Revision             uint8
	Class                uint32 // class<<16 | subclass<<8 | prog-if
	SubVendor, Subsystem uint16 // zero: QEMU's default 1af4:1100
	IntPin               uint8  // 1 = INTA .. 4 = INTD, 0 = no INTx
	Status               uint16 // status bits at reset (e.g. DEVSEL timing)
	ConfigSize           int    // 256 (conventional, default) or 4096 (express)
}

// QEMU gives every PCI device that does not choose its own subsystem IDs the
// Red Hat/Qumranet pair 1af4:1100 (hw/pci/pci.c, pci_set_default_subsystem_id);
// Linux's snd-intel8x0 keys its "inside a VM" optimisation on it.
const (
	DefaultSubVendor = 0x1af4
	DefaultSubsystem = 0x1100
)

// ErrBusMaster is returned by DMA helpers while the function's bus mastering
// is disabled.
var ErrBusMaster = errors.New("pci: DMA refused, bus mastering disabled")

// Function is one PCI function: its configuration space and BARs.
type Function struct {
	id      ID
	cfg     []byte // current configuration space
	reset   []byte // configuration at reset
	wmask   []byte // bits a guest may write
	w1c     []byte // bits a guest clears by writing one
	bars    [6]BAR
	addr    [6]uint64 // decoded bus address of each BAR, unmappedAddr if off
	nextCap int

	host      *Host
	slot, fn  int
	irqLevel  bool // the device's INTx input
	irqDriven bool // what we last passed to the host (after INTx disable)

	// OnConfigWrite, if set, is called after every configuration write with
	// the offset, size and value written (for capabilities with side effects).
	OnConfigWrite func(off, size int, val uint32)
	// OnReset, if set, is called by Reset after the header is restored.
	OnReset func()
	// OnConfigRead, if set, is called before every configuration read
	// with its offset and size, so a capability whose bytes mirror device
	// state (virtio's PCI configuration access window) can fill them in.
	OnConfigRead func(off, size int)
}

// NewFunction returns a function with a standard type-0 header for id and
// QEMU's default writable masks (hw/pci/pci.c pci_init_wmask/w1cmask): the
// command enables, cache line size, interrupt line, and everything above the
// header until capabilities claim it.
func NewFunction(id ID) *Function {
	if id.ConfigSize != 4096 {
		id.ConfigSize = 256
	}
	if id.SubVendor == 0 && id.Subsystem == 0 {
		id.SubVendor, id.Subsystem = DefaultSubVendor, DefaultSubsystem
	}
	n := id.ConfigSize
	f := &Function{id: id, cfg: make([]byte, n), wmask: make([]byte, n), w1c: make([]byte, n),
		nextCap: HeaderSize, slot: -1}
	put16(f.cfg, VendorID, id.Vendor)
	put16(f.cfg, DeviceID, id.Device)
	f.cfg[RevisionID] = id.Revision
	f.cfg[ClassProg] = byte(id.Class)
	f.cfg[ClassProg+1] = byte(id.Class >> 8)
	f.cfg[ClassProg+2] = byte(id.Class >> 16)
	put16(f.cfg, SubVendorID, id.SubVendor)
	put16(f.cfg, SubsystemID, id.Subsystem)
	put16(f.cfg, Status, id.Status)
	f.cfg[InterruptPin] = id.IntPin

	put16(f.wmask, Command, CmdIO|CmdMemory|CmdBusMaster|CmdParity|CmdSERR|CmdINTxDisable)
	put16(f.w1c, Status, statusW1C)
	f.wmask[CacheLineSize] = 0xff
	f.wmask[InterruptLine] = 0xff
	for i := HeaderSize; i < 256; i++ {
		f.wmask[i] = 0xff
	}
	for i := range f.addr {
		f.addr[i] = unmappedAddr
	}
	f.reset = append([]byte(nil), f.cfg...)
	return f
}

// SetBAR declares BAR i. Call it before the function is attached. A 64-bit
// BAR also consumes BAR i+1.
func (f *Function) SetBAR(i int, b BAR) error {
	if i < 0 || i > 5 || (b.Kind == BARMem64 && i == 5) {
		return fmt.Errorf("pci: BAR %d out of range", i)
	}
	if b.Size&(b.Size-1) != 0 || (b.Kind == BARIO && b.Size < 4) ||
		(b.Kind != BARIO && b.Kind != BARNone && b.Size < 16) ||
		(b.Kind != BARMem64 && b.Size > 1<<31) {
		return fmt.Errorf("pci: BAR %d has invalid size %#x", i, b.Size)
	}
	off := BAR0 + 4*i
	f.bars[i] = b
	var low uint32
	mask := ^(b.Size - 1)
	switch b.Kind {
	case BARIO:
		low = barIOSpace
	case BARMem32:
		if b.Prefetch {
			low = barPrefetch
		}
	case BARMem64:
		low = barMem64
		if b.Prefetch {
			low |= barPrefetch
		}
		f.bars[i+1] = BAR{}
		put32(f.wmask, off+4, uint32(mask>>32))
	}
	put32(f.cfg, off, low)
	// Size >= 4 (I/O) or >= 16 (memory) keeps the type bits read-only.
	put32(f.wmask, off, uint32(mask))
	f.reset = append(f.reset[:0], f.cfg...)
	return nil
}

// AddCapability links a capability of length bytes with the given ID into
// the list (spec 6.7) and returns its offset. The ID and next pointer are
// read-only; the rest of the capability is read-only too unless the device
// marks bits writable with SetWritable.
func (f *Function) AddCapability(id uint8, length int) (int, error) {
	off := (f.nextCap + 3) &^ 3
	if length < 2 || off+length > 256 {
		return 0, fmt.Errorf("pci: no room for capability %#x (%d bytes)", id, length)
	}
	f.nextCap = off + length
	f.cfg[off] = id
	f.cfg[off+1] = f.cfg[CapPointer]
	f.cfg[CapPointer] = byte(off)
	f.cfg[Status] |= StatusCapList
	for i := off; i < off+length; i++ {
		f.wmask[i] = 0
	}
	f.reset = append(f.reset[:0], f.cfg...)
	return off, nil
}

// SetWritable sets the guest-writable mask of config bytes starting at off.
func (f *Function) SetWritable(off int, mask ...byte) {
	copy(f.wmask[off:], mask)
}

// Config returns the configuration space for the device model to read or to
// initialise (capability contents). Changes made before Attach become part
// of the reset state when the device calls SaveResetState.
func (f *Function) Config() []byte { return f.cfg }

// SaveResetState records the current configuration as the reset state.
func (f *Function) SaveResetState() { f.reset = append(f.reset[:0], f.cfg...) }

// Slot returns the device number the function sits at (-1 if unattached).
func (f *Function) Slot() int { return f.slot }

// Command returns the command register.
func (f *Function) Command() uint16 { return get16(f.cfg, Command) }

// BusMaster reports whether the guest allows this function to do DMA.
func (f *Function) BusMaster() bool { return f.Command()&CmdBusMaster != 0 }

// BARAddress returns the bus address BAR i decodes at, or ok=false when the
// BAR is absent, disabled by the command register or not assigned.
func (f *Function) BARAddress(i int) (addr uint64, ok bool) {
	if i < 0 || i > 5 || f.addr[i] == unmappedAddr {
		return 0, false
	}
	return f.addr[i], true
}

// ReadDMA reads guest memory on behalf of the function.
func (f *Function) ReadDMA(addr uint64, p []byte) error {
	if !f.BusMaster() || f.host == nil {
		return ErrBusMaster
	}
	return f.host.bus.ReadDMA(addr, p)
}

// WriteDMA writes guest memory on behalf of the function.
func (f *Function) WriteDMA(addr uint64, p []byte) error {
	if !f.BusMaster() || f.host == nil {
		return ErrBusMaster
	}
	return f.host.bus.WriteDMA(addr, p)
}

// SetIRQ drives the function's INTx pin. The host sees it unless the guest
// has set Command.INTxDisable; Status.Interrupt shows the pin either way
// (spec 6.2.3).
func (f *Function) SetIRQ(level bool) {
	f.irqLevel = level
	if level {
		f.cfg[Status] |= StatusInterrupt
	} else {
		f.cfg[Status] &^= StatusInterrupt
	}
	f.driveIRQ()
}

func (f *Function) driveIRQ() {
	out := f.irqLevel && f.Command()&CmdINTxDisable == 0 && f.id.IntPin != 0
	if out == f.irqDriven {
		return
	}
	f.irqDriven = out
	if f.host != nil {
		f.host.intx(f, out)
	}
}

// Reset restores the header to its reset state (BARs unassigned, command 0)
// and calls OnReset.
func (f *Function) Reset() {
	copy(f.cfg, f.reset)
	f.irqLevel = false
	f.driveIRQ()
	f.updateBARs()
	if f.OnReset != nil {
		f.OnReset()
	}
}

// ReadConfig reads size bytes (1, 2 or 4) at off; bytes past the end of the
// configuration space read as ones, like QEMU (pci_host_config_read_common).
func (f *Function) ReadConfig(off, size int) uint32 {
	if f.OnConfigRead != nil {
		f.OnConfigRead(off, size)
	}
	var v uint32
	for i := size - 1; i >= 0; i-- {
		b := byte(0xff)
		if off+i < len(f.cfg) {
			b = f.cfg[off+i]
		}
		v = v<<8 | uint32(b)
	}
	return v
}

// WriteConfig writes size bytes at off through the writable and
// write-one-to-clear masks, then re-decodes BARs and INTx.
func (f *Function) WriteConfig(off, size int, val uint32) {
	if off < 0 || off >= len(f.cfg) {
		return
	}
	if off+size > len(f.cfg) {
		size = len(f.cfg) - off
	}
	for i := 0; i < size; i++ {
		b := byte(val >> (8 * i))
		o := off + i
		f.cfg[o] = f.cfg[o]&^f.wmask[o] | b&f.wmask[o]
		f.cfg[o] &^= b & f.w1c[o]
	}
	if off < ROMAddress+4 && off+size > Command {
		f.updateBARs()
	}
	if off <= Command+1 && off+size > Command+1 {
		f.driveIRQ()
	}
	if f.OnConfigWrite != nil {
		f.OnConfigWrite(off, size, val)
	}
}

// updateBARs recomputes where each BAR decodes, following QEMU's
// pci_bar_address: disabled space, address 0, wrap-around and (for 32-bit
// BARs) anything reaching 4 GiB all mean "not mapped".
func (f *Function) updateBARs() {
	cmd := f.Command()
	for i := 0; i < 6; i++ {
		b := f.bars[i]
		f.addr[i] = unmappedAddr
		off := BAR0 + 4*i
		switch b.Kind {
		case BARIO:
			if cmd&CmdIO == 0 {
				continue
			}
			a := uint64(get32(f.cfg, off)) &^ (b.Size - 1)
			last := a + b.Size - 1
			if a == 0 || last >= 1<<32-1 {
				continue
			}
			f.addr[i] = a
		case BARMem32, BARMem64:
			if cmd&CmdMemory == 0 {
				continue
			}
			a := uint64(get32(f.cfg, off))
			if b.Kind == BARMem64 {
				a |= uint64(get32(f.cfg, off+4)) << 32
			}
			a &^= b.Size - 1
			last := a + b.Size - 1
			if a == 0 || last <= a || last == unmappedAddr {
				continue
			}
			if b.Kind == BARMem32 && last >= 1<<32-1 {
				continue
			}
			f.addr[i] = a
		}
	}
	if f.host != nil {
		f.host.lastHit = nil
	}
}

func get16(b []byte, off int) uint16 { return uint16(b[off]) | uint16(b[off+1])<<8 }
func get32(b []byte, off int) uint32 {
	return uint32(b[off]) | uint32(b[off+1])<<8 | uint32(b[off+2])<<16 | uint32(b[off+3])<<24
}
func put16(b []byte, off int, v uint16) { b[off], b[off+1] = byte(v), byte(v>>8) }
func put32(b []byte, off int, v uint32) {
	b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
