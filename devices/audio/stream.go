package audio

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Stream is a single-producer single-consumer ring of PCM frames: the
// hand-off between a device model and a sink (playback), or between a capture
// source and a device model (recording).
//
// Exactly one goroutine may call the producer methods (Write, Free,
// SetVolume, SetActive) and exactly one the consumer methods (Read, Fill);
// Buffered, Spec and Stats may be called from anywhere. The two sides share
// only atomics: the producer's write counter w and the consumer's read
// counter r, both counting frames since creation (uint64, they never wrap in
// practice; the ring index is counter & mask).
//
// Memory ordering (Go's sync/atomic operations are sequentially consistent,
// which gives at least acquire/release):
//   - The producer copies frames into ring[w..w+n) and only then stores
//     w+n (release). The consumer loads w (acquire) before it reads any frame
//     below w, so it never sees a frame before its bytes are written.
//   - The consumer copies frames out of ring[r..r+n) and only then stores
//     r+n (release). The producer loads r (acquire) before overwriting any
//     slot below r+capacity, so it never overwrites a frame still being read.
//
// Neither side ever waits for the other, takes a lock or allocates after
// NewStream: the audio callback can run on a real-time thread (the Android
// "avoiding priority inversion" rule of Android's audio guide,
// source.android.com/docs/core/audio/avoiding_pi).
type Stream struct {
	// Immutable after creation.
	spec Spec
	fb   int    // bytes per frame
	mask uint64 // capacity-1, capacity a power of two
	ring []byte
	now  func() int64 // time source for latency and the timeline (ns)
	name string

	_ [64]byte
	w atomic.Uint64 // frames written (producer)
	_ [56]byte
	r atomic.Uint64 // frames read (consumer)
	_ [56]byte

	vol    atomic.Uint64 // effective gains: float32 bits left<<32 | right
	active atomic.Bool   // producer is playing: a short pull is an underrun
	gone   atomic.Bool   // removed from its Audiodev: Write refuses, drain then drop
	lv     *levelState   // QEMU volume levels the mixer applies (qemurate.go SetLevels)

	// Producer-side counters (single writer; atomics so Stats can read them).
	produced      atomic.Uint64
	overrunEvents atomic.Uint64
	overrunFrames atomic.Uint64
	writes        atomic.Uint64
	firstWrite    atomic.Int64 // MonoNow of the first frame accepted; 0: none yet

	// Latency marks: the producer records (end frame, time) at each Write;
	// the consumer, once it has read past a mark's end frame, records how
	// long that frame waited. Entry i is owned by the producer while
	// markW-markR < len(marks) says it is free.
	marks [64]struct {
		end uint64
		t   int64
	}
	markW atomic.Uint64
	markR atomic.Uint64

	// Consumer-side counters and statistics (single writer).
	consumed       atomic.Uint64
	underrunEvents atomic.Uint64
	underrunFrames atomic.Uint64
	pulls          atomic.Uint64
	fillMin        atomic.Uint64
	fillMax        atomic.Uint64
	fillSum        atomic.Uint64
	latMin         atomic.Int64
	latMax         atomic.Int64
	latSum         atomic.Int64
	latN           atomic.Uint64
	starving       bool // consumer: the previous pull was short
	hist           history
	scratch        [256]float64 // consumer: gain in Fill
}

// NewStream makes a ring for spec holding at least capacityFrames frames
// (rounded up to a power of two, at least 2). It panics on an invalid spec
// (a programming error: guest-chosen specs go through Spec.Validate first).
func NewStream(spec Spec, capacityFrames int) *Stream {
	if err := spec.Validate(); err != nil {
		panic(err)
	}
	if capacityFrames < 2 {
		capacityFrames = 2
	}
	if capacityFrames > 1<<24 {
		capacityFrames = 1 << 24
	}
	c := 1 << bits.Len(uint(capacityFrames-1))
	s := &Stream{
		spec: spec,
		fb:   spec.FrameBytes(),
		mask: uint64(c - 1),
		ring: make([]byte, c*spec.FrameBytes()),
		now:  hostNow,
	}
	s.vol.Store(unityVol)
	s.fillMin.Store(math.MaxUint64)
	s.latMin.Store(math.MaxInt64)
	s.hist.init()
	return s
}

var hostEpoch = time.Now()

// hostNow is the host's monotonic time in ns (no allocation).
func hostNow() int64 { return int64(time.Since(hostEpoch)) }

// monoOffset makes hostNow absolute: CLOCK_MONOTONIC at hostEpoch where
// the system has it (mono_linux.go), else 0.
var monoOffset int64

// MonoNow is the host's CLOCK_MONOTONIC in ns on Linux (elsewhere the time
// since this package started): a time other processes can compare with,
// as tests/realtime does with Stats.FirstWrite.
func MonoNow() int64 { return monoOffset + hostNow() }

const unityVol = uint64(0x3f800000)<<32 | 0x3f800000 // float32(1) twice

// Spec returns the stream's format.
func (s *Stream) Spec() Spec { return s.spec }

// Name is the voice name given to Audiodev.NewOutput/NewInput ("" otherwise).
func (s *Stream) Name() string { return s.name }

// Capacity is the ring size in frames.
func (s *Stream) Capacity() int { return int(s.mask + 1) }

// Free is the number of frames the producer can write now.
func (s *Stream) Free() int {
	return int(s.mask + 1 - (s.w.Load() - s.r.Load()))
}

// Buffered is the number of frames written and not yet read.
func (s *Stream) Buffered() int {
	r := s.r.Load()
	return int(s.w.Load() - r)
}

// Write copies as many whole frames of p as fit and returns how many frames
// it took. Frames that do not fit are not taken (the caller keeps them and
// retries later: back-pressure); they are counted as an overrun so that a
// producer that ignores Free shows up in the statistics. A removed stream
// takes nothing.
func (s *Stream) Write(p []byte) int {
	n := len(p) / s.fb
	if n == 0 {
		return 0
	}
	s.writes.Add(1)
	if s.gone.Load() {
		s.overrunEvents.Add(1)
		s.overrunFrames.Add(uint64(n))
		return 0
	}
	w := s.w.Load()
	free := int(s.mask + 1 - (w - s.r.Load()))
	k := min(n, free)
	if k > 0 {
		i := int(w&s.mask) * s.fb
		c := copy(s.ring[i:], p[:k*s.fb])
		copy(s.ring, p[c:k*s.fb])
		s.w.Store(w + uint64(k))
		s.produced.Add(uint64(k))
		if w == 0 && s.firstWrite.Load() == 0 {
			s.firstWrite.Store(MonoNow())
		}
		s.mark(w + uint64(k))
		if !s.active.Load() {
			s.active.Store(true)
		}
	}
	if k < n {
		s.overrunEvents.Add(1)
		s.overrunFrames.Add(uint64(n - k))
	}
	return k
}

// mark records the time the frame before end was written (producer).
func (s *Stream) mark(end uint64) {
	mw := s.markW.Load()
	if mw-s.markR.Load() >= uint64(len(s.marks)) {
		return // consumer is behind: skip this sample
	}
	m := &s.marks[mw%uint64(len(s.marks))]
	m.end, m.t = end, s.now()
	s.markW.Store(mw + 1)
}

// SetActive tells the stream whether its producer is playing. Only while
// active does a pull that finds too few frames count as an underrun. Write
// sets it; a device clears it when the guest stops the stream, so that the
// silence after the last frame is not reported as an underrun.
func (s *Stream) SetActive(on bool) { s.active.Store(on) }

// Active reports the flag set by SetActive (or by Write).
func (s *Stream) Active() bool { return s.active.Load() }

// SetVolume sets the stream's gains (1.0 = unity; values are clamped to
// 0..4, NaN is 0) as a device's volume and mute registers say. At unity and
// unmuted the samples pass through bit-exact. Safe to call at any time from
// the producer; the consumer picks the new value up at its next pull.
func (s *Stream) SetVolume(left, right float64, mute bool) {
	if mute {
		left, right = 0, 0
	}
	s.vol.Store(uint64(math.Float32bits(clampGain(left)))<<32 | uint64(math.Float32bits(clampGain(right))))
}

func clampGain(g float64) float32 {
	if !(g > 0) {
		return 0
	}
	if g > 4 {
		return 4
	}
	return float32(g)
}

// Volume returns the effective gains (0 when muted).
func (s *Stream) Volume() (left, right float64) {
	return volPair(s.vol.Load())
}

// take is the consumer's copy: up to n frames into p, with statistics.
func (s *Stream) take(p []byte, n int) int {
	r := s.r.Load()
	avail := s.w.Load() - r
	k := min(n, int(avail))
	if k > 0 {
		i := int(r&s.mask) * s.fb
		c := copy(p[:k*s.fb], s.ring[i:])
		copy(p[c:k*s.fb], s.ring)
		s.r.Store(r + uint64(k))
		s.consumed.Add(uint64(k))
		s.latency(r + uint64(k))
	}
	s.notePull(avail)
	return k
}

// skip drops up to n frames without copying (consumer).
func (s *Stream) skip(n int) int {
	r := s.r.Load()
	avail := s.w.Load() - r
	k := min(n, int(avail))
	if k > 0 {
		s.r.Store(r + uint64(k))
		s.consumed.Add(uint64(k))
		s.latency(r + uint64(k))
	}
	s.notePull(avail)
	return k
}

func (s *Stream) notePull(fill uint64) {
	s.pulls.Add(1)
	if fill < s.fillMin.Load() {
		s.fillMin.Store(fill)
	}
	if fill > s.fillMax.Load() {
		s.fillMax.Store(fill)
	}
	s.fillSum.Add(fill)
}

// latency retires the marks whose frames the consumer has now read.
func (s *Stream) latency(r uint64) {
	mr := s.markR.Load()
	mw := s.markW.Load()
	if mr == mw {
		return
	}
	now := s.now()
	for ; mr != mw; mr++ {
		m := &s.marks[mr%uint64(len(s.marks))]
		if m.end > r {
			break
		}
		d := now - m.t
		if d < s.latMin.Load() {
			s.latMin.Store(d)
		}
		if d > s.latMax.Load() {
			s.latMax.Store(d)
		}
		s.latSum.Add(d)
		s.latN.Add(1)
	}
	s.markR.Store(mr)
}

// short does the consumer's underrun bookkeeping for a pull that wanted
// want frames and got got.
func (s *Stream) short(want, got int) {
	underrun := got < want && s.active.Load() && !s.gone.Load()
	if underrun {
		if !s.starving {
			s.underrunEvents.Add(1)
		}
		s.underrunFrames.Add(uint64(want - got))
	}
	s.starving = underrun
	s.hist.add(s.now(), s.w.Load()-s.r.Load(), underrun)
}

// Read copies up to len(p)/FrameBytes whole frames, as written, and returns
// the number of frames read (consumer). It never blocks.
func (s *Stream) Read(p []byte) int {
	fill := s.w.Load() - s.r.Load()
	k := s.take(p, len(p)/s.fb)
	s.hist.add(s.now(), fill, false)
	return k
}

// Fill is the SDL-style pull: it fills exactly len(buf) bytes with the
// stream's frames, gains applied, and pads with silence when the ring runs
// dry, counting an underrun if the producer is active. It never blocks,
// takes a lock or allocates.
func (s *Stream) Fill(buf []byte) {
	want := len(buf) / s.fb
	got := s.take(buf, want)
	s.spec.FillSilence(buf[got*s.fb:])
	s.short(want, got)
	if v := s.vol.Load(); v != unityVol {
		s.applyGain(buf[:got*s.fb], v)
	}
}

// applyGain scales whole frames of p in place (consumer scratch, no
// allocation).
func (s *Stream) applyGain(p []byte, v uint64) {
	gl, gr := volPair(v)
	ch := s.spec.Channels
	sb := s.spec.Format.Bytes()
	per := len(s.scratch) / ch * ch
	for len(p) > 0 {
		n := min(per, len(p)/sb)
		buf := s.scratch[:n]
		decode(s.spec, p[:n*sb], buf)
		applyGains(buf, ch, gl, gr)
		encode(s.spec, buf, p[:n*sb])
		p = p[n*sb:]
	}
}

// applyGains multiplies interleaved samples: mono by left, channel 0 by
// left, 1 by right, the others by the mean of the two.
func applyGains(buf []float64, ch int, gl, gr float64) {
	switch ch {
	case 1:
		for i := range buf {
			buf[i] *= gl
		}
	case 2:
		for i := 0; i+1 < len(buf); i += 2 {
			buf[i] *= gl
			buf[i+1] *= gr
		}
	default:
		gm := (gl + gr) / 2
		for i := range buf {
			switch i % ch {
			case 0:
				buf[i] *= gl
			case 1:
				buf[i] *= gr
			default:
				buf[i] *= gm
			}
		}
	}
}

// volPair unpacks the gains stored by SetVolume.
func volPair(v uint64) (left, right float64) {
	return float64(math.Float32frombits(uint32(v >> 32))), float64(math.Float32frombits(uint32(v)))
}
