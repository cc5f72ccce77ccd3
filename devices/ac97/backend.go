package ac97

import "gemu/devices/audio"

// UseAudiodev connects the device to a, paced as a.Pacing says: the DMA
// tick divides the backend's timer period (so device ticks land just before
// every pull) and is at most 1 ms.
//
// A sink pulled by the machine clock (wav, none) needs no lead, in real
// time as in deterministic mode, so the DMA position runs at exactly the
// DAC rate in guest time and Linux's 50 ms AC97 clock measurement reads
// 48000. A host sink (oto) pulls on its own thread with scheduling jitter,
// so playback keeps audio.RealTimeLead of audio ahead; that lead shows in
// the position, and the measurement then reads more than 60 kHz, which the
// driver rejects (keeping the nominal 48 kHz clock) instead of mistuning
// every rate, as a lead of 1..10 ms would.
func (d *Device) UseAudiodev(a *audio.Audiodev) {
	d.be = a
	tick, lead := a.Pacing()
	d.Tick, d.Lead = int64(tick), int64(lead)
}
