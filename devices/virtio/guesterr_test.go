package virtio

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// guestLog collects -d guest_errors lines.
type guestLog struct{ lines []string }

func (l *guestLog) f(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *guestLog) take() []string {
	out := l.lines
	l.lines = nil
	return out
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: guest_errors lines (-want +got):\n%s", what, d)
	}
}

// TestGuestErrorsMMIO: each register access a driver must not make on
// virtio-mmio gives one sentence naming the register and the VirtIO 1.2
// section, once per kind and register; correct accesses give none.
func TestGuestErrorsMMIO(t *testing.T) {
	r := newRig(t)
	var log guestLog
	r.m.GuestErrors = log.f
	r.setup(16)
	r.ctl(le(reqPCMInfo, 0, 2, 32), 64)
	wantLines(t, "a correct driver", log.take())

	r.wr(RegDeviceFeatures, 1)
	r.wr(RegDeviceFeatures, 1) // once per register
	r.rd(RegQueueNum)
	r.wr(0x018, 5)
	r.rd(0x0f0)
	r.wr(RegQueuePFN, 1)
	r.m.Read(RegStatus, 2)
	r.m.Write(RegQueueNotify, 8, 0)
	wantLines(t, "registers", log.take(),
		"write to DeviceFeatures (0x10) ignored: the register is read-only (VirtIO 1.2 4.2.2, table 4.1)",
		"read of QueueNum (0x38) returns 0: the register is write-only (VirtIO 1.2 4.2.2, table 4.1)",
		"write to offset 0x18: no virtio-mmio register there (VirtIO 1.2 4.2.2, table 4.1); reads 0, writes ignored",
		"read of offset 0xf0: no virtio-mmio register there (VirtIO 1.2 4.2.2, table 4.1); reads 0, writes ignored",
		"write to QueuePFN (0x40): a legacy-only register, not in the version 2 interface (VirtIO 1.2 4.2.4); ignored",
		"2-byte read at offset 0x70: the driver MUST use 32-bit aligned accesses to the control registers (VirtIO 1.2 4.2.2.2)",
		"8-byte write at offset 0x50: the driver MUST use 32-bit aligned accesses to the control registers (VirtIO 1.2 4.2.2.2)",
		// ... done as two 32-bit writes, the second of them undecoded.
		"write to offset 0x54: no virtio-mmio register there (VirtIO 1.2 4.2.2, table 4.1); reads 0, writes ignored",
	)

	r.wr(RegQueueSel, QueueTx)
	r.wr(RegQueueNum, 8) // the queue is ready
	r.wr(RegQueueNotify, 9)
	r.wr(RegDriverFeatures, 0)
	r.wr(RegStatus, StatusAcknowledge)
	wantLines(t, "queues and status", log.take(),
		"write 0x8 to QueueNum (0x38) of queue 2 ignored: the queue is ready (VirtIO 1.2 4.2.3.2: a queue is configured before QueueReady is set)",
		"notification of queue 9 ignored: the device has 4 queues (VirtIO 1.2 4.2.2 QueueNotify, 4.1.4.4)",
		"driver features word 0 written (0x0) after FEATURES_OK: ignored (VirtIO 1.2 3.1.1: features are fixed once FEATURES_OK is set)",
		"device status 0x1 written over 0xf clears bits 0xe without a reset (VirtIO 1.2 2.1.2: the driver MUST NOT clear a device status bit)",
	)

	// A queue the spec forbids: QueueReady with a size that is not a
	// power of two; a notification of a queue that is not ready.
	r.wr(RegStatus, 0)
	r.wr(RegStatus, StatusAcknowledge|StatusDriver)
	r.wr(RegDriverFeatSel, 1)
	r.wr(RegDriverFeatures, 1)
	r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
	r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
	r.wr(RegQueueSel, QueueRx)
	r.wr(RegQueueNotify, QueueRx)
	r.wr(RegQueueNum, 12)
	r.wr(RegQueueReady, 1)
	wantLines(t, "queue set-up", log.take(),
		"notification of queue 3 ignored: the queue is not enabled (VirtIO 1.2 2.6, 4.2.3.2 QueueReady, 4.1.5.1.3 queue_enable)",
		"queue 3: size 12 is not a power of two in 1..1024 (VirtIO 1.2 2.7, 4.2.2): the device stops and sets DEVICE_NEEDS_RESET (2.1.2)",
	)
}

// TestGuestErrorsDescriptors: bad descriptors (outside RAM, a loop, a
// device-readable buffer after a device-writable one) name the descriptor
// and the section.
func TestGuestErrorsDescriptors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(r *rig)
		want  string
	}{
		{"outside RAM", func(r *rig) {
			r.desc(QueueControl, 0, 0x1000, 16, 0, 0)
		}, "queue 0: descriptor 0 buffer [0x1000,+0x10) outside RAM (VirtIO 1.2 2.7.5): the device stops and sets DEVICE_NEEDS_RESET (2.1.2)"},
		{"loop", func(r *rig) {
			r.desc(QueueControl, 0, ramBase+0x1000, 16, descNext, 1)
			r.desc(QueueControl, 1, ramBase+0x1000, 16, descNext, 0)
		}, "queue 0: descriptor chain from 0 loops or is longer than its table (16) (VirtIO 1.2 2.7.5.2): the device stops and sets DEVICE_NEEDS_RESET (2.1.2)"},
		{"wrong direction", func(r *rig) {
			r.desc(QueueControl, 0, ramBase+0x1000, 16, descWrite|descNext, 1)
			r.desc(QueueControl, 1, ramBase+0x1000, 16, 0, 0)
		}, "queue 0: descriptor 1 is device-readable after a device-writable one (VirtIO 1.2 2.7.4.2): the device stops and sets DEVICE_NEEDS_RESET (2.1.2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var log guestLog
			r.m.GuestErrors = log.f
			r.setup(16)
			tc.build(r)
			r.publish(QueueControl, 0, true)
			wantLines(t, tc.name, log.take(), tc.want)
		})
	}
}

// TestGuestErrorsSound: requests in the wrong PCM state and malformed I/O
// messages are reported with the sound device's sections.
func TestGuestErrorsSound(t *testing.T) {
	r := newRig(t)
	var log guestLog
	r.m.GuestErrors = log.f
	r.setup(16)
	if st, _ := r.ctl(pcmReq(reqPCMStart, 0), 0); st != sndNotSupp {
		t.Fatalf("START before SET_PARAMS: %#x", st)
	}
	r.ctl(pcmReq(reqPCMStart, 0), 0) // once
	r.ctl(le(0x7777, 0), 0)
	r.submit(QueueTx, []buf{{data: le(1)}, {writable: 8}}, true)
	r.submit(QueueTx, []buf{{data: le(0)}, {writable: 8}}, true)
	r.submit(QueueRx, []buf{{data: le(1)}, {writable: 4}}, true)
	wantLines(t, "sound", log.take(),
		"sound: stream 0: PCM_START in state initial answered NOT_SUPP (VirtIO 1.2 5.14.6.6.1, PCM command lifecycle)",
		"sound: control request code 0x7777 answered NOT_SUPP: not a request of the device or of a negotiated feature (VirtIO 1.2 5.14.6.1)",
		"sound: queue 2: I/O message 0 for stream 1 answered BAD_MSG: an input stream on the tx queue (VirtIO 1.2 5.14.6.8)",
		"sound: queue 2: I/O message 2 for stream 0 in state initial answered BAD_MSG: the stream must be prepared first (VirtIO 1.2 5.14.6.6.1, 5.14.6.8)",
		"sound: queue 3: I/O message 0 has 4 device-writable bytes, no room for the 8-byte virtio_snd_pcm_status (VirtIO 1.2 5.14.6.8): returned empty",
	)
}

// TestGuestErrorsPCI: the common configuration's read-only fields, its
// end, the ISR and notifications with bus mastering off.
func TestGuestErrorsPCI(t *testing.T) {
	r := newPCIRig(t)
	var log guestLog
	r.p.GuestErrors = log.f
	r.enable()
	r.setupPCI(FeatureVersion1)
	r.ctlPCI(params(0, 8192, 2048, 2, 5, 7))
	wantLines(t, "a correct driver", log.take())
	r.wrc(CommonNumQ, 2, 9)
	r.wrc(0x40, 4, 1)
	r.wrc(0x1000, 1, 1)
	r.wrc(CommonQSelect, 2, QueueTx)
	r.wrc(CommonQDescLo, 4, 0x1000)
	r.setCfg(0x04, 2, 0x2) // memory on, bus mastering off
	r.notifyPCI(QueueControl)
	wantLines(t, "PCI", log.take(),
		"write 0x9 to num_queues (common configuration 0x12) ignored: the field is read-only for the driver (VirtIO 1.2 4.1.4.3)",
		"write 0x1 to common configuration offset 0x40 ignored: past struct virtio_pci_common_cfg (0x3c bytes, VirtIO 1.2 4.1.4.3)",
		"write 0x1 to the ISR status ignored: it is read-only, read to acknowledge (VirtIO 1.2 4.1.4.5)",
		"write 0x1000 to queue_desc of queue 2 ignored: the queue is enabled (VirtIO 1.2 4.1.4.3.2: the driver configures a queue before writing queue_enable)",
		"notification of queue 0 ignored: Bus Master Enable is off in the PCI command register (PCI Local Bus 3.0 6.2.2; VirtIO 1.2 4.1.5.1: the driver enables the function first)",
	)
}

// TestGuestErrorsBounded: a driver hammering bad registers gets one line
// per register, and at most guestErrorKeys lines in all.
func TestGuestErrorsBounded(t *testing.T) {
	r := newRig(t)
	var log guestLog
	r.m.GuestErrors = log.f
	r.setup(16)
	for i := 0; i < 1000; i++ {
		for off := uint64(0x100 - 4); off >= 0xc4; off -= 4 {
			if _, ok := mmioRegs[off]; !ok {
				r.wr(off, 1)
			}
		}
		r.wr(RegQueueNotify, uint32(4+i))
	}
	if n := len(log.lines); n != guestErrorKeys {
		t.Errorf("%d lines, want the cap %d", n, guestErrorKeys)
	}
}
