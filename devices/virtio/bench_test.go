package virtio

import (
	"testing"

	"gemu/devices/audio"
)

// BenchmarkPlayback1s is the host cost of one second of 48 kHz stereo
// playback through the device into a "none" audiodev: the in-test driver
// queues 10 ms periods (Linux's shape: header, PCM, status) and refills
// them as they come back, the device paces them on its 1 ms tick, the
// audiodev pulls every 1 ms. ns/op divided by 1e9 is the fraction of a core
// that real-time playback costs (driver side included, guest CPU excluded).
func BenchmarkPlayback1s(b *testing.B) {
	spec := audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2}
	pcm := pattern(48000, 1)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := newRig(b)
		a, err := audio.Open("none,id=snd0,out.frequency=48000", r.clk)
		if err != nil {
			b.Fatal(err)
		}
		r.snd.UseAudiodev(a)
		r.setup(64)
		b.StartTimer()
		r.playThrough(spec, 5, 7, pcm, 480)
		b.StopTimer()
		a.Close()
	}
}

// BenchmarkFuzzSoundControl is one FuzzSoundControl execution per seed
// input: the per-exec cost that bounds the fuzzer's execs/s.
func BenchmarkFuzzSoundControl(b *testing.B) {
	seeds := soundControlSeeds()
	for i := 0; i < b.N; i++ {
		soundControl(b, seeds[i%len(seeds)])
	}
}
