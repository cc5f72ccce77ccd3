package ivshmem

import (
	"encoding/binary"
	"fmt"

	"gemu/devices/audio"
)

// The gemu audio ring: a single-producer single-consumer byte ring at
// offset 0 of the shared memory (docs/devices/ivshmem.md, "The audio
// ring"). A guest driver (or another host process) produces PCM; gemu
// consumes it into an audio stream when the device has `audiodev=ID` (a
// gemu extension option: QEMU's ivshmem has no audio). All fields are
// little-endian; offsets are bytes from the start of BAR2.
//
//	off   size  field        written by  meaning
//	0x00  4     magic        producer    RingMagic ("GAUD"), stored last at init
//	0x04  4     version      producer    RingVersion
//	0x08  4     rate         producer    frames per second, 1000..384000
//	0x0c  2     channels     producer    1..8, interleaved
//	0x0e  2     format       producer    RingFormat* code
//	0x10  4     frame bytes  producer    channels * sample size (a check)
//	0x14  4     data offset  producer    start of data: >= 0x100, a multiple of 64
//	0x18  4     capacity     producer    data size in bytes, a power of two >= 64
//	0x1c  4     -            -           reserved, 0
//	0x20  8     write index  producer    free-running byte count (own cache line)
//	0x40  8     read index   consumer    free-running byte count (own cache line)
//	0x48  4     status       consumer    RingIdle/RingPlaying/RingBroken | reason<<8
//	0x4c  4     errors       consumer    count of rings found broken
//	0x50  4     starved      consumer    ticks on which the ring held less than due
//	0x60  4     epoch        producer    bumped on every (re)start of the stream
//	0x64  4     active       producer    1 = play, 0 = stop
//
// Rules: fill = write - read (unsigned), free = capacity - fill; byte i of
// the stream lives at data[i mod capacity]. The producer writes samples,
// then stores the write index (RISC-V: `fence w,w` before the store); the
// consumer loads the write index, reads the samples, then stores the read
// index. The format fields change only while active = 0.
//
// Starting: the producer zeroes both indices, writes the format, sets epoch
// and active, and stores the magic last (or, restarting, bumps epoch). The
// read index in shared memory is the consumer's word, so gemu attaches at
// that index: what lies between read and write was written for it, and no
// stale bytes are played (the Scream convention of starting at the write
// index is for rings without a shared read index, see scream.go).
// Stopping: a producer that wants everything played waits until read equals
// write, then clears active; clearing it earlier stops at once.
//
// Broken rings: any value outside the rules above (a fill larger than the
// capacity, a data area outside the shared memory, a format that changed
// while active, ...) sets status = RingBroken with the reason, counts an
// error and stops consuming; the emulator runs on. The ring is re-examined
// when the producer bumps epoch (the reliable way to restart), or once the
// consumer has seen active = 0 or the magic absent (a flip the producer
// undoes before the consumer's next look goes unseen).
const (
	RingMagic   = 0x44554147 // "GAUD" in memory order
	RingVersion = 1

	OffMagic      = 0x00
	OffVersion    = 0x04
	OffRate       = 0x08
	OffChannels   = 0x0c
	OffFormat     = 0x0e
	OffFrameBytes = 0x10
	OffDataOffset = 0x14
	OffCapacity   = 0x18
	OffWrite      = 0x20
	OffRead       = 0x40
	OffStatus     = 0x48
	OffErrors     = 0x4c
	OffStarved    = 0x50
	OffEpoch      = 0x60
	OffActive     = 0x64

	// HeaderSize is the smallest data offset.
	HeaderSize = 0x100
	// formatEnd bounds the fields compared to detect a format change.
	formatEnd = 0x20
)

// Sample format codes of the ring header.
const (
	RingFormatU8    = 1
	RingFormatS16LE = 2
	RingFormatS32LE = 3
	RingFormatF32LE = 4
	RingFormatS8    = 5
	RingFormatU16LE = 6
)

var ringFormats = map[uint16]audio.Format{
	RingFormatU8:    audio.U8,
	RingFormatS16LE: audio.S16LE,
	RingFormatS32LE: audio.S32LE,
	RingFormatF32LE: audio.F32LE,
	RingFormatS8:    audio.S8,
	RingFormatU16LE: audio.U16LE,
}

// Consumer status values (low byte of the status word).
const (
	RingIdle    = 0
	RingPlaying = 1
	RingBroken  = 2
)

// Reason says why a ring is broken (status bits 15:8).
type Reason uint8

const (
	ReasonNone Reason = iota
	ReasonVersion
	ReasonFormat
	ReasonRate
	ReasonChannels
	ReasonFrameBytes
	ReasonDataOffset
	ReasonCapacity
	ReasonIndex         // write - read > capacity
	ReasonFormatChanged // format fields changed while active
	ReasonVoice         // the audiodev refused the ring's voice (its voice limit)
)

var reasonText = [...]string{
	ReasonNone:          "no error",
	ReasonVersion:       "unknown layout version",
	ReasonFormat:        "unknown sample format",
	ReasonRate:          "rate out of range",
	ReasonChannels:      "channel count out of range",
	ReasonFrameBytes:    "frame bytes do not match channels and format",
	ReasonDataOffset:    "data offset below 0x100, unaligned or outside the memory",
	ReasonCapacity:      "capacity not a power of two or outside the memory",
	ReasonIndex:         "write index more than capacity ahead of read index",
	ReasonFormatChanged: "format changed while active",
	ReasonVoice:         "the audiodev refused the voice (too many voices open)",
}

func (r Reason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return fmt.Sprintf("reason %d", uint8(r))
}

// RingError is a validation failure.
type RingError struct {
	Reason Reason
	Detail string
}

func (e *RingError) Error() string {
	return fmt.Sprintf("ivshmem ring: %v (%s)", e.Reason, e.Detail)
}

// Header is the producer-owned part of the ring header, validated.
type Header struct {
	Magic      uint32
	Version    uint32
	Spec       audio.Spec
	FrameBytes int
	DataOffset uint64
	Capacity   uint64
	Epoch      uint32
	Active     bool
}

// ParseHeader decodes and checks the header at the start of mem, a shared
// memory of memSize bytes (len(mem) may be shorter: only the header is
// read). It returns ok=false with no error while there is no ring (magic
// absent); otherwise every field is checked and the first bad one is
// returned as a *RingError.
func ParseHeader(mem []byte, memSize uint64) (h Header, ok bool, err error) {
	if len(mem) < HeaderSize {
		return h, false, nil
	}
	le := binary.LittleEndian
	h.Magic = le.Uint32(mem[OffMagic:])
	if h.Magic != RingMagic {
		return h, false, nil
	}
	h.Version = le.Uint32(mem[OffVersion:])
	h.Epoch = le.Uint32(mem[OffEpoch:])
	h.Active = le.Uint32(mem[OffActive:]) != 0
	bad := func(r Reason, format string, args ...any) (Header, bool, error) {
		return h, true, &RingError{r, fmt.Sprintf(format, args...)}
	}
	if h.Version != RingVersion {
		return bad(ReasonVersion, "version %d, want %d", h.Version, RingVersion)
	}
	rate := le.Uint32(mem[OffRate:])
	ch := le.Uint16(mem[OffChannels:])
	fc := le.Uint16(mem[OffFormat:])
	f, known := ringFormats[fc]
	if !known {
		return bad(ReasonFormat, "format code %d", fc)
	}
	if rate < audio.MinFreq || rate > audio.MaxFreq {
		return bad(ReasonRate, "%d Hz", rate)
	}
	if ch < 1 || ch > audio.MaxChannels {
		return bad(ReasonChannels, "%d channels", ch)
	}
	h.Spec = audio.Spec{Freq: int(rate), Format: f, Channels: int(ch)}
	fb := le.Uint32(mem[OffFrameBytes:])
	if uint64(fb) != uint64(h.Spec.FrameBytes()) {
		return bad(ReasonFrameBytes, "frame bytes %d, %v needs %d", fb, h.Spec, h.Spec.FrameBytes())
	}
	h.FrameBytes = int(fb)
	h.DataOffset = uint64(le.Uint32(mem[OffDataOffset:]))
	if h.DataOffset < HeaderSize || h.DataOffset%64 != 0 || h.DataOffset >= memSize {
		return bad(ReasonDataOffset, "data offset %#x in %#x bytes", h.DataOffset, memSize)
	}
	h.Capacity = uint64(le.Uint32(mem[OffCapacity:]))
	if h.Capacity < 64 || h.Capacity&(h.Capacity-1) != 0 || h.Capacity > memSize-h.DataOffset {
		return bad(ReasonCapacity, "capacity %#x at %#x in %#x bytes", h.Capacity, h.DataOffset, memSize)
	}
	return h, true, nil
}

// CheckIndices validates a write/read index pair against the capacity and
// returns the fill in bytes.
func CheckIndices(write, read, capacity uint64) (fill uint64, err error) {
	fill = write - read
	if fill > capacity {
		return 0, &RingError{ReasonIndex, fmt.Sprintf("write %d, read %d, capacity %d", write, read, capacity)}
	}
	return fill, nil
}
