package ac97

import "gemu/devices/audio"

// UseAudiodev connects the device to a, paced as a.Pacing says: the DMA
// tick divides the backend's timer period (so device ticks land just before
// every pull) and is at most 1 ms.
//
// With a deterministic clock and a clock-pulled sink (wav, none) that is
// exact and needs no lead. A host sink (oto), or any sink on the real-time
// clock, pulls late by host scheduling jitter, so playback keeps
// audio.RealTimeLead of audio ahead. That lead is visible in the DMA
// position: Linux's 50 ms AC97 clock measurement then reads more than 60 kHz
// and rejects it (keeping the nominal 48 kHz clock) instead of mistuning
// every rate, which a lead of 1..10 ms would do.
func (d *Device) UseAudiodev(a *audio.Audiodev) {
	d.be = a
	tick, lead := a.Pacing()
	d.Tick, d.Lead = int64(tick), int64(lead)
}
