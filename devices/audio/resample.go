package audio

import (
	"math"
	"sync"
)

// Sample-rate conversion: a polyphase windowed-sinc filter (band-limited
// interpolation as in J. O. Smith, "Digital Audio Resampling", with a Kaiser
// window). For a rate pair in:out with g = gcd(in, out) the output advances
// M = in/g input samples every L = out/g outputs, so there are exactly L
// distinct filter phases. When L <= maxExactPhases the table holds every
// phase and the conversion involves no interpolation at all (44100->48000 has
// L = 160); otherwise the table holds tablePhases phases and the
// coefficients are interpolated linearly between neighbours.
//
// The filter is causal: the history starts with taps-1 zero frames, so an
// output frame depends only on input frames already received. The price is a
// delay of taps/2 input frames (0.73 ms for 44.1 kHz with 64 taps).

const (
	baseTaps       = 64   // taps when upsampling (cutoff = input Nyquist)
	maxTaps        = 1024 // cap when downsampling by a large factor
	maxExactPhases = 1024
	tablePhases    = 512
	kaiserBeta     = 10.0 // about 100 dB stopband attenuation
	rolloff        = 0.91 // cutoff as a fraction of the lower Nyquist
)

// filterTable holds the coefficients of one rate pair; it is immutable and
// shared by every voice converting between the same rates.
type filterTable struct {
	in, out int
	L, M    uint64 // output step: position += M/L input samples
	taps    int
	phases  int       // rows in coef (plus one extra row for interpolation)
	exact   bool      // phases == L: no interpolation
	coef    []float64 // (phases+1) x taps
}

// tableCache keeps the most recently used filter tables. It is bounded:
// the rates come from the guest (AC97 accepts any rate from 1 kHz to
// 65.5 kHz), and a guest cycling through thousands of rates must not make
// the host build thousands of tables. Evicting a table does not affect the
// voices already using it.
var tableCache struct {
	sync.Mutex
	list []*filterTable // most recent last
}

const tableCacheSize = 16

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// besselI0 is the modified Bessel function of the first kind, order 0
// (power series; converges quickly for the arguments a Kaiser window uses).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// tableFor returns the (cached) filter for in -> out Hz.
func tableFor(in, out int) *filterTable {
	c := &tableCache
	c.Lock()
	defer c.Unlock()
	for i, t := range c.list {
		if t.in == in && t.out == out {
			c.list = append(append(c.list[:i:i], c.list[i+1:]...), t)
			return t
		}
	}
	t := newFilterTable(in, out)
	if len(c.list) == tableCacheSize {
		c.list = append(c.list[:0:0], c.list[1:]...)
	}
	c.list = append(c.list, t)
	return t
}

func newFilterTable(in, out int) *filterTable {
	g := gcd(in, out)
	t := &filterTable{in: in, out: out, L: uint64(out / g), M: uint64(in / g)}
	// Cutoff in cycles per input sample.
	fc := 0.5 * rolloff
	taps := baseTaps
	if out < in {
		fc *= float64(out) / float64(in)
		taps = int(math.Ceil(float64(baseTaps) * float64(in) / float64(out)))
		taps = min((taps+1)&^1, maxTaps)
	}
	t.taps = taps
	if t.L <= maxExactPhases {
		t.phases, t.exact = int(t.L), true
	} else {
		t.phases = tablePhases
	}
	t.coef = make([]float64, (t.phases+1)*taps)
	half := float64(taps) / 2
	i0b := besselI0(kaiserBeta)
	for p := 0; p <= t.phases; p++ {
		frac := float64(p) / float64(t.phases)
		row := t.coef[p*taps : (p+1)*taps]
		sum := 0.0
		for j := range row {
			// Distance from tap j to the interpolation point, which lies
			// between taps half-1 and half.
			x := float64(j) - (half - 1) - frac
			var s float64
			if x == 0 {
				s = 2 * fc
			} else {
				s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
			}
			r := x / half
			w := 0.0
			if r > -1 && r < 1 {
				w = besselI0(kaiserBeta*math.Sqrt(1-r*r)) / i0b
			}
			row[j] = s * w
			sum += row[j]
		}
		for j := range row { // unity gain at DC for every phase
			row[j] /= sum
		}
	}
	return t
}

// resampler is one voice's converter state (consumer-owned). The input
// history is kept planar (one slice per channel) so that each output sample
// is one contiguous dot product.
type resampler struct {
	t    *filterTable
	ch   int
	buf  [][]float64 // per channel: input history, frames [0, n)
	n    int         // frames in buf
	ipos int         // buf index where the next output's window starts
	frac uint64      // fractional position, in units of 1/L
	row  []float64   // interpolated coefficients (inexact tables only)
	// zeros counts trailing zero input frames: once it covers the whole
	// window, the output is silent and an idle voice can be skipped.
	zeros int
}

// resamplerChunk bounds the input frames one process call may need.
const resamplerChunk = 4096

func newResampler(t *filterTable, ch int) *resampler {
	r := &resampler{t: t, ch: ch, buf: make([][]float64, ch)}
	for c := range r.buf {
		r.buf[c] = make([]float64, t.taps+resamplerChunk+2)
	}
	r.n = t.taps - 1 // zero history: causal filter
	r.zeros = r.n
	if !t.exact {
		r.row = make([]float64, t.taps)
	}
	return r
}

// maxOut is the largest output count whose input fits in one call.
func (r *resampler) maxOut() int {
	m := (resamplerChunk - 1) * r.t.L / r.t.M
	return int(max(m, 1))
}

// need is how many more input frames process(n) requires.
func (r *resampler) need(n int) int {
	// The last output's window starts at ipos + floor((frac + (n-1)M)/L)
	// and is taps frames long.
	last := r.ipos + int((r.frac+uint64(n-1)*r.t.M)/r.t.L)
	return max(last+r.t.taps-r.n, 0)
}

// outFor is the largest k with need(k) <= b: how many outputs b more input
// frames allow.
func (r *resampler) outFor(b int) int {
	// need(k) <= b  <=>  floor((frac+(k-1)M)/L) <= x, x = b + n - taps - ipos
	x := b + r.n - r.t.taps - r.ipos
	if x < 0 {
		return 0
	}
	y := uint64(x+1)*r.t.L - 1
	if y < r.frac {
		return 0
	}
	return int((y-r.frac)/r.t.M) + 1
}

// push appends decoded input frames (interleaved, ch channels).
func (r *resampler) push(in []float64) {
	frames := len(in) / r.ch
	last := -1 // last frame with a non-zero sample
	for c, b := range r.buf {
		b = b[r.n : r.n+frames]
		for k := range b {
			x := in[k*r.ch+c]
			b[k] = x
			if x != 0 {
				last = max(last, k)
			}
		}
	}
	r.n += frames
	if last < 0 {
		r.zeros += frames
	} else {
		r.zeros = frames - 1 - last
	}
}

// pushZeros appends n silent frames.
func (r *resampler) pushZeros(n int) {
	for _, b := range r.buf {
		clear(b[r.n : r.n+n])
	}
	r.n += n
	r.zeros += n
}

// quiet reports whether every frame in the window is zero.
func (r *resampler) quiet() bool { return r.zeros >= r.t.taps+1 }

// dot is a 4-way unrolled dot product (independent sums let the CPU
// overlap the multiply-adds).
func dot(h, x []float64) float64 {
	x = x[:len(h)]
	var s0, s1, s2, s3 float64
	for len(h) >= 4 && len(x) >= 4 {
		s0 += h[0] * x[0]
		s1 += h[1] * x[1]
		s2 += h[2] * x[2]
		s3 += h[3] * x[3]
		h, x = h[4:], x[4:]
	}
	for i := range h {
		s0 += h[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// process writes n output frames into out (interleaved) and drops the input
// that no later output needs. The caller has pushed need(n) frames.
func (r *resampler) process(out []float64, n int) {
	t := r.t
	taps, ch := t.taps, r.ch
	for k := 0; k < n; k++ {
		var h []float64
		if t.exact {
			p := int(r.frac)
			h = t.coef[p*taps : (p+1)*taps]
		} else {
			x := r.frac * uint64(t.phases)
			p := int(x / t.L)
			a := float64(x%t.L) / float64(t.L)
			h0 := t.coef[p*taps : (p+1)*taps]
			h1 := t.coef[(p+1)*taps : (p+2)*taps]
			h = r.row
			for j := range h {
				h[j] = h0[j] + a*(h1[j]-h0[j])
			}
		}
		for c, b := range r.buf {
			out[k*ch+c] = dot(h, b[r.ipos:])
		}
		r.frac += t.M
		r.ipos += int(r.frac / t.L)
		r.frac %= t.L
	}
	// Drop consumed history.
	if r.ipos > 0 {
		for _, b := range r.buf {
			copy(b, b[r.ipos:r.n])
		}
		r.n -= r.ipos
		r.ipos = 0
	}
}
