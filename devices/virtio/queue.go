package virtio

import (
	"errors"
	"fmt"

	"gemu/bus"
)

// Split virtqueues (VirtIO 1.2 section 2.7). Everything in the three rings
// is written by the guest and is checked before use: a bad index, address,
// length or chain shape is a *QueueError, which the transport turns into
// DEVICE_NEEDS_RESET (section 2.1.1). Nothing here panics on guest data, and
// every access goes through the bounds-checked bus accessors.

// Descriptor flags (2.7.5).
const (
	descNext     = 1
	descWrite    = 2
	descIndirect = 4
)

// Ring flags: avail.flags bit 0 asks the device not to interrupt (2.7.7),
// used.flags bit 0 asks the driver not to notify (2.7.10).
const (
	availNoInterrupt = 1
)

// ErrQueue is wrapped by every error about a malformed virtqueue.
var ErrQueue = errors.New("virtio: malformed virtqueue")

// QueueError says what was wrong with a queue and where.
type QueueError struct {
	Queue int
	What  string
	Sect  string // the VirtIO 1.2 section the driver broke, for -d guest_errors
}

func (e *QueueError) Error() string { return fmt.Sprintf("virtio: queue %d: %s", e.Queue, e.What) }
func (e *QueueError) Unwrap() error { return ErrQueue }

// Seg is one buffer of a descriptor chain: Len bytes of guest RAM at Addr
// (checked to lie inside RAM when the chain was popped).
type Seg struct {
	Addr uint64
	Len  uint32
}

// Chain is one available descriptor chain: the device-readable buffers in
// order, then the device-writable ones (2.7.4.2 requires that order).
type Chain struct {
	Head     uint16
	Readable []Seg
	Writable []Seg
	RLen     uint64 // total readable bytes
	WLen     uint64 // total writable bytes
}

func (c *Chain) reset(head uint16) {
	c.Head = head
	c.Readable = c.Readable[:0]
	c.Writable = c.Writable[:0]
	c.RLen, c.WLen = 0, 0
}

// ReadAt copies readable bytes starting at byte offset off of the chain's
// readable part (a byte stream across descriptors) into p and returns how
// many were copied (less than len(p) only at the end of the readable part).
func (c *Chain) ReadAt(b *bus.Bus, p []byte, off uint64) (int, error) {
	return chainIO(b, c.Readable, p, off, false)
}

// WriteAt copies p into the writable part at byte offset off and returns how
// many bytes fitted.
func (c *Chain) WriteAt(b *bus.Bus, p []byte, off uint64) (int, error) {
	return chainIO(b, c.Writable, p, off, true)
}

func chainIO(b *bus.Bus, segs []Seg, p []byte, off uint64, write bool) (int, error) {
	n := 0
	for _, s := range segs {
		if len(p) == 0 {
			break
		}
		if off >= uint64(s.Len) {
			off -= uint64(s.Len)
			continue
		}
		k := min(uint64(len(p)), uint64(s.Len)-off)
		var err error
		if write {
			err = b.WriteDMA(s.Addr+off, p[:k])
		} else {
			err = b.ReadDMA(s.Addr+off, p[:k])
		}
		if err != nil {
			return n, err
		}
		n += int(k)
		p = p[k:]
		off = 0
	}
	return n, nil
}

// Queue is one split virtqueue as the device sees it.
type Queue struct {
	Index int
	Max   uint16 // QueueNumMax

	// Driver-programmed, through the transport.
	Num    uint16
	Ready  bool
	Desc   uint64
	Driver uint64 // available ring
	Device uint64 // used ring

	// Legacy interface (mmio version 1): page number and used-ring
	// alignment the rings are laid out from, and the device's own queue
	// size (the initial QueueNum).
	pfn   uint32
	align uint32
	size  uint16

	lastAvail uint16 // next available entry the device will take
	usedIdx   uint16 // next used entry the device will write
	inflight  int    // chains taken and not yet returned
	indirect  bool   // VIRTIO_F_INDIRECT_DESC negotiated
	eventIdx  bool   // VIRTIO_F_EVENT_IDX negotiated
	inReset   bool   // reset alone (VIRTIO_F_RING_RESET) and not re-enabled

	// EVENT_IDX (2.7.10): used.idx when the device last decided whether
	// to interrupt, and whether it has decided since the queue was
	// enabled (QEMU's signalled_used, signalled_used_valid).
	signalled      uint16
	signalledValid bool

	bus       *bus.Bus
	interrupt func() // raise the used-buffer interrupt
}

// reset puts the queue back to its state after device reset (2.1 / 4.2.2:
// QueueReady reads 0, addresses 0).
func (q *Queue) reset() {
	q.Num, q.Ready = 0, false
	q.Desc, q.Driver, q.Device = 0, 0, 0
	q.pfn, q.align = 0, legacyAlign
	q.lastAvail, q.usedIdx, q.inflight = 0, 0, 0
	q.signalled, q.signalledValid, q.inReset = 0, false, false
}

// errorf is a QueueError citing section sect of VirtIO 1.2.
func (q *Queue) errorf(sect, format string, args ...any) error {
	return &QueueError{Queue: q.Index, What: fmt.Sprintf(format, args...), Sect: sect}
}

// enable checks the driver's layout when it sets QueueReady (2.7: sizes and
// alignments of the three areas; 4.2.2: QueueNum a power of two no larger
// than QueueNumMax).
func (q *Queue) enable() error {
	n := uint64(q.Num)
	switch {
	case q.Num == 0 || q.Num > q.Max || q.Num&(q.Num-1) != 0:
		return q.errorf("2.7, 4.2.2", "size %d is not a power of two in 1..%d", q.Num, q.Max)
	case q.Desc%16 != 0 || q.Driver%2 != 0 || q.Device%4 != 0:
		return q.errorf("2.7", "misaligned rings (desc %#x, avail %#x, used %#x)", q.Desc, q.Driver, q.Device)
	case !q.bus.InRAM(q.Desc, 16*n):
		return q.errorf("2.7.5", "descriptor table [%#x,+%#x) outside RAM", q.Desc, 16*n)
	case !q.bus.InRAM(q.Driver, 6+2*n):
		return q.errorf("2.7.6", "available ring [%#x,+%#x) outside RAM", q.Driver, 6+2*n)
	case !q.bus.InRAM(q.Device, 6+8*n):
		return q.errorf("2.7.8", "used ring [%#x,+%#x) outside RAM", q.Device, 6+8*n)
	}
	q.Ready = true
	q.inReset = false
	return nil
}

// Pop takes the next available chain into c (reusing its slices). ok is
// false when the ring is empty or the queue is not ready. Every descriptor
// is checked: index below the table size, buffer inside RAM, no readable
// buffer after a writable one, no loop (a chain visits at most Num
// descriptors, 2.7.5.3.1), indirect tables well formed and not nested
// (2.7.5.3).
func (q *Queue) Pop(c *Chain) (ok bool, err error) {
	if !q.Ready {
		return false, nil
	}
	idx, err := q.bus.Read16(q.Driver + 2)
	if err != nil {
		return false, q.errorf("2.7.6", "avail.idx: %v", err)
	}
	if q.eventIdx {
		// Ask to be notified of the next chain after the ones seen
		// (avail_event at the end of the used ring, 2.7.10): every new
		// chain is notified, as without EVENT_IDX, but a driver adding
		// several before the device looks needs to notify only once.
		if err := q.bus.Write16(q.Device+4+8*uint64(q.Num), idx); err != nil {
			return false, q.errorf("2.7.10", "used.avail_event: %v", err)
		}
	}
	pending := idx - q.lastAvail
	if pending == 0 {
		return false, nil
	}
	if pending > q.Num {
		return false, q.errorf("2.7.6", "avail.idx %d is %d entries ahead of the device (queue size %d)", idx, pending, q.Num)
	}
	// The driver cannot have more chains outstanding than the queue has
	// entries; more means it re-offered buffers the device holds, or that
	// its rings overlap (the device's used-ring writes moving avail.idx).
	if q.inflight >= int(q.Num) {
		return false, q.errorf("2.7.6", "more than %d chains in flight", q.Num)
	}
	head, err := q.bus.Read16(q.Driver + 4 + 2*uint64(q.lastAvail%q.Num))
	if err != nil {
		return false, q.errorf("2.7.6", "avail.ring: %v", err)
	}
	if head >= q.Num {
		return false, q.errorf("2.7.6", "avail.ring[%d] = %d is not below the queue size %d", q.lastAvail%q.Num, head, q.Num)
	}
	c.reset(head)
	if err := q.walk(c, head); err != nil {
		return false, err
	}
	q.lastAvail++
	q.inflight++
	return true, nil
}

// walk follows the chain starting at descriptor head.
func (q *Queue) walk(c *Chain, head uint16) error {
	table, size := q.Desc, uint32(q.Num)
	i := uint32(head)
	total := 0 // buffers collected, across direct and indirect descriptors
	seen := 0  // descriptors visited in the current table
	inIndirect := false
	for {
		seen++
		if seen > int(size) {
			return q.errorf("2.7.5.2", "descriptor chain from %d loops or is longer than its table (%d)", head, size)
		}
		var d [16]byte
		if err := q.bus.ReadDMA(table+16*uint64(i), d[:]); err != nil {
			return q.errorf("2.7.5", "descriptor %d: %v", i, err)
		}
		addr := le64(d[0:])
		length := le32(d[8:])
		flags := le16(d[12:])
		next := le16(d[14:])
		if flags&descIndirect != 0 {
			switch {
			case !q.indirect:
				return q.errorf("2.7.5.3.1", "descriptor %d is indirect but VIRTIO_F_INDIRECT_DESC was not negotiated", i)
			case inIndirect:
				return q.errorf("2.7.5.3.1", "nested indirect descriptor %d", i)
			case flags&descNext != 0:
				return q.errorf("2.7.5.3.1", "indirect descriptor %d also has NEXT set", i)
			case length == 0 || length%16 != 0 || length/16 > uint32(q.Num):
				return q.errorf("2.7.5.3.1", "indirect table length %d is not a multiple of 16 in 16..%d", length, 16*uint32(q.Num))
			case addr%16 != 0 || !q.bus.InRAM(addr, uint64(length)):
				return q.errorf("2.7.5.3", "indirect table [%#x,+%#x) misaligned or outside RAM", addr, length)
			}
			table, size, i, seen, inIndirect = addr, length/16, 0, 0, true
			continue
		}
		if !q.bus.InRAM(addr, uint64(length)) {
			return q.errorf("2.7.5", "descriptor %d buffer [%#x,+%#x) outside RAM", i, addr, length)
		}
		total++
		if total > int(q.Num) {
			return q.errorf("2.7.5.2", "descriptor chain from %d is longer than the queue size %d", head, q.Num)
		}
		if flags&descWrite != 0 {
			c.Writable = append(c.Writable, Seg{addr, length})
			c.WLen += uint64(length)
		} else {
			if len(c.Writable) > 0 {
				return q.errorf("2.7.4.2", "descriptor %d is device-readable after a device-writable one", i)
			}
			c.Readable = append(c.Readable, Seg{addr, length})
			c.RLen += uint64(length)
		}
		if flags&descNext == 0 {
			return nil
		}
		if uint32(next) >= size {
			return q.errorf("2.7.5", "descriptor %d: next %d is not below the table size %d", i, next, size)
		}
		i = uint32(next)
	}
}

// Push returns a chain to the driver with written bytes of its writable
// part filled (2.7.8), then raises the used-buffer interrupt unless the
// driver suppressed it (avail.flags NO_INTERRUPT, 2.7.7). The element is
// written before used.idx, so the driver never sees an index ahead of its
// element.
func (q *Queue) Push(head uint16, written uint32) error {
	if !q.Ready {
		return nil // the queue was reset: the chain is simply dropped
	}
	e := q.Device + 4 + 8*uint64(q.usedIdx%q.Num)
	var b [8]byte
	put32(b[0:], uint32(head))
	put32(b[4:], written)
	if err := q.bus.WriteDMA(e, b[:]); err != nil {
		return q.errorf("2.7.8", "used.ring: %v", err)
	}
	q.usedIdx++
	if q.inflight > 0 {
		q.inflight--
	}
	if err := q.bus.Write16(q.Device+2, q.usedIdx); err != nil {
		return q.errorf("2.7.8", "used.idx: %v", err)
	}
	notify, err := q.shouldNotify()
	if err != nil {
		return err
	}
	if notify && q.interrupt != nil {
		q.interrupt()
	}
	return nil
}

// shouldNotify decides whether a used-buffer notification is due after
// used.idx moved: without EVENT_IDX unless avail.flags has NO_INTERRUPT
// (2.7.7.2); with it, ignoring the flags, when used.idx passed the
// driver's used_event since the last decision (2.7.10: the device
// notifies when the index it writes goes from below used_event + 1 to at
// least it; vring_need_event in the spec's 2.7.10.1 and QEMU's
// virtio_split_should_notify).
func (q *Queue) shouldNotify() (bool, error) {
	if !q.eventIdx {
		flags, err := q.bus.Read16(q.Driver)
		if err != nil {
			return false, q.errorf("2.7.7", "avail.flags: %v", err)
		}
		return flags&availNoInterrupt == 0, nil
	}
	event, err := q.bus.Read16(q.Driver + 4 + 2*uint64(q.Num))
	if err != nil {
		return false, q.errorf("2.7.10", "avail.used_event: %v", err)
	}
	old, valid := q.signalled, q.signalledValid
	q.signalled, q.signalledValid = q.usedIdx, true
	return !valid || needEvent(event, q.usedIdx, old), nil
}

// needEvent is vring_need_event (VirtIO 1.2 2.7.10.1): whether moving an
// index from old to new passed event, modulo 2^16.
func needEvent(event, new, old uint16) bool {
	return new-event-1 < new-old
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }
func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
func put64(b []byte, v uint64) {
	put32(b, uint32(v))
	put32(b[4:], uint32(v>>32))
}
