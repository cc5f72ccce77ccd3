package ac97

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"gemu/devices/audio"
)

// TestWAVSinkBitExact plays through a real wav audiodev pulled by the same
// clock: the file must hold exactly the guest's frames, no silence before,
// between or after them, at any timer period and rate.
func TestWAVSinkBitExact(t *testing.T) {
	for _, tc := range []struct {
		rate   int
		period string // µs
	}{{48000, ""}, {44100, ""}, {8000, ""}, {48000, ",timer-period=10000"}, {44100, ",timer-period=1500"}} {
		t.Run(fmt.Sprintf("%d_%d", tc.rate, len(tc.period)), func(t *testing.T) {
			r := newRig(t)
			path := filepath.Join(t.TempDir(), "out.wav")
			a, err := audio.Open(fmt.Sprintf("wav,id=snd0,path=%s,out.frequency=%d%s", path, tc.rate, tc.period), r.clk)
			if err != nil {
				t.Fatal(err)
			}
			r.d.UseAudiodev(a)
			r.run(3_333_333) // start off any grid
			r.unmute()
			r.setMixer(regFrontDACRate, uint16(tc.rate))
			const list, buf = ramBase + 0x1000, ramBase + 0x10000
			frames := tc.rate / 10 // 100 ms in 32 buffers
			pcm := pattern(5, frames)
			r.bus.WriteDMA(buf, pcm)
			per := (frames + 31) / 32
			for i := 0; i < 32; i++ {
				n := min(per, frames-i*per)
				r.bd(list, i, uint32(buf+uint64(i*per*4)), uint16(2*n), bdIOC)
			}
			r.setBM(0x10, 4, list)
			r.setBM(0x15, 1, 31)
			r.setBM(0x1b, 1, crRPBM|crLVBIE)
			for i := 0; i < 5000 && r.bm(0x16, 2)&srLVBCI == 0; i++ {
				r.run(100_000)
			}
			r.setBM(0x1b, 1, 0) // stop at once, like the guest driver
			r.run(50_000_000)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			spec, data, err := audio.ReadWAVFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Freq != tc.rate {
				t.Errorf("WAV at %d Hz", spec.Freq)
			}
			// The sink pulls on its own grid: the pull after the last frame may
			// pad up to one timer period (plus the 100 us the test takes to
			// stop the channel) with silence. Nothing else may differ.
			if len(data) < len(pcm) || !bytes.Equal(data[:len(pcm)], pcm) {
				t.Fatalf("WAV differs from the played PCM at frame %d", firstDiff(pcm, data)/4)
			}
			tail := data[len(pcm):]
			if maxTail := tc.rate * 12 / 1000 * 4; len(tail) > maxTail || !bytes.Equal(tail, make([]byte, len(tail))) {
				t.Errorf("after the PCM: %d frames, want at most %d frames of silence", len(tail)/4, maxTail/4)
			}
		})
	}
}

// TestCaptureFromWAVSource records through PCM in and MIC in from an
// in.path source: the buffer must equal the source from its first frame,
// with no stale or zero frames anywhere.
func TestCaptureFromWAVSource(t *testing.T) {
	for _, ch := range []struct {
		name       string
		base, rate uint64
	}{{"pi", 0x00, regLRADCRate}, {"mc", 0x20, regMicADCRate}} {
		for _, rate := range []int{48000, 8000} {
			t.Run(fmt.Sprintf("%s_%d", ch.name, rate), func(t *testing.T) {
				r := newRig(t)
				dir := t.TempDir()
				src := pattern(11, 4096)
				w, err := audio.CreateWAV(filepath.Join(dir, "src.wav"), streamSpec(rate))
				if err != nil {
					t.Fatal(err)
				}
				w.Write(src)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				a, err := audio.Open(fmt.Sprintf("wav,id=snd0,path=%s,in.path=%s", filepath.Join(dir, "out.wav"), filepath.Join(dir, "src.wav")), r.clk)
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				r.d.UseAudiodev(a)
				r.run(1_234_567)
				r.setMixer(regRecordGain, 0x0f0f)
				r.setMixer(ch.rate, uint16(rate))
				const list, buf = ramBase + 0x1000, ramBase + 0x10000
				r.bus.WriteDMA(buf, make([]byte, len(src)))
				for i := 0; i < 16; i++ {
					r.bd(list, i, uint32(buf+uint64(i)*1024), 512, bdIOC) // 256 frames
				}
				r.setBM(ch.base, 4, list)
				r.setBM(ch.base+5, 1, 15)
				r.setBM(ch.base+0xb, 1, crRPBM|crLVBIE)
				for i := 0; i < 10000 && r.bm(ch.base+6, 2)&srLVBCI == 0; i++ {
					r.run(100_000)
				}
				got := make([]byte, len(src))
				r.bus.ReadDMA(buf, got)
				if !bytes.Equal(got, src) {
					t.Fatalf("recording differs from the source at frame %d", firstDiff(src, got)/4)
				}
			})
		}
	}
}
