package ivshmem

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/clock"
	"gemu/devices/audio"
)

// screamTx is a Scream IVSHMEM transmitter as Scream's PulseAudio one
// sets itself up: header zeroed, chunks (20 ms there) after a 24-byte
// header, max_chunks = memory size / chunk size, magic last.
type screamTx struct {
	mem       *Memory
	chunk     uint64
	maxChunks int
	write     int
	seq       int
	sent      []byte
}

func newScreamTx(m *Memory, rateByte, sampleBits, channels byte, chunk uint64) *screamTx {
	clear(m.Bytes()[:screamHeaderSize])
	tx := &screamTx{mem: m, chunk: chunk, maxChunks: int(m.Size() / chunk)}
	m.Write(scrWriteIdx, 2, 0)
	m.Write(scrOffset, 1, screamHeaderSize)
	m.Write(scrChunkSize, 4, chunk)
	m.Write(scrMaxChunks, 2, uint64(tx.maxChunks))
	m.Write(scrRate, 1, uint64(rateByte))
	m.Write(scrSampleSize, 1, uint64(sampleBits))
	m.Write(scrChannels, 1, uint64(channels))
	m.Write(scrChannelMap, 2, 0xffff)
	m.Write(0, 4, ScreamMagic)
	return tx
}

// send fills the next chunk with a counting pattern and publishes it. A
// chunk that would not fit in the memory (the transmitter's sizing ignores
// the header) is published without data.
func (tx *screamTx) send() {
	next := (tx.write + 1) % tx.maxChunks
	start := screamHeaderSize + uint64(next)*tx.chunk
	if start+tx.chunk <= tx.mem.Size() {
		for i := uint64(0); i < tx.chunk; i++ {
			b := byte(tx.seq*5 + tx.seq>>9)
			tx.seq++
			tx.mem.Bytes()[start+i] = b
			tx.sent = append(tx.sent, b)
		}
	}
	tx.write = next
	tx.mem.Write(scrWriteIdx, 2, uint64(next))
}

func TestParseScreamHeader(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(m *Memory)
		want   ScreamHeader
		ok     bool
		reason Reason
	}{
		{"48 kHz s16 stereo", nil, ScreamHeader{0, 24, 68, 3840, audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2}}, true, ReasonNone},
		{"44.1 kHz", func(m *Memory) { m.Write(scrRate, 1, 0x81) }, ScreamHeader{0, 24, 68, 3840, audio.Spec{Freq: 44100, Format: audio.S16LE, Channels: 2}}, true, ReasonNone},
		{"96 kHz s32", func(m *Memory) { m.Write(scrRate, 1, 2); m.Write(scrSampleSize, 1, 32) }, ScreamHeader{0, 24, 68, 3840, audio.Spec{Freq: 96000, Format: audio.S32LE, Channels: 2}}, true, ReasonNone},
		{"no magic", func(m *Memory) { m.Write(0, 4, 0) }, ScreamHeader{}, false, ReasonNone},
		{"no channels yet", func(m *Memory) { m.Write(scrChannels, 1, 0) }, ScreamHeader{}, false, ReasonNone},
		{"no channel map yet", func(m *Memory) { m.Write(scrChannelMap, 2, 0) }, ScreamHeader{}, false, ReasonNone},
		{"24-bit", func(m *Memory) { m.Write(scrSampleSize, 1, 24) }, ScreamHeader{}, true, ReasonFormat},
		{"rate 0", func(m *Memory) { m.Write(scrRate, 1, 0x80) }, ScreamHeader{}, true, ReasonRate},
		{"rate too high", func(m *Memory) { m.Write(scrRate, 1, 0x7f) }, ScreamHeader{}, true, ReasonRate},
		{"9 channels", func(m *Memory) { m.Write(scrChannels, 1, 9) }, ScreamHeader{}, true, ReasonChannels},
		{"offset in header", func(m *Memory) { m.Write(scrOffset, 1, 8) }, ScreamHeader{}, true, ReasonDataOffset},
		{"chunk 0", func(m *Memory) { m.Write(scrChunkSize, 4, 0) }, ScreamHeader{}, true, ReasonCapacity},
		{"chunk not whole frames", func(m *Memory) { m.Write(scrChunkSize, 4, 3838) }, ScreamHeader{}, true, ReasonCapacity},
		{"chunk too big", func(m *Memory) { m.Write(scrChunkSize, 4, 1<<20) }, ScreamHeader{}, true, ReasonCapacity},
		{"one chunk", func(m *Memory) { m.Write(scrMaxChunks, 2, 1) }, ScreamHeader{}, true, ReasonCapacity},
		{"write_idx out of range", func(m *Memory) { m.Write(scrWriteIdx, 2, 68) }, ScreamHeader{}, true, ReasonIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := NewMemory(1 << 18)
			newScreamTx(m, 1, 16, 2, 3840)
			if tc.mod != nil {
				tc.mod(m)
			}
			h, ok, err := ParseScreamHeader(m.Bytes(), m.Size())
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (err %v)", ok, tc.ok, err)
			}
			got := ReasonNone
			var re *RingError
			if errors.As(err, &re) {
				got = re.Reason
			}
			if got != tc.reason {
				t.Fatalf("reason %v (%v), want %v", got, err, tc.reason)
			}
			if ok && err == nil {
				if diff := cmp.Diff(tc.want, h); diff != "" {
					t.Errorf("header (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// FuzzParseScreamHeader: any header parses without panicking; an accepted
// one has at least one chunk inside the memory and a usable spec.
func FuzzParseScreamHeader(f *testing.F) {
	m, _ := NewMemory(1 << 18)
	newScreamTx(m, 1, 16, 2, 3840)
	f.Add(append([]byte(nil), m.Bytes()[:screamHeaderSize]...), uint8(18))
	f.Add(make([]byte, screamHeaderSize), uint8(12))
	f.Fuzz(func(t *testing.T, hdr []byte, log2 uint8) {
		size := uint64(1) << (log2%20 + 6)
		h, ok, err := ParseScreamHeader(hdr, size)
		if !ok || err != nil {
			return
		}
		if h.Offset < screamHeaderSize || h.Offset+h.ChunkSize > size || h.ChunkSize%uint64(h.Spec.FrameBytes()) != 0 ||
			h.WriteIdx >= h.MaxChunks || h.MaxChunks < 2 {
			t.Fatalf("accepted %+v for %d bytes", h, size)
		}
		if err := h.Spec.Validate(); err != nil {
			t.Fatalf("accepted spec %v: %v", h.Spec, err)
		}
	})
}

func TestScreamPlayer(t *testing.T) {
	var ns uint64
	clk := clock.NewDeterministic(0, func() uint64 { return ns })
	advance := func(to uint64) {
		for {
			next, ok := clk.Next()
			if !ok || uint64(next) > to {
				break
			}
			ns = max(ns, uint64(next))
			clk.RunDue()
		}
		ns = to
		clk.RunDue()
	}
	// 16 chunks of 4096 bytes (1024 frames, 21.3 ms) after the 24-byte
	// header: the transmitter's last chunk lies partly outside the memory.
	m, _ := NewMemory(1 << 16)
	before := bytes.Repeat([]byte{0xee}, 1<<16)
	copy(m.Bytes(), before) // stale data: never played
	be := &fakeBackend{free: 1 << 20}
	p := NewScreamPlayer(m, clk, be)
	p.IdleTick = 10e6
	tx := newScreamTx(m, 1, 16, 2, 4096)
	tx.send() // published before the consumer attached: skipped, as Scream receivers do
	advance(10e6)
	if !p.Playing() {
		t.Fatal("not attached")
	}
	skipped := len(tx.sent)
	// 100 chunks sent every 20 ms: the producer runs a little ahead of
	// playback, never a whole ring ahead.
	for i := 0; i < 100; i++ {
		tx.send()
		advance(10e6 + uint64(i+1)*20e6)
	}
	advance(3e9)
	want := tx.sent[skipped:]
	got := be.outs[0].got
	// The chunk outside the memory was skipped: its bytes never existed.
	if !bytes.Equal(got, want) {
		t.Fatalf("played %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	if p.Errors == 0 {
		t.Errorf("the chunk outside the memory was not counted (consumed %d frames, tx at %d, max %d)", p.Consumed, tx.write, tx.maxChunks)
	}
	if !bytes.Equal(m.Bytes()[1<<16-8:], before[1<<16-8:]) || m.Read(scrWriteIdx, 2) != uint64(tx.write) {
		t.Error("the consumer wrote into the memory")
	}
	// Format change: re-sync with a new voice at 44.1 kHz.
	tx = newScreamTx(m, 0x81, 16, 2, 3528)
	advance(3e9 + 2e6)
	tx.send()
	advance(3e9 + 100e6)
	if len(be.outs) != 2 || be.specs[1].Freq != 44100 || !be.outs[0].closed {
		t.Fatalf("after the format change: %d outputs, specs %v", len(be.outs), be.specs)
	}
	if !bytes.Equal(be.outs[1].got, tx.sent) {
		t.Errorf("after re-sync played %d bytes, want %d", len(be.outs[1].got), len(tx.sent))
	}
	// Magic gone: stops.
	m.Write(0, 4, 0)
	advance(3e9 + 200e6)
	if p.Playing() {
		t.Error("still playing without magic")
	}
	p.Close()
}
