// Package pcm holds what the end-to-end sound tests share: stereo S16LE
// frames, the guests' playback pattern, and a frame-exact comparison that
// names the first differing frame.
package pcm

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"gemu/devices/audio"

	"github.com/google/go-cmp/cmp"
)

// Frame is one stereo S16 frame: left, right.
type Frame [2]int16

// Pattern is the playback sequence the bare-metal sound guests generate at
// a given rate (pattern() in guests/ac97 and guests/virtiosnd):
// never zero, different for every rate, the right channel the negated left.
func Pattern(rate, n int) []Frame {
	f := make([]Frame, n)
	for i := range f {
		l := int16(uint16((i+rate)%32767 + 1))
		f[i] = Frame{l, -l}
	}
	return f
}

// Bytes encodes frames as S16LE.
func Bytes(f []Frame) []byte {
	b := make([]byte, 4*len(f))
	for i, x := range f {
		b[4*i], b[4*i+1] = byte(x[0]), byte(uint16(x[0])>>8)
		b[4*i+2], b[4*i+3] = byte(x[1]), byte(uint16(x[1])>>8)
	}
	return b
}

// Frames decodes S16LE bytes (a trailing partial frame is dropped).
func Frames(b []byte) []Frame {
	f := make([]Frame, len(b)/4)
	for i := range f {
		f[i] = Frame{int16(uint16(b[4*i]) | uint16(b[4*i+1])<<8), int16(uint16(b[4*i+2]) | uint16(b[4*i+3])<<8)}
	}
	return f
}

// Equal fails t at the first frame where got differs from want, with a
// short diff around it, or when the lengths differ.
func Equal(t testing.TB, what string, want, got []Frame) {
	t.Helper()
	n := min(len(want), len(got))
	for i := 0; i < n; i++ {
		if want[i] != got[i] {
			lo, hi := max(0, i-2), min(n, i+3)
			t.Fatalf("%s: first differing frame %d of %d (want %d frames, got %d); frames %d..%d (-want +got):\n%s",
				what, i, n, len(want), len(got), lo, hi-1, cmp.Diff(want[lo:hi], got[lo:hi]))
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%s: %d frames, want %d (the first %d are equal)", what, len(got), len(want), n)
	}
}

// ParseHex decodes the capture dumps the sound guests print: one 32-bit
// hex word per frame, left channel in the low half.
func ParseHex(words []string) ([]Frame, error) {
	f := make([]Frame, 0, len(words))
	for _, w := range words {
		v, err := strconv.ParseUint(w, 16, 32)
		if err != nil {
			return nil, fmt.Errorf("pcm: capture dump word %q: %v", w, err)
		}
		f = append(f, Frame{int16(uint16(v)), int16(uint16(v >> 16))})
	}
	return f, nil
}

// Dump collects the capture dump a sound guest prints on its console:
// every line that is tag followed by nothing but 8-digit hex words (one
// frame each, as ParseHex reads them), in order. The AC97 driver tags its
// channels "REC pi" and "REC mc", the virtio-sound driver "REC".
func Dump(console, tag string) []Frame {
	var f []Frame
	for _, line := range strings.Split(console, "\n") {
		rest, ok := strings.CutPrefix(line, tag+" ")
		if !ok {
			continue
		}
		words := strings.Fields(rest)
		if len(words) == 0 || strings.Join(words, " ") != rest {
			continue
		}
		var g []Frame
		for _, w := range words {
			v, err := strconv.ParseUint(w, 16, 32)
			if err != nil || len(w) != 8 || strings.ToLower(w) != w {
				g = nil
				break
			}
			g = append(g, Frame{int16(uint16(v)), int16(uint16(v >> 16))})
		}
		f = append(f, g...)
	}
	return f
}

// WriteWAV writes frames as a stereo S16LE WAV file at rate: a capture
// source for in.path=.
func WriteWAV(path string, rate int, f []Frame) error {
	w, err := audio.CreateWAV(path, audio.Spec{Freq: rate, Format: audio.S16LE, Channels: 2})
	if err != nil {
		return err
	}
	w.Write(Bytes(f))
	return w.Close()
}

// ReadWAV reads a stereo S16LE WAV file at rate (what a wav audiodev wrote)
// and fails t if it has another format.
func ReadWAV(t testing.TB, path string, rate int) []Frame {
	t.Helper()
	spec, data, err := audio.ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Freq != rate || spec.Channels != 2 || spec.Format != audio.S16LE {
		t.Fatalf("%s is %v, want %d Hz s16 2ch", path, spec, rate)
	}
	return Frames(data)
}
