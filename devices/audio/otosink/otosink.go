//go:build cgo

package otosink

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebitengine/oto/v3"

	"gemu/devices/audio"
	"gemu/devices/audio/rtsched"
)

func init() { audio.RegisterHost("oto", Open) }

// Tunables (see the package comment).
const (
	ContextBuffer       = 20 * time.Millisecond
	DefaultPlayerBuffer = 50 * time.Millisecond
	readyTimeout        = 2 * time.Second
)

// oto allows one context per process: it is created on first use and
// shared by every later Open with the same spec. ctxBuf is its ALSA
// buffer: ContextBuffer, or the first player buffer if that is smaller
// (so that ALSA taking its whole buffer back to back, two periods, never
// takes more than the player buffer can hold).
var (
	ctxMu   sync.Mutex
	ctx     *oto.Context
	ctxSpec audio.Spec
	ctxBuf  time.Duration
	ctxErr  error
)

// PlaySpec is the spec oto will play for a requested one.
func PlaySpec(want audio.Spec) audio.Spec {
	got := audio.Spec{Freq: want.Freq, Channels: 2, Format: audio.F32LE}
	if want.Channels == 1 {
		got.Channels = 1
	}
	switch want.Format {
	case audio.U8, audio.S16LE:
		got.Format = want.Format
	}
	return got
}

func context(sp audio.Spec, player time.Duration, hc audio.HostConfig) (*oto.Context, error) {
	ctxMu.Lock()
	defer ctxMu.Unlock()
	if ctx != nil || ctxErr != nil {
		if ctxErr != nil {
			return nil, ctxErr
		}
		if !ctxSpec.SameStream(sp) {
			return nil, fmt.Errorf("%w: oto is already playing %v (one output format per process)", audio.ErrNoAudio, ctxSpec)
		}
		return ctx, nil
	}
	quietALSA()
	if hc.RealTime {
		// oto's ALSA writer is a goroutine on whatever thread the
		// runtime gives it, and oto has no hook to it: raise every
		// thread but the emulation's (machine.Run excludes it), so the
		// kernel runs the writer before other processes' busy threads.
		// Started before the context so the threads oto's start-up
		// makes are raised at once; the re-scan covers later ones.
		rtsched.Start(rtsched.Config{Log: hc.Log, FIFO: hc.FIFO})
	}
	f := oto.FormatFloat32LE
	switch sp.Format {
	case audio.U8:
		f = oto.FormatUnsignedInt8
	case audio.S16LE:
		f = oto.FormatSignedInt16LE
	}
	buf := min(ContextBuffer, player)
	c, ready, err := oto.NewContext(&oto.NewContextOptions{
		SampleRate: sp.Freq, ChannelCount: sp.Channels, Format: f, BufferSize: buf,
	})
	if err == nil {
		select {
		case <-ready:
			err = c.Err()
		case <-time.After(readyTimeout):
			err = fmt.Errorf("oto: audio device not ready after %v", readyTimeout)
		}
	}
	if err != nil {
		if hc.RealTime {
			rtsched.Stop() // no sound: no thread to raise
		}
		ctxErr = fmt.Errorf("%w: %v", audio.ErrNoAudio, err)
		return nil, ctxErr
	}
	ctx, ctxSpec, ctxBuf = c, sp, buf
	return ctx, nil
}

// output is one playing voice mix. Read runs on oto's mux goroutine; it
// never blocks or allocates (the read callback is the mixer's), and takes
// only the player's own lock, which oto releases around Read.
type output struct {
	read     func([]byte) int
	player   *oto.Player
	buffer   time.Duration
	bufBytes int           // player buffer in bytes
	ctxBuf   time.Duration // the context's ALSA buffer
	prefill  []byte        // silence for Play's prefill
	closed   atomic.Bool
	inflight atomic.Int32
}

// Read hands oto the mix. oto asks for a whole player buffer whenever its
// buffer is below that size, so it may hold up to twice the buffer. That
// is not more latency (the audiodev hands over only what the devices
// queued ahead, their lead), only where the queued audio waits: in oto's
// buffer it is safe from the mux goroutine waking late, in the voice rings
// it is not.
func (o *output) Read(p []byte) (int, error) {
	o.inflight.Add(1)
	defer o.inflight.Add(-1)
	if o.closed.Load() {
		return 0, io.EOF
	}
	if o.prefill != nil {
		// Play's prefill loops until its (one-frame) buffer is full.
		n := copy(p, o.prefill)
		o.prefill = nil
		return n, nil
	}
	return o.read(p), nil
}

// live keeps players reachable: oto closes a garbage-collected player.
var (
	liveMu sync.Mutex
	live   = map[*output]bool{}
)

// Open is the audio.HostDriver for oto.
func Open(want audio.Spec, hc audio.HostConfig, read func([]byte) int) (audio.HostOutput, audio.Spec, error) {
	sp := PlaySpec(want)
	bufferLength := hc.BufferLength
	if bufferLength <= 0 {
		bufferLength = DefaultPlayerBuffer
	}
	c, err := context(sp, bufferLength, hc)
	if err != nil {
		return nil, audio.Spec{}, err
	}
	// The player buffer stages what the devices queue ahead (their lead,
	// audio.RealTimeLead plus Burst): a smaller one would leave part of it
	// in the voice rings, where oto's mux goroutine must fetch it before
	// ALSA needs it, and a mux woken late by a loaded host then means
	// silence. It costs no latency: the lead, not this buffer, sets how far
	// ahead of the speaker the audio is.
	player := max(bufferLength, audio.RealTimeLead+ctxBuf+ctxBuf/2)
	o := &output{read: read, buffer: player, bufBytes: sp.BytesFor(player), ctxBuf: ctxBuf}
	o.prefill = make([]byte, sp.FrameBytes())
	sp.FillSilence(o.prefill)
	o.player = c.NewPlayer(o)
	// Play fills the player buffer before it starts: with one frame of
	// silence, not a whole buffer, which would delay the first sound.
	// SetBufferSize waits for that prefill (it takes the player's lock).
	o.player.SetBufferSize(len(o.prefill))
	liveMu.Lock()
	live[o] = true
	liveMu.Unlock()
	o.player.Play()
	o.player.SetBufferSize(o.bufBytes)
	return o, sp, nil
}

// Buffering is the most audio oto holds between Read and the speaker: up
// to twice the player buffer (see Read), the ALSA buffer and the period
// its writer holds while it waits for room in ALSA.
func (o *output) Buffering() time.Duration { return 2*o.buffer + o.ctxBuf + o.ctxBuf/2 }

// Burst is the most oto may take from its player buffer at once: when ALSA
// takes its whole buffer back to back (two periods), the writer reads two
// periods from the player buffer in a row, plus the one it held.
func (o *output) Burst() time.Duration { return o.ctxBuf + o.ctxBuf/2 }

// Close makes Read return io.EOF and waits until no Read is running, so
// the mixer is not touched after Close returns.
func (o *output) Close() error {
	o.closed.Store(true)
	// Read now returns io.EOF: let oto play what it holds, then stop.
	deadline := time.Now().Add(2*o.buffer + o.ctxBuf + 100*time.Millisecond)
	for o.player.IsPlaying() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// The player is empty: its last frames are in ALSA's buffer and the
	// period the writer holds. oto has no drain call, so wait for them to
	// play (the process may exit right after Close): those 1.5 buffers,
	// plus half a buffer and 20 ms for the writer's own scheduling (with
	// 1.5 buffers alone the harness of tests/realtime still found the last
	// 4 ms cut).
	time.Sleep(2*o.ctxBuf + 20*time.Millisecond)
	o.player.Pause()
	for o.inflight.Load() != 0 {
		time.Sleep(time.Millisecond)
	}
	liveMu.Lock()
	delete(live, o)
	liveMu.Unlock()
	return o.player.Err()
}
