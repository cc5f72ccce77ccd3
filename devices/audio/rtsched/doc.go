// Package rtsched raises the priority of gemu's host-audio threads while
// the emulation thread stays an ordinary one.
//
// Go offers no way to pick the thread a goroutine runs on, and oto's ALSA
// writer is a goroutine of oto's own, so the package works per process:
// Start sets every thread of the process (every TID under /proc/self/task)
// to nice Config.Nice (default -11, PulseAudio's for its threads), or,
// with Config.FIFO, to SCHED_FIFO at Config.Priority (default 10), except
// the threads registered with ExcludeThread, and re-scans every
// Config.Interval (default 250 ms) so threads the Go runtime creates later
// are covered too. It never changes an excluded thread; excluding a
// thread it already changed puts that thread back to SCHED_OTHER at the
// process's nice value at once. machine.Run locks the emulation goroutine
// to its thread and excludes it, so a spinning guest never runs raised.
//
// When the first choice is refused (EPERM: not root, and RLIMIT_NICE or
// RLIMIT_RTPRIO too low) Start tries the other; when both are refused
// nothing changes (ModeNone). Every thread is set with
// SCHED_RESET_ON_FORK, so a process gemu starts does not inherit the
// priority. Stop restores the threads it changed.
//
// Audio servers do the same for their IO thread (PulseAudio a negative
// nice, PipeWire and JACK SCHED_FIFO where RLIMIT_RTPRIO or rtkit allow
// it), so a machine busy with other work does not starve the card. Nice
// is the default here because a woken SCHED_FIFO thread goes back to its
// own CPU when that is idle, and on a virtual machine an idle CPU must be
// scheduled by its host first (docs/time-and-audio.md has the figures).
// sched(7), sched_setattr(2) and setpriority(2) describe the calls.
//
// On other systems Start does nothing and reports ModeNone.
package rtsched

import (
	"io"
	"time"
)

// Mode is what Start managed to give the threads.
type Mode int

const (
	ModeNone Mode = iota // nothing changed (refused, stopped or not Linux)
	ModeNice             // SCHED_OTHER at Config.Nice
	ModeFIFO             // SCHED_FIFO at Config.Priority
)

// Config is Start's configuration; zero fields take the defaults.
type Config struct {
	Priority int           // SCHED_FIFO priority, 1..99 (default DefaultPriority)
	Nice     int           // nice value, -20..-1 (default DefaultNice): the first choice unless FIFO
	Interval time.Duration // re-scan period (default DefaultInterval)
	// FIFO tries SCHED_FIFO first and the nice value when that is
	// refused; by default the nice value comes first and SCHED_FIFO is
	// the fallback (see Start).
	FIFO bool
	// Log, when not nil, gets one line saying what Start achieved (and
	// why, when it is not SCHED_FIFO).
	Log io.Writer
}

// Defaults. The priority is modest: below the DAC thread of tests/realtime
// (50) and the kernel's threaded interrupt handlers (50).
const (
	DefaultPriority = 10
	DefaultNice     = -11
	DefaultInterval = 250 * time.Millisecond
)

func (c Config) withDefaults() Config {
	if c.Priority < 1 || c.Priority > 99 {
		c.Priority = DefaultPriority
	}
	if c.Nice < -20 || c.Nice > -1 {
		c.Nice = DefaultNice
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	return c
}

func (m Mode) String() string {
	switch m {
	case ModeFIFO:
		return "SCHED_FIFO"
	case ModeNice:
		return "nice"
	}
	return "none"
}
