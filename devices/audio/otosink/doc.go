// Package otosink plays an audio.Audiodev's mix on the host's speakers
// through github.com/ebitengine/oto/v3. Importing it (for its side effect)
// registers the "oto" driver of -audiodev:
//
//	import _ "gemu/devices/audio/otosink"
//
// On Linux oto needs cgo and ALSA (libasound2-dev to build, libasound.so.2
// to run). Without cgo this package compiles to a stub whose driver always
// reports audio.ErrNoAudio, so audio.Open falls back to "none" with its
// one-line message; CGO_ENABLED=0 builds keep working.
//
// Choices (measured with tests/realtime, the main job on a simulated sound
// card; docs/time-and-audio.md, "The oto sink"):
//   - oto player buffer = out.buffer-length, default 50 ms, but at least
//     the devices' lead (audio.RealTimeLead plus Burst), which it stages.
//     oto asks the reader for a whole player buffer whenever its buffer is
//     below that size (so it may hold up to twice that).
//   - ALSA buffer (oto context BufferSize) 20 ms in 2 periods, or the
//     player buffer if that is smaller: ALSA taking its whole buffer back
//     to back must not take more than the player buffer holds. Burst
//     reports buffer plus one period (the period oto's writer holds);
//     audio.Audiodev sizes the devices' lead and the voice rings from it.
//   - The reader hands oto only audio every playing voice has (see
//     audio.Audiodev's hostRead), and nothing while nothing plays, so no
//     silence is queued ahead of a sound.
//   - Close waits for oto and ALSA to play out what they hold.
//   - oto's own volume stays 1 so integer samples reach ALSA exactly.
//   - With rt=on (the default) or rt=fifo the first Open, which creates
//     the oto context, starts package rtsched: every thread of the process
//     but the emulation thread (machine.Run excludes it) runs at nice -11
//     (rt=on) or SCHED_FIFO priority 10 (rt=fifo), each falling back to the
//     other when refused, so the kernel runs oto's ALSA writer goroutine
//     ahead of other processes' busy threads (under stress-ng --cpu 2 it
//     was otherwise left waiting 5-650 ms, as aplay is).
//     oto has one context per process, so the first oto audiodev's rt=
//     decides. stats=on prints one line saying what priority was given.
//   - The context format follows out.format: u8 and s16 are passed as is,
//     anything else is played as f32; channels are 1 or 2 (oto's limit).
package otosink
