package pci

import (
	"fmt"

	"gemu/bus"
)

// Where QEMU's virt board puts its generic PCIe host (hw/riscv/virt.c,
// virt_memmap and the 64-bit high window computed in virt_machine_init).
const (
	ECAMBase = 0x3000_0000
	ECAMSize = 0x1000_0000 // 256 buses x 32 devices x 8 functions x 4 KiB
	PIOBase  = 0x0300_0000 // PCI I/O port p is at CPU address PIOBase+p
	PIOSize  = 0x1_0000
	MMIOBase = 0x4000_0000 // 32-bit window, PCI address == CPU address
	MMIOSize = 0x4000_0000

	// HighMMIOSize is the 64-bit window's size on RV64; its base is the end
	// of RAM rounded up to this size (HighMMIOBase).
	HighMMIOSize = 16 << 30

	// IRQBase is the PLIC source of INTA at slot 0; INTx of slot s, pin p
	// (1 = INTA) goes to IRQBase + (s + p - 1) mod 4.
	IRQBase = 32
	NumIRQs = 4

	// Slots on bus 0.
	NumSlots = 32
)

// GPEX host bridge identity (hw/pci-host/gpex.c gpex_root_class_init).
const (
	HostVendor = 0x1b36 // Red Hat
	HostDevice = 0x0008 // PCIe host bridge
	HostClass  = 0x060000
)

// HighMMIOBase returns the base of the 64-bit window for a board whose RAM
// ends at ramEnd: QEMU rounds the end of RAM up to the window size.
func HighMMIOBase(ramEnd uint64) uint64 {
	return (ramEnd + HighMMIOSize - 1) &^ (HighMMIOSize - 1)
}

// Host is the ECAM host bridge with bus 0 and its three address windows.
type Host struct {
	bus      *bus.Bus
	plic     bus.InterruptController
	highBase uint64

	fns      [NumSlots][8]*Function
	list     []*Function // attached functions in attach order
	lineCnt  [NumIRQs]int
	lastHit  *hit
	hitCache hit

	// GuestError, when set, gets one sentence for each configuration
	// access a driver should not make (-d guest_errors): ECAM accesses of
	// a width or alignment the ECAM does not take, writes to functions
	// that do not exist, and writes that try to change the read-only
	// identity fields of a header. Reads of absent functions are the
	// normal way to probe the bus and are not reported. Each kind is
	// reported once per function and register.
	GuestError bus.TraceFunc
	warned     map[string]bool
}

type hit struct {
	f   *Function
	bar int
}

// NewHost creates the bridge for b, routing INTx to plic (sources 32..35),
// and attaches the GPEX host bridge function at 00:00.0. Call Map to put its
// windows on the bus.
func NewHost(b *bus.Bus, plic bus.InterruptController) *Host {
	h := &Host{bus: b, plic: plic}
	ramEnd := b.RAMBase + uint64(len(b.RAM))
	h.highBase = HighMMIOBase(ramEnd)
	bridge := NewFunction(ID{Vendor: HostVendor, Device: HostDevice, Class: HostClass})
	if _, err := h.Attach(0, 0, bridge); err != nil {
		panic(err) // cannot happen: the bus is empty
	}
	return h
}

// HighBase returns the base of the 64-bit prefetchable window.
func (h *Host) HighBase() uint64 { return h.highBase }

// Map adds the ECAM, I/O, 32-bit and 64-bit windows to the bus.
func (h *Host) Map() error {
	regs := []struct {
		base, size uint64
		dev        bus.Device
		name       string
	}{
		{ECAMBase, ECAMSize, ecam{h}, "pci-ecam"},
		{PIOBase, PIOSize, window{h, BARIO, 0}, "pci-pio"},
		{MMIOBase, MMIOSize, window{h, BARMem32, MMIOBase}, "pci-mmio"},
		{h.highBase, HighMMIOSize, window{h, BARMem64, h.highBase}, "pci-mmio-high"},
	}
	for _, r := range regs {
		if err := h.bus.Map(r.base, r.size, r.dev, r.name); err != nil {
			return err
		}
	}
	return nil
}

// Attach plugs f in at 00:slot.fn. slot < 0 picks the first free slot
// (QEMU gives the first -device slot 1, after the host bridge). It returns
// the slot used.
func (h *Host) Attach(slot, fn int, f *Function) (int, error) {
	if f.host != nil {
		return 0, fmt.Errorf("pci: function already attached at %02x.%d", f.slot, f.fn)
	}
	if fn < 0 || fn > 7 {
		return 0, fmt.Errorf("pci: function number %d out of range", fn)
	}
	if slot < 0 {
		for s := 0; s < NumSlots; s++ {
			if h.fns[s][0] == nil && h.fns[s][fn] == nil {
				slot = s
				break
			}
		}
		if slot < 0 {
			return 0, fmt.Errorf("pci: no free slot on bus 0")
		}
	}
	if slot >= NumSlots {
		return 0, fmt.Errorf("pci: slot %d out of range", slot)
	}
	if h.fns[slot][fn] != nil {
		return 0, fmt.Errorf("pci: slot %02x.%d already in use", slot, fn)
	}
	h.fns[slot][fn] = f
	h.list = append(h.list, f)
	f.host, f.slot, f.fn = h, slot, fn
	f.updateBARs()
	return slot, nil
}

// IRQFor returns the PLIC source INTx pin (1..4) of a device in slot raises
// (the swizzle QEMU's virt board writes into the device tree).
func IRQFor(slot int, pin uint8) int {
	return IRQBase + (slot+int(pin)-1)%NumIRQs
}

// intx counts asserting functions per shared line; the line is high while
// any of them asserts. Every change of a function's level is passed on
// (QEMU hw/pci/pci.c pci_change_irq_level calls the bus's set_irq each
// time), so the PLIC, which pends a source whenever it is signalled high,
// sees a second function asserting a line that is high already.
func (h *Host) intx(f *Function, level bool) {
	n := IRQFor(f.slot, f.id.IntPin) - IRQBase
	was := h.lineCnt[n] > 0
	if level {
		h.lineCnt[n]++
	} else if h.lineCnt[n] > 0 {
		h.lineCnt[n]--
	}
	if now := h.lineCnt[n] > 0; (now || was) && h.plic != nil {
		h.plic.SetLevel(IRQBase+n, now)
	}
}

// Reset resets every function (system reset).
func (h *Host) Reset() {
	for _, f := range h.list {
		f.Reset()
	}
}

// Function returns the function at 00:slot.fn, or nil.
func (h *Host) Function(slot, fn int) *Function {
	if slot < 0 || slot >= NumSlots || fn < 0 || fn > 7 {
		return nil
	}
	return h.fns[slot][fn]
}

// ecam decodes the configuration window: offset = bus<<20 | dev<<15 |
// fn<<12 | register (PCI Express Base spec 4.0, 7.2.2). Only bus 0 exists;
// everything else reads as all ones and ignores writes.
type ecam struct{ h *Host }

func (e ecam) lookup(off uint64) (*Function, int) {
	busNo := off >> 20
	dev := off >> 15 & 31
	fn := off >> 12 & 7
	if busNo != 0 {
		return nil, 0
	}
	f := e.h.fns[dev][fn]
	// Functions other than 0 are visible only when function 0 exists.
	if f == nil || e.h.fns[dev][0] == nil {
		return nil, 0
	}
	return f, int(off & 0xfff)
}

func (e ecam) Read(off uint64, size int) uint64 {
	e.h.checkWidth(off, size, "read", 0)
	if size == 8 {
		return e.Read(off, 4) | e.Read(off+4, 4)<<32
	}
	f, reg := e.lookup(off)
	if f == nil {
		return ones(size)
	}
	if reg+size > 0x1000 {
		size = 0x1000 - reg
	}
	return uint64(f.ReadConfig(reg, size))
}

func (e ecam) Write(off uint64, size int, val uint64) {
	e.h.checkWidth(off, size, "write", val)
	if size == 8 {
		e.Write(off, 4, val&0xffffffff)
		e.Write(off+4, 4, val>>32)
		return
	}
	f, reg := e.lookup(off)
	if f == nil {
		if e.h.GuestError != nil {
			e.h.guestError("absent "+bdf(off), "config write of %#x to %s offset %#x dropped: no function there (PCI Local Bus spec 3.0 §6.1: an access to a function that does not exist ends in master abort; a driver writes only functions whose Vendor ID read back valid)",
				val, bdf(off), off&0xfff)
		}
		return
	}
	if reg+size > 0x1000 {
		size = 0x1000 - reg
	}
	if e.h.GuestError != nil {
		e.h.checkReadOnly(f, off, reg, size, uint32(val))
	}
	f.WriteConfig(reg, size, uint32(val))
}

// bdf names the function an ECAM offset addresses, as bus:device.function.
func bdf(off uint64) string {
	return fmt.Sprintf("%02x:%02x.%d", off>>20&0xff, off>>15&31, off>>12&7)
}

// guestError reports a configuration mistake once per key.
func (h *Host) guestError(key, format string, args ...any) {
	if h.GuestError == nil || h.warned[key] {
		return
	}
	if h.warned == nil {
		h.warned = map[string]bool{}
	}
	if len(h.warned) < 1024 {
		h.warned[key] = true
	}
	h.GuestError(format, args...)
}

// checkWidth reports ECAM accesses that are not 1, 2 or 4 bytes naturally
// aligned: PCI Express Base spec 3.0 §7.2.2 lets software generate only
// such accesses (a configuration request carries at most one DW and does
// not cross a DW boundary), and QEMU's ECAM region (hw/pci/pcie_host.c,
// pcie_mmcfg_ops, whose valid access sizes default to 1-4 bytes,
// softmmu/memory.c memory_region_access_valid) refuses the rest. gemu
// splits an 8-byte access into two 4-byte ones.
func (h *Host) checkWidth(off uint64, size int, op string, val uint64) {
	if h.GuestError == nil || (size <= 4 && off%uint64(size) == 0) {
		return
	}
	what := fmt.Sprintf("%d-byte config %s", size, op)
	if op == "write" {
		what += fmt.Sprintf(" of %#x", val)
	}
	h.guestError("width "+op, "%s at %s offset %#x: the ECAM takes naturally aligned 1-, 2- and 4-byte accesses only (PCI Express Base spec 3.0 §7.2.2); QEMU refuses it, gemu splits it",
		what, bdf(off), off&0xfff)
}

// roFields are the read-only identity fields of a type-0 header (PCI Local
// Bus spec 3.0 §6.2.1 and §6.2.4; figure 6-1). A driver that writes one
// with a different value meant another register. Unimplemented BARs and
// the expansion ROM BAR are left out: writing all ones to them is how
// software sizes them (§6.2.5.1, §6.2.5.2). So are the Subsystem IDs:
// chipsets such as Intel's ICH make them write-once for firmware (the
// 82801AA's AC97 function, whose drivers program them; QEMU keeps them
// read-only).
var roFields = []struct {
	off, size int
	name      string
}{
	{VendorID, 2, "Vendor ID"}, {DeviceID, 2, "Device ID"}, {RevisionID, 1, "Revision ID"},
	{ClassProg, 3, "Class Code"}, {HeaderType, 1, "Header Type"},
	{CapPointer, 1, "Capabilities Pointer"}, {InterruptPin, 1, "Interrupt Pin"},
}

// checkReadOnly reports a write that would change a read-only header field.
func (h *Host) checkReadOnly(f *Function, off uint64, reg, size int, val uint32) {
	for _, fl := range roFields {
		for i := 0; i < size; i++ {
			o := reg + i
			if o < fl.off || o >= fl.off+fl.size || o >= len(f.cfg) || f.wmask[o] != 0 {
				continue
			}
			if byte(val>>(8*i)) != f.cfg[o] {
				h.guestError(fmt.Sprintf("ro %s %#x", bdf(off), fl.off),
					"%d-byte config write of %#x to %s offset %#x tries to change the %s (offset %#x), which is read-only and keeps its value (PCI Local Bus spec 3.0 §6.2.1, §6.2.4)",
					size, val, bdf(off), reg, fl.name, fl.off)
				break
			}
		}
	}
}

func ones(size int) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*size) - 1
}

// window decodes one of the host's address windows onto the BARs that are
// enabled and assigned inside it. kind selects I/O (BARIO) or memory
// (BARMem32 and BARMem64 both decode in either memory window). base is the
// PCI address of offset 0 (identity mapping for the memory windows, port 0
// for I/O). Unclaimed reads return all ones (master abort), writes vanish.
type window struct {
	h    *Host
	kind BARKind
	base uint64
}

func (w window) find(off uint64, size int) (*Function, int, uint64) {
	addr := w.base + off
	if c := w.h.lastHit; c != nil {
		if a := c.f.addr[c.bar]; a != unmappedAddr && c.f.isKind(c.bar, w.kind) &&
			addr-a < c.f.bars[c.bar].Size && addr-a+uint64(size) <= c.f.bars[c.bar].Size {
			return c.f, c.bar, addr - a
		}
	}
	for _, f := range w.h.list {
		for i := range f.bars {
			a := f.addr[i]
			if a == unmappedAddr || !f.isKind(i, w.kind) {
				continue
			}
			sz := f.bars[i].Size
			if addr-a < sz && addr-a+uint64(size) <= sz {
				w.h.hitCache = hit{f, i}
				w.h.lastHit = &w.h.hitCache
				return f, i, addr - a
			}
		}
	}
	return nil, 0, 0
}

func (f *Function) isKind(i int, k BARKind) bool {
	if k == BARIO {
		return f.bars[i].Kind == BARIO
	}
	return f.bars[i].Kind == BARMem32 || f.bars[i].Kind == BARMem64
}

func (w window) Read(off uint64, size int) uint64 {
	f, i, o := w.find(off, size)
	if f == nil || f.bars[i].Dev == nil {
		return ones(size)
	}
	return f.bars[i].Dev.Read(o, size)
}

func (w window) Write(off uint64, size int, val uint64) {
	f, i, o := w.find(off, size)
	if f == nil || f.bars[i].Dev == nil {
		return
	}
	f.bars[i].Dev.Write(o, size, val)
}
