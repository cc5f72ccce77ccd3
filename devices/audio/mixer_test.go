package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func randomPCM(rng *rand.Rand, sp Spec, frames int) []byte {
	p := make([]byte, frames*sp.FrameBytes())
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	if sp.Format == F32LE { // finite samples only (NaN payloads are not audio)
		for i := 0; i < len(p); i += 4 {
			p[i+3] &= 0xbf
		}
	}
	return p
}

// pump writes src through s while m mixes pulls of random sizes; it returns
// the mixed bytes.
func pump(t *testing.T, m *Mixer, s *Stream, src []byte, rng *rand.Rand) []byte {
	t.Helper()
	var out []byte
	ofb := m.Spec().FrameBytes()
	for len(src) > 0 || s.Buffered() > 0 {
		n := s.Write(src[:min(len(src), s.Free()*s.fb)])
		src = src[n*s.fb:]
		k := min(rng.IntN(700)+1, m.Available())
		buf := make([]byte, k*ofb)
		m.Mix(buf)
		out = append(out, buf...)
	}
	return out
}

func TestMixerBitExactPassThrough(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, f := range []Format{U8, S8, S16LE, U16LE, S16BE, S32LE, F32LE} {
		for _, ch := range []int{1, 2, 6} {
			sp := Spec{Freq: 44100, Format: f, Channels: ch}
			src := randomPCM(rng, sp, 20000)
			// Alone (fast path) and next to a silent active stream
			// (general float path): both must be bit-exact.
			for _, withOther := range []bool{false, true} {
				m := NewMixer(sp)
				s := NewStream(sp, 1024)
				m.Add(s, nil)
				if withOther {
					o := NewStream(sp, 64)
					m.Add(o, nil)
					o.SetActive(true)
				}
				out := pump(t, m, s, src, rng)
				if f == F32LE && withOther {
					// -0.0 + 0.0 is +0.0: compare values, not bits.
					a, b := make([]float64, len(src)/4), make([]float64, len(out)/4)
					decode(sp, src, a)
					decode(sp, out, b)
					if !cmp.Equal(a, b) {
						t.Errorf("%v other=%v: samples differ", sp, withOther)
					}
					continue
				}
				if !bytes.Equal(out, src) {
					t.Errorf("%v other=%v: output differs from input (%d vs %d bytes)", sp, withOther, len(out), len(src))
				}
			}
		}
	}
}

// sinad fits a·sin + b·cos + c at freq to x and returns 10·log10(signal
// power / residual power) in dB.
func sinad(x []float64, freq, rate float64) float64 {
	w := 2 * math.Pi * freq / rate
	// Normal equations for 3 unknowns.
	var A [3][3]float64
	var B [3]float64
	for n, v := range x {
		f := [3]float64{math.Sin(w * float64(n)), math.Cos(w * float64(n)), 1}
		for i := range 3 {
			for j := range 3 {
				A[i][j] += f[i] * f[j]
			}
			B[i] += f[i] * v
		}
	}
	c := solve3(A, B)
	var sig, res float64
	for n, v := range x {
		fit := c[0]*math.Sin(w*float64(n)) + c[1]*math.Cos(w*float64(n))
		sig += fit * fit
		r := v - fit - c[2]
		res += r * r
	}
	return 10 * math.Log10(sig/res)
}

func solve3(A [3][3]float64, B [3]float64) [3]float64 {
	for i := range 3 {
		p := i
		for r := i + 1; r < 3; r++ {
			if math.Abs(A[r][i]) > math.Abs(A[p][i]) {
				p = r
			}
		}
		A[i], A[p] = A[p], A[i]
		B[i], B[p] = B[p], B[i]
		for r := i + 1; r < 3; r++ {
			f := A[r][i] / A[i][i]
			for c := i; c < 3; c++ {
				A[r][c] -= f * A[i][c]
			}
			B[r] -= f * B[i]
		}
	}
	var x [3]float64
	for i := 2; i >= 0; i-- {
		s := B[i]
		for c := i + 1; c < 3; c++ {
			s -= A[i][c] * x[c]
		}
		x[i] = s / A[i][i]
	}
	return x
}

func sineF32(rate, freq, amp float64, frames, ch int) []byte {
	p := make([]byte, 4*frames*ch)
	for n := range frames {
		v := float32(amp * math.Sin(2*math.Pi*freq*float64(n)/rate))
		for c := range ch {
			binary.LittleEndian.PutUint32(p[4*(n*ch+c):], math.Float32bits(v))
		}
	}
	return p
}

func resampleF32(t *testing.T, in, out, frames int) []float64 {
	t.Helper()
	isp := Spec{Freq: in, Format: F32LE, Channels: 2}
	osp := Spec{Freq: out, Format: F32LE, Channels: 2}
	m := NewMixer(osp)
	s := NewStream(isp, 8192)
	m.Add(s, nil)
	src := sineF32(float64(in), 1000, 0.5, frames, 2)
	var res []byte
	rng := rand.New(rand.NewPCG(9, 10))
	for len(src) > 0 || m.Available() > 0 {
		n := s.Write(src[:min(len(src), s.Free()*8)])
		src = src[n*8:]
		k := min(rng.IntN(500)+1, m.Available())
		buf := make([]byte, 8*k)
		m.Mix(buf)
		res = append(res, buf...)
	}
	if s.Stats().UnderrunFrames != 0 {
		t.Errorf("%d->%d: %d underrun frames", in, out, s.Stats().UnderrunFrames)
	}
	x := make([]float64, len(res)/4)
	decode(osp, res, x)
	return x
}

// TestResampleSINAD: a 1 kHz sine converted 44100 -> 48000 keeps
// SINAD >= 90 dB (and the other common pairs likewise).
func TestResampleSINAD(t *testing.T) {
	for _, tc := range []struct{ in, out int }{
		{44100, 48000}, {48000, 44100}, {8000, 48000}, {22050, 44100}, {11025, 48000}, {96000, 48000}, {192000, 44100}, {47999, 48000},
	} {
		x := resampleF32(t, tc.in, tc.out, tc.in) // one second
		left := make([]float64, 0, len(x)/2)
		for i := 0; i+1 < len(x); i += 2 {
			left = append(left, x[i])
		}
		skip := tc.out / 50 // filter settling
		got := sinad(left[skip:], 1000, float64(tc.out))
		t.Logf("%d -> %d Hz: SINAD %.1f dB over %d frames", tc.in, tc.out, got, len(left)-skip)
		if got < 90 {
			t.Errorf("%d -> %d Hz: SINAD %.1f dB < 90", tc.in, tc.out, got)
		}
		if n := len(left); n < tc.out*99/100 {
			t.Errorf("%d -> %d: only %d output frames", tc.in, tc.out, n)
		}
	}
}

func TestMixerMixesMapsAndGains(t *testing.T) {
	out := Spec{Freq: 8000, Format: S16LE, Channels: 2}
	m := NewMixer(out)
	mono := NewStream(Spec{Freq: 8000, Format: S16LE, Channels: 1}, 16)
	stereo := NewStream(Spec{Freq: 8000, Format: U8, Channels: 2}, 16)
	m.Add(mono, nil)
	m.Add(stereo, nil)
	le := func(v ...int16) []byte {
		p := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(p[2*i:], uint16(x))
		}
		return p
	}
	mono.Write(le(1000, -2000))
	stereo.Write([]byte{0x90, 0x70, 0x80, 0x80}) // +16/128, -16/128
	stereo.SetVolume(0.5, 1, false)
	buf := make([]byte, 8)
	m.Mix(buf)
	want := le(1000+2048, 1000-4096, -2000, -2000)
	if d := cmp.Diff(want, buf); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	// Stereo into a mono mix is the mean; mute silences.
	m2 := NewMixer(Spec{Freq: 8000, Format: S16LE, Channels: 1})
	st := NewStream(Spec{Freq: 8000, Format: S16LE, Channels: 2}, 16)
	m2.Add(st, nil)
	st.Write(le(100, 300, 7, 7))
	st.SetVolume(1, 1, true)
	st.Write(nil)
	b2 := make([]byte, 2)
	st.SetVolume(1, 1, false)
	m2.Mix(b2)
	if got := int16(binary.LittleEndian.Uint16(b2)); got != 200 {
		t.Errorf("stereo->mono = %d, want 200", got)
	}
	st.SetVolume(1, 1, true)
	m2.Mix(b2)
	if got := int16(binary.LittleEndian.Uint16(b2)); got != 0 {
		t.Errorf("muted = %d, want 0", got)
	}
}

// A device that changes its rate removes its voice and opens a new one
// with the same name: every frame of both is played, in order, once.
func TestMixerRateChangeLossless(t *testing.T) {
	out := Spec{Freq: 48000, Format: S32LE, Channels: 1}
	m := NewMixer(out)
	a := NewStream(out, 256)
	a.name = "pcm"
	m.Add(a, nil)
	a.Write(seqFrames(1, 200))
	buf := make([]byte, 4*50)
	m.Mix(buf) // frames 1..50
	m.Remove(a)
	b := NewStream(out, 256) // same spec here so the result is checkable
	b.name = "pcm"
	m.Add(b, nil)
	b.Write(seqFrames(201, 200))
	var got []byte
	got = append(got, buf...)
	for range 7 {
		buf := make([]byte, 4*50)
		m.Mix(buf)
		got = append(got, buf...)
	}
	if d := cmp.Diff(seqFrames(1, 400), got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	if n := len(m.Streams()); n != 1 {
		t.Errorf("%d streams left, want 1", n)
	}
	if st := a.Stats(); st.UnderrunFrames != 0 {
		t.Errorf("removed stream counted %d underrun frames", st.UnderrunFrames)
	}
}

// The same in the plain-copy path, with pulls that straddle the boundary.
func TestMixerRateChangeFastPath(t *testing.T) {
	out := Spec{Freq: 48000, Format: S32LE, Channels: 1}
	m := NewMixer(out)
	a := NewStream(out, 256)
	a.name = "pcm"
	m.Add(a, nil)
	a.Write(seqFrames(1, 70))
	m.Remove(a)
	b := NewStream(out, 256)
	b.name = "pcm"
	m.Add(b, nil)
	b.Write(seqFrames(71, 100))
	buf := make([]byte, 4*100)
	m.Mix(buf)
	if d := cmp.Diff(seqFrames(1, 100), buf); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestTableCacheBounded(t *testing.T) {
	first := tableFor(8001, 48000)
	if tableFor(8001, 48000) != first {
		t.Error("table not reused")
	}
	for r := 9000; r < 9000+3*tableCacheSize; r++ {
		tableFor(r, 48000)
	}
	tableCache.Lock()
	n := len(tableCache.list)
	tableCache.Unlock()
	if n != tableCacheSize {
		t.Errorf("%d tables cached, want %d", n, tableCacheSize)
	}
	if tableFor(8001, 48000) == first {
		t.Error("old table not evicted")
	}
}
