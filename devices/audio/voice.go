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
// lead is how far ahead of the sink the device keeps playback: none for a
// clock-pulled sink (wav, none) on a deterministic clock, where pulls are
// exact; RealTimeLead for a host sink (oto) or any sink on the real-time
// clock, which pull late by host scheduling jitter.
func (a *Audiodev) Pacing() (tick, lead time.Duration) {
	tick = tickFor(a.opt.TimerPeriod)
	if a.opt.Driver == "oto" || !a.clk.Deterministic() {
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
