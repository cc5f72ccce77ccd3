package ivshmem

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/clock"
	"gemu/devices/audio"
)

// ringSpec is what a test producer writes into the header.
type ringSpec struct {
	rate       uint32
	channels   uint16
	format     uint16
	frameBytes uint32
	dataOff    uint32
	capacity   uint32
}

var stereo16 = ringSpec{48000, 2, RingFormatS16LE, 4, HeaderSize, 4096}

// initRing writes a header the way the documented producer does: indices
// zero, format, epoch and active, magic last.
func initRing(m *Memory, s ringSpec, epoch uint32) {
	m.Write(OffWrite, 8, 0)
	m.Write(OffRead, 8, 0)
	m.Write(OffVersion, 4, RingVersion)
	m.Write(OffRate, 4, uint64(s.rate))
	m.Write(OffChannels, 2, uint64(s.channels))
	m.Write(OffFormat, 2, uint64(s.format))
	m.Write(OffFrameBytes, 4, uint64(s.frameBytes))
	m.Write(OffDataOffset, 4, uint64(s.dataOff))
	m.Write(OffCapacity, 4, uint64(s.capacity))
	m.Write(OffEpoch, 4, uint64(epoch))
	m.Write(OffActive, 4, 1)
	m.Write(OffMagic, 4, RingMagic)
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(s *ringSpec, m *Memory)
		reason Reason
	}{
		{"valid", nil, ReasonNone},
		{"version", func(s *ringSpec, m *Memory) { m.Write(OffVersion, 4, 2) }, ReasonVersion},
		{"format 0", func(s *ringSpec, m *Memory) { m.Write(OffFormat, 2, 0) }, ReasonFormat},
		{"format 99", func(s *ringSpec, m *Memory) { m.Write(OffFormat, 2, 99) }, ReasonFormat},
		{"rate 0", func(s *ringSpec, m *Memory) { m.Write(OffRate, 4, 0) }, ReasonRate},
		{"rate huge", func(s *ringSpec, m *Memory) { m.Write(OffRate, 4, 1<<31) }, ReasonRate},
		{"no channels", func(s *ringSpec, m *Memory) { m.Write(OffChannels, 2, 0) }, ReasonChannels},
		{"9 channels", func(s *ringSpec, m *Memory) { m.Write(OffChannels, 2, 9) }, ReasonChannels},
		{"frame bytes", func(s *ringSpec, m *Memory) { m.Write(OffFrameBytes, 4, 2) }, ReasonFrameBytes},
		{"data in header", func(s *ringSpec, m *Memory) { m.Write(OffDataOffset, 4, 0x40) }, ReasonDataOffset},
		{"data unaligned", func(s *ringSpec, m *Memory) { m.Write(OffDataOffset, 4, 0x104) }, ReasonDataOffset},
		{"data outside", func(s *ringSpec, m *Memory) { m.Write(OffDataOffset, 4, 1<<16) }, ReasonDataOffset},
		{"capacity 3000", func(s *ringSpec, m *Memory) { m.Write(OffCapacity, 4, 3000) }, ReasonCapacity},
		{"capacity 0", func(s *ringSpec, m *Memory) { m.Write(OffCapacity, 4, 0) }, ReasonCapacity},
		{"capacity past end", func(s *ringSpec, m *Memory) { m.Write(OffCapacity, 4, 1<<16) }, ReasonCapacity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := NewMemory(1 << 16)
			s := stereo16
			initRing(m, s, 7)
			if tc.mod != nil {
				tc.mod(&s, m)
			}
			h, ok, err := ParseHeader(m.Bytes(), m.Size())
			if !ok {
				t.Fatal("ring not found")
			}
			var re *RingError
			got := ReasonNone
			if errors.As(err, &re) {
				got = re.Reason
			} else if err != nil {
				t.Fatalf("error %v is not a *RingError", err)
			}
			if got != tc.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tc.reason)
			}
			if err != nil {
				return
			}
			want := Header{Magic: RingMagic, Version: 1, Spec: audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2},
				FrameBytes: 4, DataOffset: HeaderSize, Capacity: 4096, Epoch: 7, Active: true}
			if diff := cmp.Diff(want, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
		})
	}
	m, _ := NewMemory(4096)
	if _, ok, err := ParseHeader(m.Bytes(), m.Size()); ok || err != nil {
		t.Errorf("empty memory: ok %v, err %v", ok, err)
	}
}

func TestCheckIndices(t *testing.T) {
	tests := []struct {
		w, r, c, fill uint64
		bad           bool
	}{
		{10, 0, 64, 10, false},
		{64, 0, 64, 64, false},
		{65, 0, 64, 0, true},
		{3, ^uint64(0) - 4, 64, 8, false}, // wrapped free-running counters
		{0, 1, 64, 0, true},               // read ahead of write
	}
	for _, tc := range tests {
		fill, err := CheckIndices(tc.w, tc.r, tc.c)
		if (err != nil) != tc.bad || fill != tc.fill {
			t.Errorf("CheckIndices(%d, %d, %d) = %d, %v; want %d, error %v", tc.w, tc.r, tc.c, fill, err, tc.fill, tc.bad)
		}
	}
}

// FuzzParseHeader: any bytes another process leaves in shared memory parse
// without panicking, and an accepted header describes a ring that lies
// inside the memory with a usable spec.
func FuzzParseHeader(f *testing.F) {
	m, _ := NewMemory(1 << 16)
	initRing(m, stereo16, 1)
	f.Add(append([]byte(nil), m.Bytes()[:HeaderSize]...), uint8(16))
	f.Add(make([]byte, HeaderSize), uint8(12))
	f.Add([]byte("GAUD"), uint8(20))
	f.Fuzz(func(t *testing.T, hdr []byte, log2 uint8) {
		size := uint64(1) << (log2%20 + 8)
		h, ok, err := ParseHeader(hdr, size)
		if !ok || err != nil {
			return
		}
		if h.DataOffset+h.Capacity > size || h.Capacity&(h.Capacity-1) != 0 || h.DataOffset < HeaderSize {
			t.Fatalf("accepted a ring outside %d bytes: %+v", size, h)
		}
		if err := h.Spec.Validate(); err != nil || h.FrameBytes != h.Spec.FrameBytes() {
			t.Fatalf("accepted spec %v (%v), frame bytes %d", h.Spec, err, h.FrameBytes)
		}
	})
}

// fakeOut records what the player wrote; free limits each Free().
type fakeOut struct {
	got    []byte
	free   int
	active bool
	closed bool
	fb     int
}

func (o *fakeOut) Free() int { return o.free }
func (o *fakeOut) Write(p []byte) int {
	n := min(len(p)/o.fb, o.free)
	o.got = append(o.got, p[:n*o.fb]...)
	return n
}
func (o *fakeOut) Buffered() int                     { return 0 }
func (o *fakeOut) SetVolume(l, r float64, mute bool) {}
func (o *fakeOut) SetActive(on bool)                 { o.active = on }
func (o *fakeOut) Close()                            { o.closed = true }

type fakeBackend struct {
	outs  []*fakeOut
	specs []audio.Spec
	free  int
}

func (b *fakeBackend) OpenOutput(name string, spec audio.Spec) (audio.Output, error) {
	o := &fakeOut{free: b.free, fb: spec.FrameBytes()}
	b.outs = append(b.outs, o)
	b.specs = append(b.specs, spec)
	return o, nil
}

// OpenInput: the ring players only play.
func (b *fakeBackend) OpenInput(name string, spec audio.Spec) (audio.Input, error) {
	return nil, errors.New("no capture")
}

// playerRig runs a Player on a deterministic clock the test advances.
type playerRig struct {
	t   *testing.T
	ns  uint64
	clk *clock.Clock
	mem *Memory
	be  *fakeBackend
	p   *Player
	w   uint64 // producer's write index
	seq int    // next sample value
}

func newPlayerRig(t *testing.T, free int) *playerRig {
	r := &playerRig{t: t}
	r.clk = clock.NewDeterministic(0, func() uint64 { return r.ns })
	r.mem, _ = NewMemory(1 << 16)
	r.be = &fakeBackend{free: free}
	r.p = NewPlayer(r.mem, r.clk, r.be)
	r.p.IdleTick = 10e6 // look every 10 ms, as on a real-time clock
	return r
}

// advance runs the clock to t ns, firing timers in order.
func (r *playerRig) advance(to uint64) {
	for {
		next, ok := r.clk.Next()
		if !ok || uint64(next) > to {
			break
		}
		r.ns = max(r.ns, uint64(next))
		r.clk.RunDue()
	}
	r.ns = to
	r.clk.RunDue()
}

// produce writes n bytes of a counting pattern as the ring's producer
// would, as much as is free, and returns the bytes written.
func (r *playerRig) produce(n int) []byte {
	capacity := r.mem.Read(OffCapacity, 4)
	base := r.mem.Read(OffDataOffset, 4)
	read := r.mem.Read(OffRead, 8)
	n = min(n, int(capacity-(r.w-read)))
	var out []byte
	for i := 0; i < n; i++ {
		b := byte(r.seq*7 + r.seq>>8)
		r.seq++
		r.mem.Bytes()[base+(r.w+uint64(i))%capacity] = b
		out = append(out, b)
	}
	r.w += uint64(n)
	r.mem.Write(OffWrite, 8, r.w)
	return out
}

func (r *playerRig) status() (int, Reason) {
	v := r.mem.Read(OffStatus, 4)
	return int(v & 0xff), Reason(v >> 8)
}

func TestPlayerStreams(t *testing.T) {
	r := newPlayerRig(t, 1<<20)
	r.advance(25e6) // no ring yet: idle
	if s, _ := r.status(); s != RingIdle || len(r.be.outs) != 0 {
		t.Fatalf("status %d, %d outputs before any ring", s, len(r.be.outs))
	}
	initRing(r.mem, stereo16, 1)
	var want []byte
	want = append(want, r.produce(3000)...)
	// Produce 1 ms (192 bytes) per ms for 200 ms, crossing the 4 KiB
	// ring's end many times; keep ~2.5 ms ahead of the consumer.
	for ms := 1; ms <= 200; ms++ {
		r.advance(25e6 + uint64(ms)*1e6)
		want = append(want, r.produce(192)...)
	}
	r.advance(300e6) // drain
	if s, why := r.status(); s != RingPlaying {
		t.Fatalf("status %d (%v), want playing", s, why)
	}
	if len(r.be.outs) != 1 || r.be.specs[0] != (audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2}) {
		t.Fatalf("outputs %d, specs %v", len(r.be.outs), r.be.specs)
	}
	if got := r.be.outs[0].got; !bytes.Equal(got, want) {
		t.Fatalf("played %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	if got := r.mem.Read(OffRead, 8); got != r.w {
		t.Errorf("read index %d, want %d (all consumed)", got, r.w)
	}
	// Stop: clear active; the voice closes and the ring is idle.
	r.mem.Write(OffActive, 4, 0)
	r.advance(320e6)
	if s, _ := r.status(); s != RingIdle || !r.be.outs[0].closed {
		t.Errorf("after stop: status %d, closed %v", s, r.be.outs[0].closed)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestPlayerPacing: the consumer moves frames at the ring's rate, not as
// fast as it can, and never more than the output accepts.
func TestPlayerPacing(t *testing.T) {
	r := newPlayerRig(t, 1<<20)
	initRing(r.mem, ringSpec{8000, 1, RingFormatS16LE, 2, HeaderSize, 8192}, 1)
	r.produce(8192)
	r.advance(10e6) // attaches at the first idle look (10 ms)
	r.advance(60e6) // 50 ms at 8 kHz = 400 frames
	if got := len(r.be.outs[0].got) / 2; got < 399 || got > 401 {
		t.Errorf("consumed %d frames in 50 ms at 8 kHz, want 400", got)
	}
	r.be.outs[0].free = 10 // back-pressure
	before := r.mem.Read(OffRead, 8)
	r.advance(61e6)
	if d := r.mem.Read(OffRead, 8) - before; d > 20 {
		t.Errorf("read index moved %d bytes with 10 frames free", d)
	}
}

func TestPlayerBroken(t *testing.T) {
	tests := []struct {
		name   string
		breakm func(r *playerRig)
		reason Reason
	}{
		{"write index runs away", func(r *playerRig) { r.mem.Write(OffWrite, 8, r.w+1<<20) }, ReasonIndex},
		{"read index ahead", func(r *playerRig) { r.mem.Write(OffWrite, 8, 0); r.mem.Write(OffRead, 8, 0) }, ReasonIndex},
		{"format changed", func(r *playerRig) { r.mem.Write(OffRate, 4, 44100) }, ReasonFormatChanged},
		{"capacity changed", func(r *playerRig) { r.mem.Write(OffCapacity, 4, 1<<30) }, ReasonFormatChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newPlayerRig(t, 1<<20)
			initRing(r.mem, stereo16, 1)
			r.produce(4096)
			r.advance(15e6)
			tc.breakm(r)
			r.advance(20e6)
			if s, why := r.status(); s != RingBroken || why != tc.reason {
				t.Fatalf("status %d (%v), want broken (%v)", s, why, tc.reason)
			}
			if r.mem.Read(OffErrors, 4) != 1 || !r.be.outs[0].closed {
				t.Fatalf("errors %d, voice closed %v", r.mem.Read(OffErrors, 4), r.be.outs[0].closed)
			}
			played := len(r.be.outs[0].got)
			r.advance(100e6)
			if len(r.be.outs) != 1 || len(r.be.outs[0].got) != played {
				t.Fatal("a broken ring kept playing")
			}
			// The producer restarts with a new epoch: playing again.
			r.w, r.seq = 0, 0
			initRing(r.mem, stereo16, 2)
			want := r.produce(400)
			r.advance(200e6)
			if s, why := r.status(); s != RingPlaying || len(r.be.outs) != 2 {
				t.Fatalf("after restart: status %d (%v), %d outputs", s, why, len(r.be.outs))
			}
			if !bytes.Equal(r.be.outs[1].got, want) {
				t.Errorf("after restart played %d bytes, want %d", len(r.be.outs[1].got), len(want))
			}
		})
	}
}

func TestPlayerBadHeader(t *testing.T) {
	r := newPlayerRig(t, 1<<20)
	initRing(r.mem, ringSpec{48000, 2, RingFormatS16LE, 4, HeaderSize, 1 << 20}, 1)
	r.advance(50e6)
	if s, why := r.status(); s != RingBroken || why != ReasonCapacity {
		t.Fatalf("status %d (%v), want broken (capacity)", s, why)
	}
	if r.p.Errors != 1 {
		t.Errorf("Errors = %d, want 1 (counted once, not per look)", r.p.Errors)
	}
	// Reset (board reset) forgets the state; the same bad ring is found again.
	r.p.Reset()
	r.advance(100e6)
	if r.p.Errors != 2 {
		t.Errorf("Errors after reset = %d, want 2", r.p.Errors)
	}
	r.p.Close()
	if r.p.timer.Armed() {
		t.Error("timer armed after Close")
	}
}

// BenchmarkPlayer measures the consumer's cost per millisecond tick of a
// 48 kHz stereo stream (header checks, index loads, copy, stores).
func BenchmarkPlayer(b *testing.B) {
	r := newPlayerRig(&testing.T{}, 1<<20)
	initRing(r.mem, ringSpec{48000, 2, RingFormatS16LE, 4, HeaderSize, 32768}, 1)
	r.advance(10e6)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.w += 192
		r.mem.Write(OffWrite, 8, r.w)
		r.advance(r.ns + 1e6)
		r.be.outs[0].got = r.be.outs[0].got[:0]
	}
	if r.w-r.mem.Read(OffRead, 8) > 2*192 {
		b.Fatalf("consumer fell behind: read %d, write %d", r.mem.Read(OffRead, 8), r.w)
	}
}

// TestPlayerKick: on a deterministic clock an idle player does not poll;
// a guest store into the ring header through BAR2 makes it look.
func TestPlayerKick(t *testing.T) {
	r := newPlayerRig(t, 1<<20)
	r.p.IdleTick = 0 // the deterministic default
	d, err := New(Config{Mem: r.mem})
	if err != nil {
		t.Fatal(err)
	}
	d.Audio = r.p
	r.advance(50e6) // the first look finds nothing
	if r.p.timer.Armed() {
		t.Fatal("idle player keeps a timer armed on a deterministic clock")
	}
	// Store to the data area: no kick.
	bar := shmBAR{d}
	bar.Write(HeaderSize+8, 4, 1)
	if r.p.timer.Armed() {
		t.Fatal("a data store kicked the player")
	}
	scratch, _ := NewMemory(1 << 16)
	initRing(scratch, stereo16, 1)
	for off := uint64(0); off < HeaderSize; off += 4 {
		if off != OffMagic {
			bar.Write(off, 4, scratch.Read(off, 4))
		}
	}
	bar.Write(OffMagic, 4, RingMagic)
	r.advance(51e6)
	if s, why := r.status(); s != RingPlaying {
		t.Fatalf("status %d (%v) after the header was written, want playing", s, why)
	}
}

// TestPlayerKickBringsLookForward: with a periodic look (a real-time
// clock's IdleTick), a guest that starts its ring is attached at the next
// timer run, not at the next periodic look.
func TestPlayerKickBringsLookForward(t *testing.T) {
	r := newPlayerRig(t, 1<<20)
	r.p.IdleTick = 10e6
	d, err := New(Config{Mem: r.mem})
	if err != nil {
		t.Fatal(err)
	}
	d.Audio = r.p
	r.advance(r.ns + 11e6) // first look: nothing; the next is 10 ms away
	scratch, _ := NewMemory(1 << 16)
	initRing(scratch, stereo16, 1)
	bar := shmBAR{d}
	for off := uint64(0); off < HeaderSize; off += 4 {
		bar.Write(off, 4, scratch.Read(off, 4))
	}
	r.advance(r.ns + 1)
	if s, why := r.status(); s != RingPlaying {
		t.Fatalf("status %d (%v) right after the guest started the ring, want playing", s, why)
	}
}
