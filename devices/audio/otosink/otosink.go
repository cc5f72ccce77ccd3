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
)

func init() { audio.RegisterHost("oto", Open) }

// Tunables (see the package comment).
const (
	ContextBuffer       = 20 * time.Millisecond
	DefaultPlayerBuffer = 50 * time.Millisecond
	readyTimeout        = 2 * time.Second
)

// oto allows one context per process: it is created on first use and
// shared by every later Open with the same spec.
var (
	ctxMu   sync.Mutex
	ctx     *oto.Context
	ctxSpec audio.Spec
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

func context(sp audio.Spec) (*oto.Context, error) {
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
	f := oto.FormatFloat32LE
	switch sp.Format {
	case audio.U8:
		f = oto.FormatUnsignedInt8
	case audio.S16LE:
		f = oto.FormatSignedInt16LE
	}
	c, ready, err := oto.NewContext(&oto.NewContextOptions{
		SampleRate: sp.Freq, ChannelCount: sp.Channels, Format: f, BufferSize: ContextBuffer,
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
		ctxErr = fmt.Errorf("%w: %v", audio.ErrNoAudio, err)
		return nil, ctxErr
	}
	ctx, ctxSpec = c, sp
	return ctx, nil
}

// output is one playing voice mix. Read runs on oto's mux goroutine; it
// never blocks, locks or allocates (the read callback is the mixer's).
type output struct {
	read     func([]byte) int
	player   *oto.Player
	buffer   time.Duration
	closed   atomic.Bool
	inflight atomic.Int32
}

func (o *output) Read(p []byte) (int, error) {
	o.inflight.Add(1)
	defer o.inflight.Add(-1)
	if o.closed.Load() {
		return 0, io.EOF
	}
	return o.read(p), nil
}

// live keeps players reachable: oto closes a garbage-collected player.
var (
	liveMu sync.Mutex
	live   = map[*output]bool{}
)

// Open is the audio.HostDriver for oto.
func Open(want audio.Spec, bufferLength time.Duration, read func([]byte) int) (audio.HostOutput, audio.Spec, error) {
	sp := PlaySpec(want)
	c, err := context(sp)
	if err != nil {
		return nil, audio.Spec{}, err
	}
	if bufferLength <= 0 {
		bufferLength = DefaultPlayerBuffer
	}
	o := &output{read: read, buffer: bufferLength}
	o.player = c.NewPlayer(o)
	o.player.SetBufferSize(sp.BytesFor(bufferLength))
	liveMu.Lock()
	live[o] = true
	liveMu.Unlock()
	o.player.Play()
	return o, sp, nil
}

// Buffering is how much audio oto holds between Read and the speaker: the
// player buffer plus the ALSA buffer.
func (o *output) Buffering() time.Duration { return o.buffer + ContextBuffer }

// Close makes Read return io.EOF and waits until no Read is running, so
// the mixer is not touched after Close returns.
func (o *output) Close() error {
	o.closed.Store(true)
	// Read now returns io.EOF: let oto play what it holds, then stop.
	deadline := time.Now().Add(o.buffer + ContextBuffer + 100*time.Millisecond)
	for o.player.IsPlaying() && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	o.player.Pause()
	for o.inflight.Load() != 0 {
		time.Sleep(time.Millisecond)
	}
	liveMu.Lock()
	delete(live, o)
	liveMu.Unlock()
	return o.player.Err()
}
