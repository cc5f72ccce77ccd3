package audio

import "time"

// Output is a playback voice as a device model uses it: the producer side of
// a Stream, plus Close to hand the voice back. Device models depend on this
// interface (not on *Stream) so their tests can use fakes.
type Output interface {
	Free() int          // frames that fit now
	Write(p []byte) int // whole frames taken
	Buffered() int      // frames not yet pulled by the sink
	SetVolume(left, right float64, mute bool)
	SetActive(on bool)
	Close()
}

// Input is a capture voice as a device model uses it: the consumer side of
// a Stream fed by the audiodev's capture source, plus Close.
type Input interface {
	Buffered() int     // frames available
	Read(p []byte) int // whole frames read
	SetActive(on bool)
	Close()
}

// Backend opens a device's voices, like QEMU's AUD_open_out/AUD_open_in on
// an -audiodev. *Audiodev is the real one.
type Backend interface {
	OpenOutput(name string, spec Spec) (Output, error)
	OpenInput(name string, spec Spec) (Input, error)
}

// openVoice is a Stream that Close removes from its Audiodev (an output's
// buffered frames still play).
type openVoice struct {
	*Stream
	a *Audiodev
}

func (v openVoice) Close() { v.a.Remove(v.Stream) }

// OpenOutput is NewOutput as a Backend: Close on the result removes it.
func (a *Audiodev) OpenOutput(name string, spec Spec) (Output, error) {
	s, err := a.NewOutput(name, spec)
	if err != nil {
		return nil, err
	}
	return openVoice{s, a}, nil
}

// OpenInput is NewInput as a Backend: Close on the result removes it.
func (a *Audiodev) OpenInput(name string, spec Spec) (Input, error) {
	s, err := a.NewInput(name, spec)
	if err != nil {
		return nil, err
	}
	return openVoice{s, a}, nil
}

// RealTimeLead is how much audio a device keeps queued ahead of a sink that
// pulls in real time, to ride out host scheduling jitter.
const RealTimeLead = 20 * time.Millisecond

// Pacing tells a device model how to move audio for this audiodev.
//
// tick is the device's DMA step: the largest step of at most 1 ms that
// divides the timer period, so device ticks land just before every pull of
// a clock-pulled sink and position registers advance smoothly.
//
// lead is how far ahead of the sink the device keeps playback. A sink
// pulled by the machine clock (wav, none) needs none, on either clock: its
// pulls are timers on the same queue as the device's ticks, one period
// behind them (PullGrid), so they always find the frames due. A host sink
// (oto) pulls on its own thread, late or early by host scheduling jitter,
// and gets RealTimeLead. The lead shows in a device's DMA position, so only
// host sinks pay for it (Linux's AC97 clock measurement reads it).
func (a *Audiodev) Pacing() (tick, lead time.Duration) {
	tick = tickFor(a.opt.TimerPeriod)
	if a.host != nil {
		lead = RealTimeLead
	}
	return tick, lead
}

// tickFor returns the largest step of at most 1 ms that divides period
// (1 ms for a non-positive period).
func tickFor(period time.Duration) time.Duration {
	p, ms := int64(period), int64(time.Millisecond)
	if p <= 0 {
		return time.Millisecond
	}
	for steps := (p + ms - 1) / ms; steps < p; steps++ {
		if p%steps == 0 {
			return time.Duration(p / steps)
		}
	}
	return 1
}
