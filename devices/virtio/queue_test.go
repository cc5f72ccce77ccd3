package virtio

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// desc writes descriptor i of queue qi.
func (r *rig) desc(qi int, i uint16, addr uint64, n uint32, flags, next uint16) {
	d := r.q[qi].desc + 16*uint64(i)
	r.w64(d, addr)
	r.w32(d+8, n)
	r.w16(d+12, flags)
	r.w16(d+14, next)
}

// TestMalformedQueues: every kind of bad ring puts the device into
// NEEDS_RESET with a configuration-change interrupt, touches nothing
// outside RAM, and a reset brings it back to work.
func TestMalformedQueues(t *testing.T) {
	buf := uint64(ramBase + 0x100000)
	req := func(r *rig) { r.bus.WriteDMA(buf, le(reqPCMInfo, 0, 2, 32)) }
	tests := []struct {
		name  string
		build func(r *rig) // lays out queue 0 and publishes
	}{
		{"loop", func(r *rig) {
			r.desc(0, 0, buf, 16, descNext, 1)
			r.desc(0, 1, buf+16, 4, descNext|descWrite, 0)
			r.publish(0, 0, true)
		}},
		{"self loop", func(r *rig) {
			r.desc(0, 3, buf, 16, descNext, 3)
			r.publish(0, 3, true)
		}},
		{"next out of range", func(r *rig) {
			r.desc(0, 0, buf, 16, descNext, 16)
			r.publish(0, 0, true)
		}},
		{"head out of range", func(r *rig) { r.publish(0, 200, true) }},
		{"buffer outside RAM", func(r *rig) {
			r.desc(0, 0, 0x1000, 16, 0, 0)
			r.publish(0, 0, true)
		}},
		{"buffer straddles the end of RAM", func(r *rig) {
			r.desc(0, 0, ramBase+ramSize-8, 16, 0, 0)
			r.publish(0, 0, true)
		}},
		{"huge length", func(r *rig) {
			r.desc(0, 0, buf, 0xffffffff, 0, 0)
			r.publish(0, 0, true)
		}},
		{"readable after writable", func(r *rig) {
			r.desc(0, 0, buf+64, 4, descWrite|descNext, 1)
			r.desc(0, 1, buf, 16, 0, 0)
			r.publish(0, 0, true)
		}},
		{"avail.idx runs ahead", func(r *rig) {
			r.w16(r.q[0].avail+2, 40)
			r.wr(RegQueueNotify, 0)
		}},
		{"chain re-offered while the device holds it", func(r *rig) {
			// A tx message for a prepared (not started) stream stays with
			// the device; offering its head again and again exceeds the
			// queue size.
			r.mustOK(params(0, 4096, 1024, 2, 5, 7))
			r.mustOK(pcmReq(reqPCMPrepare, 0))
			r.bus.WriteDMA(buf+0x400, le(0, 0, 0, 0))
			r.desc(QueueTx, 0, buf+0x400, 8, descNext, 1)
			r.desc(QueueTx, 1, buf+0x500, 8, descWrite, 0)
			for i := 0; i < 17; i++ {
				r.publish(QueueTx, 0, true)
			}
		}},
		{"used ring over avail.idx", func(r *rig) {
			// The device's used-ring writes land on avail.idx: it must
			// neither loop forever nor run past the queue size.
			q := r.q[0]
			r.wr(RegStatus, 0)
			r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
			r.wr(RegQueueSel, 0)
			r.wr(RegQueueNum, 16)
			r.m.Write(RegQueueDescLow, 8, q.desc)
			r.m.Write(RegQueueDriverLow, 8, q.avail)
			r.m.Write(RegQueueDeviceLow, 8, q.avail-4) // used.ring[0].len = avail.idx
			r.wr(RegQueueReady, 1)
			r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
			for i := uint64(0); i < 16; i++ {
				r.w16(q.avail+4+2*i, 0)
			}
			r.desc(0, 0, buf, 16, descNext, 1)
			r.desc(0, 1, buf+0x100, 0x4000, descWrite, 0)
			r.w16(q.avail+2, 1)
			r.wr(RegQueueNotify, 0)
		}},
		{"indirect nested", func(r *rig) {
			tbl := uint64(ramBase + 0x200000)
			r.bus.Write64(tbl, tbl)
			r.bus.Write32(tbl+8, 32)
			r.bus.Write16(tbl+12, descIndirect)
			r.desc(0, 0, tbl, 32, descIndirect, 0)
			r.publish(0, 0, true)
		}},
		{"indirect with next", func(r *rig) {
			r.desc(0, 0, ramBase+0x200000, 32, descIndirect|descNext, 1)
			r.publish(0, 0, true)
		}},
		{"indirect bad length", func(r *rig) {
			r.desc(0, 0, ramBase+0x200000, 24, descIndirect, 0)
			r.publish(0, 0, true)
		}},
		{"indirect table outside RAM", func(r *rig) {
			r.desc(0, 0, 0x10000, 32, descIndirect, 0)
			r.publish(0, 0, true)
		}},
		{"indirect loop", func(r *rig) {
			tbl := uint64(ramBase + 0x200000)
			for i := uint64(0); i < 2; i++ {
				r.bus.Write64(tbl+16*i, buf)
				r.bus.Write32(tbl+16*i+8, 16)
				r.bus.Write16(tbl+16*i+12, descNext)
				r.bus.Write16(tbl+16*i+14, uint16(1-i))
			}
			r.desc(0, 0, tbl, 32, descIndirect, 0)
			r.publish(0, 0, true)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.setup(16)
			req(r)
			r.wr(RegInterruptACK, 3)
			tc.build(r)
			if s := r.rd(RegStatus); s&StatusNeedsReset == 0 {
				t.Fatalf("status %#x lacks NEEDS_RESET", s)
			}
			if isr := r.rd(RegInterruptStatus); isr&IntConfigChange == 0 || !r.irq.level {
				t.Errorf("interrupt status %#x, line %v: want a config change interrupt", isr, r.irq.level)
			}
			if !errors.Is(r.m.Err, ErrQueue) {
				t.Errorf("error %v does not wrap ErrQueue", r.m.Err)
			}
			// The driver's writes keep NEEDS_RESET until it resets.
			r.wr(RegStatus, r.rd(RegStatus))
			if r.rd(RegStatus)&StatusNeedsReset == 0 {
				t.Errorf("a status write cleared NEEDS_RESET")
			}
			// After a reset the device works again.
			r.heap = ramBase + 0x10000
			r.setup(16)
			if st, p := r.ctl(le(reqPCMInfo, 0, 2, 32), 64); st != sndOK || len(p) != 64 {
				t.Errorf("after reset: status %#x", st)
			}
		})
	}
}

// TestQueueSetup: bad queue layouts are refused when the queue is enabled.
func TestQueueSetup(t *testing.T) {
	tests := []struct {
		name              string
		num               uint32
		desc, avail, used uint64
		ok                bool
	}{
		{"good", 16, ramBase + 0x1000, ramBase + 0x2000, ramBase + 0x3000, true},
		{"size 0", 0, ramBase + 0x1000, ramBase + 0x2000, ramBase + 0x3000, false},
		{"size not a power of two", 24, ramBase + 0x1000, ramBase + 0x2000, ramBase + 0x3000, false},
		{"size above max", 2048, ramBase + 0x1000, ramBase + 0x8000, ramBase + 0x9000, false},
		{"size above 16 bits", 1 << 16, ramBase + 0x1000, ramBase + 0x2000, ramBase + 0x3000, false},
		{"desc misaligned", 16, ramBase + 0x1008, ramBase + 0x2000, ramBase + 0x3000, false},
		{"used outside RAM", 16, ramBase + 0x1000, ramBase + 0x2000, 0x1000_0000, false},
		{"desc at the end of RAM", 16, ramBase + ramSize - 16, ramBase + 0x2000, ramBase + 0x3000, false},
		{"avail above 4 GiB", 16, ramBase + 0x1000, 1<<40 + 0x2000, ramBase + 0x3000, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
			r.wr(RegQueueSel, 2)
			r.wr(RegQueueNum, tc.num)
			r.m.Write(RegQueueDescLow, 8, tc.desc)
			r.m.Write(RegQueueDriverLow, 8, tc.avail)
			r.m.Write(RegQueueDeviceLow, 8, tc.used)
			r.wr(RegQueueReady, 1)
			ready := r.rd(RegQueueReady) == 1
			needs := r.rd(RegStatus)&StatusNeedsReset != 0
			if ready != tc.ok || needs == tc.ok {
				t.Errorf("ready %v, needs reset %v; want ready %v", ready, needs, tc.ok)
			}
		})
	}
}

// TestIndirect: a control request through an indirect table (3 buffers)
// is answered like a direct one.
func TestIndirect(t *testing.T) {
	r := newRig(t)
	r.setup(16)
	tbl := r.alloc(48)
	req := r.alloc(16)
	hdr := r.alloc(4)
	items := r.alloc(64)
	r.bus.WriteDMA(req, le(reqPCMInfo, 0, 2, 32))
	for i, d := range []struct {
		a     uint64
		n     uint32
		flags uint16
	}{{req, 16, descNext}, {hdr, 4, descWrite | descNext}, {items, 64, descWrite}} {
		e := tbl + 16*uint64(i)
		r.w64(e, d.a)
		r.w32(e+8, d.n)
		r.w16(e+12, d.flags)
		r.w16(e+14, uint16(i+1))
	}
	r.desc(QueueControl, 5, tbl, 48, descIndirect, 0)
	r.publish(QueueControl, 5, true)
	u := r.used(QueueControl, nil)
	if len(u) != 1 || u[0] != (usedElem{5, 68}) {
		t.Fatalf("used %+v, want {5 68}", u)
	}
	st, _ := r.bus.Read32(hdr)
	got := make([]byte, 64)
	r.bus.ReadDMA(items, got)
	if st != sndOK || string(got[:32]) != string(pcmInfoItem(0)) {
		t.Errorf("status %#x, item 0 %x", st, got[:32])
	}
}

// TestInterruptSuppression: with avail.flags NO_INTERRUPT the device
// returns buffers without raising the line; InterruptACK lowers it.
func TestInterruptSuppression(t *testing.T) {
	r := newRig(t)
	r.setup(16)
	r.w16(r.q[QueueControl].avail, availNoInterrupt)
	r.ctl(le(reqPCMInfo, 0, 0, 32), 0)
	if r.irq.level || r.rd(RegInterruptStatus) != 0 {
		t.Fatalf("interrupt raised despite NO_INTERRUPT")
	}
	r.w16(r.q[QueueControl].avail, 0)
	r.ctl(le(reqPCMInfo, 0, 0, 32), 0)
	if !r.irq.level || r.rd(RegInterruptStatus) != IntUsedBuffer {
		t.Fatalf("no used-buffer interrupt")
	}
	r.wr(RegInterruptACK, IntUsedBuffer)
	if r.irq.level || r.rd(RegInterruptStatus) != 0 {
		t.Errorf("ACK did not lower the line")
	}
}

func TestNeedEvent(t *testing.T) {
	for _, tc := range []struct {
		event, new, old uint16
		want            bool
	}{
		{0, 1, 0, true},           // passed event 0
		{3, 2, 1, false},          // not there yet
		{3, 4, 3, true},           // moved past it
		{3, 4, 0, true},           // a batch over it
		{3, 8, 4, false},          // already past before
		{0xffff, 0, 0xfffe, true}, // across the wrap
		{0xfffe, 1, 0xffff, false},
	} {
		if got := needEvent(tc.event, tc.new, tc.old); got != tc.want {
			t.Errorf("needEvent(%d, %d, %d) = %v, want %v", tc.event, tc.new, tc.old, got, tc.want)
		}
	}
}

// TestEventIdx: with VIRTIO_F_EVENT_IDX the device interrupts only when
// used.idx passes the driver's used_event, ignoring avail.flags (2.7.10),
// and publishes in avail_event the available index it has seen, so the
// driver notifies it of the next chain.
func TestEventIdx(t *testing.T) {
	r := newRig(t)
	r.feat = FeatureEventIdx
	r.setup(16)
	if r.m.Negotiated()&FeatureEventIdx == 0 {
		t.Fatal("EVENT_IDX not negotiated")
	}
	q := r.q[QueueControl]
	usedEvent := q.avail + 4 + 2*uint64(q.num)
	availEvent := q.used + 4 + 8*uint64(q.num)
	r.w16(q.avail, availNoInterrupt) // ignored with EVENT_IDX
	r.w16(usedEvent, 3)
	var got []bool
	for i := 0; i < 6; i++ {
		r.ctl(le(reqPCMInfo, 0, 0, 32), 0)
		got = append(got, r.rd(RegInterruptStatus)&IntUsedBuffer != 0)
		r.wr(RegInterruptACK, IntUsedBuffer)
		if ae, _ := r.bus.Read16(availEvent); ae != q.availIdx {
			t.Errorf("request %d: avail_event %d, want %d (the index the device saw)", i, ae, q.availIdx)
		}
	}
	// The first decision always interrupts; then only used.idx 3 -> 4.
	if d := cmp.Diff([]bool{true, false, false, true, false, false}, got); d != "" {
		t.Errorf("interrupts per request (-want +got):\n%s", d)
	}
	// used_event far behind: no more interrupts until the index wraps to it.
	r.w16(usedEvent, 1)
	r.ctl(le(reqPCMInfo, 0, 0, 32), 0)
	if r.rd(RegInterruptStatus) != 0 {
		t.Errorf("interrupt with used_event behind used.idx")
	}
	// used_event = the current index: the next buffer interrupts.
	idx, _ := r.bus.Read16(q.used + 2)
	r.w16(usedEvent, idx)
	r.ctl(le(reqPCMInfo, 0, 0, 32), 0)
	if r.rd(RegInterruptStatus)&IntUsedBuffer == 0 || !r.irq.level {
		t.Errorf("no interrupt when used.idx passed used_event")
	}
}

// TestRingResetMMIO: with VIRTIO_F_RING_RESET, QueueReset resets one
// queue (2.6.1, 4.2.2): it reads 1 and QueueReady 0 until the driver
// enables it again with new rings, the device drops the tx messages it
// held for that queue (returning none), the other queues keep working,
// and the re-enabled queue works from index 0.
func TestRingResetMMIO(t *testing.T) {
	r := newRig(t)
	r.feat = FeatureRingReset
	r.setup(16)
	r.mustOK(params(0, 8192, 2048, 2, 5, 7))
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	tx := r.submit(QueueTx, []buf{{data: append(le(0), pattern(256, 1)...)}, {writable: 8}}, true)
	if n := len(r.snd.streams[0].pending); n != 1 {
		t.Fatalf("%d pending tx messages, want 1", n)
	}
	r.wr(RegQueueSel, QueueTx)
	if v := r.rd(RegQueueReset); v != 0 {
		t.Errorf("QueueReset before a reset = %d", v)
	}
	r.wr(RegQueueReset, 1)
	if r.rd(RegQueueReset) != 1 || r.rd(RegQueueReady) != 0 {
		t.Errorf("after reset: QueueReset %d, QueueReady %d; want 1, 0", r.rd(RegQueueReset), r.rd(RegQueueReady))
	}
	if n := len(r.snd.streams[0].pending); n != 0 {
		t.Errorf("%d tx messages still held after the queue reset", n)
	}
	if r.rd(RegStatus)&StatusNeedsReset != 0 {
		t.Fatalf("queue reset set NEEDS_RESET: %v", r.m.Err)
	}
	// Other queues are untouched.
	if st, _ := r.ctl(le(reqPCMInfo, 0, 2, 32), 64); st != sndOK {
		t.Errorf("control after tx reset: %#x", st)
	}
	// Re-enable tx with fresh rings; its indices start at 0 again.
	nq := &drvQueue{idx: QueueTx, num: 8}
	nq.desc, nq.avail, nq.used = r.alloc(16*8), r.alloc(6+2*8), r.alloc(6+8*8)
	for d := uint16(0); d < 8; d++ {
		nq.free = append(nq.free, d)
	}
	r.wr(RegQueueNum, 8)
	r.wr(RegQueueDescLow, uint32(nq.desc))
	r.wr(RegQueueDriverLow, uint32(nq.avail))
	r.wr(RegQueueDeviceLow, uint32(nq.used))
	r.wr(RegQueueReady, 1)
	if r.rd(RegQueueReset) != 0 || r.rd(RegQueueReady) != 1 {
		t.Fatalf("re-enabled: QueueReset %d, QueueReady %d", r.rd(RegQueueReset), r.rd(RegQueueReady))
	}
	old := r.q[QueueTx]
	r.q[QueueTx] = nq
	r.mustOK(pcmReq(reqPCMStart, 0))
	data := pattern(480, 2)
	c := r.submit(QueueTx, []buf{{data: append(le(0), data...)}, {writable: 8}}, true)
	r.run(50e6)
	if u := r.used(QueueTx, map[uint16]chain{c.head: c}); len(u) != 1 || u[0].head != c.head {
		t.Fatalf("tx after re-enable: used %+v", u)
	}
	if idx, _ := r.bus.Read16(old.used + 2); idx != 0 {
		t.Errorf("the dropped message %d was returned on the old ring", tx.head)
	}
	if !bytes.Equal(r.be.played(), data) {
		t.Errorf("played %d bytes, want only the %d of the new message", len(r.be.played()), len(data))
	}
}

// TestRingResetNotNegotiated: without RING_RESET, QueueReset does nothing
// and reads 0.
func TestRingResetNotNegotiated(t *testing.T) {
	r := newRig(t)
	r.setup(16)
	r.wr(RegQueueSel, QueueTx)
	r.wr(RegQueueReset, 1)
	if r.rd(RegQueueReset) != 0 || r.rd(RegQueueReady) != 1 {
		t.Errorf("QueueReset %d, QueueReady %d without RING_RESET; want 0, 1", r.rd(RegQueueReset), r.rd(RegQueueReady))
	}
}
