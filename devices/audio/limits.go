package audio

import (
	"fmt"
	"io"
	"time"
)

// Limits a guest cannot exceed on one audiodev, however it drives its
// sound devices. Each is a fixed bound on host memory, file descriptors
// and per-pull work; reaching one prints a rate-limited line on the
// audiodev's log (at most one per limitLogEvery, counting the rest) and
// refuses the request: NewOutput/NewInput return an error, which every
// device model turns into an error state its guest sees (AC97: FIFOE;
// virtio-sound: START fails with IO_ERR; ivshmem ring: broken, reason
// ReasonVoice), docs/limits.md.
const (
	// MaxVoices is the number of voices (playback and capture, including
	// removed outputs whose frames still play) open at once. A voice that
	// is reopened under the same name does not pile up (Mixer.Add keeps at
	// most two per name), so only a device with that many distinct
	// streams reaches it.
	MaxVoices = 64
	// MaxStreamFiles is the number of per-stream WAV files (per-stream=on)
	// one audiodev creates. A voice that returns to a spec it had before
	// continues that spec's file; a voice needing a new file past the
	// limit plays, but is not recorded.
	MaxStreamFiles = 64
	// limitLogEvery is the least time between two messages about the
	// same limit (host time); the lines in between are counted.
	limitLogEvery = time.Second
)

// rateLog prints one line per interval and counts the rest. Emulation
// goroutine only.
type rateLog struct {
	w          io.Writer
	last       time.Time
	suppressed int
}

func (r *rateLog) printf(format string, args ...any) {
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < limitLogEvery {
		r.suppressed++
		return
	}
	msg := fmt.Sprintf(format, args...)
	if r.suppressed > 0 {
		msg += fmt.Sprintf(" (%d similar messages suppressed)", r.suppressed)
	}
	fmt.Fprintln(r.w, msg)
	r.last, r.suppressed = now, 0
}
