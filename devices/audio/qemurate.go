package audio

import (
	"encoding/binary"
	"math"
	"sync/atomic"
)

// QEMU 7.2's mixing engine for voices whose rate differs from the output's
// (-audiodev ...,resampler=qemu, the default). QEMU plays every voice
// through it (audio/audio.c audio_pcm_sw_write, audio_pcm_hw_clip_out;
// audio/mixeng.c, mixeng_template.h, rate_template.h; integer engine, as
// Debian builds it without FLOAT_MIXENG):
//
//  1. conv: each sample becomes an int64 "st_sample" with full scale 2^31:
//     a signed N-bit sample s is s << (32-N); an unsigned one is
//     (s - (MAX>>1)) << (32-N); f32 is s * 2^31 truncated. A mono voice
//     gives l = r.
//  2. mixeng_volume: x = x * vol >> 32, vol = 2^32 * level / 255 (unity
//     2^32); mute gives zeros.
//  3. st_rate_flow_mix: linear interpolation with a 32.32 output position
//     opos advanced by opos_inc = (in << 32) / out per output frame. Output
//     k interpolates between the two input frames around opos_k as
//     (x[i] * (2^32-1 - t) + x[i+1] * t) >> 32, with i = opos_k >> 32 and
//     t = opos_k mod 2^32 (the weights sum to 2^32-1, not 2^32: a constant
//     positive input comes out one LSB lower). An output is made only once
//     x[i+1] has arrived, so the samples are a function of the voice's
//     input alone, however it was chunked. The state (opos, ipos, ilast)
//     lives as long as the voice: AUD_open_out with other settings
//     re-creates it (st_rate_start), as a new Stream does here.
//  4. The voices' outputs are summed (OP a += b) into the hardware voice's
//     mix buffer, then clipped to the sink format (the hw voice's clip_*
//     of mixeng_template.h, which audio_pcm_hw_clip_out applies for every
//     backend, wav included): a signed N-bit sample is MAX for
//     v >= 0x7fffffff, MIN for v < -2^31, else v >> (32-N) (a floor, not a
//     rounding); unsigned adds HALF = MAX>>1 (127 for u8, so -2^31 wraps
//     to 0xff); f32 is v / 2^31; a mono sink gets l + r. Older QEMU
//     sources saturate from v >= 0x7f000000 on (every 16-bit sample from
//     32512 up would become 32767); QEMU 7.2 does not: Debian's 7.2 binary
//     plays a 44.1 kHz ramp from 32767 down into a 48 kHz wav sink as
//     32766, 32766, 32765, ... through 32512 and below (tests/ac97
//     TestQEMUResampled's loud case), and a -32768 as u8 0xff, u16 0xffff.
//
// A dry voice produces nothing and keeps its position (QEMU mixes only
// what the device wrote): the missing output frames are silence and the
// next frames continue the interpolation where it stopped.

// Resampler names (-audiodev resampler=).
const (
	ResamplerQEMU = "qemu" // QEMU 7.2's linear interpolator, bit-exact (default)
	ResamplerSinc = "sinc" // gemu's polyphase windowed-sinc filter (resample.go)
)

const (
	stOne       = int64(1) << 32    // QEMU's nominal volume and rate unit
	stMax       = int64(0x7fffffff) // clip_*: v >= stMax saturates to MAX
	stMin       = -int64(1) << 31   // clip_*: v < stMin saturates to MIN
	qemuChunk   = 4096              // input frames one conversion step may hold
	qemuMaxHigh = 1 << 31
)

// qemuRateOK reports whether the QEMU engine can convert in to out: QEMU's
// st_sample has two channels.
func qemuRateOK(in, out Spec) bool {
	return in.Channels <= 2 && out.Channels <= 2 && in.Freq != out.Freq
}

// qemuRate is one voice's rate converter (consumer-owned).
type qemuRate struct {
	inc    uint64  // opos_inc
	pos    uint64  // 32.32 position of the next output, relative to ilast
	il, ir int64   // ilast
	buf    []int64 // pending input frames, interleaved l, r: [r, w)
	r, w   int
}

func newQEMURate(in, out int) *qemuRate {
	return &qemuRate{
		inc: (uint64(in) << 32) / uint64(out),
		// QEMU starts at ipos = opos = 0: the first output first consumes
		// one input frame as ilast.
		pos: 1 << 32,
		buf: make([]int64, 2*(qemuChunk+2)),
	}
}

// pending is how many input frames are held (not yet consumed as ilast).
func (q *qemuRate) pending() int { return q.w - q.r }

// consumes is how many input frames must be consumed before output j
// (0-based, from now) can be interpolated.
func (q *qemuRate) consumes(j int) uint64 {
	return (q.pos + uint64(j)*q.inc) >> 32
}

// need is how many more input frames k outputs require.
func (q *qemuRate) need(k int) int {
	if k <= 0 {
		return 0
	}
	return max(int(q.consumes(k-1))+1-q.pending(), 0)
}

// outFor is how many outputs the pending frames plus b more allow: the
// largest k with consumes(k-1) + 1 <= pending + b.
func (q *qemuRate) outFor(b int) int {
	h := uint64(q.pending()+b) << 32
	if h <= q.pos {
		return 0
	}
	return int((h - q.pos + q.inc - 1) / q.inc)
}

// room is how many more input frames fit.
func (q *qemuRate) room() int { return qemuChunk - q.pending() }

// maxOut is the most outputs whose input fits in the buffer at once.
func (q *qemuRate) maxOut() int { return max(q.outFor(q.room()), 1) }

// compact moves the pending frames to the front.
func (q *qemuRate) compact() {
	if q.r == 0 {
		return
	}
	n := copy(q.buf, q.buf[2*q.r:2*q.w])
	q.r, q.w = 0, n/2
}

// push converts frames raw samples of sp into st_samples (QEMU conv) with
// the 32.32 volume factors fl, fr applied (mixeng_volume), and appends
// them. The caller keeps frames <= room().
func (q *qemuRate) push(sp Spec, raw []byte, frames int, fl, fr int64) {
	q.compact()
	dst := q.buf[2*q.w : 2*(q.w+frames)]
	stConv(sp, raw, dst)
	if fl != stOne || fr != stOne {
		stVolume(dst, fl, fr)
	}
	q.w += frames
}

// process adds up to k outputs into acc (interleaved l, r) and returns how
// many it made (fewer only when the input runs out).
func (q *qemuRate) process(acc []int64, k int) int {
	const u = int64(math.MaxUint32)
	made := 0
	for made < k {
		for q.pos >= 1<<32 {
			if q.r == q.w {
				return made
			}
			q.il, q.ir = q.buf[2*q.r], q.buf[2*q.r+1]
			q.r++
			q.pos -= 1 << 32
		}
		if q.r == q.w {
			return made
		}
		cl, cr := q.buf[2*q.r], q.buf[2*q.r+1]
		t := int64(q.pos)
		acc[2*made] += (q.il*(u-t) + cl*t) >> 32
		acc[2*made+1] += (q.ir*(u-t) + cr*t) >> 32
		q.pos += q.inc
		made++
	}
	return made
}

// stSat keeps an st_sample in the range QEMU's engine produces for its
// formats at volumes up to unity (|x| <= 2^31), so the interpolation cannot
// overflow; only gemu's gains above 1 or f32 beyond ±1 reach it.
func stSat(x int64) int64 {
	return min(max(x, -qemuMaxHigh), qemuMaxHigh)
}

// stConv is QEMU's conv_*_to_stereo / _to_mono: raw samples of sp into
// interleaved l, r st_samples (len(dst)/2 frames).
func stConv(sp Spec, raw []byte, dst []int64) {
	frames := len(dst) / 2
	ch := sp.Channels
	for k := range frames {
		for c := range 2 {
			i := k*ch + min(c, ch-1)
			var x int64
			switch sp.Format {
			case U8:
				x = (int64(raw[i]) - 127) << 24
			case S8:
				x = int64(int8(raw[i])) << 24
			case S16LE:
				x = int64(int16(binary.LittleEndian.Uint16(raw[2*i:]))) << 16
			case U16LE:
				x = (int64(binary.LittleEndian.Uint16(raw[2*i:])) - 32767) << 16
			case S16BE:
				x = int64(int16(binary.BigEndian.Uint16(raw[2*i:]))) << 16
			case S32LE:
				x = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			case F32LE:
				f := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])) * 2147483648
				if f != f {
					f = 0
				}
				x = int64(min(max(f, -4294967296), 4294967296))
			}
			dst[2*k+c] = stSat(x)
		}
	}
}

// stVolume is mixeng_volume with 32.32 factors.
func stVolume(st []int64, fl, fr int64) {
	for i := 0; i+1 < len(st); i += 2 {
		st[i] = stSat(mulVol(st[i], fl))
		st[i+1] = stSat(mulVol(st[i+1], fr))
	}
}

func mulVol(x, f int64) int64 {
	if f <= stOne {
		return x * f >> 32
	}
	return int64(float64(x) * float64(f) / (1 << 32)) // gemu gains above 1
}

// levelState carries QEMU volume levels from a device (SetLevels) to the
// QEMU engine of a stream, each change tagged with the first frame it
// applies to: QEMU's audio_pcm_sw_write applies the volume when the device
// writes, so frames already in the ring keep the levels they were written
// with. Levels are encoded as levelsSet | mute<<16 | left<<8 | right. The
// changes go through a single-producer single-consumer ring.
type levelState struct {
	set  uint32 // producer: the last levels handed over
	ring [levelRing]levelChange
	w    atomic.Uint64 // changes published (producer)
	r    atomic.Uint64 // changes applied (consumer)
	cur  uint32        // consumer: levels of the frames it takes
}

type levelChange struct {
	from uint64 // first frame (Stream write count) with these levels
	lv   uint32
}

const (
	levelsSet  = 1 << 31
	levelsMute = 1 << 16
	levelRing  = 32
)

// SetLevels hands a QEMU device model's voice volume to the stream: the
// 0..255 levels and mute of QEMU's AUD_set_volume_out (AC97), for the
// frames written from now on. It reports whether the mixer applies them:
// only a stream converted by QEMU's engine does, because there the gain
// acts on the scaled samples before the interpolation (mixeng_volume in
// audio_pcm_sw_write), keeping 16 more bits than a gain applied to 16-bit
// samples could. When it returns false the device applies the gain itself
// (at the sink's rate that gives QEMU's samples too). Once levels are set
// they replace the stream's gains (SetVolume) in QEMU's engine. Producer side; the
// AC97 calls it before every write, so a change that finds the ring full
// (32 changes the mixer has not reached) is retried at the next write.
func (s *Stream) SetLevels(mute bool, l, r uint8) bool {
	st := s.lv
	if st == nil {
		return false
	}
	v := uint32(levelsSet) | uint32(l)<<8 | uint32(r)
	if mute {
		v |= levelsMute
	}
	if v != st.set {
		w := st.w.Load()
		if w-st.r.Load() < levelRing {
			st.ring[w%levelRing] = levelChange{from: s.w.Load(), lv: v}
			st.w.Store(w + 1)
			st.set = v
		}
	}
	return true
}

// levelsAt returns the levels of the frame at read position r and how many
// frames from r on share them (-1: all that are written). Consumer side.
func (st *levelState) levelsAt(r uint64) (uint32, int) {
	cr, w := st.r.Load(), st.w.Load()
	for cr < w && st.ring[cr%levelRing].from <= r {
		st.cur = st.ring[cr%levelRing].lv
		cr++
	}
	st.r.Store(cr)
	if cr < w {
		return st.cur, int(st.ring[cr%levelRing].from - r)
	}
	return st.cur, -1
}

// levelFactors is QEMU's 32.32 factors for levels lv: (2^32 * level) /
// 255 as audio_set_volume_out computes them from nominal_volume; mute is 0.
func levelFactors(lv uint32) (int64, int64) {
	if lv&levelsMute != 0 {
		return 0, 0
	}
	return stOne * int64(lv>>8&0xff) / 255, stOne * int64(lv&0xff) / 255
}

// volFactors converts a stream's gains to 32.32 volume factors (unity is
// exactly 2^32).
func volFactors(vol uint64) (int64, int64) {
	if vol == unityVol {
		return stOne, stOne
	}
	gl, gr := volPair(vol)
	return int64(gl * (1 << 32)), int64(gr * (1 << 32))
}

// stClip is QEMU's clip_* for one st_sample into format f at p.
func stClip(f Format, v int64, p []byte) {
	sat := func(bits uint) int64 {
		switch {
		case v >= stMax:
			return 1<<(bits-1) - 1
		case v < stMin:
			return -1 << (bits - 1)
		}
		return v >> (32 - bits)
	}
	switch f {
	case U8:
		switch {
		case v >= stMax:
			p[0] = 255
		case v < stMin:
			p[0] = 0
		default:
			p[0] = byte(v>>24 + 127)
		}
	case S8:
		p[0] = byte(sat(8))
	case S16LE:
		binary.LittleEndian.PutUint16(p, uint16(sat(16)))
	case U16LE:
		switch {
		case v >= stMax:
			binary.LittleEndian.PutUint16(p, 0xffff)
		case v < stMin:
			binary.LittleEndian.PutUint16(p, 0)
		default:
			binary.LittleEndian.PutUint16(p, uint16(v>>16+32767))
		}
	case S16BE:
		binary.BigEndian.PutUint16(p, uint16(sat(16)))
	case S32LE:
		binary.LittleEndian.PutUint32(p, uint32(sat(32)))
	case F32LE:
		binary.LittleEndian.PutUint32(p, math.Float32bits(float32(v)/2147483648))
	}
}

// clipQEMU writes the mix of a round that had a QEMU-converted voice: the
// st_sample sums in q (interleaved l, r) plus the other voices' float mix
// in acc (full scale 1.0 = 2^31; exact for integer samples), through QEMU's
// clip (a mono sink gets l + r, clip_*_from_mono).
func clipQEMU(out Spec, q []int64, acc []float64, dst []byte) {
	och := out.Channels
	bs := out.Format.Bytes()
	frames := len(acc) / och
	for k := range frames {
		if och == 1 {
			v := q[2*k] + q[2*k+1] + int64(math.Floor(acc[k]*(1<<31)))
			stClip(out.Format, v, dst[k*bs:])
			continue
		}
		for c := range 2 {
			v := q[2*k+c] + int64(math.Floor(acc[2*k+c]*(1<<31)))
			stClip(out.Format, v, dst[(2*k+c)*bs:])
		}
	}
}

// outFor is how many output frames b more input frames of v allow.
func (v *voice) outFor(b int) int {
	switch {
	case v.rs != nil:
		return v.rs.outFor(b)
	case v.qr != nil:
		return v.qr.outFor(b)
	}
	return b
}

// renderQEMU adds up to n output frames of v (QEMU engine) into m.qacc from
// frame base; the frames it cannot make (the voice is dry) stay silent.
func (m *Mixer) renderQEMU(v *voice, n, base int) {
	s, q := v.s, v.qr
	fl, fr := volFactors(s.vol.Load())
	acc := m.qacc[2*base : 2*(base+n)]
	done := 0
	for done < n {
		k := min(n-done, q.maxOut())
		need := q.need(k)
		dry := false
		if need > 0 {
			if s.lv != nil {
				lv, same := s.lv.levelsAt(s.r.Load())
				if lv&levelsSet != 0 {
					fl, fr = levelFactors(lv)
				}
				if same >= 0 && same < need {
					need = same // the rest has other levels
					k = min(k, q.outFor(need))
				}
			}
			got := s.take(v.raw, need)
			s.short(need, got)
			if got > 0 {
				q.push(s.spec, v.raw, got, fl, fr)
				v.tapQEMU(got, fl, fr)
			}
			dry = got < need
		}
		made := q.process(acc[2*done:], k)
		done += made
		if dry || made < k {
			break
		}
	}
	m.qused = true
	if s.gone.Load() && s.Buffered() == 0 {
		v.finish(m.seq, base+done)
	}
}

// tapQEMU hands the frames just taken, with their gain, to the tap.
func (v *voice) tapQEMU(frames int, fl, fr int64) {
	if v.tap == nil {
		return
	}
	s := v.s
	if fl == stOne && fr == stOne {
		v.tap(v.raw[:frames*s.fb])
		return
	}
	q := v.qr
	st := q.buf[2*(q.w-frames) : 2*q.w]
	bs := s.spec.Format.Bytes()
	b := v.tapBuf[:frames*s.fb]
	for k := range frames {
		for c := range s.spec.Channels {
			stClip(s.spec.Format, st[2*k+min(c, 1)], b[(k*s.spec.Channels+c)*bs:])
		}
	}
	v.tap(b)
}

// SetResampler selects how voices at another rate than the output are
// converted: ResamplerQEMU (QEMU 7.2's engine, bit-exact) or ResamplerSinc.
// Voices added before the call keep theirs. Producer side, before the
// consumer starts.
func (m *Mixer) SetResampler(name string) {
	if name == ResamplerSinc {
		m.qacc = nil
		return
	}
	if m.qacc == nil {
		m.qacc = make([]int64, 2*mixChunk)
	}
}
