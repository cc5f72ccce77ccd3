// Package clock is the machine's virtual time and the event queue devices
// schedule work on.
//
// Time is counted in nanoseconds since the machine started. The RISC-V timebase
// (mtime, the time CSR) runs at 10 MHz and is Now()/100.
//
// Two modes:
//   - real time: Now follows the host's monotonic clock;
//   - deterministic (QEMU's -icount shift=N): Now is derived from the number
//     of retired instructions, each worth 2^N ns, plus any time skipped while
//     every hart was idle (WFI). The same guest and inputs then give the same
//     interrupts, DMA order and audio bytes on any host.
//
// The clock and its timers belong to the emulation goroutine; nothing here is
// safe for concurrent use.
package clock

import (
	"container/heap"
	"time"
)

// TimebaseHz is the frequency of mtime and the time CSR.
const TimebaseHz = 10_000_000

// NsPerTick converts timebase ticks to nanoseconds.
const NsPerTick = 1_000_000_000 / TimebaseHz

// Clock is the virtual clock plus its event queue.
type Clock struct {
	deterministic bool
	shift         uint
	counter       func() uint64 // retired instructions, deterministic mode
	start         time.Time
	offset        int64 // ns added by Skip

	// paused: a real-time clock held by Pause reads pausedAt.
	paused   bool
	pausedAt int64

	q timerHeap
}

// NewRealtime returns a clock that follows the host's monotonic clock.
func NewRealtime() *Clock {
	return &Clock{start: time.Now()}
}

// NewDeterministic returns a clock where each retired instruction, as counted
// by counter, is worth 2^shift ns.
func NewDeterministic(shift uint, counter func() uint64) *Clock {
	return &Clock{deterministic: true, shift: shift, counter: counter}
}

// SetCounter replaces the instruction counter of a deterministic clock (the
// machine creates the clock before the hart that counts).
func (c *Clock) SetCounter(counter func() uint64) { c.counter = counter }

// Deterministic reports whether time is derived from retired instructions.
func (c *Clock) Deterministic() bool { return c.deterministic }

// Shift is the deterministic mode's log2 of ns per instruction.
func (c *Clock) Shift() uint { return c.shift }

// Now returns the current virtual time in ns.
func (c *Clock) Now() int64 {
	if c.deterministic {
		var n uint64
		if c.counter != nil {
			n = c.counter()
		}
		return int64(n<<c.shift) + c.offset
	}
	if c.paused {
		return c.pausedAt
	}
	return int64(time.Since(c.start)) + c.offset
}

// Ticks returns the timebase (mtime) value: Now()/100.
func (c *Clock) Ticks() uint64 { return uint64(c.Now()) / NsPerTick }

// Skip moves virtual time forward to t (if t is later than now). The machine
// calls it when every hart is idle: in deterministic mode it jumps straight to
// the next event instead of spinning; in real-time mode it is only used after
// the host has actually slept, and then does nothing.
func (c *Clock) Skip(t int64) {
	if !c.deterministic {
		return
	}
	if now := c.Now(); t > now {
		c.offset += t - now
	}
}

// Next returns the time of the earliest armed timer.
func (c *Clock) Next() (t int64, ok bool) {
	if len(c.q) == 0 {
		return 0, false
	}
	return c.q[0].when, true
}

// RunDue fires, in time order, every timer whose time has come. A timer's
// callback may re-arm any timer, including itself.
func (c *Clock) RunDue() {
	now := c.Now()
	for len(c.q) > 0 && c.q[0].when <= now {
		t := heap.Pop(&c.q).(*Timer)
		t.fn()
	}
}

// Timer is one schedulable event. Devices create their timers once and re-arm
// them, so scheduling does not allocate.
type Timer struct {
	c    *Clock
	fn   func()
	when int64
	idx  int // position in the heap, -1 when not armed
}

// NewTimer returns an unarmed timer that calls fn on the emulation goroutine.
func (c *Clock) NewTimer(fn func()) *Timer {
	return &Timer{c: c, fn: fn, idx: -1}
}

// Set arms (or re-arms) the timer to fire at virtual time when.
func (t *Timer) Set(when int64) {
	t.when = when
	if t.idx >= 0 {
		heap.Fix(&t.c.q, t.idx)
		return
	}
	heap.Push(&t.c.q, t)
}

// Stop disarms the timer. Stopping an unarmed timer does nothing.
func (t *Timer) Stop() {
	if t.idx >= 0 {
		heap.Remove(&t.c.q, t.idx)
	}
}

// Armed reports whether the timer is waiting to fire.
func (t *Timer) Armed() bool { return t.idx >= 0 }

// When returns the time the timer was last set to.
func (t *Timer) When() int64 { return t.when }

type timerHeap []*Timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.idx = -1
	return t
}
