package virtio

// The legacy virtio-mmio interface, version 1 (VirtIO 1.2 section 4.2.4
// "Legacy interface"; QEMU hw/virtio/virtio-mmio.c with proxy->legacy set,
// its default on the virt board). Compared with version 2:
//
//   - features are 32 bits: DeviceFeatures with DeviceFeaturesSel > 0 reads
//     0, DriverFeatures with DriverFeaturesSel > 0 is ignored, and VERSION_1
//     is not offered; there is no FEATURES_OK handshake;
//   - a queue is laid out by the device from one guest page number:
//     QueueNum entries, QueueAlign (default 4096) and QueuePFN × GuestPageSize
//     give the descriptor table at that address, the available ring right
//     after it and the used ring at the next QueueAlign boundary (QEMU's
//     virtio_queue_update_rings); writing QueuePFN 0 resets the device;
//   - QueueReady, the 64-bit ring address registers, ConfigGeneration and
//     the shared-memory registers do not exist (read 0, writes ignored);
//   - a device error does not set DEVICE_NEEDS_RESET (legacy drivers do
//     not know it): the device stops processing queues until reset, as
//     QEMU's virtio_error marks a legacy device broken.

func (t *MMIO) readLegacy(off uint64, q *Queue) uint32 {
	switch off {
	case RegDeviceID:
		return t.dev.DeviceID()
	case RegDeviceFeatures:
		if t.devSel != 0 {
			return 0
		}
		return uint32(t.features())
	case RegQueueNumMax:
		if q != nil {
			return uint32(q.Max)
		}
	case RegQueuePFN:
		if q != nil {
			return q.pfn
		}
	case RegInterruptStatus:
		return t.isr
	case RegStatus:
		return t.status
	}
	return 0
}

func (t *MMIO) writeLegacy(off uint64, v uint32, q *Queue) {
	switch off {
	case RegDeviceFeatSel:
		t.devSel = v
	case RegDriverFeatures:
		// QEMU's virtio_set_features keeps the offered bits only.
		if t.drvSel == 0 {
			t.drvFeat = uint64(v) & t.features()
		}
	case RegDriverFeatSel:
		t.drvSel = v
	case RegGuestPageSize:
		// QEMU: guest_page_shift = ctz32(value), 0 for a value of 0.
		t.pageShift = 0
		for s := uint32(0); s < 32; s++ {
			if v&(1<<s) != 0 {
				t.pageShift = s
				break
			}
		}
	case RegQueueSel:
		t.queueSel = v
	case RegQueueNum:
		if q != nil {
			if v > uint32(q.Max) {
				return // QEMU's virtio_queue_set_num ignores it
			}
			q.Num = uint16(v)
			t.layoutLegacy(q)
		}
	case RegQueueAlign:
		if q != nil {
			q.align = v
			t.layoutLegacy(q)
		}
	case RegQueuePFN:
		if q == nil {
			return
		}
		if v == 0 {
			t.Reset()
			return
		}
		q.pfn = v
		t.layoutLegacy(q)
	case RegQueueNotify:
		t.notify(v)
	case RegInterruptACK:
		t.isr &^= v
		t.updateIRQ()
	case RegStatus:
		if v == 0 {
			t.Reset()
			return
		}
		t.status = v & 0xff &^ StatusNeedsReset
	}
}

// layoutLegacy places queue q's rings from its page number, size and
// alignment (QEMU virtio_queue_update_rings: the available ring follows
// the descriptor table, the used ring starts at the next alignment
// boundary after avail.ring[num]) and checks them as a modern driver's
// QueueReady would be checked. A queue without a page number is not in use.
func (t *MMIO) layoutLegacy(q *Queue) {
	q.Ready = false
	if q.pfn == 0 {
		return
	}
	n := uint64(q.Num)
	q.Desc = uint64(q.pfn) << t.pageShift
	q.Driver = q.Desc + 16*n
	if q.align == 0 {
		t.Fail(q.errorf("4.2.4", "QueueAlign 0"))
		return
	}
	a := uint64(q.align)
	q.Device = (q.Driver + 4 + 2*n + a - 1) / a * a
	t.enableQueue(q)
}
