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
// Choices (measured on ALSA with the paced file-plugin rig of alsa_test.go;
// docs/time-and-audio.md, "The oto sink"):
//   - ALSA buffer (oto context BufferSize) 20 ms: 2 periods of 10 ms.
//   - oto player buffer = out.buffer-length, default 50 ms. oto asks the
//     reader for a whole player buffer at most once per ALSA period; the
//     buffer must exceed one period or every period underruns, and 50 ms
//     was the smallest size that stayed glitch-free under CPU stress in
//     those measurements (20 ms failed 1 run in 15). Output latency is then
//     about 50 + 20 ms plus the voice ring, which a musician accepts for
//     playback (not for live monitoring).
//   - The reader hands oto only audio that exists: while a voice plays but
//     its ring is momentarily empty it returns 0 bytes (oto retries after
//     1 ms), so oto's player buffer holds real audio and absorbs producer
//     jitter; only when nothing plays does it return 5 ms runs of silence.
//     audio.Audiodev counts an underrun when, by the frames handed over and
//     the time elapsed, oto must have run dry (Buffering reports how much
//     oto holds).
//   - oto's own volume stays 1 so integer samples reach ALSA exactly.
//   - The context format follows out.format: u8 and s16 are passed as is,
//     anything else is played as f32; channels are 1 or 2 (oto's limit).
package otosink
