package virtio

import (
	"errors"
	"fmt"

	"gemu/bus"
)

// What both transports share. A virtio device looks the same to its
// driver on virtio-mmio (mmio.go, legacy.go) and on virtio-pci (pci.go):
// feature negotiation, the status handshake, queues, the interrupt status
// and the error state (VirtIO 1.2 sections 2 and 3) are one core that
// each transport embeds; the transports differ only in where the
// registers are and how an interrupt reaches the CPU.

// Transport is what a device model uses of the transport it sits behind
// (*MMIO or *PCI): guest RAM, its queues, and the error state.
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
	// GuestError reports, on -d guest_errors, something the driver should
	// not have done (one sentence naming the field and the VirtIO 1.2
	// section), at most once per key for the device's lifetime.
	GuestError(key, format string, args ...any)
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

// core is the transport state common to MMIO and PCI. It implements
// Transport for the device.
type core struct {
	bus  *bus.Bus
	dev  Device // nil: empty virtio-mmio slot
	name string // "virtio-mmio" or "virtio-pci", for traces

	queues   []*Queue
	status   uint32
	devSel   uint32
	drvSel   uint32
	drvFeat  uint64
	queueSel uint32
	isr      uint32

	// legacy is virtio-mmio's version 1 interface: no VERSION_1, no
	// DEVICE_NEEDS_RESET (legacy.go).
	legacy bool
	// sizedQueues: after a reset every queue's QueueNum is the device's
	// own size, as QEMU keeps vring.num (legacy virtio-mmio, where a
	// driver may never write QueueNum, and virtio-pci, whose queue_size
	// reads it). A modern virtio-mmio driver must write QueueNum.
	sizedQueues bool

	// signal is the transport's interrupt output, called whenever isr may
	// have changed; onReset runs in every device reset before the device
	// model's own.
	signal  func()
	onReset func()

	// Trace, when set, receives one line per register access and error.
	Trace bus.TraceFunc
	// GuestErrors, when set, receives one sentence for each thing the
	// driver does that the spec forbids (-d guest_errors), once per kind
	// and register or queue (guestErrorKeys of them at most).
	GuestErrors bus.TraceFunc
	reported    map[string]bool
	// Err is the first error that put the device into NEEDS_RESET since the
	// last reset (diagnostics and tests); Errors counts them all.
	Err    error
	Errors uint64

	broken bool // a legacy device's error state (no NEEDS_RESET bit)
}

// init creates dev's queues (QueueNumMax each, the device's own size kept
// for resets); the transport then attaches dev and resets.
func (t *core) init(b *bus.Bus, dev Device, name string) {
	t.bus, t.dev, t.name = b, dev, name
	if dev == nil {
		return
	}
	for i, n := range dev.QueueSizes() {
		q := &Queue{Index: i, Max: QueueNumMax, size: n, bus: b}
		q.interrupt = t.usedBuffer
		t.queues = append(t.queues, q)
	}
}

// Bus is the bus the device reaches guest RAM through.
func (t *core) Bus() *bus.Bus { return t.bus }

// Queue returns queue i (nil if the device has no such queue).
func (t *core) Queue(i int) *Queue {
	if i < 0 || i >= len(t.queues) {
		return nil
	}
	return t.queues[i]
}

// Status returns the device status register.
func (t *core) Status() uint32 { return t.status }

// Negotiated returns the features the driver accepted.
func (t *core) Negotiated() uint64 { return t.drvFeat }

// Live reports whether the device may process queues: DRIVER_OK is set and
// it does not need a reset.
func (t *core) Live() bool {
	return t.status&StatusDriverOK != 0 && t.status&StatusNeedsReset == 0 && !t.broken
}

// guestErrorKeys bounds the kinds of report a device makes (the keys are
// register offsets and queue numbers, which the guest chooses).
const guestErrorKeys = 256

// GuestError reports a driver error on GuestErrors, once per key: a driver
// in a loop gets one line, not millions, like AC97's reports.
func (t *core) GuestError(key, format string, args ...any) {
	if t.GuestErrors == nil || t.reported[key] || len(t.reported) >= guestErrorKeys {
		return
	}
	if t.reported == nil {
		t.reported = map[string]bool{}
	}
	t.reported[key] = true
	t.GuestErrors(format, args...)
}

// stops says what a device error does to the device.
func (t *core) stops() string {
	if t.legacy {
		return "the device stops until reset (legacy interface: no DEVICE_NEEDS_RESET)"
	}
	return "the device stops and sets DEVICE_NEEDS_RESET (2.1.2)"
}

func (t *core) tracef(format string, args ...any) {
	if t.Trace != nil {
		t.Trace(t.name+": "+format, args...)
	}
}

// Reset is a device reset (status written 0, or a board reset): queues,
// features and interrupts cleared, the device model reset (2.4).
func (t *core) Reset() {
	t.status, t.devSel, t.drvSel, t.drvFeat, t.queueSel = 0, 0, 0, 0, 0
	for _, q := range t.queues {
		q.reset()
		if t.sizedQueues {
			q.Num = q.size
		}
	}
	if t.onReset != nil {
		t.onReset()
	}
	t.Err, t.broken = nil, false
	if t.dev != nil {
		t.dev.Reset()
	}
	t.isr = 0
	t.signal()
}

// features offered: the device's plus the transport's own. The legacy
// interface has no VERSION_1 (and shows only bits 0..31, 4.2.4).
func (t *core) features() uint64 {
	if t.dev == nil {
		return 0
	}
	// EVENT_IDX and RING_RESET as QEMU 10 offers them to virtio-sound on
	// both transports (observed: device features 0x10139000000 on
	// virtio-mmio, 0x10179000000 on virtio-pci; QEMU's event_idx and
	// queue_reset properties default on).
	f := t.dev.Features()&(1<<24-1) | FeatureIndirectDesc | FeatureEventIdx
	if !t.legacy {
		f |= FeatureVersion1 | FeatureRingReset
	}
	return f
}

// queueResetter is a Device that holds chains of a queue between
// notifications (the sound device's pending I/O messages) and must drop
// them when the driver resets that queue alone.
type queueResetter interface {
	ResetQueue(q int)
}

// resetQueue is a virtqueue reset (2.6.1, VIRTIO_F_RING_RESET): the queue
// goes back to its state after a device reset (not ready, no addresses,
// indices 0, the device's own size where the transport reports one), the
// device drops the chains of it that it holds and returns none of them,
// and the queue reads as reset (queue_reset / QueueReset 1) until the
// driver enables it again. Its MSI-X vector stays (the driver re-enabling
// it writes it again, as Linux's vp_modern_enable_vq_after_reset does).
func (t *core) resetQueue(q *Queue) {
	q.reset()
	if t.sizedQueues {
		q.Num = q.size
	}
	q.inReset = true
	if r, ok := t.dev.(queueResetter); ok {
		r.ResetQueue(q.Index)
	}
}

// usedBuffer is a used-buffer notification (2.7.7; the queue's interrupt
// unless the transport routes it elsewhere, as PCI's MSI-X does).
func (t *core) usedBuffer() {
	t.isr |= IntUsedBuffer
	t.signal()
}

// Fail puts the device into its error state: DEVICE_NEEDS_RESET in the
// status and, if the driver is running it, a configuration change
// interrupt (2.1.2). The device stops processing queues until the driver
// resets it.
func (t *core) Fail(err error) {
	t.Errors++
	if t.Err == nil {
		t.Err = err
	}
	t.tracef("device needs reset: %v", err)
	var qe *QueueError
	if errors.As(err, &qe) {
		sect := ""
		if qe.Sect != "" {
			sect = " (VirtIO 1.2 " + qe.Sect + ")"
		}
		t.GuestError(fmt.Sprintf("queue%d:%s", qe.Queue, qe.Sect), "queue %d: %s%s: %s", qe.Queue, qe.What, sect, t.stops())
	} else if errors.Is(err, bus.ErrDMA) {
		t.GuestError("dma", "%v: a buffer outside RAM (VirtIO 1.2 2.7.5): %s", err, t.stops())
	}
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
		t.signal()
	}
}

func (t *core) selected() *Queue { return t.Queue(int(t.queueSel)) }

// writeDriverFeatures is the driver writing 32 bits of its features,
// selected by the driver feature select; ignored once FEATURES_OK is set.
func (t *core) writeDriverFeatures(v uint32) {
	if t.status&StatusFeaturesOK != 0 {
		t.GuestError("features-late", "driver features word %d written (%#x) after FEATURES_OK: ignored (VirtIO 1.2 3.1.1: features are fixed once FEATURES_OK is set)", t.drvSel, v)
	}
	if t.drvSel <= 1 && t.status&StatusFeaturesOK == 0 {
		shift := 32 * t.drvSel
		t.drvFeat = t.drvFeat&^(0xffffffff<<shift) | uint64(v)<<shift
	}
}

// enableQueue is the driver enabling q (QueueReady 1, queue_enable 1):
// its layout is checked, and a bad one puts the device into NEEDS_RESET.
func (t *core) enableQueue(q *Queue) {
	if q.Ready {
		return
	}
	q.indirect = t.drvFeat&FeatureIndirectDesc != 0
	q.eventIdx = t.drvFeat&FeatureEventIdx != 0
	if err := q.enable(); err != nil {
		t.Fail(err)
	}
}

// notify is the driver kicking queue v.
func (t *core) notify(v uint32) {
	switch {
	case v >= uint32(len(t.queues)):
		t.GuestError(fmt.Sprintf("notify%d", v), "notification of queue %d ignored: the device has %d queues (VirtIO 1.2 4.2.2 QueueNotify, 4.1.4.4)", v, len(t.queues))
	case t.status&StatusDriverOK == 0:
		t.GuestError("notify-early", "notification of queue %d before DRIVER_OK ignored (VirtIO 1.2 3.1.1: the driver MUST NOT notify the device before setting DRIVER_OK)", v)
	case !t.queues[v].Ready:
		t.GuestError(fmt.Sprintf("notify-off%d", v), "notification of queue %d ignored: the queue is not enabled (VirtIO 1.2 2.6, 4.2.3.2 QueueReady, 4.1.5.1.3 queue_enable)", v)
	case t.Live():
		t.dev.Notify(int(v))
	}
}

// writeStatus: 0 resets; otherwise the driver sets bits (3.1.1). On
// FEATURES_OK the device checks the driver accepted only offered features
// and leaves FEATURES_OK clear if not (3.1.1 step 6). NEEDS_RESET is the
// device's and survives driver writes.
func (t *core) writeStatus(v uint32) {
	if v == 0 {
		t.Reset()
		return
	}
	v &= 0xff
	if lost := t.status &^ v & (StatusAcknowledge | StatusDriver | StatusFeaturesOK | StatusDriverOK | StatusFailed); lost != 0 {
		t.GuestError("status-clear", "device status %#x written over %#x clears bits %#x without a reset (VirtIO 1.2 2.1.2: the driver MUST NOT clear a device status bit)", v, t.status, lost)
	}
	if v&StatusFeaturesOK != 0 && t.status&StatusFeaturesOK == 0 {
		if t.drvFeat&^t.features() != 0 {
			t.tracef("driver accepted unoffered features %#x: FEATURES_OK refused", t.drvFeat&^t.features())
			t.GuestError("features", "driver features %#x include %#x, which the device did not offer: FEATURES_OK stays clear (VirtIO 1.2 2.2.1, 3.1.1 step 5)", t.drvFeat, t.drvFeat&^t.features())
			v &^= StatusFeaturesOK
		}
	}
	t.status = v&^StatusNeedsReset | t.status&StatusNeedsReset
}

// Both transports carry every device.
var (
	_ Transport = (*MMIO)(nil)
	_ Transport = (*PCI)(nil)
)
