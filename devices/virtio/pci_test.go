package virtio

import (
	"bytes"
	"testing"

	"gemu/bus"
	"gemu/clock"
	"gemu/devices/pci"
)

// qemu10Config is QEMU 10.0.2's configuration space of
// `-device virtio-sound-pci,addr=1` on virt before the guest touches it,
// as `xp /64wx 0x30008000` prints it.
var qemu10Config = []uint32{
	0x10591af4, 0x00100000, 0x04010001, 0x00000000,
	0x00000000, 0x00000000, 0x00000000, 0x00000000,
	0x0000000c, 0x00000000, 0x00000000, 0x11001af4,
	0x00000000, 0x00000098, 0x00000000, 0x00000100,
	0x01100009, 0x00000004, 0x00000000, 0x00001000,
	0x03104009, 0x00000004, 0x00001000, 0x00001000,
	0x04105009, 0x00000004, 0x00002000, 0x00001000,
	0x02146009, 0x00000004, 0x00003000, 0x00001000,
	0x00000004, 0x05147009, 0x00000000, 0x00000000,
	0x00000000, 0x00000000, 0x00018411, 0x00000001,
	0x00000801,
}

type pciRig struct {
	*rig
	p    *PCI
	host *pci.Host
	plic *plicStub
	bar  uint64 // BAR 4's bus address
}

type plicStub struct{ lines map[int]bool }

func (p *plicStub) SetLevel(n int, v bool) { p.lines[n] = v }

// newPCIRig puts the sound device behind the PCI transport in slot 1 of a
// host bridge and assigns BAR 4 at 0x40000000 (BAR 1 at 0x40004000).
func newPCIRig(t testing.TB) *pciRig {
	r := newRig(t) // its MMIO slot and sound device are unused
	r.snd = NewSound(r.clk, r.be)
	return newPCIRigWith(r, r.snd, 0x040100)
}

// newPCIRigWith puts dev behind the PCI transport of r's bus.
func newPCIRigWith(r *rig, dev Device, class uint32) *pciRig {
	pr := &pciRig{rig: r, plic: &plicStub{lines: map[int]bool{}}}
	pr.host = pci.NewHost(r.bus, pr.plic)
	if err := pr.host.Map(); err != nil {
		r.t.Fatal(err)
	}
	pr.p = NewPCI(r.bus, dev, PCIConfig{Class: class, Vectors: 2})
	if _, err := pr.host.Attach(1, 0, pr.p.Function()); err != nil {
		r.t.Fatal(err)
	}
	r.nq = len(dev.QueueSizes())
	return pr
}

func (r *pciRig) cfg(off, size int) uint32 { return r.p.Function().ReadConfig(off, size) }
func (r *pciRig) setCfg(off, size int, v uint32) {
	r.p.Function().WriteConfig(off, size, v)
}

func (r *pciRig) enable() {
	r.setCfg(pci.BAR0+16, 4, 0x40000000)
	r.setCfg(pci.BAR0+20, 4, 0)
	r.setCfg(pci.BAR0+4, 4, 0x40004000)
	r.setCfg(pci.Command, 2, pci.CmdMemory|pci.CmdBusMaster)
	r.bar = 0x40000000
}

func (r *pciRig) rdc(off uint64, size int) uint64 {
	v, ok := r.bus.Load(r.bar+off, size)
	if !ok {
		r.fatalf("load %#x failed", r.bar+off)
	}
	return v
}
func (r *pciRig) wrc(off uint64, size int, v uint64) {
	if !r.bus.Store(r.bar+off, size, v) {
		r.fatalf("store %#x failed", r.bar+off)
	}
}

// setupPCI is Linux's virtio_pci_modern probe and virtio_dev_probe:
// reset, features, FEATURES_OK, the queues at their maximum size, INTx
// (no MSI-X vectors), DRIVER_OK.
func (r *pciRig) setupPCI(features uint64) {
	r.wrc(CommonStatus, 1, 0)
	r.wrc(CommonStatus, 1, StatusAcknowledge|StatusDriver)
	r.wrc(CommonGFSelect, 4, 0)
	r.wrc(CommonGF, 4, features&0xffffffff)
	r.wrc(CommonGFSelect, 4, 1)
	r.wrc(CommonGF, 4, features>>32)
	r.wrc(CommonStatus, 1, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
	if r.rdc(CommonStatus, 1)&StatusFeaturesOK == 0 {
		r.fatalf("FEATURES_OK refused")
	}
	if n := r.rdc(CommonNumQ, 2); n != uint64(r.nq) {
		r.fatalf("num_queues = %d", n)
	}
	for i := range r.q[:r.nq] {
		r.wrc(CommonQSelect, 2, uint64(i))
		num := uint16(r.rdc(CommonQSize, 2))
		if num != r.p.dev.QueueSizes()[i] {
			r.fatalf("queue %d size %d", i, num)
		}
		q := &drvQueue{idx: i, num: num}
		q.desc = r.alloc(16 * uint64(num))
		q.avail = r.alloc(6 + 2*uint64(num))
		q.used = r.alloc(6 + 8*uint64(num))
		for d := uint16(0); d < num; d++ {
			q.free = append(q.free, d)
		}
		r.wrc(CommonQMSIX, 2, NoVector)
		r.wrc(CommonQDescLo, 4, q.desc&0xffffffff)
		r.wrc(CommonQDescHi, 4, q.desc>>32)
		r.wrc(CommonQAvailLo, 4, q.avail&0xffffffff)
		r.wrc(CommonQAvailHi, 4, q.avail>>32)
		r.wrc(CommonQUsedLo, 4, q.used&0xffffffff)
		r.wrc(CommonQUsedHi, 4, q.used>>32)
		r.wrc(CommonQEnable, 2, 1)
		r.q[i] = q
	}
	r.wrc(CommonStatus, 1, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
}

// notifyPCI kicks queue qi through the notify area.
func (r *pciRig) notifyPCI(qi int) {
	off := uint64(r.cfg(0x70+16, 4))*uint64(qi) + 0x3000
	r.wrc(off, 2, uint64(qi))
}

func TestPCIConfigMatchesQEMU10(t *testing.T) {
	r := newPCIRig(t)
	for i, want := range qemu10Config {
		if got := r.cfg(4*i, 4); got != want {
			t.Errorf("config[%#02x] = %#08x, QEMU 10 has %#08x", 4*i, got, want)
		}
	}
	for off := 4 * len(qemu10Config); off < 256; off += 4 {
		if got := r.cfg(off, 4); got != 0 {
			t.Errorf("config[%#02x] = %#08x, want 0", off, got)
		}
	}
	// BAR sizing: 16 KiB 64-bit prefetchable, 4 KiB 32-bit.
	r.setCfg(pci.BAR0+16, 4, 0xffffffff)
	r.setCfg(pci.BAR0+4, 4, 0xffffffff)
	if got := r.cfg(pci.BAR0+16, 4); got != 0xffffc00c {
		t.Errorf("BAR4 sizing %#x", got)
	}
	if got := r.cfg(pci.BAR0+4, 4); got != 0xfffff000 {
		t.Errorf("BAR1 sizing %#x", got)
	}
}

// TestPCIPlayback drives the device as Linux's virtio_pci and virtio_snd
// do over INTx: setup, PCM_INFO, a played buffer, the ISR.
func TestPCIPlayback(t *testing.T) {
	r := newPCIRig(t)
	r.enable()
	if df := r.rdc(CommonDF, 4); df != 1<<29|1<<28|FeatureCtls {
		t.Errorf("device_feature[0] = %#x", df)
	}
	r.wrc(CommonDFSelect, 4, 1)
	if df := r.rdc(CommonDF, 4); df != 1<<8|1 { // RING_RESET, VERSION_1
		t.Errorf("device_feature[1] = %#x", df)
	}
	r.setupPCI(FeatureVersion1 | FeatureCtls)
	if got := r.rdc(0x2000+4, 4); got != 2 {
		t.Errorf("config streams = %d", got)
	}
	// A control request: PCM_INFO of both streams.
	c := r.submit(QueueControl, []buf{{data: le(reqPCMInfo, 0, 2, 32)}, {writable: 4 + 64}}, false)
	r.notifyPCI(QueueControl)
	u := r.used(QueueControl, map[uint16]chain{c.head: c})
	if len(u) != 1 || u[0].len != 68 {
		t.Fatalf("used %+v", u)
	}
	line := pci.IRQFor(1, 1)
	if !r.plic.lines[line] {
		t.Errorf("INTA (PLIC %d) not raised", line)
	}
	if isr := r.rdc(0x1000, 1); isr != IntUsedBuffer {
		t.Errorf("ISR = %#x, want 1", isr)
	}
	if r.plic.lines[line] || r.rdc(0x1000, 1) != 0 {
		t.Errorf("ISR read did not clear the interrupt")
	}
	// Play one period.
	for _, q := range []uint32{reqPCMPrepare, reqPCMStart} {
		if q == reqPCMPrepare {
			r.ctlPCI(params(0, 4096, 1024, 2, 5, 7))
		}
		r.ctlPCI(pcmReq(q, 0))
	}
	data := pattern(1024, 1)
	tx := r.submit(QueueTx, []buf{{data: le(0)}, {data: data}, {writable: 8}}, false)
	r.notifyPCI(QueueTx)
	r.run(100e6)
	if u := r.used(QueueTx, map[uint16]chain{tx.head: tx}); len(u) != 1 {
		t.Fatalf("tx used %+v", u)
	}
	if !bytes.Equal(r.be.played(), data) {
		t.Errorf("played %d bytes, not the %d sent", len(r.be.played()), len(data))
	}
	if r.p.Err != nil {
		t.Errorf("device error: %v", r.p.Err)
	}
}

func (r *pciRig) ctlPCI(req []byte) {
	r.t.Helper()
	c := r.submit(QueueControl, []buf{{data: req}, {writable: 4}}, false)
	r.notifyPCI(QueueControl)
	r.used(QueueControl, map[uint16]chain{c.head: c})
	if st, _ := r.bus.Read32(c.bufs[1]); st != sndOK {
		r.fatalf("request %x: status %#x", req, st)
	}
}

// TestPCIMSIX: with MSI-X enabled, a used buffer is a memory write of the
// vector's data (here into RAM, where a test can see it) and INTx stays
// low; a masked vector only sets its pending bit.
func TestPCIMSIX(t *testing.T) {
	r := newPCIRig(t)
	r.enable()
	msg := r.alloc(16)
	// Table entry 1: address, data, unmasked.
	r.bus.Store(0x40004000+16, 8, msg)
	r.bus.Store(0x40004000+24, 4, 0xabcd)
	r.bus.Store(0x40004000+28, 4, 0)
	r.setCfg(0x98+2, 2, 0x8000|1) // MSI-X enable
	r.setupPCI(FeatureVersion1)
	r.wrc(CommonQSelect, 2, QueueControl)
	r.wrc(CommonQMSIX, 2, 1)
	if v := r.rdc(CommonQMSIX, 2); v != 1 {
		t.Fatalf("queue vector %#x, want 1", v)
	}
	r.wrc(CommonQMSIX, 2, 7)
	if v := r.rdc(CommonQMSIX, 2); v != NoVector {
		t.Errorf("vector 7 of 2 kept as %#x, want NO_VECTOR", v)
	}
	r.wrc(CommonQMSIX, 2, 1)
	r.ctlPCI(le(reqPCMInfo, 0, 0, 32))
	if v, _ := r.bus.Read32(msg); v != 0xabcd {
		t.Errorf("MSI-X message %#x, want 0xabcd", v)
	}
	if r.plic.lines[pci.IRQFor(1, 1)] {
		t.Errorf("INTx raised with MSI-X enabled")
	}
	// Masked: pending bit.
	r.bus.Store(0x40004000+28, 4, 1)
	r.bus.Write32(msg, 0)
	r.ctlPCI(le(reqPCMInfo, 0, 0, 32))
	if v, _ := r.bus.Read32(msg); v != 0 {
		t.Errorf("masked vector wrote %#x", v)
	}
	if pba, _ := r.bus.Load(0x40004800, 8); pba != 2 {
		t.Errorf("PBA %#x, want 2", pba)
	}
	// Unmasking sends the held message and clears the pending bit
	// (PCI Local Bus 3.0 6.8.2.9), once.
	r.bus.Store(0x40004000+28, 4, 0)
	if v, _ := r.bus.Read32(msg); v != 0xabcd {
		t.Errorf("unmasked pending vector: message %#x, want 0xabcd", v)
	}
	if pba, _ := r.bus.Load(0x40004800, 8); pba != 0 {
		t.Errorf("PBA %#x after unmask, want 0", pba)
	}
	r.bus.Write32(msg, 0)
	r.bus.Store(0x40004000+28, 4, 1)
	r.bus.Store(0x40004000+28, 4, 0)
	if v, _ := r.bus.Read32(msg); v != 0 {
		t.Errorf("unmask without a pending bit sent %#x", v)
	}
	// The function mask holds every vector the same way.
	r.setCfg(0x98+2, 2, 0xc000|1) // enable + function mask
	r.ctlPCI(le(reqPCMInfo, 0, 0, 32))
	if v, _ := r.bus.Read32(msg); v != 0 {
		t.Errorf("function-masked vector wrote %#x", v)
	}
	if pba, _ := r.bus.Load(0x40004800, 8); pba != 2 {
		t.Errorf("PBA %#x under the function mask, want 2", pba)
	}
	r.setCfg(0x98+2, 2, 0x8000|1)
	if v, _ := r.bus.Read32(msg); v != 0xabcd {
		t.Errorf("function unmask: message %#x, want 0xabcd", v)
	}
	if pba, _ := r.bus.Load(0x40004800, 8); pba != 0 {
		t.Errorf("PBA %#x after function unmask, want 0", pba)
	}
}

// TestPCICfgAccess reads and writes the common configuration through the
// PCI configuration access capability (4.1.4.9).
func TestPCICfgAccess(t *testing.T) {
	r := newPCIRig(t)
	r.enable()
	const c = 0x84
	r.setCfg(c+4, 1, 4)    // BAR 4
	r.setCfg(c+8, 4, 0x12) // num_queues
	r.setCfg(c+12, 4, 2)
	if v := r.cfg(c+16, 2); v != 4 {
		t.Errorf("num_queues through the window = %d", v)
	}
	r.setCfg(c+8, 4, CommonStatus)
	r.setCfg(c+12, 4, 1)
	r.setCfg(c+16, 1, StatusAcknowledge)
	if v := r.rdc(CommonStatus, 1); v != StatusAcknowledge {
		t.Errorf("status written through the window = %#x", v)
	}
}

func TestPCIQueueEnableZeroFails(t *testing.T) {
	r := newPCIRig(t)
	r.enable()
	r.wrc(CommonQEnable, 2, 0)
	if r.rdc(CommonStatus, 1)&StatusNeedsReset == 0 {
		t.Errorf("queue_enable 0 accepted")
	}
	r.wrc(CommonStatus, 1, 0)
	if r.rdc(CommonStatus, 1) != 0 || r.rdc(CommonQSize, 2) != SoundQueueSize {
		t.Errorf("reset did not restore status and queue size")
	}
}

// FuzzPCI writes and reads the transport's registers, configuration space
// and BARs in any order, with a driver that may also have set up queues:
// nothing may panic and config reads beyond the space read as ones.
func FuzzPCI(f *testing.F) {
	f.Add([]byte{0, 0x14, 0, 1, 1, 0x14, 0, 0x0f, 2, 0x1c, 0, 1, 3, 0, 0, 2})
	f.Add([]byte{4, 0x84 + 4, 0, 4, 4, 0x84 + 8, 0, 0x14, 4, 0x84 + 16, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := newRigRAM(t, 0x20000) // four queues of 64 from 64 KiB
		rr.snd = NewSound(rr.clk, rr.be)
		r := newPCIRigWith(rr, rr.snd, 0x040100)
		r.enable()
		if len(data) > 0 && data[0]&0x80 != 0 {
			r.setupPCI(FeatureVersion1 | FeatureCtls)
		}
		for i := 0; i+4 <= len(data) && i < 400; i += 4 {
			op, off := data[i]%6, uint64(data[i+1])|uint64(data[i+2]&0x3f)<<8
			v := uint64(data[i+3]) * 0x01010101
			size := []int{1, 2, 4, 8}[data[i+2]>>6]
			switch op {
			case 0:
				r.bus.Store(r.bar+off, size, v)
			case 1:
				r.bus.Load(r.bar+off, size)
			case 2:
				r.setCfg(int(off&0xff), min(size, 4), uint32(v))
			case 3:
				r.cfg(int(off&0xff), min(size, 4))
			case 4:
				r.bus.Store(0x40004000+off&0xfff, size, v)
			case 5:
				r.run(uint64(v % 5e6))
			}
		}
	})
}

// TestPCIBlk: the block device behind the PCI transport, as -device
// virtio-blk-pci: queue_size is its own 256, the capacity is in the device
// configuration area, a read completes over INTx.
func TestPCIBlk(t *testing.T) {
	img := &memImage{data: make([]byte, 64*512), wce: true}
	for i := range img.data {
		img.data[i] = byte(i / 512)
	}
	r := &rig{t: t, bus: bus.New(ramBase, ramSize), irq: &irqLine{}}
	r.clk = clock.NewDeterministic(0, func() uint64 { return r.now })
	r.heap = ramBase + 0x10000
	pr := newPCIRigWith(r, NewBlk(img, "pci-disk"), 0x010000)
	if id := pr.cfg(0, 4); id != 0x10421af4 {
		t.Errorf("id %#x, want 1af4:1042", id)
	}
	pr.enable()
	pr.setupPCI(FeatureVersion1)
	if got := pr.rdc(0x2000, 8); got != 64 {
		t.Errorf("capacity %d sectors, want 64", got)
	}
	c := r.submit(0, []buf{{data: blkHdr(0, 3)}, {writable: 512}, {writable: 1}}, false)
	pr.notifyPCI(0)
	if u := r.used(0, map[uint16]chain{c.head: c}); len(u) != 1 || u[0].len != 513 {
		t.Fatalf("used %+v", u)
	}
	data := make([]byte, 512)
	r.bus.ReadDMA(c.bufs[1], data)
	if st := r.read8(c.bufs[2]); st != 0 || !bytes.Equal(data, bytes.Repeat([]byte{3}, 512)) {
		t.Errorf("status %d, data %x...", st, data[:4])
	}
	if !pr.plic.lines[pci.IRQFor(1, 1)] || pr.rdc(0x1000, 1) != IntUsedBuffer {
		t.Errorf("no INTx/ISR for the completed request")
	}
	if pr.p.Err != nil {
		t.Errorf("device error: %v", pr.p.Err)
	}
}

// TestPCIQueueReset: with RING_RESET, queue_reset (4.1.4.3) resets the
// selected queue: queue_reset reads 1, queue_enable 0 and queue_size the
// device's size until queue_enable is written 1; the held tx message is
// dropped; without the feature the field reads 0 and does nothing.
func TestPCIQueueReset(t *testing.T) {
	for _, feat := range []uint64{FeatureVersion1, FeatureVersion1 | FeatureRingReset} {
		r := newPCIRig(t)
		r.enable()
		r.setupPCI(feat)
		r.ctlPCI(params(0, 8192, 2048, 2, 5, 7))
		r.ctlPCI(pcmReq(reqPCMPrepare, 0))
		r.submit(QueueTx, []buf{{data: append(le(0), pattern(64, 1)...)}, {writable: 8}}, false)
		r.notifyPCI(QueueTx)
		r.wrc(CommonQSelect, 2, QueueTx)
		r.wrc(CommonQSize, 2, 16) // ignored: the queue is enabled
		r.wrc(CommonQReset, 2, 1)
		reset, enable, size := r.rdc(CommonQReset, 2), r.rdc(CommonQEnable, 2), r.rdc(CommonQSize, 2)
		held := len(r.snd.streams[0].pending)
		if feat&FeatureRingReset == 0 {
			if reset != 0 || enable != 1 || held != 1 {
				t.Errorf("without RING_RESET: queue_reset %d, queue_enable %d, %d held; want 0, 1, 1", reset, enable, held)
			}
			continue
		}
		if reset != 1 || enable != 0 || size != 64 || held != 0 {
			t.Errorf("after queue_reset: queue_reset %d, queue_enable %d, queue_size %d, %d held; want 1, 0, 64, 0", reset, enable, size, held)
		}
		q := r.q[QueueTx]
		r.wrc(CommonQDescLo, 4, q.desc)
		r.wrc(CommonQAvailLo, 4, q.avail)
		r.wrc(CommonQUsedLo, 4, q.used)
		r.wrc(CommonQEnable, 2, 1)
		if r.rdc(CommonQReset, 2) != 0 || r.rdc(CommonQEnable, 2) != 1 {
			t.Errorf("re-enabled: queue_reset %d, queue_enable %d", r.rdc(CommonQReset, 2), r.rdc(CommonQEnable, 2))
		}
		if r.p.Err != nil {
			t.Errorf("device error: %v", r.p.Err)
		}
	}
}
