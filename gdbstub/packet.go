package gdbstub

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Framing of the GDB Remote Serial Protocol (GDB manual, appendix E.1
// "Overview"): a packet is $payload#cc where cc is the sum of the payload
// bytes modulo 256 in two hex digits. The receiver answers + (good) or -
// (resend) until both sides agree on no-ack mode (E.11.4 "Packet
// Acknowledgment"). A lone 0x03 byte outside a packet is an interrupt
// request (E.9 "Interrupts"). Binary data escapes $, #, } and * as } and the
// byte XOR 0x20.

// MaxPacket is the largest payload accepted or sent, the PacketSize
// advertised in qSupported. Longer incoming packets are discarded and
// answered with -.
const MaxPacket = 0x4000

// FrameKind says what the decoder found in the byte stream.
type FrameKind uint8

const (
	FramePacket    FrameKind = iota // a packet with a good checksum
	FrameBad                        // a packet with a bad checksum or too long
	FrameAck                        // +
	FrameNack                       // -
	FrameInterrupt                  // 0x03 outside a packet
)

// Frame is one unit of the byte stream.
type Frame struct {
	Kind FrameKind
	Data []byte // payload of FramePacket (owned by the receiver)
}

// Decoder splits a byte stream from gdb into frames. The zero value is ready.
// Bytes outside packets other than +, - and 0x03 are ignored, as gdb itself
// ignores line noise between packets.
type Decoder struct {
	state    uint8 // one of the dec* states
	buf      []byte
	overflow bool
	sum      uint8
	want     uint8 // the first checksum digit's value
}

const (
	decIdle = iota
	decData
	decSum1
	decSum2
)

// Feed consumes p and calls emit for each complete frame, in order.
func (d *Decoder) Feed(p []byte, emit func(Frame)) {
	for _, b := range p {
		switch d.state {
		case decIdle:
			switch b {
			case '$':
				d.state, d.buf, d.overflow, d.sum = decData, d.buf[:0], false, 0
			case '+':
				emit(Frame{Kind: FrameAck})
			case '-':
				emit(Frame{Kind: FrameNack})
			case 0x03:
				emit(Frame{Kind: FrameInterrupt})
			}
		case decData:
			switch {
			case b == '#':
				d.state = decSum1
			case b == '$':
				// A new packet start inside a packet: the previous one
				// was cut; restart (gdb resends after a -).
				emit(Frame{Kind: FrameBad})
				d.buf, d.overflow, d.sum = d.buf[:0], false, 0
			case len(d.buf) >= MaxPacket:
				d.overflow = true
				d.sum += b
			default:
				d.buf = append(d.buf, b)
				d.sum += b
			}
		case decSum1:
			v, ok := unhex(b)
			if !ok {
				d.state = decIdle
				emit(Frame{Kind: FrameBad})
				continue
			}
			d.want, d.state = v<<4, decSum2
		case decSum2:
			d.state = decIdle
			v, ok := unhex(b)
			if !ok || d.want|v != d.sum || d.overflow {
				emit(Frame{Kind: FrameBad})
				continue
			}
			emit(Frame{Kind: FramePacket, Data: append([]byte{}, d.buf...)})
		}
	}
}

// AppendPacket appends the framed form of payload to dst: $, payload with
// $ # } * escaped, #, checksum.
func AppendPacket(dst, payload []byte) []byte {
	dst = append(dst, '$')
	var sum uint8
	for _, b := range payload {
		if b == '$' || b == '#' || b == '}' || b == '*' {
			dst = append(dst, '}')
			sum += '}'
			b ^= 0x20
		}
		dst = append(dst, b)
		sum += b
	}
	return append(dst, '#', hexDigits[sum>>4], hexDigits[sum&15])
}

// Unescape undoes the binary escaping of X packets (} followed by the byte
// XOR 0x20). A trailing lone } is an error.
func Unescape(p []byte) ([]byte, error) {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		b := p[i]
		if b == '}' {
			i++
			if i == len(p) {
				return nil, errors.New("gdbstub: escape at end of binary data")
			}
			b = p[i] ^ 0x20
		}
		out = append(out, b)
	}
	return out, nil
}

const hexDigits = "0123456789abcdef"

func unhex(b byte) (uint8, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10, true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// appendHex appends p as lower-case hex pairs.
func appendHex(dst, p []byte) []byte {
	for _, b := range p {
		dst = append(dst, hexDigits[b>>4], hexDigits[b&15])
	}
	return dst
}

// decodeHex reads hex pairs; an odd length or a non-hex digit is an error.
func decodeHex(s []byte) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("gdbstub: odd hex length %d", len(s))
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("gdbstub: bad hex %q", s[2*i:2*i+2])
		}
		out[i] = hi<<4 | lo
	}
	return out, nil
}

// parseHex reads an unsigned hex number of at most 16 digits (leading zeros
// beyond that are accepted) with no sign or prefix.
func parseHex(s []byte) (uint64, error) {
	if len(s) == 0 {
		return 0, errors.New("gdbstub: empty number")
	}
	var v uint64
	for _, b := range s {
		d, ok := unhex(b)
		if !ok {
			return 0, fmt.Errorf("gdbstub: bad hex number %q", s)
		}
		if v>>60 != 0 {
			return 0, fmt.Errorf("gdbstub: hex number %q overflows 64 bits", s)
		}
		v = v<<4 | uint64(d)
	}
	return v, nil
}

// parseThread reads a thread id: hex, or -1 for all threads, or with
// multiprocess+ pPID.TID (the process is 1; a TID of -1, or pPID alone,
// means all its threads) (E.8 "thread-id syntax").
func parseThread(s []byte) (int64, error) {
	if len(s) > 0 && s[0] == 'p' {
		pid, tid, found := bytes.Cut(s[1:], []byte{'.'})
		if _, err := parseThread(pid); err != nil {
			return 0, err
		}
		if !found {
			return -1, nil
		}
		s = tid
	}
	if string(s) == "-1" {
		return -1, nil
	}
	v, err := parseHex(s)
	if err != nil || v > 1<<31 {
		return 0, fmt.Errorf("gdbstub: bad thread id %q", s)
	}
	return int64(v), nil
}

// appendLE64 appends the width low bytes of v, little-endian, as hex (the
// target byte order of RISC-V).
func appendLE(dst []byte, v uint64, width int) []byte {
	for i := 0; i < width; i++ {
		b := byte(v >> (8 * i))
		dst = append(dst, hexDigits[b>>4], hexDigits[b&15])
	}
	return dst
}

// parseLE reads width bytes of little-endian hex.
func parseLE(s []byte, width int) (uint64, error) {
	if len(s) != 2*width {
		return 0, fmt.Errorf("gdbstub: register value %q: want %d hex digits", s, 2*width)
	}
	b, err := decodeHex(s)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := width - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// hexByte formats v as two hex digits (signal numbers, exit codes).
func hexByte(v uint8) string {
	return strconv.FormatUint(uint64(v)>>4, 16) + strconv.FormatUint(uint64(v)&15, 16)
}
