package virtio

import (
	"testing"

	"gemu/bus"
)

// setupLegacy is a legacy (version 1) driver's initialisation, as xv6-mp3's
// and Linux's virtio_mmio do it for Version 1: reset, ACK, DRIVER, 32
// feature bits, GuestPageSize, then per queue QueueNum, QueueAlign and
// QueuePFN with the rings in the layout the device derives, DRIVER_OK.
func (r *rig) setupLegacy(num uint16) {
	r.m.SetLegacy(true)
	r.wr(RegStatus, 0)
	r.wr(RegStatus, StatusAcknowledge)
	r.wr(RegStatus, StatusAcknowledge|StatusDriver)
	r.wr(RegDriverFeatSel, 0)
	r.wr(RegDriverFeatures, FeatureIndirectDesc)
	r.wr(RegGuestPageSize, 4096)
	for i := range r.q[:r.nq] {
		n := uint64(num)
		r.heap = (r.heap + 4095) &^ 4095
		q := &drvQueue{idx: i, num: num}
		q.desc = r.heap
		q.avail = q.desc + 16*n
		q.used = (q.avail + 6 + 2*n + 4095) &^ 4095
		r.heap = q.used + 6 + 8*n
		for d := uint16(0); d < num; d++ {
			q.free = append(q.free, d)
		}
		r.wr(RegQueueSel, uint32(i))
		if r.rd(RegQueuePFN) != 0 {
			r.fatalf("queue %d in use before setup", i)
		}
		if got := r.rd(RegQueueNumMax); got != QueueNumMax {
			r.fatalf("QueueNumMax = %d, want %d", got, QueueNumMax)
		}
		r.wr(RegQueueNum, uint32(num))
		r.wr(RegQueueAlign, 4096)
		r.wr(RegQueuePFN, uint32(q.desc>>12))
		r.q[i] = q
	}
	r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusDriverOK)
}

func TestLegacyRegisters(t *testing.T) {
	r := newRig(t)
	r.m.SetLegacy(true)
	want := map[uint64]uint32{
		RegMagic: Magic, RegVersion: 1, RegDeviceID: 25, RegVendorID: VendorID,
		RegDeviceFeatures: FeatureIndirectDesc | FeatureEventIdx | FeatureCtls, RegQueueReady: 0,
		RegConfigGeneration: 0, RegSHMLenLow: 0, RegQueueNumMax: QueueNumMax,
	}
	for off, w := range want {
		if got := r.rd(off); got != w {
			t.Errorf("register %#x = %#x, want %#x", off, got, w)
		}
	}
	r.wr(RegDeviceFeatSel, 1)
	if got := r.rd(RegDeviceFeatures); got != 0 {
		t.Errorf("legacy high feature word = %#x, want 0 (no VERSION_1)", got)
	}
	// The driver cannot accept what was not offered, nor high bits.
	r.wr(RegDriverFeatSel, 1)
	r.wr(RegDriverFeatures, 1)
	r.wr(RegDriverFeatSel, 0)
	r.wr(RegDriverFeatures, 0xffffffff)
	if got := r.m.Negotiated(); got != FeatureIndirectDesc|FeatureEventIdx|FeatureCtls {
		t.Errorf("negotiated %#x, want only INDIRECT_DESC, EVENT_IDX and CTLS", got)
	}
	empty := NewMMIO(r.bus, bus.IRQ{}, nil)
	empty.SetLegacy(true)
	if v := empty.Read(RegVersion, 4); v != 1 {
		t.Errorf("empty legacy slot version %d, want 1", v)
	}
}

// TestLegacySound: the sound device answers through legacy queues, and
// QueuePFN 0 resets the device.
func TestLegacySound(t *testing.T) {
	r := newRig(t)
	r.setupLegacy(16)
	if q := r.m.Queue(QueueControl); q.Device != r.q[QueueControl].used || q.Driver != r.q[QueueControl].avail {
		t.Fatalf("device layout avail %#x used %#x, driver's %#x %#x", q.Driver, q.Device, r.q[0].avail, r.q[0].used)
	}
	st, p := r.ctl(le(reqPCMInfo, 0, 2, 32), 64)
	if st != sndOK || len(p) != 64 {
		t.Fatalf("PCM info over legacy: status %#x", st)
	}
	if !r.irq.level || r.rd(RegInterruptStatus) != IntUsedBuffer {
		t.Errorf("no used-buffer interrupt")
	}
	r.wr(RegInterruptACK, IntUsedBuffer)
	if r.irq.level {
		t.Errorf("line high after ACK")
	}
	r.wr(RegQueueSel, 0)
	r.wr(RegQueuePFN, 0)
	if s := r.rd(RegStatus); s != 0 || r.m.Queue(0).Ready {
		t.Errorf("after QueuePFN 0: status %#x, queue ready %v", s, r.m.Queue(0).Ready)
	}
}

// TestLegacyBadLayout: a queue outside RAM breaks the device without the
// NEEDS_RESET bit legacy drivers do not know; a reset repairs it.
func TestLegacyBadLayout(t *testing.T) {
	r := newRig(t)
	r.m.SetLegacy(true)
	r.wr(RegStatus, StatusAcknowledge|StatusDriver)
	r.wr(RegGuestPageSize, 4096)
	r.wr(RegQueueSel, 0)
	r.wr(RegQueueNum, 16)
	r.wr(RegQueuePFN, 0x10) // page 0x10: not RAM
	if r.m.Queue(0).Ready || r.m.Err == nil {
		t.Fatalf("queue outside RAM accepted")
	}
	if s := r.rd(RegStatus); s&StatusNeedsReset != 0 {
		t.Errorf("legacy status shows NEEDS_RESET")
	}
	r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusDriverOK)
	if r.m.Live() {
		t.Errorf("broken device live")
	}
	r.setupLegacy(16)
	if !r.m.Live() {
		t.Errorf("not live after reset")
	}
}

// FuzzLegacy drives arbitrary register traffic at a legacy slot holding
// the sound device, with the RAM the queues may land in filled from the
// input too: no panic, every DMA bounds-checked, and the device answers
// again after a reset.
func FuzzLegacy(f *testing.F) {
	f.Add([]byte{0x70, 3, 0x28, 0x10, 0x30, 0, 0x38, 8, 0x40, 0x81, 0x70, 7, 0x50, 0})
	f.Add([]byte{0x3c, 0, 0x40, 0x80, 0x50, 0, 0x38, 200})
	f.Fuzz(func(t *testing.T, data []byte) {
		// The pages the input points at (the first 64 KiB and the rings
		// laid out from them), then queues from 128 KiB.
		r := newRigRAM(t, 0x40000)
		r.m.SetLegacy(true)
		regs := []uint64{RegDeviceFeatSel, RegDriverFeatures, RegDriverFeatSel, RegGuestPageSize,
			RegQueueSel, RegQueueNum, RegQueueAlign, RegQueuePFN, RegQueueNotify,
			RegInterruptACK, RegStatus, RegQueueReady, RegQueueDescLow, RegConfig}
		// Fill the first 64 KiB of RAM with the input, where the page
		// numbers below point.
		if len(data) > 0 {
			fill := make([]byte, 0x10000)
			for i := range fill {
				fill[i] = data[i%len(data)] ^ byte(i>>8)
			}
			r.bus.WriteDMA(ramBase, fill)
		}
		for i := 0; i+1 < len(data); i += 2 {
			off := regs[int(data[i])%len(regs)]
			v := uint32(data[i+1])
			switch off {
			case RegQueuePFN:
				v = ramBase>>12 + v%16 // pages in RAM, sometimes
				if data[i]&0x80 != 0 {
					v = uint32(data[i+1]) << 4
				}
			case RegGuestPageSize:
				v = 1 << (v % 14)
			case RegQueueAlign:
				v = 1 << (v % 13)
			}
			r.wr(off, v)
			r.rd(off)
			r.run(100_000)
		}
		r.heap = ramBase + 0x20000
		r.setupLegacy(8)
		if st, _ := r.ctl(le(reqPCMInfo, 0, 2, 32), 64); st != sndOK {
			t.Fatalf("after reset: status %#x", st)
		}
	})
}
