package ac97

import (
	"time"

	"gemu/devices/audio"
)

// AudiodevBackend adapts an -audiodev (audio.Audiodev) to the device: each
// voice is an audio.Stream opened when its channel starts and removed when it
// stops (an output's buffered frames still play).
func AudiodevBackend(a *audio.Audiodev) Backend { return audiodev{a} }

type audiodev struct{ a *audio.Audiodev }

func (b audiodev) OpenOutput(name string, spec audio.Spec) (Output, error) {
	s, err := b.a.NewOutput(name, spec)
	if err != nil {
		return nil, err
	}
	return streamOut{b.a, s}, nil
}

func (b audiodev) OpenInput(name string, spec audio.Spec) (Input, error) {
	s, err := b.a.NewInput(name, spec)
	if err != nil {
		return nil, err
	}
	return streamIn{b.a, s}, nil
}

type streamOut struct {
	a *audio.Audiodev
	*audio.Stream
}

func (o streamOut) Close() { o.a.Remove(o.Stream) }

type streamIn struct {
	a *audio.Audiodev
	*audio.Stream
}

func (i streamIn) Close() { i.a.Remove(i.Stream) }

// UseAudiodev connects the device to a and matches its pacing to the
// backend: the DMA tick divides the backend's timer period (so device ticks
// land just before every pull) and is at most 1 ms.
//
// With a deterministic clock and a clock-pulled sink (wav, none) that is
// exact and needs no lead. A host sink (oto), or any sink on the real-time
// clock, pulls late by host scheduling jitter, so playback keeps RealTimeLead
// of audio ahead. That lead is visible in the DMA position: Linux's 50 ms
// AC97 clock measurement then reads more than 60 kHz and rejects it (keeping
// the nominal 48 kHz clock) instead of mistuning every rate, which a lead of
// 1..10 ms would do.
func (d *Device) UseAudiodev(a *audio.Audiodev) {
	d.be = AudiodevBackend(a)
	opt := a.Options()
	d.Tick = TickFor(opt.TimerPeriod)
	d.Lead = 0
	if opt.Driver == "oto" || !d.clk.Deterministic() {
		d.Lead = RealTimeLead
	}
}

// RealTimeLead is the playback lead for real-time sinks (see UseAudiodev).
const RealTimeLead = int64(20 * time.Millisecond)

// TickFor returns the largest step of at most 1 ms that divides period.
func TickFor(period time.Duration) int64 {
	p := int64(period)
	if p <= 0 {
		return int64(time.Millisecond)
	}
	n := (p + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	for ; n < p; n++ {
		if p%n == 0 {
			return p / n
		}
	}
	return 1
}
