package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// RIFF WAVE: a "RIFF" chunk of form "WAVE" holding a "fmt " chunk
// (WAVEFORMATEX: format tag, channels, rate, byte rate, block align, bits)
// and a "data" chunk of interleaved little-endian frames. Tag 1 is integer
// PCM (8-bit unsigned, wider signed), tag 3 IEEE float, tag 0xFFFE
// WAVE_FORMAT_EXTENSIBLE whose sub-format GUID starts with the real tag.

const (
	wavTagPCM        = 1
	wavTagFloat      = 3
	wavTagExtensible = 0xFFFE
)

// wavFormat maps a stream format to what a WAV file can hold: WAV integer
// samples are unsigned at 8 bits and signed little-endian above, so s8, u16
// and s16be are stored as u8 and s16 (the same sample values).
func wavFormat(f Format) Format {
	switch f {
	case S8:
		return U8
	case U16LE, S16BE:
		return S16LE
	}
	return f
}

// toWAV converts src (spec format f) into dst in wavFormat(f); both have the
// same length.
func toWAV(f Format, src, dst []byte) {
	switch f {
	case S8:
		for i, b := range src {
			dst[i] = b ^ 0x80
		}
	case U16LE:
		for i := 0; i+1 < len(src); i += 2 {
			dst[i], dst[i+1] = src[i], src[i+1]^0x80
		}
	case S16BE:
		for i := 0; i+1 < len(src); i += 2 {
			dst[i], dst[i+1] = src[i+1], src[i]
		}
	default:
		copy(dst, src)
	}
}

// WAVWriter writes a RIFF WAVE file; Close patches the sizes in the header
// (the file is valid but says 0 bytes until then, as with QEMU's wav
// backend).
type WAVWriter struct {
	f       *os.File
	w       *bufio.Writer
	spec    Spec // as stored (wavFormat applied)
	src     Format
	conv    []byte
	n       uint64 // data bytes written
	err     error
	Written uint64 // frames
}

// CreateWAV creates path for frames of spec. Formats a WAV cannot hold are
// converted losslessly (see wavFormat).
func CreateWAV(path string, spec Spec) (*WAVWriter, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	ws := spec
	ws.Format = wavFormat(spec.Format)
	w := &WAVWriter{f: f, w: bufio.NewWriterSize(f, 64<<10), spec: ws, src: spec.Format}
	if ws.Format != spec.Format {
		w.conv = make([]byte, 4096)
	}
	if _, err := w.w.Write(wavHeader(ws, 0)); err != nil {
		f.Close()
		return nil, fmt.Errorf("audio: %s: %w", path, err)
	}
	return w, nil
}

// wavHeader is the 44-byte canonical header for dataBytes of audio.
func wavHeader(s Spec, dataBytes uint64) []byte {
	if dataBytes > 0xFFFFFFFF-36 {
		dataBytes = 0xFFFFFFFF - 36
	}
	h := make([]byte, 44)
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(36+dataBytes))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	tag := uint16(wavTagPCM)
	if s.Format == F32LE {
		tag = wavTagFloat
	}
	le.PutUint16(h[20:], tag)
	le.PutUint16(h[22:], uint16(s.Channels))
	le.PutUint32(h[24:], uint32(s.Freq))
	le.PutUint32(h[28:], uint32(s.Freq*s.FrameBytes()))
	le.PutUint16(h[32:], uint16(s.FrameBytes()))
	le.PutUint16(h[34:], uint16(8*s.Format.Bytes()))
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(dataBytes))
	return h
}

// Spec is the format stored in the file.
func (w *WAVWriter) Spec() Spec { return w.spec }

// Write appends whole frames (in the spec given to CreateWAV). Errors are
// sticky and reported by Close.
func (w *WAVWriter) Write(p []byte) {
	if w.err != nil {
		return
	}
	fb := w.spec.FrameBytes()
	p = p[:len(p)/fb*fb]
	w.Written += uint64(len(p) / fb)
	w.n += uint64(len(p))
	if w.conv == nil {
		_, w.err = w.w.Write(p)
		return
	}
	for len(p) > 0 && w.err == nil {
		k := min(len(p), len(w.conv))
		toWAV(w.src, p[:k], w.conv[:k])
		_, w.err = w.w.Write(w.conv[:k])
		p = p[k:]
	}
}

// Close flushes, writes the final sizes into the header and closes the file.
func (w *WAVWriter) Close() error {
	err := w.err
	if err == nil {
		err = w.w.Flush()
	}
	if err == nil {
		_, err = w.f.WriteAt(wavHeader(w.spec, w.n), 0)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audio: %s: %w", w.f.Name(), err)
	}
	return nil
}

// ErrBadWAV is wrapped by every ParseWAV error.
var ErrBadWAV = errors.New("audio: bad WAV file")

// maxWAVBytes bounds a capture file (1 GiB; docs/limits.md).
const maxWAVBytes = 1 << 30

// ReadWAVFile loads a WAV file for capture (ParseWAV on its contents). The
// file is untrusted: a directory or a device is refused, the RIFF header is
// checked before the rest is read (so /dev/zero fails after 12 bytes), and
// at most maxWAVBytes are read.
func ReadWAVFile(path string) (Spec, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return Spec{}, nil, fmt.Errorf("audio: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Spec{}, nil, fmt.Errorf("audio: %w", err)
	}
	switch {
	case st.IsDir():
		return Spec{}, nil, fmt.Errorf("%w: %s is a directory", ErrBadWAV, path)
	case st.Mode().IsRegular() && st.Size() > maxWAVBytes:
		return Spec{}, nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrBadWAV, path, maxWAVBytes)
	}
	var hdr [12]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return Spec{}, nil, fmt.Errorf("%w: %s: no RIFF/WAVE header", ErrBadWAV, path)
	}
	rest, err := io.ReadAll(io.LimitReader(f, maxWAVBytes+1-int64(len(hdr))))
	if err != nil {
		return Spec{}, nil, fmt.Errorf("audio: %s: %w", path, err)
	}
	b := append(hdr[:], rest...)
	if len(b) > maxWAVBytes {
		return Spec{}, nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrBadWAV, path, maxWAVBytes)
	}
	sp, data, err := ParseWAV(b)
	if err != nil {
		return Spec{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	return sp, data, nil
}

// ParseWAV reads a RIFF WAVE image: 8-bit unsigned, 16- and 32-bit signed
// integer PCM or 32-bit float, 1..MaxChannels channels, MinFreq..MaxFreq Hz.
// It returns the spec and the sample data (a sub-slice of b, truncated to
// whole frames). Chunks other than "fmt " and "data" are skipped; a data
// chunk that claims more bytes than the file holds is truncated (files left
// by a killed writer say 0 or garbage). The input is untrusted: every length
// is checked before use.
func ParseWAV(b []byte) (Spec, []byte, error) {
	le := binary.LittleEndian
	bad := func(format string, a ...any) (Spec, []byte, error) {
		return Spec{}, nil, fmt.Errorf("%w: "+format, append([]any{ErrBadWAV}, a...)...)
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return bad("no RIFF/WAVE header")
	}
	var sp Spec
	haveFmt := false
	p := b[12:]
	for len(p) >= 8 {
		id := string(p[0:4])
		size := uint64(le.Uint32(p[4:8]))
		body := p[8:]
		if size > uint64(len(body)) {
			if id != "data" {
				return bad("chunk %q: size %d beyond end of file", id, size)
			}
			size = uint64(len(body))
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return bad("fmt chunk of %d bytes", len(body))
			}
			tag := le.Uint16(body[0:])
			ch := int(le.Uint16(body[2:]))
			rate := le.Uint32(body[4:])
			align := int(le.Uint16(body[12:]))
			bitsPer := int(le.Uint16(body[14:]))
			if tag == wavTagExtensible {
				if len(body) < 26 {
					return bad("extensible fmt chunk of %d bytes", len(body))
				}
				tag = le.Uint16(body[24:])
			}
			var f Format
			switch {
			case tag == wavTagPCM && bitsPer == 8:
				f = U8
			case tag == wavTagPCM && bitsPer == 16:
				f = S16LE
			case tag == wavTagPCM && bitsPer == 32:
				f = S32LE
			case tag == wavTagFloat && bitsPer == 32:
				f = F32LE
			default:
				return bad("unsupported encoding (tag %#x, %d bits)", tag, bitsPer)
			}
			if rate > MaxFreq {
				return bad("rate %d Hz", rate)
			}
			sp = Spec{Freq: int(rate), Format: f, Channels: ch}
			if err := sp.Validate(); err != nil {
				return bad("%v", err)
			}
			if align != sp.FrameBytes() {
				return bad("block align %d, want %d", align, sp.FrameBytes())
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return bad("data chunk before fmt chunk")
			}
			fb := uint64(sp.FrameBytes())
			return sp, body[:size/fb*fb], nil
		}
		// Chunks are padded to even sizes.
		adv := 8 + size + size&1
		if adv > uint64(len(p)) {
			break
		}
		p = p[adv:]
	}
	if !haveFmt {
		return bad("no fmt chunk")
	}
	return bad("no data chunk")
}
