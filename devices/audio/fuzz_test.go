package audio

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzMixer feeds guest-controlled PCM (any bytes, any valid format, rate
// and channel count a device could pass on) through a stream and the mixer,
// resampling to 48 kHz stereo float with either resampler (QEMU's with
// volume levels too): no panic, and every output sample is finite.
func FuzzMixer(f *testing.F) {
	f.Add(uint32(44100), uint8(S16LE), uint8(2), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(uint32(65535), uint8(F32LE), uint8(1), []byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f})
	f.Add(uint32(1000), uint8(U8), uint8(6), []byte{0xff, 0})
	f.Fuzz(func(t *testing.T, rate uint32, format, ch uint8, data []byte) {
		sp := Spec{Freq: int(rate), Format: Format(format), Channels: int(ch)}
		if sp.Validate() != nil || sp.Freq > 200000 {
			return
		}
		out := Spec{Freq: 48000, Format: F32LE, Channels: 2}
		for _, rs := range []string{ResamplerSinc, ResamplerQEMU} {
			m := NewMixer(out)
			m.SetResampler(rs)
			s := NewStream(sp, 256)
			s.SetVolume(0.9, 1.1, false)
			m.Add(s, nil)
			s.SetLevels(rate&1 != 0, uint8(rate>>8), uint8(rate>>16))
			buf := make([]byte, 8*64)
			for d := data; len(d) > 0; {
				n := s.Write(d)
				d = d[min(len(d), max(n, 1)*sp.FrameBytes()):]
				m.Mix(buf)
				for i := 0; i < len(buf); i += 4 {
					v := math.Float32frombits(binary.LittleEndian.Uint32(buf[i:]))
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("%s: output sample %v", rs, v)
					}
				}
			}
		}
	})
}
