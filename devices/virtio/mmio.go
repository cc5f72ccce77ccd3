package virtio

import (
	"fmt"

	"gemu/bus"
)

// The virtio-mmio transport (QEMU hw/virtio/virtio-mmio.c) in both of its
// interfaces: version 2 ("modern", VirtIO 1.2 section 4.2.2) and version 1
// ("legacy", VirtIO 1.2 section 4.2.4: GuestPageSize, QueueAlign and
// QueuePFN, no FEATURES_OK, no VERSION_1). QEMU chooses per transport with
// its force-legacy property, legacy by default; NewMMIO makes a modern one
// and SetLegacy switches. One MMIO is one 0x1000-byte slot of the virt
// board; a slot without a device is QEMU's empty transport: magic, version
// and vendor read back, DeviceID reads 0 (the driver skips it), everything
// else reads 0 and ignores writes.

// Register offsets (4.2.2, table "MMIO Device Register Layout").
const (
	RegMagic            = 0x000
	RegVersion          = 0x004
	RegDeviceID         = 0x008
	RegVendorID         = 0x00c
	RegDeviceFeatures   = 0x010
	RegDeviceFeatSel    = 0x014
	RegDriverFeatures   = 0x020
	RegDriverFeatSel    = 0x024
	RegGuestPageSize    = 0x028 // legacy only
	RegQueueSel         = 0x030
	RegQueueNumMax      = 0x034
	RegQueueNum         = 0x038
	RegQueueAlign       = 0x03c // legacy only
	RegQueuePFN         = 0x040 // legacy only
	RegQueueReady       = 0x044
	RegQueueNotify      = 0x050
	RegInterruptStatus  = 0x060
	RegInterruptACK     = 0x064
	RegStatus           = 0x070
	RegQueueDescLow     = 0x080
	RegQueueDescHigh    = 0x084
	RegQueueDriverLow   = 0x090
	RegQueueDriverHigh  = 0x094
	RegQueueDeviceLow   = 0x0a0
	RegQueueDeviceHigh  = 0x0a4
	RegSHMSel           = 0x0ac
	RegSHMLenLow        = 0x0b0
	RegSHMLenHigh       = 0x0b4
	RegSHMBaseLow       = 0x0b8
	RegSHMBaseHigh      = 0x0bc
	RegQueueReset       = 0x0c0
	RegConfigGeneration = 0x0fc
	RegConfig           = 0x100

	// Size is the register window of one slot.
	Size = 0x1000
)

// Identity values.
const (
	Magic         = 0x74726976 // "virt"
	Version       = 2
	VersionLegacy = 1
	VendorID      = 0x554d4551 // "QEMU", as QEMU's transports report

	// QueueNumMax is what QEMU's virtio-mmio reports for every queue a
	// device has, in both interfaces: VIRTQUEUE_MAX_SIZE
	// (include/hw/virtio/virtio.h), whatever the device's own queue size
	// (which only virtio-pci reports).
	QueueNumMax = 1024

	// legacyAlign is a legacy queue's used-ring alignment until the driver
	// writes QueueAlign (QEMU's virtio_add_queue: VIRTIO_PCI_VRING_ALIGN).
	legacyAlign = 4096
)

// Device status bits (2.1).
const (
	StatusAcknowledge = 1
	StatusDriver      = 2
	StatusDriverOK    = 4
	StatusFeaturesOK  = 8
	StatusNeedsReset  = 64
	StatusFailed      = 128
)

// Interrupt status bits (4.2.2: InterruptStatus).
const (
	IntUsedBuffer   = 1
	IntConfigChange = 2
)

// Transport feature bits (6: "Reserved Feature Bits").
const (
	FeatureIndirectDesc = 1 << 28
	FeatureEventIdx     = 1 << 29 // used_event / avail_event (2.7.10)
	FeatureVersion1     = 1 << 32
	FeatureRingReset    = 1 << 40 // per-queue reset (2.6.1)
)

// MMIO is one virtio-mmio slot.
type MMIO struct {
	core
	irq  bus.IRQ
	line bool

	pageShift uint32 // legacy: log2(GuestPageSize); QEMU's guest_page_shift
}

// NewMMIO creates a slot on b raising irq, holding dev (nil for an empty
// slot).
func NewMMIO(b *bus.Bus, irq bus.IRQ, dev Device) *MMIO {
	t := &MMIO{irq: irq}
	t.init(b, dev, "virtio-mmio")
	t.signal = t.updateIRQ
	if dev != nil {
		dev.Attach(t)
	}
	t.Reset()
	return t
}

// HardReset is the board's reset (QEMU's virtio_mmio_reset): a device
// reset that also forgets the legacy GuestPageSize, which the driver's
// own resets (status or QueuePFN written 0, QEMU's
// virtio_mmio_soft_reset) keep. Linux writes GuestPageSize once, before
// the reset that starts every driver probe.
func (t *MMIO) HardReset() {
	t.pageShift = 0
	t.Reset()
}

// SetLegacy selects the legacy interface (version 1; QEMU's
// force-legacy=on, its default) or the modern one, and resets the slot.
func (t *MMIO) SetLegacy(on bool) {
	t.legacy, t.sizedQueues = on, on
	t.Reset()
}

// Legacy reports whether the slot has the legacy interface.
func (t *MMIO) Legacy() bool { return t.legacy }

// IRQ reports the interrupt line level.
func (t *MMIO) IRQ() bool { return t.line }

// updateIRQ is QEMU's virtio_mmio_update_irq: the line follows
// InterruptStatus, and a set status is signalled again on every call
// (every used buffer, every acknowledgement that leaves a bit set), as
// qemu_set_irq does; the PLIC pends the slot's source on each signal.
func (t *MMIO) updateIRQ() {
	l := t.isr != 0
	if l || l != t.line {
		t.line = l
		t.irq.Set(l)
	}
}

// Read implements bus.Device.
func (t *MMIO) Read(off uint64, size int) uint64 {
	if off >= RegConfig {
		if t.dev == nil {
			return 0
		}
		return t.dev.ReadConfig(off-RegConfig, size)
	}
	if size == 8 {
		t.badWidth("read", off, size)
		return t.Read(off, 4) | t.Read(off+4, 4)<<32
	}
	if size != 4 || off%4 != 0 {
		t.badWidth("read", off, size)
		return 0 // 4.2.2.2: registers take aligned 32-bit accesses only
	}
	if t.dev != nil {
		t.checkAccess(off, false)
	}
	v := t.readReg(off)
	t.tracef("read %#x -> %#x", off, v)
	return uint64(v)
}

func (t *MMIO) readReg(off uint64) uint32 {
	switch off {
	case RegMagic:
		return Magic
	case RegVersion:
		if t.legacy {
			return VersionLegacy
		}
		return Version
	case RegVendorID:
		return VendorID
	}
	if t.dev == nil {
		return 0
	}
	q := t.selected()
	if t.legacy {
		return t.readLegacy(off, q)
	}
	switch off {
	case RegDeviceID:
		return t.dev.DeviceID()
	case RegDeviceFeatures:
		if t.devSel > 1 {
			return 0
		}
		return uint32(t.features() >> (32 * t.devSel))
	case RegQueueNumMax:
		if q != nil {
			return uint32(q.Max)
		}
	case RegQueueReady:
		if q != nil && q.Ready {
			return 1
		}
	case RegQueueReset:
		// 4.2.2.1: 1 from a queue reset until QueueReady is written 1.
		if q != nil && q.inReset && t.drvFeat&FeatureRingReset != 0 {
			return 1
		}
	case RegInterruptStatus:
		return t.isr
	case RegStatus:
		return t.status
	case RegSHMLenLow, RegSHMLenHigh:
		return 0xffffffff // no shared memory regions
	case RegConfigGeneration:
		return 0 // the configuration never changes
	}
	return 0
}

// Write implements bus.Device.
func (t *MMIO) Write(off uint64, size int, val uint64) {
	if off >= RegConfig {
		if t.dev != nil {
			t.dev.WriteConfig(off-RegConfig, size, val)
		}
		return
	}
	if size == 8 {
		t.badWidth("write", off, size)
		t.Write(off, 4, val&0xffffffff)
		t.Write(off+4, 4, val>>32)
		return
	}
	if t.dev != nil && (size != 4 || off%4 != 0) {
		t.badWidth("write", off, size)
	}
	if size != 4 || off%4 != 0 || t.dev == nil {
		return
	}
	v := uint32(val)
	t.tracef("write %#x <- %#x", off, v)
	t.checkAccess(off, true)
	q := t.selected()
	if t.legacy {
		t.writeLegacy(off, v, q)
		return
	}
	// Queue layout registers may only change while the queue is not ready
	// (4.2.2.3).
	qw := q != nil && !q.Ready
	if q != nil && q.Ready && isLayoutReg(off) {
		t.GuestError(fmt.Sprintf("layout%d", off), "write %#x to %s (%#x) of queue %d ignored: the queue is ready (VirtIO 1.2 4.2.3.2: a queue is configured before QueueReady is set)", v, regName(off), off, q.Index)
	}
	switch off {
	case RegDeviceFeatSel:
		t.devSel = v
	case RegDriverFeatures:
		t.writeDriverFeatures(v)
	case RegDriverFeatSel:
		t.drvSel = v
	case RegQueueSel:
		t.queueSel = v
	case RegQueueNum:
		if qw {
			q.Num = 0 // a size that does not fit is refused when enabled
			if v <= 0xffff {
				q.Num = uint16(v)
			}
		}
	case RegQueueReady:
		if q == nil {
			return
		}
		if v&1 == 0 {
			q.Ready = false
			return
		}
		t.enableQueue(q)
	case RegQueueReset:
		if q != nil && v == 1 && t.drvFeat&FeatureRingReset != 0 {
			t.resetQueue(q)
		}
	case RegQueueNotify:
		t.notify(v)
	case RegInterruptACK:
		t.isr &^= v
		t.updateIRQ()
	case RegStatus:
		t.writeStatus(v)
	case RegQueueDescLow, RegQueueDescHigh:
		if qw {
			q.Desc = setHalf(q.Desc, off == RegQueueDescHigh, v)
		}
	case RegQueueDriverLow, RegQueueDriverHigh:
		if qw {
			q.Driver = setHalf(q.Driver, off == RegQueueDriverHigh, v)
		}
	case RegQueueDeviceLow, RegQueueDeviceHigh:
		if qw {
			q.Device = setHalf(q.Device, off == RegQueueDeviceHigh, v)
		}
	}
}

// mmioReg is what 4.2.2's table says of a register: its name, whether the
// driver may read and write it, and whether it exists only in one
// interface.
type mmioReg struct {
	name        string
	read, write bool
	legacy      int8 // 1: legacy only, -1: modern only, 0: both
}

var mmioRegs = map[uint64]mmioReg{
	RegMagic: {"MagicValue", true, false, 0}, RegVersion: {"Version", true, false, 0},
	RegDeviceID: {"DeviceID", true, false, 0}, RegVendorID: {"VendorID", true, false, 0},
	RegDeviceFeatures: {"DeviceFeatures", true, false, 0}, RegDeviceFeatSel: {"DeviceFeaturesSel", false, true, 0},
	RegDriverFeatures: {"DriverFeatures", false, true, 0}, RegDriverFeatSel: {"DriverFeaturesSel", false, true, 0},
	RegGuestPageSize: {"GuestPageSize", false, true, 1}, RegQueueSel: {"QueueSel", false, true, 0},
	RegQueueNumMax: {"QueueNumMax", true, false, 0}, RegQueueNum: {"QueueNum", false, true, 0},
	RegQueueAlign: {"QueueAlign", false, true, 1}, RegQueuePFN: {"QueuePFN", true, true, 1},
	RegQueueReady: {"QueueReady", true, true, -1}, RegQueueNotify: {"QueueNotify", false, true, 0},
	RegInterruptStatus: {"InterruptStatus", true, false, 0}, RegInterruptACK: {"InterruptACK", false, true, 0},
	RegStatus:       {"Status", true, true, 0},
	RegQueueDescLow: {"QueueDescLow", false, true, -1}, RegQueueDescHigh: {"QueueDescHigh", false, true, -1},
	RegQueueDriverLow: {"QueueDriverLow", false, true, -1}, RegQueueDriverHigh: {"QueueDriverHigh", false, true, -1},
	RegQueueDeviceLow: {"QueueDeviceLow", false, true, -1}, RegQueueDeviceHigh: {"QueueDeviceHigh", false, true, -1},
	RegSHMSel: {"SHMSel", false, true, -1}, RegSHMLenLow: {"SHMLenLow", true, false, -1},
	RegSHMLenHigh: {"SHMLenHigh", true, false, -1}, RegSHMBaseLow: {"SHMBaseLow", true, false, -1},
	RegSHMBaseHigh: {"SHMBaseHigh", true, false, -1}, RegQueueReset: {"QueueReset", true, true, -1},
	RegConfigGeneration: {"ConfigGeneration", true, false, -1},
}

func regName(off uint64) string {
	if r, ok := mmioRegs[off]; ok {
		return r.name
	}
	return "?"
}

func isLayoutReg(off uint64) bool {
	switch off {
	case RegQueueNum, RegQueueDescLow, RegQueueDescHigh, RegQueueDriverLow,
		RegQueueDriverHigh, RegQueueDeviceLow, RegQueueDeviceHigh:
		return true
	}
	return false
}

// checkAccess reports (-d guest_errors) an aligned 32-bit access to a
// register offset the driver should not use: undecoded, of the other
// interface, a write to a read-only register or a read of a write-only
// one (VirtIO 1.2 4.2.2 table 4.1 gives each register's direction; QEMU
// virtio_mmio_read/write log the same as guest errors).
func (t *MMIO) checkAccess(off uint64, write bool) {
	verb, v := "read of", "version 2"
	if write {
		verb = "write to"
	}
	if t.legacy {
		v = "version 1 (legacy)"
	}
	r, ok := mmioRegs[off]
	switch {
	case !ok:
		t.GuestError(fmt.Sprintf("undecoded%d%v", off, write), "%s offset %#x: no virtio-mmio register there (VirtIO 1.2 4.2.2, table 4.1); reads 0, writes ignored", verb, off)
	case r.legacy == 1 && !t.legacy:
		t.GuestError(fmt.Sprintf("legacyreg%d", off), "%s %s (%#x): a legacy-only register, not in the %s interface (VirtIO 1.2 4.2.4); ignored", verb, r.name, off, v)
	case r.legacy == -1 && t.legacy:
		t.GuestError(fmt.Sprintf("modernreg%d", off), "%s %s (%#x): not in the %s interface (VirtIO 1.2 4.2.4 lists its registers); ignored", verb, r.name, off, v)
	case write && !r.write:
		t.GuestError(fmt.Sprintf("ro%d", off), "write to %s (%#x) ignored: the register is read-only (VirtIO 1.2 4.2.2, table 4.1)", r.name, off)
	case !write && !r.read:
		t.GuestError(fmt.Sprintf("wo%d", off), "read of %s (%#x) returns 0: the register is write-only (VirtIO 1.2 4.2.2, table 4.1)", r.name, off)
	}
}

// badWidth reports a register access that is not 32 bits wide and
// aligned.
func (t *MMIO) badWidth(verb string, off uint64, size int) {
	if t.dev == nil {
		return
	}
	t.GuestError(fmt.Sprintf("width%d", size), "%d-byte %s at offset %#x: the driver MUST use 32-bit aligned accesses to the control registers (VirtIO 1.2 4.2.2.2)", size, verb, off)
}

func setHalf(x uint64, high bool, v uint32) uint64 {
	if high {
		return x&0xffffffff | uint64(v)<<32
	}
	return x&^0xffffffff | uint64(v)
}
