package audio

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSpecHelpers(t *testing.T) {
	type got struct {
		FrameBytes int
		Silence    byte
		Bytes10ms  int
		Dur        time.Duration
	}
	tests := []struct {
		spec Spec
		want got
	}{
		{Spec{Freq: 48000, Format: S16LE, Channels: 2}, got{4, 0, 1920, 10 * time.Millisecond}},
		{Spec{Freq: 44100, Format: U8, Channels: 1}, got{1, 0x80, 441, 10 * time.Millisecond}},
		{Spec{Freq: 8000, Format: F32LE, Channels: 2}, got{8, 0, 640, 10 * time.Millisecond}},
		{Spec{Freq: 192000, Format: S32LE, Channels: 2}, got{8, 0, 15360, 10 * time.Millisecond}},
		{Spec{Freq: 22050, Format: S16LE, Channels: 1}, got{2, 0, 440, 9977324 * time.Nanosecond}},
	}
	for _, tc := range tests {
		b := tc.spec.BytesFor(10 * time.Millisecond)
		g := got{tc.spec.FrameBytes(), tc.spec.Silence(), b, tc.spec.DurationOf(b)}
		if d := cmp.Diff(tc.want, g); d != "" {
			t.Errorf("%v: (-want +got)\n%s", tc.spec, d)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	good := Spec{Freq: 48000, Format: S16LE, Channels: 2}
	bad := []Spec{
		{Freq: 48000, Format: FormatInvalid, Channels: 2},
		{Freq: 48000, Format: 99, Channels: 2},
		{Freq: 999, Format: S16LE, Channels: 2},
		{Freq: MaxFreq + 1, Format: S16LE, Channels: 2},
		{Freq: 48000, Format: S16LE, Channels: 0},
		{Freq: 48000, Format: S16LE, Channels: MaxChannels + 1},
		{Freq: 48000, Format: S16LE, Channels: 2, Samples: -1},
	}
	if err := good.Validate(); err != nil {
		t.Errorf("%v: %v", good, err)
	}
	for _, s := range bad {
		if s.Validate() == nil {
			t.Errorf("%v: no error", s)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{U8, S8, S16LE, U16LE, S16BE, S32LE, F32LE} {
		g, err := ParseFormat(f.String())
		if err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f.String(), g, err)
		}
	}
	if _, err := ParseFormat("s24"); err == nil {
		t.Error("s24 accepted")
	}
}

// Every sample value of every format survives decode then encode: the
// property that makes the mixer bit-exact at unity gain.
func TestCodecRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range []Format{U8, S8, S16LE, U16LE, S16BE, S32LE, F32LE} {
		sp := Spec{Freq: 48000, Format: f, Channels: 1}
		var p []byte
		switch f.Bytes() {
		case 1:
			for v := range 256 {
				p = append(p, byte(v))
			}
		case 2:
			for v := range 65536 {
				p = append(p, byte(v), byte(v>>8))
			}
		case 4:
			p = make([]byte, 4*100000)
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			if f == F32LE { // finite values, both signs
				for i := 0; i < len(p); i += 4 {
					p[i+3] &= 0xbf // exponent < 128: |x| < 2
				}
			}
		}
		fl := make([]float64, len(p)/f.Bytes())
		decode(sp, p, fl)
		q := make([]byte, len(p))
		encode(sp, fl, q)
		if !bytes.Equal(p, q) {
			t.Errorf("%v: round trip differs", f)
		}
	}
}

func TestEncodeClips(t *testing.T) {
	sp := Spec{Freq: 48000, Format: S16LE, Channels: 1}
	in := []float64{2, -2, 1, -1, 0.5, nan()}
	out := make([]byte, 2*len(in))
	encode(sp, in, out)
	want := []byte{0xff, 0x7f, 0x00, 0x80, 0xff, 0x7f, 0x00, 0x80, 0x00, 0x40, 0, 0}
	if !bytes.Equal(out, want) {
		t.Errorf("got % x want % x", out, want)
	}
}

func nan() float64 {
	z := 0.0
	return z / z
}
