package audio

import (
	"path/filepath"
	"testing"
)

// perFrame reports the benchmark's cost per audio frame, in wall time and
// in the CPU time of the benchmark's thread (cpu0 from threadCPU before the
// loop; 0 where unsupported).
func perFrame(b *testing.B, frames int, cpu func() int64, cpu0 int64) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(frames), "ns/frame")
	if c := cpu() - cpu0; c > 0 {
		b.ReportMetric(float64(c)/float64(b.N)/float64(frames), "cpu-ns/frame")
	}
}

const benchChunk = 480 // 10 ms at 48 kHz

func BenchmarkStreamWrite(b *testing.B) {
	s := NewStream(s16, 4096)
	p := make([]byte, benchChunk*4)
	b.SetBytes(int64(len(p)))
	cpu := threadCPU()
	cpu0 := cpu()
	for b.Loop() {
		s.Write(p)
		s.skip(benchChunk)
	}
	perFrame(b, benchChunk, cpu, cpu0)
}

func BenchmarkStreamFill(b *testing.B) {
	s := NewStream(s16, 4096)
	p := make([]byte, benchChunk*4)
	buf := make([]byte, benchChunk*4)
	s.Write(p)
	b.SetBytes(int64(len(p)))
	cpu := threadCPU()
	cpu0 := cpu()
	for b.Loop() {
		s.Fill(buf)
		s.Write(p)
	}
	perFrame(b, benchChunk, cpu, cpu0)
}

func benchMix(b *testing.B, in, out Spec, volume float64) {
	m := NewMixer(out)
	s := NewStream(in, 8192)
	s.SetVolume(volume, volume, false)
	m.Add(s, nil)
	inFrames := benchChunk * in.Freq / out.Freq
	p := randomPCMSeed(in, inFrames, 1)
	buf := make([]byte, benchChunk*out.FrameBytes())
	for s.Free() >= inFrames {
		s.Write(p)
	}
	cpu := threadCPU()
	cpu0 := cpu()
	for b.Loop() {
		m.Mix(buf)
		for s.Free() >= inFrames {
			s.Write(p)
		}
	}
	perFrame(b, benchChunk, cpu, cpu0)
}

// Same spec, unity gain: the plain-copy path.
func BenchmarkMixPassThrough(b *testing.B) { benchMix(b, s16, s16, 1) }

// Same rate, gain applied: decode, scale, mix, encode.
func BenchmarkMixGain(b *testing.B) { benchMix(b, s16, s16, 0.5) }

// 44.1 kHz -> 48 kHz stereo through the 64-tap polyphase filter.
func BenchmarkMixResample44to48(b *testing.B) {
	benchMix(b, Spec{Freq: 44100, Format: S16LE, Channels: 2}, s16, 1)
}

// 8 kHz mono (telephony) -> 48 kHz stereo.
func BenchmarkMixResample8to48(b *testing.B) {
	benchMix(b, Spec{Freq: 8000, Format: S16LE, Channels: 1}, s16, 1)
}

// BenchmarkWholePath48k is the whole audio path for one 48 kHz stereo
// stream over one second of virtual time: a device writing what Free
// allows every millisecond, the clock timer pulling every millisecond, the
// mixer and the sink. It reports the share of one core that costs in real
// time ("%core" = CPU ns per second of audio / 1e7).
func BenchmarkWholePath48k(b *testing.B) {
	for _, sink := range []string{"none", "wav"} {
		b.Run(sink, func(b *testing.B) {
			v := newVClock()
			arg := "none,out.frequency=48000"
			if sink == "wav" {
				arg = "wav,out.frequency=48000,path=" + filepath.Join(b.TempDir(), "o.wav")
			}
			opt, _ := ParseOptions(arg)
			a, err := OpenOptions(opt, v.clk, nil)
			if err != nil {
				b.Fatal(err)
			}
			st, _ := a.NewOutput("pcm", s16)
			p := randomPCMSeed(s16, st.Capacity(), 2)
			cpu := threadCPU()
			cpu0 := cpu()
			for b.Loop() {
				for range 1000 { // one second
					st.Write(p[:st.Free()*4])
					v.advance(1_000_000)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e7, "%core")
			if c := cpu() - cpu0; c > 0 {
				b.ReportMetric(float64(c)/float64(b.N)/1e7, "cpu-%core")
			}
			perFrame(b, 48000, cpu, cpu0)
			a.Close()
		})
	}
}

// BenchmarkHostRead is the oto side for one 48 kHz stereo stream: the
// device writes 10 ms, oto's goroutine reads with a whole player buffer.
func BenchmarkHostRead(b *testing.B) {
	f := &fakeHost{}
	RegisterHost("benchhost", f.open)
	opt := Options{Driver: "benchhost", TimerPeriod: DefaultTimerPeriod, Out: Direction{Frequency: 48000}}
	a, err := OpenOptions(opt, newVClock().clk, nil)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := a.NewOutput("pcm", s16)
	p := randomPCMSeed(s16, benchChunk, 3)
	buf := make([]byte, 4*2400)
	cpu := threadCPU()
	cpu0 := cpu()
	for b.Loop() {
		st.Write(p)
		f.read(buf)
	}
	perFrame(b, benchChunk, cpu, cpu0)
}

// BenchmarkPacedPath48k is BenchmarkWholePath48k/none with the device
// driven by a Pacer (1 ms ticks, each moving what is due) instead of the
// benchmark loop: the pacer's own cost is the difference.
func BenchmarkPacedPath48k(b *testing.B) {
	v := newVClock()
	opt, _ := ParseOptions("none,out.frequency=48000")
	a, err := OpenOptions(opt, v.clk, nil)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := a.NewOutput("pcm", s16)
	p := randomPCMSeed(s16, st.Capacity(), 2)
	var pc *Pacer
	pc = NewPacer(v.clk, func(at int64) {
		n := min(pc.Due(at), st.Free())
		pc.Moved(st.Write(p[:n*4]))
	})
	pc.Start(v.clk.Now(), 48000, a.Pacing())
	cpu := threadCPU()
	cpu0 := cpu()
	for b.Loop() {
		v.advance(1_000_000_000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e7, "%core")
	perFrame(b, 48000, cpu, cpu0)
	if s := st.Stats(); s.UnderrunFrames != 0 {
		b.Errorf("underruns: %v", s)
	}
	a.Close()
}

// The same conversions through QEMU 7.2's engine (resampler=qemu).
func benchMixQEMU(b *testing.B, in, out Spec) {
	m := NewMixer(out)
	m.SetResampler(ResamplerQEMU)
	s := NewStream(in, 8192)
	m.Add(s, nil)
	inFrames := benchChunk * in.Freq / out.Freq
	p := randomPCMSeed(in, inFrames, 1)
	buf := make([]byte, benchChunk*out.FrameBytes())
	for s.Free() >= inFrames {
		s.Write(p)
	}
	cpu := threadCPU()
	cpu0 := cpu()
	for b.Loop() {
		m.Mix(buf)
		for s.Free() >= inFrames {
			s.Write(p)
		}
	}
	perFrame(b, benchChunk, cpu, cpu0)
}

func BenchmarkMixQEMU44to48(b *testing.B) {
	benchMixQEMU(b, Spec{Freq: 44100, Format: S16LE, Channels: 2}, s16)
}

func BenchmarkMixQEMU8to48(b *testing.B) {
	benchMixQEMU(b, Spec{Freq: 8000, Format: S16LE, Channels: 1}, s16)
}
