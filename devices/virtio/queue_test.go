package virtio

import (
	"errors"
	"testing"
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
