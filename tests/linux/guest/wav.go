package guest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Format is a PCM format as a WAV file's fmt chunk describes it.
type Format struct {
	Rate     int
	Channels int
	Bits     int // 8 (unsigned) or 16 (signed little endian)
}

// FrameBytes is the size of one frame.
func (f Format) FrameBytes() int { return f.Channels * f.Bits / 8 }

// WAV is a parsed PCM WAV file.
type WAV struct {
	Format
	Data []byte // whole frames only
}

// Frames is the number of whole frames in Data.
func (w *WAV) Frames() int {
	if w.FrameBytes() == 0 {
		return 0
	}
	return len(w.Data) / w.FrameBytes()
}

// Encode returns the canonical 44-byte-header RIFF/WAVE file.
func (w *WAV) Encode() []byte {
	b := make([]byte, 44, 44+len(w.Data))
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+len(w.Data)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], uint16(w.Channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(w.Rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(w.Rate*w.FrameBytes()))
	binary.LittleEndian.PutUint16(b[32:], uint16(w.FrameBytes()))
	binary.LittleEndian.PutUint16(b[34:], uint16(w.Bits))
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(len(w.Data)))
	return append(b, w.Data...)
}

// ErrWAV is returned (wrapped) for files ParseWAV cannot read.
var ErrWAV = errors.New("wav: malformed file")

// ParseWAV reads a PCM WAV file. It tolerates what an emulator killed before
// it closed its output leaves behind: RIFF and data sizes of 0 or larger than
// the file mean "up to the end of the file". A trailing partial frame is
// dropped.
func ParseWAV(b []byte) (*WAV, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrWAV)
	}
	var w WAV
	haveFmt := false
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int64(binary.LittleEndian.Uint32(b[p+4:]))
		body := int64(p + 8)
		end := body + size
		if id == "data" && (size == 0 || end > int64(len(b))) {
			end = int64(len(b))
		}
		if end > int64(len(b)) {
			return nil, fmt.Errorf("%w: chunk %q at %d runs past the end", ErrWAV, id, p)
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrWAV, size)
			}
			f := b[body:]
			if tag := binary.LittleEndian.Uint16(f[0:]); tag != 1 {
				return nil, fmt.Errorf("%w: format tag %d is not PCM", ErrWAV, tag)
			}
			w.Channels = int(binary.LittleEndian.Uint16(f[2:]))
			w.Rate = int(binary.LittleEndian.Uint32(f[4:]))
			w.Bits = int(binary.LittleEndian.Uint16(f[14:]))
			if (w.Bits != 8 && w.Bits != 16) || w.Channels < 1 || w.Channels > 8 || w.Rate <= 0 {
				return nil, fmt.Errorf("%w: unsupported format %+v", ErrWAV, w.Format)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrWAV)
			}
			d := b[body:end]
			w.Data = d[:len(d)-len(d)%w.FrameBytes()]
			return &w, nil
		}
		p = int(end + end&1) // chunks are padded to even sizes
	}
	return nil, fmt.Errorf("%w: no data chunk", ErrWAV)
}

// Test signals: a tone per channel plus pseudo-random noise, so that every
// frame is different from its neighbours (an offset is unambiguous) and no
// frame is digital silence (the first non-zero frame of an output is the
// first frame of the stream).

// TestFile describes one WAV file the initramfs carries.
type TestFile struct {
	Name string // path in the guest, e.g. /wav/s16-48000.wav
	Format
	Frames int
}

// TestFiles are the WAVs put in the image (half a second each).
var TestFiles = []TestFile{
	{"/wav/s16-48000.wav", Format{48000, 2, 16}, 24000},
	{"/wav/s16-44100.wav", Format{44100, 2, 16}, 22050},
	{"/wav/mono-48000.wav", Format{48000, 1, 16}, 24000},
	{"/wav/u8-48000.wav", Format{48000, 2, 8}, 24000},
}

// Generate makes the test signal in format f.
func Generate(f Format, frames int) *WAV {
	w := &WAV{Format: f, Data: make([]byte, 0, frames*f.FrameBytes())}
	x := uint32(0x9e3779b9) // xorshift32 state
	freqs := []float64{440, 660, 550, 770, 330, 880, 220, 990}
	var prev [8]int
	for i := 0; i < frames; i++ {
		silent := true
		var fr [8]int
		for c := 0; c < f.Channels; c++ {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			noise := int(x%1024) - 512
			s := int(math.Round(12000*math.Sin(2*math.Pi*freqs[c]*float64(i)/float64(f.Rate)))) + noise
			if f.Bits == 8 {
				s >>= 8 // -48..47 plus noise fits int8
				if s != 0 {
					silent = false
				}
			} else if s != 0 {
				silent = false
			}
			fr[c] = s
		}
		if silent {
			fr[0] = 1
		}
		if i > 0 && fr == prev {
			// 8-bit samples repeat often; keep neighbours distinct.
			fr[0] += 2
		}
		prev = fr
		for c := 0; c < f.Channels; c++ {
			if f.Bits == 8 {
				w.Data = append(w.Data, byte(fr[c]+128))
			} else {
				w.Data = binary.LittleEndian.AppendUint16(w.Data, uint16(int16(fr[c])))
			}
		}
	}
	return w
}

// Stereo16 returns the frames ALSA's plug layer sends to a 2-channel S16_LE
// device for w, as [left, right] pairs: mono is copied to both channels
// (plug's default route table maps slave channel k to client channel
// k mod channels), U8 becomes S16 as (x-128)<<8 (linear conversion). The
// rate is not converted.
func Stereo16(w *WAV) ([][2]int16, error) {
	if w.Channels > 2 {
		return nil, fmt.Errorf("guest: %d channels not supported", w.Channels)
	}
	n := w.Frames()
	out := make([][2]int16, n)
	fb := w.FrameBytes()
	for i := 0; i < n; i++ {
		fr := w.Data[i*fb : (i+1)*fb]
		var s [2]int16
		for c := 0; c < w.Channels; c++ {
			if w.Bits == 8 {
				s[c] = int16(int(fr[c])-128) << 8
			} else {
				s[c] = int16(binary.LittleEndian.Uint16(fr[2*c:]))
			}
		}
		if w.Channels == 1 {
			s[1] = s[0]
		}
		out[i] = s
	}
	return out, nil
}

// Match is the result of comparing an emulator's output with the stream
// ALSA sent.
type Match struct {
	Offset     int // index of the output frame where the stream starts (-1: all silent)
	Compared   int // frames compared (min of stream and what follows the offset)
	Mismatches int // frames that differ
	FirstBad   int // stream index of the first mismatch (-1: none)
	Missing    int // stream frames absent from the output (it ended early)
	Trailing   int // output frames after the stream
	NonZeroAft int // of those, how many are not silence
}

// Exact says whether every stream frame came out unchanged, and nothing but
// silence followed.
func (m Match) Exact() bool {
	return m.Offset >= 0 && m.Mismatches == 0 && m.Missing == 0 && m.NonZeroAft == 0
}

// Compare finds want in got: the first non-silent output frame is taken as
// the start of the stream (the test signals have no silent frame), then
// every frame is compared.
func Compare(got *WAV, want [][2]int16) (Match, error) {
	if got.Channels != 2 || got.Bits != 16 {
		return Match{}, fmt.Errorf("guest: output is %+v, want 2-channel 16-bit", got.Format)
	}
	g, _ := Stereo16(got)
	m := Match{Offset: -1, FirstBad: -1}
	for i, f := range g {
		if f != [2]int16{} {
			m.Offset = i
			break
		}
	}
	if m.Offset < 0 {
		m.Missing = len(want)
		return m, nil
	}
	rest := g[m.Offset:]
	m.Compared = min(len(rest), len(want))
	for i := 0; i < m.Compared; i++ {
		if rest[i] != want[i] {
			if m.FirstBad < 0 {
				m.FirstBad = i
			}
			m.Mismatches++
		}
	}
	m.Missing = len(want) - m.Compared
	for _, f := range rest[m.Compared:] {
		m.Trailing++
		if f != [2]int16{} {
			m.NonZeroAft++
		}
	}
	return m, nil
}

// Gain fits out ≈ g·in per channel over the frames after the start of the
// stream (least squares through the origin) and reports the largest
// deviation from round(g·in), for volume checks where the exact scaling is
// the device's business. The offset is the first non-silent output frame.
func Gain(got *WAV, want [][2]int16) (g [2]float64, maxDev int, err error) {
	m, err := Compare(got, want)
	if err != nil {
		return g, 0, err
	}
	if m.Offset < 0 {
		return g, 0, nil
	}
	o, _ := Stereo16(got)
	o = o[m.Offset:]
	n := min(len(o), len(want))
	for c := 0; c < 2; c++ {
		var xy, xx float64
		for i := 0; i < n; i++ {
			x, y := float64(want[i][c]), float64(o[i][c])
			xy += x * y
			xx += x * x
		}
		if xx > 0 {
			g[c] = xy / xx
		}
		for i := 0; i < n; i++ {
			d := int(o[i][c]) - int(math.Round(g[c]*float64(want[i][c])))
			if d < 0 {
				d = -d
			}
			maxDev = max(maxDev, d)
		}
	}
	return g, maxDev, nil
}
