package ivshmem

import (
	"time"

	"gemu/bus"
	"gemu/clock"
	"gemu/devices/audio"
)

// VoiceName is the name of the ring's audio voice (per-stream WAV files are
// called PATH-ivshmem.ring.wav).
const VoiceName = "ivshmem.ring"

// firstLook is when a new (or reset) consumer first looks for a ring.
const firstLook = 10 * time.Millisecond

// ringFormat is what a consumer does with its ring layout: look for a ring
// and attach (calling attach), play what is due, and say whether it is
// attached.
type ringFormat interface {
	look(now int64)
	play(at int64)
	attached() bool
}

// consumer is what Player and ScreamPlayer share: the look timer that
// watches the memory while no stream is attached, and the voice and
// audio.Pacer of an attached stream. Both run on the emulation goroutine.
type consumer struct {
	mem *Memory
	clk *clock.Clock
	fmt ringFormat

	// Link holds the Backend the ring's voice opens on (an -audiodev, or
	// a fake in tests; nil: frames are consumed at the ring's rate and
	// discarded) and the pacing while playing (Tick, and Lead for
	// real-time sinks); the machine sets both with UseAudiodev.
	audio.Link
	// IdleTick is how often an idle or broken ring is looked at, in ns; 0
	// means only when kicked (a guest store into the header, see Kick) and
	// once at start. It is 10 ms on a real-time clock, where another
	// process may start a ring at any moment, and 0 on a deterministic
	// clock, where a periodic look would keep a guest that waits forever
	// (WFI, nothing armed) spinning through virtual time instead of ending
	// the run.
	IdleTick int64
	// Trace receives one line per state change, when set.
	Trace bus.TraceFunc

	prefix string       // of trace lines
	timer  *clock.Timer // looks for a ring while not attached
	pace   *audio.Pacer // plays while attached
	out    audio.Output
	buf    []byte
}

func (c *consumer) init(mem *Memory, clk *clock.Clock, be audio.Backend, f ringFormat, prefix string) {
	c.mem, c.clk, c.fmt, c.prefix = mem, clk, f, prefix
	c.Backend = be
	if !clk.Deterministic() {
		c.IdleTick = int64(firstLook)
	}
	c.timer = clk.NewTimer(c.tick)
	c.pace = audio.NewPacer(clk, c.step)
	c.timer.Set(clk.Now() + int64(firstLook))
}

func (c *consumer) tracef(format string, args ...any) {
	if c.Trace != nil {
		c.Trace(c.prefix+format, args...)
	}
}

// Kick makes a consumer with no stream attached look at the memory at the
// next timer run. The device calls it for guest stores into the header.
// It also brings forward a periodic look (IdleTick) that is still to come:
// a ring the guest starts is attached right away, not up to IdleTick later
// (which made the ivshmem voice start 10-30 ms after voices the guest
// started in the same instant on other devices).
func (c *consumer) Kick() {
	if c.fmt.attached() {
		return
	}
	if now := c.clk.Now(); !c.timer.Armed() || c.timer.When() > now {
		c.timer.Set(now)
	}
}

// Close stops playback and the timer.
func (c *consumer) Close() {
	c.stop()
	c.timer.Stop()
}

// reset stops playback and looks again after firstLook (board reset).
func (c *consumer) reset() {
	c.stop()
	c.timer.Set(c.clk.Now() + int64(firstLook))
}

// tick is the look timer.
func (c *consumer) tick() {
	now := c.clk.Now()
	if !c.mem.Guard(func() { c.fmt.look(now) }) {
		c.dead()
		return
	}
	c.idle(now)
}

// step is the pacer's: play what is due at at, and go back to looking if
// the stream stopped or broke.
func (c *consumer) step(at int64) {
	if !c.mem.Guard(func() { c.fmt.play(at) }) {
		c.dead()
		return
	}
	c.idle(c.clk.Now())
}

// dead stops for good: the shared memory faulted (Memory.Broken).
func (c *consumer) dead() {
	c.tracef("shared memory broken: stopped")
	c.stop()
	c.timer.Stop()
}

// idle arms the next look, unless attached or looking only when kicked.
func (c *consumer) idle(now int64) {
	if !c.fmt.attached() && c.IdleTick > 0 {
		c.timer.Set(now + c.IdleTick)
	}
}

// attach opens the voice for spec and starts pacing at now. If the
// backend refuses the voice (the audiodev's voice limit, docs/limits.md)
// it returns the error and changes nothing: the caller decides what the
// guest sees.
func (c *consumer) attach(now int64, spec audio.Spec) error {
	if c.Backend != nil {
		out, err := c.Backend.OpenOutput(VoiceName, spec)
		if err != nil {
			c.tracef("cannot open voice %v: %v", spec, err)
			return err
		}
		out.SetActive(true)
		c.out = out
	}
	c.timer.Stop()
	c.pace.Start(now, spec.Freq, c.Pacing)
	return nil
}

// stop closes the voice (what it holds still plays) and the pacer.
func (c *consumer) stop() {
	c.pace.Stop()
	if c.out != nil {
		c.out.SetActive(false)
		c.out.Close()
		c.out = nil
	}
}

// write hands frames to the voice and returns how many it took: all of
// them without a voice (discarded at the stream's rate).
func (c *consumer) write(data []byte, n uint64) uint64 {
	if c.out == nil {
		return n
	}
	return uint64(c.out.Write(data))
}

// room limits n frames to what the voice can take now.
func (c *consumer) room(n uint64) uint64 {
	if c.out == nil {
		return n
	}
	return min(n, uint64(c.out.Free()))
}

func (c *consumer) scratch(n int) []byte {
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	return c.buf[:n]
}
