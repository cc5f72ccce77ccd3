package virtio

import (
	"fmt"

	"gemu/bus"
	"gemu/devices/pci"
)

// The virtio 1.x PCI transport ("modern" only; VirtIO 1.2 section 4.1;
// QEMU hw/virtio/virtio-pci.c). Any Device plugs into it the way it plugs
// into a virtio-mmio slot: both embed the same core (transport.go: queues,
// status, features, interrupt status, errors) and implement Transport with
// it; this file maps the PCI registers onto the core and routes its
// interrupts to INTx or MSI-X.
//
// The layout is QEMU 10's for a virtio device on the root bus (checked with
// `xp` on QEMU 10.0.2's ECAM): one 16 KiB 64-bit prefetchable memory BAR 4
// holding the common configuration (0x0000), ISR (0x1000), device
// configuration (0x2000) and notification (0x3000, notify_off_multiplier
// 4) areas; the vendor capabilities at 0x40, 0x50, 0x60, 0x70 (notify,
// 20 bytes) and 0x84 (PCI configuration access), MSI-X at 0x98 with its
// table and PBA in the 4 KiB 32-bit BAR 1. INTA is the interrupt; MSI-X is
// there as on QEMU, and its messages are memory writes that on the virt
// board (no AIA, no IMSIC) reach no interrupt controller, so guests use
// INTx (Linux falls back to it by itself). See docs/devices/virtio-pci.md.

// PCI identity (4.1.2): vendor 0x1af4, device 0x1040 + the virtio device
// type, revision 1 for a device with no legacy interface.
const (
	PCIVendor     = 0x1af4
	PCIDeviceBase = 0x1040
	PCIRevision   = 1
)

// Capability types of the vendor capabilities (4.1.4).
const (
	pciCapCommon = 1
	pciCapNotify = 2
	pciCapISR    = 3
	pciCapDevice = 4
	pciCapPCICfg = 5
)

// Offsets inside BAR 4 and the notify multiplier, as QEMU lays them out
// (virtio_pci_modern_regions_init).
const (
	pciOffCommon   = 0x0000
	pciOffISR      = 0x1000
	pciOffDevice   = 0x2000
	pciOffNotify   = 0x3000
	pciRegionSize  = 0x1000
	pciBARSize     = 0x4000
	pciNotifyMult  = 4
	pciModernBAR   = 4
	pciMSIXBAR     = 1
	pciMSIXBARSize = 0x1000
	pciMSIXPBA     = 0x800
)

// Common configuration layout (4.1.4.3, struct virtio_pci_common_cfg).
const (
	CommonDFSelect     = 0x00
	CommonDF           = 0x04
	CommonGFSelect     = 0x08
	CommonGF           = 0x0c
	CommonMSIX         = 0x10
	CommonNumQ         = 0x12
	CommonStatus       = 0x14
	CommonCfgGen       = 0x15
	CommonQSelect      = 0x16
	CommonQSize        = 0x18
	CommonQMSIX        = 0x1a
	CommonQEnable      = 0x1c
	CommonQNotifyOff   = 0x1e
	CommonQDescLo      = 0x20
	CommonQDescHi      = 0x24
	CommonQAvailLo     = 0x28
	CommonQAvailHi     = 0x2c
	CommonQUsedLo      = 0x30
	CommonQUsedHi      = 0x34
	CommonQNotifyData  = 0x38
	CommonQReset       = 0x3a
	commonSize         = 0x3c
	NoVector           = 0xffff
	pciCapMSIX         = 0x11
	msixCtlEnable      = 1 << 15
	msixCtlFunctionMsk = 1 << 14
)

// PCIConfig describes the function around the device.
type PCIConfig struct {
	Class   uint32 // class<<16 | subclass<<8 | prog-if, e.g. 0x040100 for audio
	Vectors int    // MSI-X table entries (QEMU's vectors=; 0: no MSI-X capability)
}

// PCI is one virtio device on the PCI bus.
type PCI struct {
	core

	fn      *pci.Function
	vectors int

	configVec uint16
	queueVec  []uint16

	msixCap int // offset of the MSI-X capability, 0 if none
	cfgCap  int // offset of the PCI configuration access capability
	table   []byte
	pba     []byte
}

// NewPCI wraps dev in a virtio PCI function on b (the bus its queues reach
// guest RAM through). Attach the result's Function to the host bridge.
func NewPCI(b *bus.Bus, dev Device, c PCIConfig) *PCI {
	p := &PCI{vectors: c.Vectors}
	p.fn = pci.NewFunction(pci.ID{
		Vendor: PCIVendor, Device: uint16(PCIDeviceBase + dev.DeviceID()), Revision: PCIRevision,
		Class: c.Class, IntPin: 1,
	})
	p.init(b, dev, "virtio-pci")
	p.sizedQueues = true // queue_size reads the device's size (4.1.4.3)
	p.signal = func() { p.setLine(p.isr != 0) }
	p.onReset = p.resetVectors
	p.queueVec = make([]uint16, len(p.queues))
	for i, q := range p.queues {
		q.interrupt = func() { p.queueInterrupt(i) }
	}
	dev.Attach(p)
	if err := p.fn.SetBAR(pciModernBAR, pci.BAR{Kind: pci.BARMem64, Size: pciBARSize, Prefetch: true, Dev: pciBAR{p}}); err != nil {
		panic(err) // constant layout
	}
	// Capabilities in QEMU's order; each is linked in front of the list.
	p.vendorCap(pciCapCommon, pciOffCommon, pciRegionSize, 16)
	p.vendorCap(pciCapISR, pciOffISR, pciRegionSize, 16)
	p.vendorCap(pciCapDevice, pciOffDevice, pciRegionSize, 16)
	n := p.vendorCap(pciCapNotify, pciOffNotify, pciRegionSize, 20)
	put32(p.fn.Config()[n+16:], pciNotifyMult)
	p.cfgCap = p.vendorCap(pciCapPCICfg, 0, 0, 20)
	// cap.bar, cap.offset, cap.length and pci_cfg_data are the driver's
	// (4.1.4.9).
	p.fn.SetWritable(p.cfgCap+4, 0xff)
	p.fn.SetWritable(p.cfgCap+8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	if p.vectors > 0 {
		if err := p.fn.SetBAR(pciMSIXBAR, pci.BAR{Kind: pci.BARMem32, Size: pciMSIXBARSize, Dev: msixBAR{p}}); err != nil {
			panic(err)
		}
		off, err := p.fn.AddCapability(pciCapMSIX, 12)
		if err != nil {
			panic(err)
		}
		cfg := p.fn.Config()
		cfg[off+2] = byte(p.vectors - 1)
		cfg[off+3] = byte((p.vectors - 1) >> 8)
		put32(cfg[off+4:], pciMSIXBAR)            // table at BAR 1 offset 0
		put32(cfg[off+8:], pciMSIXPBA|pciMSIXBAR) // PBA at BAR 1 offset 0x800
		p.fn.SetWritable(off+3, 0xc0)             // MSI-X enable, function mask
		p.msixCap = off
		p.table = make([]byte, 16*p.vectors)
		p.pba = make([]byte, (p.vectors+63)/64*8)
	}
	p.fn.SaveResetState()
	p.fn.OnConfigWrite = p.configWrite
	p.fn.OnConfigRead = p.configRead
	p.fn.OnReset = func() {
		p.resetMSIX()
		p.Reset()
	}
	p.resetMSIX()
	p.Reset()
	return p
}

// vendorCap adds a virtio_pci_cap (4.1.4) of length bytes and returns its
// offset.
func (p *PCI) vendorCap(typ uint8, off, length uint32, size int) int {
	c, err := p.fn.AddCapability(0x09, size)
	if err != nil {
		panic(err)
	}
	cfg := p.fn.Config()
	cfg[c+2] = byte(size)
	cfg[c+3] = typ
	if typ != pciCapPCICfg {
		cfg[c+4] = pciModernBAR
	}
	put32(cfg[c+8:], off)
	put32(cfg[c+12:], length)
	return c
}

// Function is the PCI function to attach to the host bridge.
func (p *PCI) Function() *pci.Function { return p.fn }

// IRQ reports whether the function asserts INTx.
func (p *PCI) IRQ() bool { return !p.msixEnabled() && p.isr != 0 }

// resetVectors is part of a device reset: no vector assigned (QEMU's
// virtio_reset sets config_vector and every queue's vector to
// VIRTIO_NO_VECTOR).
func (p *PCI) resetVectors() {
	for i := range p.queueVec {
		p.queueVec[i] = NoVector
	}
	p.configVec = NoVector
}

// resetMSIX masks every vector and clears the pending bits (PCI Local Bus
// 3.0, 6.8.2.9: Vector Control's mask bit is set at reset).
func (p *PCI) resetMSIX() {
	clear(p.table)
	clear(p.pba)
	for i := 12; i < len(p.table); i += 16 {
		p.table[i] = 1
	}
}

func (p *PCI) msixEnabled() bool {
	return p.msixCap != 0 && p.fn.Config()[p.msixCap+3]&0x80 != 0
}

// setLine is the core's interrupt output: INTx unless MSI-X is on;
// with MSI-X a configuration change sends the configuration vector.
func (p *PCI) setLine(level bool) {
	if p.msixEnabled() {
		p.fn.SetIRQ(false)
		if level && p.isr&IntConfigChange != 0 {
			p.msixNotify(p.configVec)
		}
		return
	}
	p.fn.SetIRQ(level)
}

// queueInterrupt is a used-buffer notification of queue i (4.1.4.5).
func (p *PCI) queueInterrupt(i int) {
	if p.msixEnabled() {
		p.msixNotify(p.queueVec[i])
		return
	}
	p.usedBuffer()
}

// msixNotify sends vector v's message (PCI Local Bus 3.0, 6.8.2): a 32-bit
// memory write, or a pending bit while the vector or function is masked.
func (p *PCI) msixNotify(v uint16) {
	if int(v) >= p.vectors {
		return
	}
	if p.msixMasked(v) {
		p.pba[v/8] |= 1 << (v % 8)
		return
	}
	p.msixSend(v)
}

// msixMasked reports whether vector v is masked, by its Vector Control
// mask bit or the function mask (6.8.2.9, 6.8.2.3).
func (p *PCI) msixMasked(v uint16) bool {
	return p.table[16*int(v)+12]&1 != 0 || p.fn.Config()[p.msixCap+3]&0x40 != 0
}

// msixSend performs vector v's message: the memory write of its data to
// its address. On the virt board without AIA nothing decodes MSI
// addresses, so the write lands in RAM if the address is there and is
// traced as lost otherwise; either way it is the message QEMU would send.
func (p *PCI) msixSend(v uint16) {
	e := p.table[16*int(v):]
	addr, data := le64(e), le32(e[8:])
	if !p.bus.Store(addr, 4, uint64(data)) {
		p.tracef("MSI-X vector %d: write of %#x to %#x reached nothing (no MSI controller)", v, data, addr)
	}
}

// msixResend sends the message of every vector that is pending and no
// longer masked, and clears its pending bit (PCI Local Bus 3.0 6.8.2.9:
// "if a masked vector has its Pending bit set and the vector is unmasked,
// the function must send the message"; QEMU msix_handle_mask_update).
// Called when a Vector Control word or the function mask changes.
func (p *PCI) msixResend() {
	if !p.msixEnabled() {
		return
	}
	for v := uint16(0); int(v) < p.vectors; v++ {
		if p.pba[v/8]&(1<<(v%8)) != 0 && !p.msixMasked(v) {
			p.pba[v/8] &^= 1 << (v % 8)
			p.msixSend(v)
		}
	}
}

// configWrite watches the MSI-X enable bit and the configuration access
// window.
func (p *PCI) configWrite(off, size int, val uint32) {
	if p.msixCap != 0 && off <= p.msixCap+3 && off+size > p.msixCap+2 {
		p.fn.SetIRQ(p.IRQ())
		p.msixResend() // the function mask or MSI-X enable changed
	}
	if off == p.cfgCap+16 {
		bar, o, n := p.cfgWindow()
		if bar == pciModernBAR && n > 0 && size >= n {
			pciBAR{p}.Write(uint64(o), n, uint64(val)&ones(n))
		}
	}
}

// cfgWindow returns the driver's choice in the configuration access
// capability: BAR, offset and length (1, 2 or 4; 0 if unusable).
func (p *PCI) cfgWindow() (bar uint8, off uint32, n int) {
	cfg := p.fn.Config()
	bar, off, length := cfg[p.cfgCap+4], le32(cfg[p.cfgCap+8:]), le32(cfg[p.cfgCap+12:])
	if (length != 1 && length != 2 && length != 4) || off%length != 0 || uint64(off)+uint64(length) > pciBARSize {
		return bar, off, 0
	}
	return bar, off, int(length)
}

// configRead fills pci_cfg_data from the BAR when the driver reads it
// (4.1.4.9.1).
func (p *PCI) configRead(off, size int) {
	data := p.cfgCap + 16
	if off > data+3 || off+size <= data {
		return
	}
	bar, o, n := p.cfgWindow()
	if bar != pciModernBAR || n == 0 {
		return
	}
	v := pciBAR{p}.Read(uint64(o), n)
	put32(p.fn.Config()[data:], uint32(v))
}

// pciBAR decodes BAR 4.
type pciBAR struct{ p *PCI }

func (b pciBAR) Read(off uint64, size int) uint64 {
	if size == 8 {
		return b.Read(off, 4) | b.Read(off+4, 4)<<32
	}
	p := b.p
	switch {
	case off < pciOffISR:
		if off >= commonSize {
			p.GuestError(fmt.Sprintf("common-r%d", off), "read of common configuration offset %#x: past struct virtio_pci_common_cfg (%#x bytes, VirtIO 1.2 4.1.4.3); reads 0", off, commonSize)
		}
		v := p.commonRead(off)
		p.tracef("common[%#x] -> %#x", off, v)
		return v & ones(size)
	case off < pciOffDevice:
		if off != pciOffISR {
			p.GuestError(fmt.Sprintf("isr-r%d", off), "read of ISR area offset %#x: the ISR status is one byte at offset 0 (VirtIO 1.2 4.1.4.5); reads 0", off-pciOffISR)
			return 0
		}
		// Reading the ISR clears it and deasserts INTx (4.1.4.5).
		v := p.isr
		p.isr = 0
		p.signal()
		return uint64(v)
	case off < pciOffNotify:
		if p.dev == nil {
			return 0
		}
		return p.dev.ReadConfig(off-pciOffDevice, size)
	}
	return 0
}

func (b pciBAR) Write(off uint64, size int, val uint64) {
	if size == 8 {
		b.Write(off, 4, val&0xffffffff)
		b.Write(off+4, 4, val>>32)
		return
	}
	p := b.p
	switch {
	case off < pciOffISR:
		p.tracef("common[%#x] <- %#x", off, val)
		p.checkCommonWrite(off, uint32(val&ones(size)))
		p.commonWrite(off, size, uint32(val&ones(size)))
	case off < pciOffDevice:
		// The ISR is read-only.
		p.GuestError("isr-w", "write %#x to the ISR status ignored: it is read-only, read to acknowledge (VirtIO 1.2 4.1.4.5)", val)
	case off < pciOffNotify:
		if p.dev != nil {
			p.dev.WriteConfig(off-pciOffDevice, size, val)
		}
	case off < pciBARSize:
		// The queue is named by the address, as in QEMU
		// (virtio_pci_notify_write); the value is not used.
		q := (off - pciOffNotify) / pciNotifyMult
		if q < uint64(len(p.queues)) && p.fn.BusMaster() {
			p.notify(uint32(q))
		} else if q < uint64(len(p.queues)) {
			p.tracef("notify of queue %d ignored: bus mastering is off", q)
			p.GuestError("notify-nobm", "notification of queue %d ignored: Bus Master Enable is off in the PCI command register (PCI Local Bus 3.0 6.2.2; VirtIO 1.2 4.1.5.1: the driver enables the function first)", q)
		} else {
			p.GuestError(fmt.Sprintf("notify-off%d", off), "write at notification offset %#x names queue %d: the device has %d (VirtIO 1.2 4.1.4.4: queue_notify_off * notify_off_multiplier %d)", off-pciOffNotify, q, len(p.queues), pciNotifyMult)
		}
	}
}

func ones(size int) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*size) - 1
}

// commonReadOnly names the fields of struct virtio_pci_common_cfg
// (VirtIO 1.2 4.1.4.3) the driver must not write.
var commonReadOnly = map[uint64]string{
	CommonDF: "device_feature", CommonNumQ: "num_queues", CommonCfgGen: "config_generation",
	CommonQNotifyOff: "queue_notify_off", CommonQNotifyData: "queue_notify_data",
}

var commonQueueLayout = map[uint64]string{
	CommonQSize: "queue_size", CommonQDescLo: "queue_desc", CommonQDescHi: "queue_desc",
	CommonQAvailLo: "queue_driver", CommonQAvailHi: "queue_driver",
	CommonQUsedLo: "queue_device", CommonQUsedHi: "queue_device",
}

// checkCommonWrite reports (-d guest_errors) a write to the common
// configuration the driver should not make.
func (p *PCI) checkCommonWrite(off uint64, v uint32) {
	if off >= commonSize {
		p.GuestError(fmt.Sprintf("common-w%d", off), "write %#x to common configuration offset %#x ignored: past struct virtio_pci_common_cfg (%#x bytes, VirtIO 1.2 4.1.4.3)", v, off, commonSize)
		return
	}
	if name, ok := commonReadOnly[off]; ok {
		p.GuestError(fmt.Sprintf("common-ro%d", off), "write %#x to %s (common configuration %#x) ignored: the field is read-only for the driver (VirtIO 1.2 4.1.4.3)", v, name, off)
		return
	}
	if name, ok := commonQueueLayout[off]; ok {
		if q := p.selected(); q != nil && q.Ready {
			p.GuestError(fmt.Sprintf("common-layout%d", off), "write %#x to %s of queue %d ignored: the queue is enabled (VirtIO 1.2 4.1.4.3.2: the driver configures a queue before writing queue_enable)", v, name, q.Index)
		}
	}
}

// commonRead reads the field at off (QEMU virtio_pci_common_read: the
// field's value whatever the access size; unknown offsets read 0).
func (p *PCI) commonRead(off uint64) uint64 {
	q := p.selected()
	switch off {
	case CommonDFSelect:
		return uint64(p.devSel)
	case CommonDF:
		if p.devSel > 1 {
			return 0
		}
		return uint64(uint32(p.features() >> (32 * p.devSel)))
	case CommonGFSelect:
		return uint64(p.drvSel)
	case CommonGF:
		if p.drvSel > 1 {
			return 0
		}
		return uint64(uint32(p.drvFeat >> (32 * p.drvSel)))
	case CommonMSIX:
		return uint64(p.configVec)
	case CommonNumQ:
		return uint64(len(p.queues))
	case CommonStatus:
		return uint64(p.status)
	case CommonCfgGen:
		return 0 // the configuration never changes
	case CommonQSelect:
		return uint64(p.queueSel)
	}
	if q == nil {
		return 0
	}
	switch off {
	case CommonQSize:
		return uint64(q.Num)
	case CommonQMSIX:
		return uint64(p.queueVec[q.Index])
	case CommonQEnable:
		if q.Ready {
			return 1
		}
	case CommonQNotifyOff:
		return uint64(q.Index)
	case CommonQDescLo:
		return q.Desc & 0xffffffff
	case CommonQDescHi:
		return q.Desc >> 32
	case CommonQAvailLo:
		return q.Driver & 0xffffffff
	case CommonQAvailHi:
		return q.Driver >> 32
	case CommonQUsedLo:
		return q.Device & 0xffffffff
	case CommonQUsedHi:
		return q.Device >> 32
	case CommonQReset:
		// 4.1.4.3.1: 1 from a queue reset until queue_enable is
		// written 1; the field exists with VIRTIO_F_RING_RESET only.
		if q.inReset && p.drvFeat&FeatureRingReset != 0 {
			return 1
		}
	}
	return 0
}

func (p *PCI) commonWrite(off uint64, size int, v uint32) {
	q := p.selected()
	qw := q != nil && !q.Ready
	switch off {
	case CommonDFSelect:
		p.devSel = v
	case CommonGFSelect:
		p.drvSel = v
	case CommonGF:
		p.writeDriverFeatures(v)
	case CommonMSIX:
		p.configVec = p.vector(v)
	case CommonStatus:
		p.writeStatus(v & 0xff)
	case CommonQSelect:
		p.queueSel = v & 0xffff
	case CommonQSize:
		if qw {
			q.Num = uint16(v)
		}
	case CommonQMSIX:
		if q != nil {
			p.queueVec[q.Index] = p.vector(v)
		}
	case CommonQEnable:
		if q == nil {
			return
		}
		if v != 1 {
			// 4.1.4.3.2: the driver MUST NOT write 0; QEMU treats it
			// as a device error, and so does gemu.
			p.Fail(&QueueError{Queue: q.Index, What: "queue_enable written with a value other than 1", Sect: "4.1.4.3.2"})
			return
		}
		p.enableQueue(q)
	case CommonQDescLo, CommonQDescHi:
		if qw {
			q.Desc = setHalf(q.Desc, off == CommonQDescHi, v)
		}
	case CommonQAvailLo, CommonQAvailHi:
		if qw {
			q.Driver = setHalf(q.Driver, off == CommonQAvailHi, v)
		}
	case CommonQUsedLo, CommonQUsedHi:
		if qw {
			q.Device = setHalf(q.Device, off == CommonQUsedHi, v)
		}
	case CommonQReset:
		// 4.1.4.3.2: the driver writes 1 to reset the queue.
		if q != nil && v == 1 && p.drvFeat&FeatureRingReset != 0 {
			p.resetQueue(q)
		}
	}
}

// vector is what a vector register keeps: the value if the table has it,
// else NO_VECTOR, which tells the driver the assignment failed (4.1.5.1.2).
func (p *PCI) vector(v uint32) uint16 {
	if v >= uint32(p.vectors) {
		return NoVector
	}
	return uint16(v)
}

// msixBAR decodes BAR 1: the MSI-X table at 0 and the PBA at 0x800 (PCI
// Local Bus 3.0, 6.8.2.6-7).
type msixBAR struct{ p *PCI }

func (b msixBAR) Read(off uint64, size int) uint64 {
	if size == 8 {
		return b.Read(off, 4) | b.Read(off+4, 4)<<32
	}
	p := b.p
	var area []byte
	switch {
	case off < uint64(len(p.table)):
		area = p.table[off:]
	case off >= pciMSIXPBA && off-pciMSIXPBA < uint64(len(p.pba)):
		area = p.pba[off-pciMSIXPBA:]
	default:
		return 0
	}
	var v uint64
	for i := min(size, len(area)) - 1; i >= 0; i-- {
		v = v<<8 | uint64(area[i])
	}
	return v
}

func (b msixBAR) Write(off uint64, size int, val uint64) {
	if size == 8 {
		b.Write(off, 4, val&0xffffffff)
		b.Write(off+4, 4, val>>32)
		return
	}
	p := b.p
	if off >= uint64(len(p.table)) {
		return // the PBA is read-only
	}
	for i := 0; i < size && off+uint64(i) < uint64(len(p.table)); i++ {
		p.table[off+uint64(i)] = byte(val >> (8 * i))
	}
	if off%16+uint64(size) > 12 { // Vector Control written
		p.msixResend()
	}
}
