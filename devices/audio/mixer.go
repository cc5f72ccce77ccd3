package audio

import (
	"sync/atomic"
)

// mixChunk is the number of output frames the mixer renders per round; it
// bounds every scratch buffer, so mixing never allocates.
const mixChunk = 512

// voice is the mixer's state for one stream. The fields below the line are
// owned by the consumer (the goroutine that runs Mixer.Mix).
type voice struct {
	s     *Stream
	after *voice       // predecessor with the same name: start once it is done
	done  atomic.Bool  // removed and fully played: the mixer skips it
	state atomic.Int32 // voiceWaiting, voiceStarted (consumer's claim) or voiceReplaced (producer's)
	tap   func(native []byte)

	rs      *resampler // nil when the rates match
	qr      *qemuRate  // instead of rs with resampler=qemu (qemurate.go)
	raw     []byte
	in      []float64
	rsOut   []float64
	tapBuf  []byte
	doneSeq uint64 // mix round in which it finished
	doneOff int    // output frame of that round where its audio ended
}

// Voice states. A voice with a predecessor waits for it to finish; then
// the consumer claims it (voiceStarted) before touching it, or the
// producer claims it first (voiceReplaced, Add) and the consumer never
// touches it, so its buffers can be reused. A voice without predecessor
// is started from the first.
const (
	voiceWaiting int32 = iota
	voiceStarted
	voiceReplaced
)

// Mixer mixes any number of streams, each with its own Spec, into one output
// Spec: sample format conversion, channel mapping (mono is copied to both
// sides; stereo to mono is the mean; otherwise channel i goes to channel i),
// per-stream gain and mute, and sample-rate conversion (resample.go). Mixing
// is done in float64, in which every integer sample format is exact, so a
// single stream whose Spec equals the output Spec comes out bit-exact at
// unity gain (and takes a plain-copy fast path).
//
// Add and Remove belong to the producer side (the emulation goroutine); Mix
// to the consumer. They share only an atomically published, immutable voice
// list (the "state queue" of Android's audio guide, "Avoiding priority
// inversion", source.android.com/docs/core/audio/avoiding_pi): Mix never waits.
type Mixer struct {
	out    Spec
	ofb    int
	voices atomic.Pointer[[]*voice]
	acc    []float64
	seq    uint64
	spare  map[spareKey]*voice // producer: buffers of replaced voices, for reuse
	qacc   []int64             // resampler=qemu: the st_sample mix (qemurate.go)
	qused  bool                // a QEMU-converted voice is in this round's mix
}

// spareKey is what a voice's buffers depend on.
type spareKey struct {
	freq, ch, fb int
	tap          bool
}

// NewMixer returns a mixer producing out.
func NewMixer(out Spec) *Mixer {
	if err := out.Validate(); err != nil {
		panic(err)
	}
	m := &Mixer{out: out, ofb: out.FrameBytes(), acc: make([]float64, mixChunk*out.Channels)}
	m.voices.Store(new([]*voice))
	return m
}

// Spec is the output format.
func (m *Mixer) Spec() Spec { return m.out }

// Add starts mixing s. If a removed stream with the same name is still
// draining, s starts where that one's audio ends (a device that changes
// rate loses nothing and plays nothing twice). tap, if not nil, receives on
// the consumer goroutine every frame Mix takes from s, in s's native format
// with its gain applied (per-stream WAV files).
//
// A name has at most two voices in the mix: the one playing (or draining)
// and one waiting behind it. A guest that reopens a voice again before the
// waiting one has started (toggling the AC97 DAC rate, virtio-sound
// START/STOP/RELEASE/PREPARE in a loop) replaces the waiting voice: it never
// played, so s takes its place behind the one playing, and its frames, if
// it had any, are dropped. Add returns that replaced stream (nil if none),
// so the audiodev can account for it. This keeps the list, and the cost of
// every Add and Mix, bounded however fast a guest reopens.
func (m *Mixer) Add(s *Stream, tap func(native []byte)) (replaced *Stream) {
	v := &voice{s: s, tap: tap}
	sp := s.spec
	key := spareKey{sp.Freq, sp.Channels, s.fb, tap != nil}
	if o := m.spare[key]; o != nil {
		// A replaced voice's buffers: never touched by the consumer, and
		// its resampler still holds only its initial zero history.
		v.rs, v.qr, v.rsOut, v.raw, v.in, v.tapBuf = o.rs, o.qr, o.rsOut, o.raw, o.in, o.tapBuf
		delete(m.spare, key)
	} else {
		chunkIn := mixChunk
		if m.qacc != nil && qemuRateOK(sp, m.out) {
			v.qr = newQEMURate(sp.Freq, m.out.Freq)
			chunkIn = qemuChunk
		} else if sp.Freq != m.out.Freq {
			v.rs = newResampler(tableFor(sp.Freq, m.out.Freq), sp.Channels)
			chunkIn = resamplerChunk
			v.rsOut = make([]float64, mixChunk*sp.Channels)
		}
		v.raw = make([]byte, chunkIn*s.fb)
		v.in = make([]float64, chunkIn*sp.Channels)
		if tap != nil {
			v.tapBuf = make([]byte, chunkIn*s.fb)
		}
	}
	if v.qr != nil && s.lv == nil {
		s.lv = &levelState{}
	}
	old := *m.voices.Load()
	list := make([]*voice, 0, len(old)+1)
	for _, o := range old {
		if o.done.Load() {
			continue
		}
		if s.name != "" && o.s.name == s.name && o.s.gone.Load() {
			if o.after != nil && o.state.CompareAndSwap(voiceWaiting, voiceReplaced) {
				// o is still waiting: it never played. s replaces it.
				v.after = o.after
				o.done.Store(true)
				replaced = o.s
				if m.spare == nil {
					m.spare = map[spareKey]*voice{}
				}
				if len(m.spare) < 4 {
					m.spare[spareKey{o.s.spec.Freq, o.s.spec.Channels, o.s.fb, o.tap != nil}] = o
				}
				continue
			}
			v.after = o
		}
		list = append(list, o)
	}
	list = append(list, v)
	m.voices.Store(&list)
	return replaced
}

// Remove stops accepting writes to s; the frames already in its ring are
// still played, then the mixer forgets it.
func (m *Mixer) Remove(s *Stream) {
	s.gone.Store(true)
	s.active.Store(false)
}

// prune republishes the list without finished voices (producer side) and
// returns their streams.
func (m *Mixer) prune() (finished []*Stream) {
	old := *m.voices.Load()
	list := make([]*voice, 0, len(old))
	for _, o := range old {
		if o.done.Load() {
			finished = append(finished, o.s)
		} else {
			list = append(list, o)
		}
	}
	if len(list) != len(old) {
		m.voices.Store(&list)
	}
	return finished
}

// Streams returns the streams being mixed (including draining ones).
func (m *Mixer) Streams() []*Stream {
	var out []*Stream
	for _, v := range *m.voices.Load() {
		if !v.done.Load() {
			out = append(out, v.s)
		}
	}
	return out
}

// audible reports whether any voice would contribute more than silence
// (consumer side, or the producer when it is also the consumer).
func (m *Mixer) audible() bool {
	for _, v := range *m.voices.Load() {
		if v.done.Load() || v.idle() {
			continue
		}
		// A successor whose predecessor is removed and silent plays in the
		// next Mix, which finishes the predecessor first: count it, or a
		// wav pull would mix its first frames and not write them.
		if v.waiting() && !(v.after.s.gone.Load() && v.after.idle()) {
			continue
		}
		return true
	}
	return false
}

// anyBuffered reports whether any ring still holds frames (any goroutine).
func (m *Mixer) anyBuffered() bool {
	for _, v := range *m.voices.Load() {
		if !v.done.Load() && v.s.Buffered() > 0 {
			return true
		}
	}
	return false
}

// idle reports whether v would contribute nothing but silence now.
func (v *voice) idle() bool {
	return !v.s.active.Load() && v.s.Buffered() == 0 && (v.rs == nil || v.rs.quiet())
}

// waiting reports whether v must not start yet (its predecessor plays).
// Consumer side: once the predecessor is done it claims v (or finds that
// Add replaced it, and v is done).
func (v *voice) waiting() bool {
	if v.after == nil {
		return false
	}
	if !v.after.done.Load() {
		return true
	}
	st := v.state.Load()
	if st == voiceWaiting && v.state.CompareAndSwap(voiceWaiting, voiceStarted) {
		return false
	}
	return v.state.Load() != voiceStarted
}

// Available is how many output frames the mixer can produce from audio
// already buffered: the most any stream allows, converted to the output
// rate. The oto reader uses it to return short reads. Consumer side only
// (it reads resampler state).
func (m *Mixer) Available() int {
	best := 0
	for _, v := range *m.voices.Load() {
		if v.done.Load() {
			continue
		}
		best = max(best, v.outFor(v.s.Buffered()))
	}
	return best
}

// ready is the pull contract of a real-time sink (consumer side): how many
// output frames can be mixed now without padding any voice with silence.
//
// A voice that is playing (active, not removed, not waiting behind a
// predecessor) constrains the mix: all is the fewest frames any of them
// can give, so every voice advances by the same number of frames and none
// is padded while another has data. Voices that are draining (removed, or
// stopped by the guest with frames left) do not constrain it: their end
// is near, and silence after their last frame is the end of their audio.
// With no playing voice, all is what the fullest draining voice has.
//
// late reports a playing voice with nothing buffered while another voice
// has frames; some is then what the voices that have frames can give (the
// least of them). The caller decides whether to wait for the late voice or
// to mix some, padding it (counted as its underrun).
func (m *Mixer) ready() (all, some int, late bool) {
	all, some = -1, -1
	drain := 0
	for _, v := range *m.voices.Load() {
		if v.done.Load() || v.waiting() {
			continue
		}
		n := v.outFor(v.s.Buffered())
		if !v.s.active.Load() || v.s.gone.Load() {
			if n == 0 && v.rs != nil && !v.rs.quiet() {
				n = tailStep // flush the filter's tail in small steps
			}
			drain = max(drain, n)
			continue
		}
		if all < 0 || n < all {
			all = n
		}
		if n > 0 && (some < 0 || n < some) {
			some = n
		}
	}
	switch {
	case all < 0: // only draining voices
		return drain, drain, false
	case some < 0: // every playing voice is dry
		return 0, drain, drain > 0
	}
	return all, some, all == 0
}

// tailStep is how many output frames at a time flush a resampler's tail
// after its voice's last frame.
const tailStep = 64

// settle finishes removed voices that have nothing left to play, so that
// the voices waiting behind them start (consumer side). A sink that pulls
// only what is ready calls it before asking; Mix does the same itself.
func (m *Mixer) settle() {
	for again := true; again; {
		again = false
		for _, v := range *m.voices.Load() {
			if !v.done.Load() && !v.waiting() && v.s.gone.Load() && v.idle() {
				v.finish(m.seq+1, 0)
				again = true
			}
		}
	}
}

// Mix fills dst (whole output frames; a partial tail frame is silence) with
// the mix of every stream. Streams that run dry contribute silence for the
// missing part and count an underrun. It never blocks or allocates.
func (m *Mixer) Mix(dst []byte) {
	n := len(dst) / m.ofb
	m.out.FillSilence(dst[n*m.ofb:])
	list := *m.voices.Load()

	// Fast path: exactly one audible stream, same format, unity gain.
	var only *voice
	live := 0
	for _, v := range list {
		if v.done.Load() || v.waiting() {
			continue
		}
		if v.idle() {
			if v.s.gone.Load() {
				v.finish(m.seq+1, 0)
			}
			continue
		}
		live++
		only = v
	}
	if live == 0 {
		m.out.FillSilence(dst[:n*m.ofb])
		m.seq++
		return
	}
	if live == 1 && only.rs == nil && only.s.spec.SameStream(m.out) && only.s.vol.Load() == unityVol {
		s := only.s
		got := s.take(dst, n)
		m.out.FillSilence(dst[got*m.ofb : n*m.ofb])
		s.short(n, got)
		if only.tap != nil && got > 0 {
			only.tap(dst[:got*m.ofb])
		}
		m.seq++
		if s.gone.Load() && s.Buffered() == 0 {
			only.finish(m.seq, got)
			if got < n { // a successor with the same name continues here
				m.Mix(dst[got*m.ofb : n*m.ofb])
			}
		}
		return
	}

	for off := 0; off < n; off += mixChunk {
		c := min(mixChunk, n-off)
		m.seq++
		acc := m.acc[:c*m.out.Channels]
		clear(acc)
		if m.qacc != nil {
			clear(m.qacc[:2*c])
			m.qused = false
		}
		for _, v := range list {
			if v.done.Load() {
				continue
			}
			start := 0
			if v.after != nil {
				if v.waiting() {
					continue
				}
				if v.after.doneSeq == m.seq {
					start = v.after.doneOff
				}
			}
			if v.idle() {
				if v.s.gone.Load() {
					v.finish(m.seq, start)
				}
				continue
			}
			if v.qr != nil {
				m.renderQEMU(v, c-start, start)
				continue
			}
			m.render(v, acc[start*m.out.Channels:], c-start, start)
		}
		if m.qused {
			clipQEMU(m.out, m.qacc[:2*c], acc, dst[off*m.ofb:(off+c)*m.ofb])
			continue
		}
		encode(m.out, acc, dst[off*m.ofb:(off+c)*m.ofb])
	}
}

// starved records that the host played outFrames of silence because every
// audible stream was dry (consumer side).
func (m *Mixer) starved(outFrames int) {
	for _, v := range *m.voices.Load() {
		if v.done.Load() || v.waiting() || v.idle() {
			continue
		}
		want := int(int64(outFrames) * int64(v.s.spec.Freq) / int64(m.out.Freq))
		v.s.short(max(want, 1), 0)
	}
}

func (v *voice) finish(seq uint64, off int) {
	v.doneSeq, v.doneOff = seq, off
	v.done.Store(true)
}

// render adds n output frames of v into acc; base is acc's offset in the
// round (for the done bookkeeping).
func (m *Mixer) render(v *voice, acc []float64, n, base int) {
	s := v.s
	sp := s.spec
	ich := sp.Channels
	vol := s.vol.Load()
	if v.rs == nil {
		got := s.take(v.raw, n)
		s.short(n, got)
		in := v.in[:got*ich]
		decode(sp, v.raw[:got*s.fb], in)
		v.gainAndTap(in, got, vol)
		mapAdd(in, ich, acc, m.out.Channels, got)
		if s.gone.Load() && s.Buffered() == 0 {
			v.finish(m.seq, base+got)
		}
		return
	}
	for done := 0; done < n; {
		k := min(n-done, v.rs.maxOut())
		need := v.rs.need(k)
		got := s.take(v.raw, need)
		s.short(need, got)
		in := v.in[:got*ich]
		decode(sp, v.raw[:got*s.fb], in)
		v.gainAndTap(in, got, vol)
		v.rs.push(in)
		v.rs.pushZeros(need - got)
		out := v.rsOut[:k*ich]
		v.rs.process(out, k)
		mapAdd(out, ich, acc[done*m.out.Channels:], m.out.Channels, k)
		done += k
	}
	if s.gone.Load() && s.Buffered() == 0 && v.rs.quiet() {
		v.finish(m.seq, base+n)
	}
}

func (v *voice) gainAndTap(in []float64, frames int, vol uint64) {
	if frames == 0 {
		return
	}
	if vol != unityVol {
		gl, gr := volPair(vol)
		applyGains(in, v.s.spec.Channels, gl, gr)
		if v.tap != nil {
			b := v.tapBuf[:frames*v.s.fb]
			encode(v.s.spec, in, b)
			v.tap(b)
		}
		return
	}
	if v.tap != nil {
		v.tap(v.raw[:frames*v.s.fb])
	}
}

// mapAdd adds n frames of src (sch channels) into acc (och channels).
func mapAdd(src []float64, sch int, acc []float64, och int, n int) {
	switch {
	case sch == och:
		acc = acc[:n*och]
		for i, x := range src[:n*sch] {
			acc[i] += x
		}
	case sch == 1:
		for k, x := range src[:n] {
			acc[k*och] += x
			acc[k*och+1] += x
		}
	case och == 1:
		for k := range n {
			acc[k] += (src[k*sch] + src[k*sch+1]) / 2
		}
	default:
		c := min(sch, och)
		for k := range n {
			for j := range c {
				acc[k*och+j] += src[k*sch+j]
			}
		}
	}
}
