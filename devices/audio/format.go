package audio

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
)

// Format is a PCM sample format. Multi-byte formats name their byte order.
type Format uint8

// Sample formats. U8, S16LE, S32LE and F32LE are the ones every path supports
// natively; the others are converted like any foreign format.
const (
	FormatInvalid Format = iota
	U8                   // unsigned 8-bit, silence 0x80
	S8                   // signed 8-bit
	S16LE                // signed 16-bit little-endian
	U16LE                // unsigned 16-bit little-endian, silence 0x8000
	S16BE                // signed 16-bit big-endian
	S32LE                // signed 32-bit little-endian
	F32LE                // IEEE-754 binary32 little-endian, full scale ±1.0
)

var formatNames = [...]string{
	FormatInvalid: "invalid",
	U8:            "u8",
	S8:            "s8",
	S16LE:         "s16",
	U16LE:         "u16",
	S16BE:         "s16be",
	S32LE:         "s32",
	F32LE:         "f32",
}

// String returns the QEMU audiodev name of the format (s16, u8, f32, ...).
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat accepts QEMU's audiodev format names (u8, s8, u16, s16, s32,
// f32) plus s16le, s16be, u16le, s32le and f32le.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "u8":
		return U8, nil
	case "s8":
		return S8, nil
	case "s16", "s16le":
		return S16LE, nil
	case "u16", "u16le":
		return U16LE, nil
	case "s16be":
		return S16BE, nil
	case "s32", "s32le":
		return S32LE, nil
	case "f32", "f32le":
		return F32LE, nil
	}
	return FormatInvalid, fmt.Errorf("audio: unknown sample format %q (want u8, s8, s16, u16, s32 or f32)", s)
}

// Bytes is the size of one sample in bytes (0 for an invalid format).
func (f Format) Bytes() int {
	switch f {
	case U8, S8:
		return 1
	case S16LE, U16LE, S16BE:
		return 2
	case S32LE, F32LE:
		return 4
	}
	return 0
}

// Valid reports whether f is a known format.
func (f Format) Valid() bool { return f.Bytes() != 0 }

// Limits on Spec values. Rates cover every rate a guest driver asks for
// (8 kHz telephony to 192 kHz studio); the channel limit keeps frame sizes
// small enough that a frame always fits the scratch buffers.
const (
	MinFreq     = 1000
	MaxFreq     = 384000
	MaxChannels = 8
)

// Spec describes a PCM stream the way SDL2's SDL_AudioSpec does: Freq sample
// frames per second, the sample Format, Channels interleaved samples per frame,
// and Samples = the preferred number of frames per callback (0 = let the
// backend choose).
type Spec struct {
	Freq     int
	Format   Format
	Channels int
	Samples  int
}

// String gives a compact form such as "48000Hz s16 2ch".
func (s Spec) String() string {
	return fmt.Sprintf("%dHz %v %dch", s.Freq, s.Format, s.Channels)
}

// Validate reports why a Spec cannot be used, or nil.
func (s Spec) Validate() error {
	switch {
	case !s.Format.Valid():
		return fmt.Errorf("audio: spec %v: invalid sample format", s)
	case s.Freq < MinFreq || s.Freq > MaxFreq:
		return fmt.Errorf("audio: spec %v: frequency outside %d..%d Hz", s, MinFreq, MaxFreq)
	case s.Channels < 1 || s.Channels > MaxChannels:
		return fmt.Errorf("audio: spec %v: channels outside 1..%d", s, MaxChannels)
	case s.Samples < 0 || s.Samples > 1<<20:
		return fmt.Errorf("audio: spec %v: samples %d outside 0..%d", s, s.Samples, 1<<20)
	}
	return nil
}

// SameStream reports whether a and b describe the same PCM data (Samples, a
// buffering hint, is ignored).
func (s Spec) SameStream(o Spec) bool {
	return s.Freq == o.Freq && s.Format == o.Format && s.Channels == o.Channels
}

// FrameBytes is the size of one frame: Channels samples.
func (s Spec) FrameBytes() int { return s.Format.Bytes() * s.Channels }

// Silence is SDL's silence byte: 0x80 for U8, 0 otherwise. U16LE silence is
// the sample 0x8000, which is not one repeated byte; FillSilence handles it.
func (s Spec) Silence() byte {
	if s.Format == U8 {
		return 0x80
	}
	return 0
}

// FillSilence writes silence into p (whole samples; U16LE gets 0x8000).
func (s Spec) FillSilence(p []byte) {
	switch s.Format {
	case U16LE:
		for i := 0; i+1 < len(p); i += 2 {
			p[i], p[i+1] = 0x00, 0x80
		}
	default:
		b := s.Silence()
		for i := range p {
			p[i] = b
		}
	}
}

// BytesFor is the number of bytes of d worth of audio, rounded down to whole
// frames.
func (s Spec) BytesFor(d time.Duration) int {
	if s.Freq <= 0 || d <= 0 {
		return 0
	}
	frames := int64(d) / int64(time.Microsecond) * int64(s.Freq) / 1_000_000
	return int(frames) * s.FrameBytes()
}

// DurationOf is the playing time of n bytes (whole frames only).
func (s Spec) DurationOf(n int) time.Duration {
	fb := s.FrameBytes()
	if fb == 0 || s.Freq <= 0 || n <= 0 {
		return 0
	}
	frames := int64(n / fb)
	return time.Duration(frames * int64(time.Second) / int64(s.Freq))
}

// decode converts n frames of p (in spec sp) to float64 samples in dst,
// interleaved, full scale ±1. Integer formats map exactly (every integer
// sample is a float64 and the scales are powers of two), so encode(decode(x))
// is the identity: that is what makes the mixer's unity path bit-exact.
func decode(sp Spec, p []byte, dst []float64) {
	switch sp.Format {
	case U8:
		for i := range dst {
			dst[i] = float64(int(p[i])-128) * (1.0 / 128)
		}
	case S8:
		for i := range dst {
			dst[i] = float64(int8(p[i])) * (1.0 / 128)
		}
	case S16LE:
		for i := range dst {
			dst[i] = float64(int16(binary.LittleEndian.Uint16(p[2*i:]))) * (1.0 / 32768)
		}
	case U16LE:
		for i := range dst {
			dst[i] = float64(int(binary.LittleEndian.Uint16(p[2*i:]))-32768) * (1.0 / 32768)
		}
	case S16BE:
		for i := range dst {
			dst[i] = float64(int16(binary.BigEndian.Uint16(p[2*i:]))) * (1.0 / 32768)
		}
	case S32LE:
		for i := range dst {
			dst[i] = float64(int32(binary.LittleEndian.Uint32(p[4*i:]))) * (1.0 / 2147483648)
		}
	case F32LE:
		for i := range dst {
			v := float64(math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:])))
			// Guest data is untrusted: NaN is silence, and infinities or
			// huge values are limited to ±16 (24 dB over full scale) so
			// that mixing and filtering stay finite.
			switch {
			case v != v:
				v = 0
			case v > f32Limit:
				v = f32Limit
			case v < -f32Limit:
				v = -f32Limit
			}
			dst[i] = v
		}
	}
}

const f32Limit = 16

// quant rounds x*scale to the nearest integer and clamps it to [lo, hi].
func quant(x, scale float64, lo, hi int64) int64 {
	v := x * scale
	if !(v > float64(lo)) { // also catches NaN
		if v != v {
			return 0
		}
		return lo
	}
	if v >= float64(hi) {
		return hi
	}
	return int64(math.Round(v))
}

// encode converts interleaved float64 samples to sp's format in p, clipping
// to full scale.
func encode(sp Spec, src []float64, p []byte) {
	switch sp.Format {
	case U8:
		for i, x := range src {
			p[i] = byte(quant(x, 128, -128, 127) + 128)
		}
	case S8:
		for i, x := range src {
			p[i] = byte(int8(quant(x, 128, -128, 127)))
		}
	case S16LE:
		for i, x := range src {
			binary.LittleEndian.PutUint16(p[2*i:], uint16(int16(quant(x, 32768, -32768, 32767))))
		}
	case U16LE:
		for i, x := range src {
			binary.LittleEndian.PutUint16(p[2*i:], uint16(quant(x, 32768, -32768, 32767)+32768))
		}
	case S16BE:
		for i, x := range src {
			binary.BigEndian.PutUint16(p[2*i:], uint16(int16(quant(x, 32768, -32768, 32767))))
		}
	case S32LE:
		for i, x := range src {
			binary.LittleEndian.PutUint32(p[4*i:], uint32(int32(quant(x, 2147483648, -2147483648, 2147483647))))
		}
	case F32LE:
		for i, x := range src {
			if x != x {
				x = 0
			}
			binary.LittleEndian.PutUint32(p[4*i:], math.Float32bits(float32(x)))
		}
	}
}
