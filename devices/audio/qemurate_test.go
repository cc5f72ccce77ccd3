package audio

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// qemuRef is QEMU 7.2's rate conversion written from its definition rather
// than from its incremental state: output k lies at P = k*opos_inc (32.32)
// with opos_inc = (in << 32) / out, between input frames i = P >> 32 and
// i+1, weights 2^32-1-t and t (t = P mod 2^32), on samples scaled by 2^16,
// shifted right by 32, clipped back by a floor shift of 16. It returns
// every output whose two input frames exist.
func qemuRef(x []int16, in, out int) []int16 {
	inc := (uint64(in) << 32) / uint64(out)
	var y []int16
	for k := uint64(0); ; k++ {
		p := k * inc
		i, t := int(p>>32), int64(p&0xffffffff)
		if i+1 >= len(x) {
			return y
		}
		a, b := int64(x[i])<<16, int64(x[i+1])<<16
		v := (a*(0xffffffff-t) + b*t) >> 32
		y = append(y, int16(min(max(v, -1<<31), 1<<31-1)>>16))
	}
}

func s16Bytes(x []int16, ch int) []byte {
	b := make([]byte, 2*ch*len(x))
	for i, v := range x {
		for c := range ch {
			binary.LittleEndian.PutUint16(b[2*(i*ch+c):], uint16(v))
		}
	}
	return b
}

func s16Samples(b []byte) []int16 {
	x := make([]int16, len(b)/2)
	for i := range x {
		x[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return x
}

// mixQEMU feeds x (mono samples, written as ch channels) at rate in
// through a resampler=qemu mixer at out (stereo S16) in writes of wsize
// frames and mixes of msize frames, and returns the left channel of
// everything mixed once the input is used up.
func mixQEMU(t *testing.T, x []int16, ch, in, out, wsize, msize int) []int16 {
	t.Helper()
	osp := Spec{Freq: out, Format: S16LE, Channels: 2}
	m := NewMixer(osp)
	m.SetResampler(ResamplerQEMU)
	s := NewStream(Spec{Freq: in, Format: S16LE, Channels: ch}, 1<<16)
	m.Add(s, nil)
	src := s16Bytes(x, ch)
	var got []int16
	buf := make([]byte, msize*4)
	for {
		if len(src) > 0 {
			n := min(wsize*ch*2, len(src))
			k := s.Write(src[:n])
			src = src[k*ch*2:]
		}
		// Mix only what is available: a dry voice would add silence.
		n := min(msize, m.Available())
		if n == 0 {
			if len(src) == 0 {
				return got
			}
			continue
		}
		m.Mix(buf[:n*4])
		for i, v := range s16Samples(buf[:n*4]) {
			if i%2 == 0 {
				got = append(got, v)
			}
		}
	}
}

// TestQEMURateVectors checks hand-derived values. 8000 -> 48000 Hz has
// opos_inc = floor(2^32/6) = 715827882, a shade under 1/6: output 1 of the
// ramp 0, 600, 1200 is 600<<16 * 715827882 / 2^32 = 6553599.99.. >> 16 =
// 99 (not 100), output 6 still lies before input 1 (6*inc = 2^32-4) and
// gives 599, output 7 is 699. A constant 1000 comes out as 999 (the
// weights sum to 2^32-1), a constant -1000 as -1000 (the floor), and a
// loud 32600 as 32599: QEMU 7.2 does not saturate below 0x7fffffff
// (TestQEMUClip).
func TestQEMURateVectors(t *testing.T) {
	ramp := []int16{0, 600, 1200, 1800}
	got := mixQEMU(t, ramp, 1, 8000, 48000, 4, 64)
	want := []int16{0, 99, 199, 299, 399, 499, 599, 699}
	if !slices.Equal(got[:8], want) {
		t.Errorf("8 kHz ramp -> 48 kHz: %v, want %v", got[:8], want)
	}
	for _, c := range []struct{ in, want int16 }{{1000, 999}, {-1000, -1000}, {32767, 32766}, {32600, 32599}, {32512, 32511}, {-32768, -32768}, {1, 0}, {-1, -1}} {
		x := make([]int16, 300)
		for i := range x {
			x[i] = c.in
		}
		for _, v := range mixQEMU(t, x, 2, 44100, 48000, 300, 512)[:320] {
			if v != c.want {
				t.Fatalf("constant %d at 44.1 -> 48 kHz plays %d, want %d", c.in, v, c.want)
			}
		}
	}
}

// TestQEMURateMatchesDefinition compares the mixer with qemuRef for
// up- and downsampling, whatever the write and mix sizes: the output is a
// function of the voice's input alone.
func TestQEMURateMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	x := make([]int16, 20000)
	for i := range x {
		x[i] = int16(rng.IntN(65536) - 32768)
	}
	for _, r := range [][2]int{{44100, 48000}, {8000, 48000}, {48000, 44100}, {48000, 8000}, {11025, 44100}, {65535, 1000}} {
		want := qemuRef(x, r[0], r[1])
		for _, sz := range [][2]int{{1, 7}, {333, 480}, {4096, 512}, {20000, 2000}} {
			got := mixQEMU(t, x, 1, r[0], r[1], sz[0], sz[1])
			if len(got) < len(want) {
				t.Fatalf("%v writes %d mixes %d: %d outputs, want at least %d", r, sz[0], sz[1], len(got), len(want))
			}
			if i := firstDiff16(want, got[:len(want)]); i >= 0 {
				t.Fatalf("%v writes %d mixes %d: output %d = %d, want %d", r, sz[0], sz[1], i, got[i], want[i])
			}
			if len(got) != len(want) {
				t.Fatalf("%v writes %d mixes %d: %d outputs available, want %d", r, sz[0], sz[1], len(got), len(want))
			}
		}
	}
}

func firstDiff16(a, b []int16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestQEMURateDryVoiceKeepsPhase starves the voice in the middle: the
// missing outputs are silence, and the frames written later continue the
// interpolation, so without the silence the output is the uninterrupted
// one (QEMU mixes only what the device wrote).
func TestQEMURateDryVoiceKeepsPhase(t *testing.T) {
	x := make([]int16, 3000)
	for i := range x {
		x[i] = int16(i*13%20000 + 2)
	}
	want := qemuRef(x, 44100, 48000)
	m := NewMixer(Spec{Freq: 48000, Format: S16LE, Channels: 2})
	m.SetResampler(ResamplerQEMU)
	s := NewStream(Spec{Freq: 44100, Format: S16LE, Channels: 2}, 8192)
	m.Add(s, nil)
	src := s16Bytes(x, 2)
	var got []int16
	buf := make([]byte, 480*4)
	for _, n := range []int{1000, 0, 0, 1500, 0, 500} { // frames written before each mix
		s.Write(src[:n*4])
		src = src[n*4:]
		m.Mix(buf)
		for i, v := range s16Samples(buf) {
			if i%2 == 0 && v != 0 {
				got = append(got, v)
			}
		}
		m.Mix(buf)
		for i, v := range s16Samples(buf) {
			if i%2 == 0 && v != 0 {
				got = append(got, v)
			}
		}
	}
	if i := firstDiff16(want, got); i >= 0 {
		t.Fatalf("output %d differs after a dry spell (got %d frames, want %d)", i, len(got), len(want))
	}
}

// TestQEMURateMixAndClip: two voices are summed before the clip
// (saturating at 32767/-32768), and a mono sink gets l + r
// (clip_*_from_mono), so a mono voice plays twice as loud there.
func TestQEMURateMixAndClip(t *testing.T) {
	out := Spec{Freq: 48000, Format: S16LE, Channels: 2}
	m := NewMixer(out)
	m.SetResampler(ResamplerQEMU)
	a := NewStream(Spec{Freq: 8000, Format: S16LE, Channels: 2}, 4096)
	b := NewStream(Spec{Freq: 8000, Format: S16LE, Channels: 2}, 4096)
	m.Add(a, nil)
	m.Add(b, nil)
	fa, fb := make([]int16, 100), make([]int16, 100)
	for i := range fa {
		fa[i], fb[i] = 20000, 20000
	}
	a.Write(s16Bytes(fa, 2))
	b.Write(s16Bytes(fb, 2))
	buf := make([]byte, 48*4)
	m.Mix(buf)
	// 20000 plays as 19999 (plus fractional bits) per voice: the sum
	// saturates.
	for i, v := range s16Samples(buf) {
		if v != 32767 {
			t.Fatalf("sample %d = %d, want 32767", i, v)
		}
	}

	mono := NewMixer(Spec{Freq: 48000, Format: S16LE, Channels: 1})
	mono.SetResampler(ResamplerQEMU)
	c := NewStream(Spec{Freq: 8000, Format: S16LE, Channels: 1}, 4096)
	mono.Add(c, nil)
	x := make([]int16, 100)
	for i := range x {
		x[i] = -1000
	}
	c.Write(s16Bytes(x, 1))
	mb := make([]byte, 48*2)
	mono.Mix(mb)
	for i, v := range s16Samples(mb) {
		if v != -2000 {
			t.Fatalf("mono sink sample %d = %d, want -2000 (l + r)", i, v)
		}
	}
}

// TestQEMURateGain: a stream gain is QEMU's mixeng_volume on the scaled
// sample, before the interpolation: 0.5 (factor 2^31) on 1001 gives
// 1001<<15 per frame, interpolated to (1001<<15)*(2^32-1)>>32 and clipped
// to 500; mute gives zeros.
func TestQEMURateGain(t *testing.T) {
	for _, c := range []struct {
		gain float64
		mute bool
		want int16
	}{{0.5, false, 500}, {1, true, 0}, {0.25, false, 250}} {
		m := NewMixer(Spec{Freq: 48000, Format: S16LE, Channels: 2})
		m.SetResampler(ResamplerQEMU)
		s := NewStream(Spec{Freq: 44100, Format: S16LE, Channels: 2}, 4096)
		s.SetVolume(c.gain, c.gain, c.mute)
		m.Add(s, nil)
		x := make([]int16, 200)
		for i := range x {
			x[i] = 1001
		}
		s.Write(s16Bytes(x, 2))
		buf := make([]byte, 100*4)
		m.Mix(buf)
		for i, v := range s16Samples(buf) {
			if v != c.want {
				t.Fatalf("gain %v mute %v: sample %d = %d, want %d", c.gain, c.mute, i, v, c.want)
			}
		}
	}
}

// TestQEMURateFormats checks QEMU's conv and clip for the other formats
// at a constant input: u8 0x90 is (0x90-127)<<24 and back (v>>24)+127,
// minus the one LSB of the weights.
func TestQEMURateFormats(t *testing.T) {
	for _, c := range []struct {
		in, out Format
		src     []byte // one mono sample
		want    []byte // one output sample
	}{
		{U8, U8, []byte{0x90}, []byte{0x8f}},
		{S16LE, U8, []byte{0x00, 0x10}, []byte{127 + 0x10 - 1}},
		{S16LE, S32LE, []byte{0x00, 0x10}, le32(0x10000000 - 1)},
		{S8, S16LE, []byte{0xf0}, []byte{0x00, 0xf0}},
	} {
		out := Spec{Freq: 48000, Format: c.out, Channels: 1}
		m := NewMixer(out)
		m.SetResampler(ResamplerQEMU)
		s := NewStream(Spec{Freq: 24000, Format: c.in, Channels: 1}, 1024)
		m.Add(s, nil)
		var src []byte
		for range 100 {
			src = append(src, c.src...)
		}
		s.Write(src)
		buf := make([]byte, 50*out.FrameBytes())
		m.Mix(buf)
		// A mono sink doubles (l + r): compare against the stereo value
		// through a stereo sink instead.
		st := Spec{Freq: 48000, Format: c.out, Channels: 2}
		m2 := NewMixer(st)
		m2.SetResampler(ResamplerQEMU)
		s2 := NewStream(Spec{Freq: 24000, Format: c.in, Channels: 1}, 1024)
		m2.Add(s2, nil)
		s2.Write(src)
		buf2 := make([]byte, 50*st.FrameBytes())
		m2.Mix(buf2)
		bs := c.out.Bytes()
		if got := buf2[:bs]; !slices.Equal(got, c.want) {
			t.Errorf("%v -> %v: % x, want % x", c.in, c.out, got, c.want)
		}
	}
}

// TestQEMUClip checks stClip (QEMU 7.2's clip_*, audio/mixeng_template.h)
// around its thresholds: MAX from v >= 0x7fffffff on, MIN below -2^31,
// otherwise a floor shift, and unsigned formats add MAX>>1, so -2^31 wraps
// to u8 0xff and u16 0xffff. The 16-bit values near full scale and the
// unsigned ones are what Debian's QEMU 7.2 wrote to a wav sink for a
// full-scale ramp (tests/ac97 TestQEMUResampled's loud case); QEMU sources
// that saturate from 0x7f000000 on would give 32767 for 32512 << 16.
func TestQEMUClip(t *testing.T) {
	for _, c := range []struct {
		f    Format
		v    int64
		want []byte
	}{
		{S16LE, 32512 << 16, le16(32512)},
		{S16LE, 0x7f000000 - 1, le16(32511)},
		{S16LE, 0x7ffeffff, le16(32766)},
		{S16LE, 0x7fff0000, le16(32767)},
		{S16LE, 0x7fffffff, le16(32767)},
		{S16LE, 1 << 32, le16(32767)},
		{S16LE, -1 << 31, le16(0x8000)},
		{S16LE, -1<<31 - 1, le16(0x8000)},
		{S16LE, -1, le16(0xffff)},
		{S32LE, 0x7ffffffe, le32(0x7ffffffe)},
		{S32LE, 0x7fffffff, le32(0x7fffffff)},
		{S32LE, 1 << 31, le32(0x7fffffff)},
		{S32LE, -1 << 31, le32(0x80000000)},
		{S32LE, -1<<31 - 1, le32(0x80000000)},
		{S8, 0x7f000000, []byte{0x7f}},
		{S8, -1 << 31, []byte{0x80}},
		{U8, 0x7ffeffff, []byte{0xfe}},
		{U8, 0x7fffffff, []byte{0xff}},
		{U8, 0, []byte{0x7f}},
		{U8, -1 << 31, []byte{0xff}},
		{U8, -1<<31 - 1, []byte{0x00}},
		{U16LE, 0x7ffeffff, le16(0xfffd)},
		{U16LE, 0, le16(0x7fff)},
		{U16LE, -1 << 31, le16(0xffff)},
		{U16LE, -1<<31 - 1, le16(0)},
		{S16BE, 0x7fffffff, []byte{0x7f, 0xff}},
	} {
		got := make([]byte, c.f.Bytes())
		stClip(c.f, c.v, got)
		if !slices.Equal(got, c.want) {
			t.Errorf("clip %v %#x: % x, want % x", c.f, c.v, got, c.want)
		}
	}
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// TestQEMURateNoAlloc: the QEMU path mixes without allocating.
func TestQEMURateNoAlloc(t *testing.T) {
	m := NewMixer(s16)
	m.SetResampler(ResamplerQEMU)
	in := Spec{Freq: 44100, Format: S16LE, Channels: 2}
	s := NewStream(in, 8192)
	m.Add(s, func([]byte) {})
	p := randomPCMSeed(in, 441, 3)
	buf := make([]byte, 480*4)
	allocs := testing.AllocsPerRun(200, func() {
		for s.Free() >= 441 {
			s.Write(p)
		}
		m.Mix(buf)
	})
	if allocs != 0 {
		t.Errorf("Mix allocates %v times per call", allocs)
	}
}

// TestResamplerOption: resampler= takes qemu or sinc; the audiodev's
// mixer uses QEMU's engine unless sinc is asked for.
func TestResamplerOption(t *testing.T) {
	for _, c := range []struct {
		arg  string
		qemu bool
	}{{"none", true}, {"none,resampler=qemu", true}, {"none,resampler=sinc", false}} {
		opt, err := ParseOptions(c.arg)
		if err != nil {
			t.Fatal(err)
		}
		a, err := OpenOptions(opt, newVClock().clk, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (a.mix.qacc != nil) != c.qemu {
			t.Errorf("%s: QEMU engine %v, want %v", c.arg, a.mix.qacc != nil, c.qemu)
		}
		a.Close()
	}
	if _, err := ParseOptions("none,resampler=linear"); err == nil {
		t.Error("resampler=linear accepted")
	}
}

// qemuRefGain is qemuRef for one channel with QEMU's volume: the scaled
// sample is multiplied by the 32.32 factor (2^32 * level) / 255 and
// shifted right by 32 before the interpolation (mixeng_volume).
func qemuRefGain(x []int16, level int64, in, out int) []int16 {
	f := (int64(1) << 32) * level / 255
	inc := (uint64(in) << 32) / uint64(out)
	var y []int16
	for k := uint64(0); ; k++ {
		p := k * inc
		i, t := int(p>>32), int64(p&0xffffffff)
		if i+1 >= len(x) {
			return y
		}
		a, b := (int64(x[i])<<16)*f>>32, (int64(x[i+1])<<16)*f>>32
		y = append(y, int16(((a*(0xffffffff-t)+b*t)>>32)>>16))
	}
}

// TestQEMURateLevels: QEMU volume levels handed over with SetLevels act on
// the scaled samples before the interpolation, which differs from
// resampling samples already attenuated to 16 bits; the per-stream tap
// gets floor(s * factor / 2^32), what the AC97 writes at the sink's rate.
// A stream at the sink's rate, or with resampler=sinc, declines them.
func TestQEMURateLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]int16, 4000)
	for i := range x {
		x[i] = int16(rng.IntN(65536) - 32768)
	}
	m := NewMixer(Spec{Freq: 48000, Format: S16LE, Channels: 2})
	m.SetResampler(ResamplerQEMU)
	in := Spec{Freq: 44100, Format: S16LE, Channels: 2}
	s := NewStream(in, 8192)
	var tapped []int16
	m.Add(s, func(p []byte) { tapped = append(tapped, s16Samples(p)...) })
	if !s.SetLevels(false, 190, 77) {
		t.Fatal("a QEMU-converted stream declines levels")
	}
	lr := make([]int16, 2*len(x))
	for i, v := range x {
		lr[2*i], lr[2*i+1] = v, v
	}
	s.Write(s16Bytes(lr, 1))
	n := m.Available()
	buf := make([]byte, n*4)
	m.Mix(buf)
	got := s16Samples(buf)
	for c, level := range []int64{190, 77} {
		want := qemuRefGain(x, level, 44100, 48000)
		var ch, pre []int16
		for i := c; i < len(got); i += 2 {
			ch = append(ch, got[i])
		}
		if i := firstDiff16(want, ch); i >= 0 {
			t.Fatalf("channel %d: output %d differs (%d outputs, want %d)", c, i, len(ch), len(want))
		}
		// Attenuating to 16 bits first would not give QEMU's samples.
		f := (int64(1) << 32) * level / 255
		for _, v := range x {
			pre = append(pre, int16(int64(v)*f>>32))
		}
		if firstDiff16(want, qemuRef(pre, 44100, 48000)) < 0 {
			t.Errorf("channel %d: the test cannot tell the gain's place", c)
		}
		for i := c; i < len(tapped); i += 2 {
			if w := int16(int64(x[i/2]) * f >> 32); tapped[i] != w {
				t.Fatalf("tap channel %d frame %d = %d, want %d", c, i/2, tapped[i], w)
			}
		}
	}
	if !s.SetLevels(true, 255, 255) {
		t.Fatal("SetLevels declined the second time")
	}
	s.Write(s16Bytes(lr[:800], 1))
	buf = make([]byte, 200*4)
	m.Mix(buf)
	// The frames written after the mute are zeros; the outputs between the
	// last unmuted frame (QEMU's ilast, scaled when it was written) and
	// the first muted one still interpolate it.
	for i, v := range s16Samples(buf) {
		if v != 0 && i >= 4 {
			t.Fatalf("muted: sample %d = %d", i, v)
		}
	}

	same := NewStream(Spec{Freq: 48000, Format: S16LE, Channels: 2}, 1024)
	m.Add(same, nil)
	sinc := NewMixer(Spec{Freq: 48000, Format: S16LE, Channels: 2})
	s2 := NewStream(in, 1024)
	sinc.Add(s2, nil)
	if same.SetLevels(false, 1, 1) || s2.SetLevels(false, 1, 1) {
		t.Error("a stream at the sink's rate or a sinc-resampled one takes levels")
	}
}

// TestQEMURateLevelsFollowFrames: a volume change applies from the frame
// written after it, however late the mixer takes the frames (QEMU applies
// the volume when the device writes).
func TestQEMURateLevelsFollowFrames(t *testing.T) {
	m := NewMixer(Spec{Freq: 48000, Format: S16LE, Channels: 2})
	m.SetResampler(ResamplerQEMU)
	s := NewStream(Spec{Freq: 8000, Format: S16LE, Channels: 1}, 4096)
	m.Add(s, nil)
	x := make([]int16, 600)
	levels := make([]int64, len(x))
	for i := range x {
		x[i] = int16(i*97%30000 - 15000)
		levels[i] = []int64{255, 100, 7, 100}[i/150]
	}
	for i := 0; i < len(x); i += 150 {
		s.SetLevels(false, uint8(levels[i]), uint8(levels[i]))
		s.Write(s16Bytes(x[i:i+150], 1))
	}
	buf := make([]byte, m.Available()*4)
	m.Mix(buf)
	inc := (uint64(8000) << 32) / 48000
	got := s16Samples(buf)
	for k := 0; 2*k < len(got); k++ {
		p := uint64(k) * inc
		i, tt := int(p>>32), int64(p&0xffffffff)
		a := (int64(x[i]) << 16) * ((int64(1) << 32) * levels[i] / 255) >> 32
		b := (int64(x[i+1]) << 16) * ((int64(1) << 32) * levels[i+1] / 255) >> 32
		if w := int16(((a*(0xffffffff-tt) + b*tt) >> 32) >> 16); got[2*k] != w {
			t.Fatalf("output %d (input %d) = %d, want %d", k, i, got[2*k], w)
		}
	}
	if len(got)/2 < 3500 {
		t.Fatalf("only %d outputs", len(got)/2)
	}
}
