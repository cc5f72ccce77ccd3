package ac97

import (
	"testing"

	"gemu/bus"
	"gemu/clock"
	"gemu/devices/audio"
	"gemu/devices/pci"
)

// Test rig: a board with RAM, a PCI host, the AC97 at 00:01.0 with its BARs
// at ports 0x1000 (NAM) and 0x1400 (NABM), I/O and bus mastering enabled,
// and a deterministic clock the test moves by hand.

const (
	ramBase  = 0x8000_0000
	ramSize  = 4 << 20
	namPort  = 0x1000
	nabmPort = 0x1400
)

type plic struct{ level map[int]bool }

func (p *plic) SetLevel(n int, l bool) { p.level[n] = l }

// fakeOut is an output with a bounded ring the test drains by hand.
type fakeOut struct {
	spec    audio.Spec
	cap     int
	data    []byte // everything accepted, in order
	pending int    // frames accepted and not yet drained
	l, r    float64
	mute    bool
	active  bool
	closed  bool
}

func (o *fakeOut) Free() int { return o.cap - o.pending }
func (o *fakeOut) Write(p []byte) int {
	n := min(len(p)/4, o.Free())
	o.data = append(o.data, p[:n*4]...)
	o.pending += n
	return n
}
func (o *fakeOut) Buffered() int                     { return o.pending }
func (o *fakeOut) SetVolume(l, r float64, mute bool) { o.l, o.r, o.mute = l, r, mute }
func (o *fakeOut) SetActive(on bool)                 { o.active = on }
func (o *fakeOut) Close()                            { o.closed = true }

// fakeIn hands out frames the test has made available.
type fakeIn struct {
	spec   audio.Spec
	avail  []byte
	active bool
	closed bool
}

func (i *fakeIn) Buffered() int { return len(i.avail) / 4 }
func (i *fakeIn) Read(p []byte) int {
	n := min(len(p)/4, len(i.avail)/4)
	copy(p, i.avail[:n*4])
	i.avail = i.avail[n*4:]
	return n
}
func (i *fakeIn) SetActive(on bool) { i.active = on }
func (i *fakeIn) Close()            { i.closed = true }

type fakeBackend struct {
	outCap int
	outs   []*fakeOut
	ins    map[string][]*fakeIn
	noIn   bool
}

func (b *fakeBackend) OpenOutput(name string, spec audio.Spec) (audio.Output, error) {
	o := &fakeOut{spec: spec, cap: b.outCap, l: 1, r: 1}
	b.outs = append(b.outs, o)
	return o, nil
}

func (b *fakeBackend) OpenInput(name string, spec audio.Spec) (audio.Input, error) {
	if b.noIn {
		return nil, errNoInput
	}
	in := &fakeIn{spec: spec, active: true}
	b.ins[name] = append(b.ins[name], in)
	return in, nil
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errNoInput = testErr("no input")

func (b *fakeBackend) out() *fakeOut { return b.outs[len(b.outs)-1] }
func (b *fakeBackend) in(name string) *fakeIn {
	l := b.ins[name]
	return l[len(l)-1]
}

type rig struct {
	t    testing.TB
	ns   uint64
	clk  *clock.Clock
	bus  *bus.Bus
	host *pci.Host
	plic *plic
	be   *fakeBackend
	d    *Device
}

func newRig(t testing.TB) *rig {
	r := &rig{t: t}
	r.clk = clock.NewDeterministic(0, func() uint64 { return r.ns })
	r.bus = bus.New(ramBase, ramSize)
	r.plic = &plic{level: map[int]bool{}}
	r.host = pci.NewHost(r.bus, r.plic)
	if err := r.host.Map(); err != nil {
		t.Fatal(err)
	}
	r.be = &fakeBackend{outCap: 1 << 20, ins: map[string][]*fakeIn{}}
	r.d = New(r.clk, r.be)
	if _, err := r.host.Attach(-1, 0, r.d.PCI()); err != nil {
		t.Fatal(err)
	}
	r.cfg(pci.BAR0, 4, namPort|1)
	r.cfg(pci.BAR0+4, 4, nabmPort|1)
	r.cfg(pci.Command, 1, pci.CmdIO|pci.CmdBusMaster)
	return r
}

func (r *rig) cfg(off, size int, v uint64) {
	r.bus.Store(pci.ECAMBase+1<<15+uint64(off), size, v)
}

func (r *rig) cfgRead(off, size int) uint64 {
	v, _ := r.bus.Load(pci.ECAMBase+1<<15+uint64(off), size)
	return v
}

func (r *rig) in(port uint64, size int) uint64 {
	v, ok := r.bus.Load(pci.PIOBase+port, size)
	if !ok {
		r.t.Fatalf("port %#x not mapped", port)
	}
	return v
}

func (r *rig) out(port uint64, size int, v uint64) {
	if !r.bus.Store(pci.PIOBase+port, size, v) {
		r.t.Fatalf("port %#x not mapped", port)
	}
}

func (r *rig) mixer(reg uint64) uint16       { return uint16(r.in(namPort+reg, 2)) }
func (r *rig) setMixer(reg uint64, v uint16) { r.out(namPort+reg, 2, uint64(v)) }
func (r *rig) bm(off uint64, size int) uint64 {
	return r.in(nabmPort+off, size)
}
func (r *rig) setBM(off uint64, size int, v uint64) { r.out(nabmPort+off, size, v) }

// run advances virtual time by ns, firing timers on the way.
func (r *rig) run(ns uint64) {
	end := r.ns + ns
	for {
		t, ok := r.clk.Next()
		if !ok || uint64(t) > end {
			break
		}
		if uint64(t) > r.ns {
			r.ns = uint64(t)
		}
		r.clk.RunDue()
	}
	r.ns = end
}

// bd writes descriptor i of a list at list.
func (r *rig) bd(list uint64, i int, addr uint32, samples uint16, ctl uint32) {
	r.bus.Write32(list+8*uint64(i), addr)
	r.bus.Write32(list+8*uint64(i)+4, ctl|uint32(samples))
}

// pattern returns n frames of a counter pattern starting at seed: every
// sample distinct and non-zero, so misplaced or dropped frames show.
func pattern(seed, n int) []byte {
	p := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		l := uint16(seed+i)*2 + 1
		rr := ^l
		p[4*i], p[4*i+1], p[4*i+2], p[4*i+3] = byte(l), byte(l>>8), byte(rr), byte(rr>>8)
	}
	return p
}

func (r *rig) unmute() {
	r.setMixer(regMasterVol, 0)
	r.setMixer(regPCMOutVol, 0)
}
