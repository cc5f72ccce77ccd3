// Package audio is gemu's host audio side: everything between a sound
// device model (AC97, virtio-sound, ivshmem) and the host's speakers or a
// WAV file.
//
// A device opens voices on an Audiodev (one -audiodev backend):
//
//	ad, err := audio.Open("wav,id=snd0,path=out.wav,out.frequency=48000", clk)
//	st, err := ad.NewOutput("ac97.po", audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2})
//	n := st.Write(pcm[:min(len(pcm), st.Free()*4)]) // frames accepted
//
// and talks to it only through the returned Stream, a lock-free
// single-producer single-consumer ring of frames (stream.go). Back-pressure
// contract: a device writes at most Free() frames and advances its
// guest-visible position only by the count Write returns, exactly like
// hardware whose FIFO is full; nothing is dropped silently.
//
// Devices also call SetActive(false) when the guest stops a stream (so the
// silence after the last frame is not reported as an underrun), SetVolume
// for their volume/mute registers (1.0 = unity = bit-exact), and Remove when
// they stop or reconfigure a voice. Remove is cheap and lossless: the ring's
// frames still play, and a new output with the same name (AC97 changing its
// DAC rate) starts exactly where they end.
//
// # Sinks (-audiodev DRIVER,id=ID,...; QEMU syntax and option meanings)
//
//   - wav,path=FILE: the mix is written to FILE as RIFF WAV, pulled by the
//     machine clock (virtual time) at the output rate every timer-period,
//     so the bytes are independent of host speed. While no voice is audible
//     nothing is written (as in QEMU). With per-stream=on each voice is also
//     written, in its own native format and rate and after its gain, to
//     PATH-NAME.wav (PATH without ".wav"; NAME is the voice name with
//     characters outside [A-Za-z0-9_.-] replaced by "_"; a voice reopened
//     with another spec continues in PATH-NAME.2.wav, .3, ...). Those files
//     hold exactly the frames the device wrote, without underrun silence:
//     that is what regression tests compare.
//   - none: pulled by the clock like wav, and discarded (still counted).
//   - oto: played on the speakers through github.com/ebitengine/oto/v3,
//     pulled in real time by oto's goroutine (package otosink, which must
//     be linked in: import _ "gemu/devices/audio/otosink"). If no audio
//     device can be opened, one line on stderr says so and names
//     -audiodev wav,path=..., and the backend runs as none. The pull
//     hands over only what every playing voice has, waits a bounded time
//     for a late voice, starts voices opened within StartWindow in the
//     same frame, and counts silence the host plays on its own on a
//     "(host sink)" statistics line (hostRead in audiodev.go).
//
// Limits (limits.go): MaxVoices voices per audiodev, at most two per name
// (a voice reopened before its waiting predecessor started replaces it),
// MaxStreamFiles per-stream files; past a limit a rate-limited line says
// so and the voice or file is refused.
//
// Options: out.frequency, out.channels, out.format (u8 s8 u16 s16 s32 f32;
// default 44100 Hz s16 stereo as in QEMU; the mix is bit-exact only for
// voices whose spec equals it, so a test of a 48 kHz device sets
// out.frequency=48000 or compares the per-stream files), out.buffer-length (µs; oto's
// player buffer), timer-period (µs, default 1000; see DefaultTimerPeriod),
// in.frequency/channels/format (accepted for QEMU compatibility), in.path
// (capture WAV file), in.loop=on, in.tone=HZ, resampler=qemu|sinc (how a
// voice at another rate is converted: QEMU 7.2's mixing engine, bit-exact
// with QEMU and the default, or a windowed sinc; qemurate.go), per-stream=on, stats=on
// (summary on Close), stats.csv=FILE, stats.svg=FILE (ring-fill timeline
// with underruns marked), rt=on|fifo|off (oto: raise the host audio
// threads to nice -11, the default, or SCHED_FIFO; package rtsched).
//
// # Time
//
// With the wav and none sinks both ends of every ring run on the emulation
// goroutine and in virtual time. They pull on a fixed grid, anchor +
// k*timer-period, where the anchor is the time the first voice opened, and
// each pull takes the frames that were due one period earlier (PullGrid):
// a device that ticks on its own grid, at least once per period, and writes
// what is due at each tick never underruns. The default period is 1 ms
// (DefaultTimerPeriod), so a device's Free() grows in steps of 1 ms of
// audio and its guest-visible position moves smoothly. With oto the sink runs in real time: if
// the clock is deterministic (-icount) and the emulator runs faster than
// real time, rings fill, Free() reaches 0 and devices stall their DMA as
// hardware with a full FIFO would (virtual time keeps running, so a guest
// that measures its own playback rate sees it slow down); if it runs
// slower, the sink plays silence and counts underruns.
//
// Capture voices are filled by a source (in.path WAV file, in.tone sine,
// or silence) in virtual time at the voice's rate: a frame appears in the
// ring only once virtual time has reached it, so a device can never hand a
// guest data from the future, nor stale or zero frames.
//
// # Cost
//
// Measured with go test -bench . ./devices/audio/ (CPU time of the
// benchmark thread, 2-core Xeon VM shared with other jobs): ring Write
// 0.27 ns/frame, Fill 0.45 ns/frame, mixer plain copy 0.4 ns/frame, with
// gain 8.5 ns/frame, resampling 44.1 -> 48 kHz stereo 62 ns/frame, 8 kHz
// mono -> 48 kHz stereo 35 ns/frame; through QEMU's engine (the default)
// 15 and 10 ns/frame. The whole path for one 48 kHz stereo
// stream (device writes every 1 ms, clock timer, mixer, sink) costs
// 0.015% of one core with none and 0.021-0.026% with wav; even resampled
// from 44.1 kHz it stays near 0.3%, under the 0.5% budget.
package audio
