package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
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

// FuzzVoiceStorm drives an audiodev the way guests can (issue 10's voice
// reopen storms): any sequence of voice opens and reopens with any spec,
// closes, writes, floods of voices up to and past MaxVoices, and
// sink pulls (virtual time), then closes it. Checked after every step and
// at the end:
//
//   - the voices open or draining never exceed MaxVoices, and an open is
//     refused only at the limit;
//   - memory stays bounded: a name has at most two voices in the mix, the
//     per-name records hold only names that were used, per-stream files
//     stay within MaxStreamFiles;
//   - nothing is duplicated or lost for voices that stay open: each
//     "keep" voice's per-stream file holds exactly the frames its writes
//     accepted, in order.
func FuzzVoiceStorm(f *testing.F) {
	f.Add([]byte{0, 1, 2, 40, 3, 9, 0, 5, 2, 40, 1, 1, 3, 200})
	f.Add([]byte{4, 0, 2, 128, 5, 70, 0, 2, 4, 3, 2, 130, 3, 255, 1, 200, 0, 7, 3, 10})
	f.Add([]byte{5, 63, 4, 1, 2, 129, 5, 10, 1, 128, 0, 0, 3, 50, 2, 129})
	specs := []Spec{
		{Freq: 48000, Format: S16LE, Channels: 2},
		{Freq: 44100, Format: S16LE, Channels: 2},
		{Freq: 8000, Format: U8, Channels: 1},
		{Freq: 22050, Format: S32LE, Channels: 1},
		{Freq: 96000, Format: F32LE, Channels: 2},
		{Freq: 11025, Format: S16LE, Channels: 6},
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		// Bounded work per input, so the fuzzer keeps exploring: at most
		// 256 steps and 200 ms of audio pulled.
		if len(ops) > 512 {
			ops = ops[:512]
		}
		var pulled int64
		v := newVClock()
		dir := t.TempDir()
		a, _ := openTest(t, v, "wav,path="+dir+"/out.wav,out.frequency=48000,per-stream=on")
		type keep struct {
			s        *Stream
			name     string
			recorded bool
			want     []byte
		}
		var (
			churn [4]*Stream // reopened, closed and written at will
			fill  []*Stream  // voices of one name, to reach the limit
			keeps []*keep    // opened once, never closed: checked at the end
			seq   byte
			used  = map[string]bool{}
		)
		pattern := func(n int) []byte {
			p := make([]byte, n)
			for i := range p {
				seq++
				p[i] = seq
			}
			return p
		}
		open := func(name string, sp Spec) *Stream {
			before := len(a.Streams())
			s, err := a.NewOutput(name, sp)
			if err != nil {
				if before < MaxVoices && len(a.Streams()) < MaxVoices {
					t.Fatalf("open %s refused below the limit (%d voices): %v", name, before, err)
				}
				return nil
			}
			used[name] = true
			return s
		}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%6, ops[i+1]
			switch op {
			case 0: // open or reopen a churn voice (a rate change, START after STOP)
				k := arg % 4
				if churn[k] != nil {
					a.Remove(churn[k])
				}
				churn[k] = open(fmt.Sprintf("churn%d", k), specs[int(arg/4)%len(specs)])
			case 1: // close a churn voice, or a filler
				if arg&0x80 != 0 {
					if len(fill) > 0 {
						j := int(arg&0x7f) % len(fill)
						a.Remove(fill[j])
						fill = append(fill[:j], fill[j+1:]...)
					}
				} else if k := arg % 4; churn[k] != nil {
					a.Remove(churn[k])
					churn[k] = nil
				}
			case 2: // write to a churn voice, or to a keep voice
				n := int(arg&0x3f) + 1
				if arg&0x80 != 0 {
					if len(keeps) > 0 {
						kv := keeps[int(arg&0x40)/0x40%len(keeps)]
						fb := kv.s.spec.FrameBytes()
						p := pattern(n * fb)
						w := kv.s.Write(p)
						kv.want = append(kv.want, p[:w*fb]...)
					}
				} else if s := churn[arg%4]; s != nil {
					s.Write(pattern(n * s.spec.FrameBytes()))
				}
			case 3: // the sink pulls: time passes
				if d := int64(arg)*20_000 + 1; pulled+d <= 200_000_000 {
					v.advance(d)
					pulled += d
				}
			case 4: // a voice that stays open
				name := fmt.Sprintf("keep%d", len(keeps))
				sp := specs[int(arg)%len(specs)]
				files := len(a.files)
				if s := open(name, sp); s != nil {
					keeps = append(keeps, &keep{s: s, name: name, recorded: files < MaxStreamFiles})
				}
			case 5: // a flood of voices (other devices), to reach the limit
				// One name and the output's spec: cheap to open (no
				// resampler, one per-stream file), so inputs stay fast.
				for range int(arg % 80) {
					if s := open("fill", specs[0]); s != nil {
						fill = append(fill, s)
					}
				}
			}
			if n := len(a.Streams()); n > MaxVoices {
				t.Fatalf("op %d: %d voices open or draining (limit %d)", i/2, n, MaxVoices)
			}
			perName := map[string]int{}
			for _, s := range a.mix.Streams() {
				perName[s.name]++
				if strings.HasPrefix(s.name, "churn") && perName[s.name] > 2 {
					t.Fatalf("op %d: %d voices named %s in the mix", i/2, perName[s.name], s.name)
				}
			}
			if len(a.mix.Streams()) > MaxVoices {
				t.Fatalf("op %d: %d voices in the mix", i/2, len(a.mix.Streams()))
			}
			if len(a.files) > MaxStreamFiles || len(a.spare()) > 4 {
				t.Fatalf("op %d: %d files, %d spare voices", i/2, len(a.files), len(a.spare()))
			}
			if len(a.retired) != len(used) || len(a.names) != len(used) {
				t.Fatalf("op %d: %d records, %d names for %d names used", i/2, len(a.retired), len(a.names), len(used))
			}
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		for _, kv := range keeps {
			path := dir + "/out-" + kv.name + ".wav"
			if !kv.recorded {
				if _, err := os.Stat(path); err == nil {
					t.Errorf("%s recorded past the file limit", kv.name)
				}
				continue
			}
			_, got, err := ReadWAVFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, kv.want) {
				t.Errorf("%s (%v): file holds %d bytes, its writes %d; first difference at %d",
					kv.name, kv.s.spec, len(got), len(kv.want), firstDiffBytes(got, kv.want))
			}
		}
	})
}

// spare is the mixer's pool of replaced voices' buffers.
func (a *Audiodev) spare() map[spareKey]*voice { return a.mix.spare }

func firstDiffBytes(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
