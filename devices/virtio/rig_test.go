package virtio

import (
	"encoding/binary"
	"testing"

	"gemu/bus"
	"gemu/clock"
	"gemu/devices/audio"
)

// Test rig: RAM, a deterministic clock the test moves by hand, the sound
// device in a virtio-mmio slot, and a tiny driver that lays out queues in
// RAM and talks to the device only through the MMIO registers and the
// rings, as a guest would.

const (
	ramBase = 0x8000_0000
	ramSize = 4 << 20
)

type irqLine struct{ level bool }

func (l *irqLine) SetLevel(n int, v bool) { l.level = v }

// fakeOut is an output with a bounded ring the test drains by hand.
type fakeOut struct {
	spec    audio.Spec
	cap     int
	data    []byte // everything accepted, in order
	pending int    // frames accepted and not drained
	active  bool
	closed  bool
	vol     [2]float64
	mute    bool
}

func (o *fakeOut) fb() int       { return o.spec.FrameBytes() }
func (o *fakeOut) Free() int     { return o.cap - o.pending }
func (o *fakeOut) Buffered() int { return o.pending }
func (o *fakeOut) Write(p []byte) int {
	n := min(len(p)/o.fb(), o.Free())
	o.data = append(o.data, p[:n*o.fb()]...)
	o.pending += n
	return n
}
func (o *fakeOut) SetVolume(l, r float64, mute bool) { o.vol = [2]float64{l, r}; o.mute = mute }
func (o *fakeOut) SetActive(on bool)                 { o.active = on }
func (o *fakeOut) Close()                            { o.closed = true }

// fakeIn hands out frames the test made available.
type fakeIn struct {
	spec   audio.Spec
	avail  []byte
	active bool
	closed bool
}

func (i *fakeIn) Buffered() int { return len(i.avail) / i.spec.FrameBytes() }
func (i *fakeIn) Read(p []byte) int {
	fb := i.spec.FrameBytes()
	n := min(len(p)/fb, i.Buffered())
	copy(p, i.avail[:n*fb])
	i.avail = i.avail[n*fb:]
	return n
}
func (i *fakeIn) SetActive(on bool) { i.active = on }
func (i *fakeIn) Close()            { i.closed = true }

type fakeBackend struct {
	outCap int
	outs   []*fakeOut
	ins    []*fakeIn
	inData []byte // what the next input will hold
}

func (b *fakeBackend) OpenOutput(name string, spec audio.Spec) (audio.Output, error) {
	o := &fakeOut{spec: spec, cap: b.outCap}
	b.outs = append(b.outs, o)
	return o, nil
}

func (b *fakeBackend) OpenInput(name string, spec audio.Spec) (audio.Input, error) {
	i := &fakeIn{spec: spec, avail: b.inData}
	b.ins = append(b.ins, i)
	return i, nil
}

// played is every byte the outputs accepted, in order.
func (b *fakeBackend) played() []byte {
	var p []byte
	for _, o := range b.outs {
		p = append(p, o.data...)
	}
	return p
}

type rig struct {
	t    testing.TB
	bus  *bus.Bus
	now  uint64
	clk  *clock.Clock
	irq  *irqLine
	m    *MMIO
	snd  *Sound
	be   *fakeBackend
	q    [4]*drvQueue
	nq   int // queues the device has (4: sound)
	heap uint64
	feat uint64 // device feature bits the driver accepts besides INDIRECT_DESC and VERSION_1
}

// drvQueue is the driver's side of one virtqueue.
type drvQueue struct {
	idx                int
	num                uint16
	desc, avail, used  uint64
	free               []uint16
	availIdx, lastUsed uint16
}

type usedElem struct {
	head uint16
	len  uint32
}

func newRig(t testing.TB) *rig { return newRigRAM(t, ramSize) }

// newRigRAM is newRig with ram bytes of RAM. Fuzz targets size it to what
// one input can use: clearing 4 MiB for every execution (and the garbage
// collection it causes) was most of FuzzSoundControl's time.
func newRigRAM(t testing.TB, ram uint64) *rig {
	r := &rig{t: t, bus: bus.New(ramBase, ram), irq: &irqLine{}, be: &fakeBackend{outCap: 1 << 20}}
	r.clk = clock.NewDeterministic(0, func() uint64 { return r.now })
	r.snd = NewSound(r.clk, r.be)
	r.m = NewMMIO(r.bus, bus.IRQ{C: r.irq, N: 1}, r.snd)
	r.heap = ramBase + 0x10000
	r.nq = 4
	return r
}

func (r *rig) rd(off uint64) uint32      { return uint32(r.m.Read(off, 4)) }
func (r *rig) wr(off uint64, v uint32)   { r.m.Write(off, 4, uint64(v)) }
func (r *rig) fatalf(f string, a ...any) { r.t.Helper(); r.t.Fatalf(f, a...) }

// alloc returns n bytes of RAM (16-byte aligned) from a bump allocator.
func (r *rig) alloc(n uint64) uint64 {
	a := r.heap
	r.heap += (n + 15) &^ 15
	if r.heap > ramBase+uint64(len(r.bus.RAM)) {
		panic("rig: out of RAM")
	}
	return a
}

// run advances virtual time by d ns, firing timers on the way.
func (r *rig) run(d uint64) {
	end := int64(r.now + d)
	for {
		next, ok := r.clk.Next()
		if !ok || next > end {
			break
		}
		if next > int64(r.now) {
			r.now = uint64(next)
		}
		r.clk.RunDue()
	}
	r.now = uint64(end)
	r.clk.RunDue()
}

// setup is the driver's initialisation (3.1.1): reset, ACK, DRIVER,
// features, FEATURES_OK, the four queues of size num, DRIVER_OK.
func (r *rig) setup(num uint16) {
	r.wr(RegStatus, 0)
	r.wr(RegStatus, StatusAcknowledge)
	r.wr(RegStatus, StatusAcknowledge|StatusDriver)
	r.wr(RegDriverFeatSel, 1)
	r.wr(RegDriverFeatures, 1|uint32(r.feat>>32)) // VERSION_1
	r.wr(RegDriverFeatSel, 0)
	r.wr(RegDriverFeatures, FeatureIndirectDesc|uint32(r.feat))
	r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
	if r.rd(RegStatus)&StatusFeaturesOK == 0 {
		r.fatalf("FEATURES_OK refused")
	}
	for i := range r.q[:r.nq] {
		q := &drvQueue{idx: i, num: num}
		q.desc = r.alloc(16 * uint64(num))
		q.avail = r.alloc(6 + 2*uint64(num))
		q.used = r.alloc(6 + 8*uint64(num))
		for d := uint16(0); d < num; d++ {
			q.free = append(q.free, d)
		}
		r.wr(RegQueueSel, uint32(i))
		if r.rd(RegQueueReady) != 0 {
			r.fatalf("queue %d ready before setup", i)
		}
		r.wr(RegQueueNum, uint32(num))
		r.wr(RegQueueDescLow, uint32(q.desc))
		r.wr(RegQueueDescHigh, uint32(q.desc>>32))
		r.wr(RegQueueDriverLow, uint32(q.avail))
		r.wr(RegQueueDriverHigh, uint32(q.avail>>32))
		r.wr(RegQueueDeviceLow, uint32(q.used))
		r.wr(RegQueueDeviceHigh, uint32(q.used>>32))
		r.wr(RegQueueReady, 1)
		r.q[i] = q
	}
	r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK)
}

func (r *rig) w16(a uint64, v uint16) { r.bus.Write16(a, v) }
func (r *rig) w32(a uint64, v uint32) { r.bus.Write32(a, v) }
func (r *rig) w64(a uint64, v uint64) { r.bus.Write64(a, v) }

// buf is one buffer of a chain: data to place (readable), or n writable
// bytes.
type buf struct {
	data     []byte
	writable uint32
}

// chain is the guest-side record of a submitted chain.
type chain struct {
	head  uint16
	descs []uint16
	bufs  []uint64 // buffer addresses, in order
}

// submit builds a descriptor chain of bufs, publishes it in the available
// ring and (if kick) notifies the queue.
func (r *rig) submit(qi int, bufs []buf, kick bool) chain {
	q := r.q[qi]
	if len(q.free) < len(bufs) {
		r.fatalf("queue %d: no free descriptors", qi)
	}
	c := chain{descs: append([]uint16(nil), q.free[:len(bufs)]...)}
	q.free = q.free[len(bufs):]
	for i, b := range bufs {
		n := uint32(len(b.data))
		flags := uint16(0)
		if b.data == nil {
			n = b.writable
			flags |= descWrite
		}
		a := r.alloc(uint64(n))
		r.bus.WriteDMA(a, b.data)
		c.bufs = append(c.bufs, a)
		d := q.desc + 16*uint64(c.descs[i])
		next := uint16(0)
		if i+1 < len(bufs) {
			flags |= descNext
			next = c.descs[i+1]
		}
		r.w64(d, a)
		r.w32(d+8, n)
		r.w16(d+12, flags)
		r.w16(d+14, next)
	}
	c.head = c.descs[0]
	r.publish(qi, c.head, kick)
	return c
}

func (r *rig) publish(qi int, head uint16, kick bool) {
	q := r.q[qi]
	r.w16(q.avail+4+2*uint64(q.availIdx%q.num), head)
	q.availIdx++
	r.w16(q.avail+2, q.availIdx)
	if kick {
		r.wr(RegQueueNotify, uint32(qi))
	}
}

// used returns the elements the device returned since the last call, and
// gives their descriptors back to the free list.
func (r *rig) used(qi int, chains map[uint16]chain) []usedElem {
	q := r.q[qi]
	idx, _ := r.bus.Read16(q.used + 2)
	var out []usedElem
	for ; q.lastUsed != idx; q.lastUsed++ {
		e := q.used + 4 + 8*uint64(q.lastUsed%q.num)
		id, _ := r.bus.Read32(e)
		n, _ := r.bus.Read32(e + 4)
		out = append(out, usedElem{uint16(id), n})
		if c, ok := chains[uint16(id)]; ok {
			q.free = append(q.free, c.descs...)
			delete(chains, uint16(id))
		}
	}
	return out
}

// ctl sends one control request with a response of 4+extra bytes split in
// two writable descriptors when extra > 0 (Linux's shape) and returns the
// status and the payload.
func (r *rig) ctl(req []byte, extra uint32) (uint32, []byte) {
	bufs := []buf{{data: req}, {writable: 4}}
	if extra > 0 {
		bufs = append(bufs, buf{writable: extra})
	}
	c := r.submit(QueueControl, bufs, true)
	u := r.used(QueueControl, map[uint16]chain{c.head: c})
	if len(u) != 1 || u[0].head != c.head {
		r.fatalf("control request %x: used %+v, want head %d", req, u, c.head)
	}
	st, _ := r.bus.Read32(c.bufs[1])
	var payload []byte
	if extra > 0 {
		payload = make([]byte, extra)
		r.bus.ReadDMA(c.bufs[2], payload)
	}
	if want := uint32(4); st == sndOK && u[0].len != want+extra {
		r.fatalf("control request %x: used len %d, want %d", req, u[0].len, want+extra)
	}
	return st, payload
}

func le(fields ...any) []byte {
	var b []byte
	for _, f := range fields {
		switch v := f.(type) {
		case uint8:
			b = append(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case int:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			panic("le: bad field")
		}
	}
	return b
}

// params is a SET_PARAMS request.
func params(stream, buffer, period uint32, channels, format, rate uint8) []byte {
	return le(uint32(reqPCMSetParams), stream, buffer, period, uint32(0), channels, format, rate, uint8(0))
}

func pcmReq(code, stream uint32) []byte { return le(code, stream) }

// mustOK sends a control request that must succeed.
func (r *rig) mustOK(req []byte) {
	r.t.Helper()
	if st, _ := r.ctl(req, 0); st != sndOK {
		r.fatalf("request %x: status %#x, want OK", req, st)
	}
}
