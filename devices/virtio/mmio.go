package virtio

import "gemu/bus"

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
	FeatureVersion1     = 1 << 32
)

// Transport is what a device model uses of the transport it sits behind
// (virtio-mmio today; virtio-pci implements the same): guest RAM, its
// queues, and the error state.
type Transport interface {
	// Bus is the bus the device reaches guest RAM through.
	Bus() *bus.Bus
	// Queue returns queue i (nil if the device has no such queue).
	Queue(i int) *Queue
	// Live reports whether the device may process queues.
	Live() bool
	// Negotiated returns the features the driver accepted.
	Negotiated() uint64
	// Fail puts the device into its error state (DEVICE_NEEDS_RESET).
	Fail(err error)
}

// Device is a virtio device model (the part behind the transport: sound,
// block, ...). The transport owns the queues and the registers; the device
// is told about notifications, resets and DRIVER_OK. Nothing in a device
// depends on which transport or interface (legacy or modern) carries it.
type Device interface {
	// DeviceID is the virtio device type (5: "Device Types"); 25 = sound.
	DeviceID() uint32
	// Features are the device-specific feature bits offered (bits 0..23);
	// the transport adds the bits it implements itself.
	Features() uint64
	// QueueSizes gives the device's own size of each of its queues (QEMU's
	// virtio_add_queue sizes): the number of queues, the initial QueueNum
	// of a legacy driver that never writes it, and what virtio-pci
	// reports. virtio-mmio reports QueueNumMax for every queue.
	QueueSizes() []uint16
	// ReadConfig reads the device configuration space (size 1, 2, 4 or 8);
	// bytes beyond it read 0.
	ReadConfig(off uint64, size int) uint64
	// WriteConfig writes it (most fields are read-only).
	WriteConfig(off uint64, size int, val uint64)
	// Attach gives the device its transport, once, before anything else.
	Attach(t Transport)
	// Notify is the driver kicking queue q. It is only called while the
	// driver is DRIVER_OK and the device does not need a reset.
	Notify(q int)
	// Reset returns the device to its initial state (status written 0, or
	// a board reset). Chains it still holds are dropped, not returned.
	Reset()
}

// MMIO is one virtio-mmio slot.
type MMIO struct {
	bus *bus.Bus
	irq bus.IRQ
	dev Device // nil: empty slot

	queues   []*Queue
	status   uint32
	devSel   uint32
	drvSel   uint32
	drvFeat  uint64
	queueSel uint32
	isr      uint32
	line     bool

	// Legacy interface (version 1) state.
	legacy    bool
	pageShift uint32 // log2(GuestPageSize); QEMU's guest_page_shift

	// Trace, when set, receives one line per register access and error.
	Trace bus.TraceFunc
	// Err is the first error that put the device into NEEDS_RESET since the
	// last reset (diagnostics and tests); Errors counts them all.
	Err    error
	Errors uint64

	broken bool // a legacy device's error state (no NEEDS_RESET bit)
}

// NewMMIO creates a slot on b raising irq, holding dev (nil for an empty
// slot).
func NewMMIO(b *bus.Bus, irq bus.IRQ, dev Device) *MMIO {
	t := &MMIO{bus: b, irq: irq, dev: dev}
	if dev != nil {
		for i, n := range dev.QueueSizes() {
			q := &Queue{Index: i, Max: QueueNumMax, size: n, bus: b}
			q.interrupt = t.usedBuffer
			t.queues = append(t.queues, q)
		}
		dev.Attach(t)
	}
	t.Reset()
	return t
}

// SetLegacy selects the legacy interface (version 1; QEMU's
// force-legacy=on, its default) or the modern one, and resets the slot.
func (t *MMIO) SetLegacy(on bool) {
	t.legacy = on
	t.Reset()
}

// Legacy reports whether the slot has the legacy interface.
func (t *MMIO) Legacy() bool { return t.legacy }

// Bus is the bus the device reaches guest RAM through.
func (t *MMIO) Bus() *bus.Bus { return t.bus }

// Queue returns queue i (nil if the device has no such queue).
func (t *MMIO) Queue(i int) *Queue {
	if i < 0 || i >= len(t.queues) {
		return nil
	}
	return t.queues[i]
}

// Status returns the device status register.
func (t *MMIO) Status() uint32 { return t.status }

// Negotiated returns the features the driver accepted.
func (t *MMIO) Negotiated() uint64 { return t.drvFeat }

// Live reports whether the device may process queues: DRIVER_OK is set and
// it does not need a reset.
func (t *MMIO) Live() bool {
	return t.status&StatusDriverOK != 0 && t.status&StatusNeedsReset == 0 && !t.broken
}

// IRQ reports the interrupt line level.
func (t *MMIO) IRQ() bool { return t.line }

func (t *MMIO) tracef(format string, args ...any) {
	if t.Trace != nil {
		t.Trace("virtio-mmio: "+format, args...)
	}
}

// Reset is a device reset (Status written 0, or a board reset): queues,
// features and interrupts cleared, the device model reset (2.4).
func (t *MMIO) Reset() {
	t.status, t.devSel, t.drvSel, t.drvFeat, t.queueSel = 0, 0, 0, 0, 0
	t.pageShift = 0
	for _, q := range t.queues {
		q.reset()
		if t.legacy {
			q.Num = q.size // QEMU keeps the device's vring.num
		}
	}
	t.Err, t.broken = nil, false
	if t.dev != nil {
		t.dev.Reset()
	}
	t.isr = 0
	t.updateIRQ()
}

// features offered: the device's plus the transport's own. The legacy
// interface has no VERSION_1 (and shows only bits 0..31, 4.2.4).
func (t *MMIO) features() uint64 {
	if t.dev == nil {
		return 0
	}
	f := t.dev.Features()&(1<<24-1) | FeatureIndirectDesc
	if !t.legacy {
		f |= FeatureVersion1
	}
	return f
}

func (t *MMIO) usedBuffer() {
	t.isr |= IntUsedBuffer
	t.updateIRQ()
}

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

// Fail puts the device into its error state: DEVICE_NEEDS_RESET in Status
// and, if the driver is running it, a configuration change interrupt
// (2.1.2). The device stops processing queues until the driver resets it.
func (t *MMIO) Fail(err error) {
	t.Errors++
	if t.Err == nil {
		t.Err = err
	}
	t.tracef("device needs reset: %v", err)
	if t.legacy {
		t.broken = true // QEMU virtio_error: no status bit without VERSION_1
		return
	}
	if t.status&StatusNeedsReset != 0 {
		return
	}
	t.status |= StatusNeedsReset
	if t.status&StatusDriverOK != 0 {
		t.isr |= IntConfigChange
		t.updateIRQ()
	}
}

func (t *MMIO) selected() *Queue { return t.Queue(int(t.queueSel)) }

// Read implements bus.Device.
func (t *MMIO) Read(off uint64, size int) uint64 {
	if off >= RegConfig {
		if t.dev == nil {
			return 0
		}
		return t.dev.ReadConfig(off-RegConfig, size)
	}
	if size == 8 {
		return t.Read(off, 4) | t.Read(off+4, 4)<<32
	}
	if size != 4 || off%4 != 0 {
		return 0 // 4.2.2.2: registers take aligned 32-bit accesses only
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
		t.Write(off, 4, val&0xffffffff)
		t.Write(off+4, 4, val>>32)
		return
	}
	if size != 4 || off%4 != 0 || t.dev == nil {
		return
	}
	v := uint32(val)
	t.tracef("write %#x <- %#x", off, v)
	q := t.selected()
	if t.legacy {
		t.writeLegacy(off, v, q)
		return
	}
	// Queue layout registers may only change while the queue is not ready
	// (4.2.2.3).
	qw := q != nil && !q.Ready
	switch off {
	case RegDeviceFeatSel:
		t.devSel = v
	case RegDriverFeatures:
		if t.drvSel <= 1 && t.status&StatusFeaturesOK == 0 {
			shift := 32 * t.drvSel
			t.drvFeat = t.drvFeat&^(0xffffffff<<shift) | uint64(v)<<shift
		}
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
		if !q.Ready {
			q.indirect = t.drvFeat&FeatureIndirectDesc != 0
			if err := q.enable(); err != nil {
				t.Fail(err)
			}
		}
	case RegQueueNotify:
		if t.Live() && v < uint32(len(t.queues)) && t.queues[v].Ready {
			t.dev.Notify(int(v))
		}
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

func setHalf(x uint64, high bool, v uint32) uint64 {
	if high {
		return x&0xffffffff | uint64(v)<<32
	}
	return x&^0xffffffff | uint64(v)
}

// writeStatus: 0 resets; otherwise the driver sets bits (3.1.1). On
// FEATURES_OK the device checks the driver accepted only offered features
// and leaves FEATURES_OK clear if not (3.1.1 step 6). NEEDS_RESET is the
// device's and survives driver writes.
func (t *MMIO) writeStatus(v uint32) {
	if v == 0 {
		t.Reset()
		return
	}
	v &= 0xff
	if v&StatusFeaturesOK != 0 && t.status&StatusFeaturesOK == 0 {
		if t.drvFeat&^t.features() != 0 {
			t.tracef("driver accepted unoffered features %#x: FEATURES_OK refused", t.drvFeat&^t.features())
			v &^= StatusFeaturesOK
		}
	}
	t.status = v&^StatusNeedsReset | t.status&StatusNeedsReset
}
