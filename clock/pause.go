package clock

import "time"

// Pause holds a real-time clock still, for a debugger that stops the
// machine: Now keeps returning the time of the Pause until Resume, and the
// host time spent paused never reaches the guest (no burst of overdue
// timers afterwards). A deterministic clock only moves with retired
// instructions, so for it Pause and Resume do nothing. Pausing a paused
// clock does nothing.
func (c *Clock) Pause() {
	if c.deterministic || c.paused {
		return
	}
	c.pausedAt = c.Now()
	c.paused = true
}

// Resume lets a paused clock run again from the time it was paused at.
func (c *Clock) Resume() {
	if !c.paused {
		return
	}
	c.paused = false
	c.offset = c.pausedAt - int64(time.Since(c.start))
}

// Paused reports whether the clock is held by Pause.
func (c *Clock) Paused() bool { return c.paused }
