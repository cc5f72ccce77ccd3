package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWAVRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	dir := t.TempDir()
	for _, tc := range []struct {
		spec     Spec
		stored   Format
		fromFile func(p []byte) []byte // stored bytes -> written bytes
	}{
		{Spec{Freq: 44100, Format: S16LE, Channels: 2}, S16LE, nil},
		{Spec{Freq: 8000, Format: U8, Channels: 1}, U8, nil},
		{Spec{Freq: 48000, Format: S32LE, Channels: 2}, S32LE, nil},
		{Spec{Freq: 96000, Format: F32LE, Channels: 6}, F32LE, nil},
		{Spec{Freq: 22050, Format: S8, Channels: 1}, U8, nil},
		{Spec{Freq: 22050, Format: U16LE, Channels: 2}, S16LE, nil},
		{Spec{Freq: 22050, Format: S16BE, Channels: 2}, S16LE, nil},
	} {
		path := filepath.Join(dir, tc.spec.Format.String()+".wav")
		w, err := CreateWAV(path, tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		src := randomPCM(rng, tc.spec, 10000)
		w.Write(src[:1001*tc.spec.FrameBytes()-1]) // a partial frame is ignored
		w.Write(src[1000*tc.spec.FrameBytes():])
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		sp, data, err := ReadWAVFile(path)
		if err != nil {
			t.Fatalf("%v: %v", tc.spec, err)
		}
		wantSpec := tc.spec
		wantSpec.Format = tc.stored
		if sp != wantSpec {
			t.Errorf("%v: stored as %v, want %v", tc.spec, sp, wantSpec)
		}
		// Same sample values.
		a, b := make([]float64, len(src)/tc.spec.Format.Bytes()), make([]float64, len(data)/sp.Format.Bytes())
		decode(tc.spec, src, a)
		decode(sp, data, b)
		if !cmp.Equal(a, b) {
			t.Errorf("%v: samples differ after the round trip", tc.spec)
		}
	}
}

// wavBytes builds a WAV image by hand for the parser tests.
func wavBytes(tag, ch uint16, rate uint32, bitsPer uint16, align uint16, extra []byte, data []byte, dataSize uint32) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(0))
	b.WriteString("WAVE")
	if extra != nil {
		b.Write(extra)
	}
	b.WriteString("fmt ")
	binary.Write(&b, le, uint32(16))
	binary.Write(&b, le, tag)
	binary.Write(&b, le, ch)
	binary.Write(&b, le, rate)
	binary.Write(&b, le, rate*uint32(align))
	binary.Write(&b, le, align)
	binary.Write(&b, le, bitsPer)
	b.WriteString("data")
	binary.Write(&b, le, dataSize)
	b.Write(data)
	return b.Bytes()
}

func TestParseWAV(t *testing.T) {
	list := append([]byte("LIST"), 3, 0, 0, 0, 'a', 'b', 'c', 0) // odd size, padded
	type res struct {
		Spec Spec
		N    int
	}
	tests := []struct {
		name string
		in   []byte
		want res
		ok   bool
	}{
		{"s16", wavBytes(1, 2, 44100, 16, 4, nil, make([]byte, 40), 40), res{Spec{44100, S16LE, 2, 0}, 40}, true},
		{"skip LIST, odd", wavBytes(1, 1, 8000, 8, 1, list, make([]byte, 5), 5), res{Spec{8000, U8, 1, 0}, 5}, true},
		{"float", wavBytes(3, 1, 48000, 32, 4, nil, make([]byte, 8), 8), res{Spec{48000, F32LE, 1, 0}, 8}, true},
		{"partial frame dropped", wavBytes(1, 2, 44100, 16, 4, nil, make([]byte, 7), 7), res{Spec{44100, S16LE, 2, 0}, 4}, true},
		{"data size too big: truncated", wavBytes(1, 2, 44100, 16, 4, nil, make([]byte, 8), 1<<31), res{Spec{44100, S16LE, 2, 0}, 8}, true},
		{"24 bit", wavBytes(1, 2, 44100, 24, 6, nil, make([]byte, 12), 12), res{}, false},
		{"bad align", wavBytes(1, 2, 44100, 16, 3, nil, make([]byte, 12), 12), res{}, false},
		{"zero channels", wavBytes(1, 0, 44100, 16, 0, nil, nil, 0), res{}, false},
		{"rate 0", wavBytes(1, 2, 0, 16, 4, nil, nil, 0), res{}, false},
		{"huge rate", wavBytes(1, 2, 0xffffffff, 16, 4, nil, nil, 0), res{}, false},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE"), res{}, false},
		{"short", []byte("RIFF"), res{}, false},
		{"no data", wavBytes(1, 2, 44100, 16, 4, nil, nil, 0)[:36], res{}, false},
	}
	for _, tc := range tests {
		sp, data, err := ParseWAV(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrBadWAV) {
				t.Errorf("%s: error %v does not wrap ErrBadWAV", tc.name, err)
			}
			continue
		}
		if d := cmp.Diff(tc.want, res{sp, len(data)}); d != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.name, d)
		}
	}
}

func FuzzParseWAV(f *testing.F) {
	f.Add(wavBytes(1, 2, 44100, 16, 4, nil, make([]byte, 40), 40))
	f.Add(wavBytes(3, 1, 48000, 32, 4, []byte("LIST\x01\x00\x00\x00x\x00"), make([]byte, 8), 8))
	f.Add(wavBytes(0xfffe, 2, 44100, 16, 4, nil, make([]byte, 8), 8))
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, data, err := ParseWAV(b)
		if err != nil {
			return
		}
		if sp.Validate() != nil {
			t.Fatalf("accepted invalid spec %v", sp)
		}
		if len(data)%sp.FrameBytes() != 0 || len(data) > len(b) {
			t.Fatalf("data of %d bytes for %v from %d bytes", len(data), sp, len(b))
		}
		// A parsed file must be usable as a capture source.
		c := &capture{spec: Spec{Freq: 48000, Format: S16LE, Channels: 2}, data: data, fspec: sp, loop: true}
		c.fbuf = make([]float64, 64*sp.Channels)
		c.readFile(c.fbuf, 64)
	})
}

func TestReadWAVFileErrors(t *testing.T) {
	if _, _, err := ReadWAVFile(filepath.Join(t.TempDir(), "missing.wav")); err == nil {
		t.Error("missing file accepted")
	}
	p := filepath.Join(t.TempDir(), "junk.wav")
	os.WriteFile(p, []byte("junk"), 0o644)
	if _, _, err := ReadWAVFile(p); !errors.Is(err, ErrBadWAV) {
		t.Errorf("junk: %v", err)
	}
}
