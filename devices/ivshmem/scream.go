package ivshmem

import (
	"encoding/binary"
	"fmt"

	"gemu/clock"
	"gemu/devices/audio"
)

// Scream's IVSHMEM layout (duncanthrax/scream, receivers by M. Martinelli;
// Receivers/unix/shmem.c), as a second consumer gemu offers with the
// extension option ring=scream: a guest (or host process) running a Scream
// IVSHMEM transmitter, such as Scream's PulseAudio one, plays through
// gemu's audiodev. The header, natural C alignment, little-endian:
//
//	off  size  field
//	0    4     magic 0x11112014
//	4    2     write_idx: the chunk the producer finished last
//	6    1     offset: where chunk 0 starts (transmitters use 24, the header size)
//	8    2     max_chunks
//	12   4     chunk_size in bytes
//	16   1     sample_rate: bit 7 set = 44100 Hz base, else 48000; bits 6:0 = multiplier
//	17   1     sample_size: 16 or 32 (bits, signed; 24-bit packed is not supported)
//	18   1     channels
//	20   2     channel_map (Windows speaker mask; must be non-zero)
//
// Chunk k lies at offset + k*chunk_size. The producer fills chunk
// write_idx+1 (mod max_chunks), then publishes write_idx. A Scream receiver
// never writes to the memory and starts at the current write_idx, so stale
// chunks are never replayed; it plays the chunks after it one by one and
// re-syncs on any format change. gemu does the same, paced at the stream's
// rate like the gemu ring. There is no read index, so a producer that laps
// the consumer cannot be detected; a chunk lying (partly) outside the
// memory, as the last one of a transmitter that sizes max_chunks without
// subtracting the header can, is skipped and counted.
const (
	ScreamMagic      = 0x11112014
	screamHeaderSize = 24

	scrWriteIdx   = 4
	scrOffset     = 6
	scrMaxChunks  = 8
	scrChunkSize  = 12
	scrRate       = 16
	scrSampleSize = 17
	scrChannels   = 18
	scrChannelMap = 20
)

// ScreamHeader is a decoded, checked Scream header.
type ScreamHeader struct {
	WriteIdx  int
	Offset    uint64
	MaxChunks int
	ChunkSize uint64
	Spec      audio.Spec
}

// ParseScreamHeader decodes the Scream header at the start of mem (a
// shared memory of memSize bytes). ok is false while the magic is absent
// or the producer has not filled in its format yet (channels or channel
// map zero, which Scream receivers also wait out); a header that can never
// be played is an error.
func ParseScreamHeader(mem []byte, memSize uint64) (h ScreamHeader, ok bool, err error) {
	if len(mem) < screamHeaderSize || binary.LittleEndian.Uint32(mem) != ScreamMagic {
		return h, false, nil
	}
	le := binary.LittleEndian
	ch := int(mem[scrChannels])
	if ch == 0 || le.Uint16(mem[scrChannelMap:]) == 0 {
		return h, false, nil
	}
	bad := func(r Reason, format string, args ...any) (ScreamHeader, bool, error) {
		return h, true, &RingError{r, fmt.Sprintf(format, args...)}
	}
	base, mult := 48000, int(mem[scrRate]&0x7f)
	if mem[scrRate]&0x80 != 0 {
		base = 44100
	}
	var f audio.Format
	switch mem[scrSampleSize] {
	case 16:
		f = audio.S16LE
	case 32:
		f = audio.S32LE
	default:
		return bad(ReasonFormat, "sample size %d bits", mem[scrSampleSize])
	}
	h.Spec = audio.Spec{Freq: base * mult, Format: f, Channels: ch}
	if h.Spec.Freq < audio.MinFreq || h.Spec.Freq > audio.MaxFreq {
		return bad(ReasonRate, "rate byte %#x", mem[scrRate])
	}
	if ch > audio.MaxChannels {
		return bad(ReasonChannels, "%d channels", ch)
	}
	h.WriteIdx = int(le.Uint16(mem[scrWriteIdx:]))
	h.Offset = uint64(mem[scrOffset])
	h.MaxChunks = int(le.Uint16(mem[scrMaxChunks:]))
	h.ChunkSize = uint64(le.Uint32(mem[scrChunkSize:]))
	fb := uint64(h.Spec.FrameBytes())
	switch {
	case h.Offset < screamHeaderSize || h.Offset >= memSize:
		return bad(ReasonDataOffset, "offset %d inside the header or outside %d bytes", h.Offset, memSize)
	case h.ChunkSize == 0 || h.ChunkSize%fb != 0 || h.ChunkSize > memSize-h.Offset:
		return bad(ReasonCapacity, "chunk size %d (frames of %d bytes, %d-byte memory)", h.ChunkSize, fb, memSize)
	case h.MaxChunks < 2:
		return bad(ReasonCapacity, "max_chunks %d", h.MaxChunks)
	case h.WriteIdx >= h.MaxChunks:
		return bad(ReasonIndex, "write_idx %d of %d chunks", h.WriteIdx, h.MaxChunks)
	}
	return h, true, nil
}

// ScreamPlayer consumes a Scream IVSHMEM ring. It never writes to the
// shared memory. It runs on the emulation goroutine, on clock timers.
type ScreamPlayer struct {
	consumer // Link (UseAudiodev, Backend, Tick, Lead), IdleTick, Trace
	hdr      ScreamHeader
	raw      [screamHeaderSize - scrOffset]byte // format bytes as attached
	read     int                                // chunk being played
	pos      uint64                             // bytes of it played

	Errors   uint64 // bad headers and skipped chunks
	Consumed uint64 // frames played
}

// NewScreamPlayer starts watching mem for a Scream header.
func NewScreamPlayer(mem *Memory, clk *clock.Clock, be audio.Backend) *ScreamPlayer {
	p := &ScreamPlayer{}
	p.init(mem, clk, be, p, "ivshmem: scream: ")
	return p
}

// Playing reports whether a stream is attached.
func (p *ScreamPlayer) Playing() bool { return p.attached() }

// attached: a stream is attached exactly while its pacer runs.
func (p *ScreamPlayer) attached() bool { return p.pace.Running() }

// Reset stops playback (board reset) and looks again later.
func (p *ScreamPlayer) Reset() { p.reset() }

// look attaches to a valid header at its current write_idx.
func (p *ScreamPlayer) look(now int64) {
	h, ok, err := ParseScreamHeader(p.mem.b, p.mem.Size())
	if !ok {
		return
	}
	if err != nil {
		if string(p.mem.b[scrOffset:screamHeaderSize]) != string(p.raw[:]) {
			p.Errors++ // count each bad format once
			copy(p.raw[:], p.mem.b[scrOffset:screamHeaderSize])
			p.tracef("unusable header: %v", err)
		}
		return
	}
	p.hdr = h
	copy(p.raw[:], p.mem.b[scrOffset:screamHeaderSize])
	p.read, p.pos = h.WriteIdx, h.ChunkSize // the chunk at write_idx is old: start after it
	if err := p.attach(now, h.Spec); err != nil {
		// Scream's layout has no status for the consumer (gemu never
		// writes it): count an error and keep looking, as for a header
		// that cannot be played; the next look tries the voice again.
		p.Errors++
		return
	}
	p.tracef("playing %v, %d chunks of %d bytes at %#x, from chunk %d", h.Spec, h.MaxChunks, h.ChunkSize, h.Offset, h.WriteIdx)
}

// play moves the frames due at now from the chunks published so far.
func (p *ScreamPlayer) play(now int64) {
	m := p.mem
	if m.Read(0, 4) != ScreamMagic || string(m.b[scrOffset:screamHeaderSize]) != string(p.raw[:]) {
		p.stop() // gone or reformatted: re-sync as Scream receivers do
		p.tracef("stopped after %d frames (header changed)", p.Consumed)
		p.look(now)
		return
	}
	write := int(m.Read(scrWriteIdx, 2))
	if write >= p.hdr.MaxChunks {
		p.Errors++
		p.stop()
		p.tracef("write_idx %d of %d chunks", write, p.hdr.MaxChunks)
		return
	}
	budget := int64(p.pace.Due(now))
	fb := uint64(p.hdr.Spec.FrameBytes())
	for budget > 0 {
		if p.pos == p.hdr.ChunkSize {
			if p.read == write {
				return // caught up with the producer
			}
			p.read = (p.read + 1) % p.hdr.MaxChunks
			p.pos = 0
		}
		start := p.hdr.Offset + uint64(p.read)*p.hdr.ChunkSize
		if start+p.hdr.ChunkSize > m.Size() {
			p.Errors++
			p.pos = p.hdr.ChunkSize // outside the memory: skip it
			continue
		}
		n := min(uint64(budget), (p.hdr.ChunkSize-p.pos)/fb)
		if n = p.room(n); n == 0 {
			return
		}
		data := p.scratch(int(n * fb))
		copy(data, m.b[start+p.pos:])
		w := p.write(data, n)
		p.pos += w * fb
		p.pace.Moved(int(w))
		p.Consumed += w
		budget -= int64(w)
		if w < n {
			return
		}
	}
}
