// Package demo checks the demo guest gemu plays by default (guests/demo,
// embedded as guests.Demo) sample by sample against a Go re-computation of
// its synthesiser, on the devices ConfigureDemo gives it and with devices
// missing.
package demo

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gemu/devices/audio"
	"gemu/devices/ivshmem"
	"gemu/guests"
	"gemu/machine"
	"gemu/tests/pcm"
	"gemu/tests/rig"
)

// ---- a Go re-computation of demo.c's synthesiser (integer arithmetic,
// so every sample must match) ----

const (
	rate   = 48000
	eighth = rate * 60 / 132 / 2
)

type note struct{ key, len int }

var (
	melody = []note{
		{64, 2}, {64, 2}, {65, 2}, {67, 2}, {67, 2}, {65, 2}, {64, 2}, {62, 2},
		{60, 2}, {60, 2}, {62, 2}, {64, 2}, {64, 3}, {62, 1}, {62, 4},
		{64, 2}, {64, 2}, {65, 2}, {67, 2}, {67, 2}, {65, 2}, {64, 2}, {62, 2},
		{60, 2}, {60, 2}, {62, 2}, {64, 2}, {62, 3}, {60, 1}, {60, 8},
	}
	bass = []note{
		{48, 8}, {43, 8}, {48, 8}, {43, 8},
		{48, 8}, {43, 8}, {48, 4}, {43, 4}, {48, 12},
	}
	counter = []note{
		{60, 4}, {62, 4}, {62, 4}, {55, 4}, {57, 4}, {59, 4}, {55, 4}, {59, 4},
		{60, 4}, {62, 4}, {62, 4}, {55, 4}, {57, 4}, {59, 4}, {55, 4}, {52, 8},
	}
)

// voice is one of the demo's three voices: its score, timbre (harmonic
// amplitudes in 1024ths), gain and pan (out of 256).
type voice struct {
	score      []note
	amp        [8]int32
	gain       int32
	panL, panR int32
}

var (
	melodyVoice  = voice{melody, [8]int32{512, 230, 128, 61, 41, 26, 15, 10}, 172, 256, 150}
	bassVoice    = voice{bass, [8]int32{700, 250, 60, 14}, 108, 200, 200}
	counterVoice = voice{counter, [8]int32{900, 90, 34}, 72, 150, 256}
)

// sine is Bhaskara I's approximation, 4a / (327680 - a) with a = p(512-p)
// on each half period of 1024 steps.
func sine() [1024]int32 {
	var t [1024]int32
	for i := range t {
		p := int64(i & 511)
		a := p * (512 - p)
		s := int32(32767 * 4 * a / (327680 - a))
		if i >= 512 {
			s = -s
		}
		t[i] = s
	}
	return t
}

func (v voice) wave() [1024]int32 {
	sn := sine()
	var w [1024]int32
	for i := range w {
		var s int32
		for h := range 8 {
			s += v.amp[h] * sn[(i*(h+1))&1023]
		}
		w[i] = s / 1024
	}
	return w
}

// phaseStep is 2^32 f / 48000 for MIDI key k, from the rounded steps of
// C4..B4 shifted by octaves, as the guest does.
func phaseStep(k int) uint32 {
	c4 := [12]uint32{23409859, 24801882, 26276679, 27839171, 29494575, 31248413,
		33106541, 35075158, 37160835, 39370534, 41711627, 44191930}
	oct := k/12 - 5
	if oct >= 0 {
		return c4[k%12] << oct
	}
	return c4[k%12] >> -oct
}

func scoreFrames(s []note) int {
	n := 0
	for _, x := range s {
		n += x.len
	}
	return n * eighth
}

// pieceFrames is the length of every voice: the longest score.
func pieceFrames() int {
	return max(scoreFrames(melody), scoreFrames(bass), scoreFrames(counter))
}

// samples renders the voice's mono samples before panning.
func (v voice) samples(total int) []int32 {
	w := v.wave()
	out := make([]int32, total)
	var phase, step uint32
	i := 0
	var left, age uint32
	for f := range out {
		if left == 0 {
			if i >= len(v.score) {
				break // silence after the last note
			}
			left = uint32(v.score[i].len * eighth)
			age = 0
			step = phaseStep(v.score[i].key)
			i++
		}
		left--
		a := age
		age++
		var env int32
		if a < 240 {
			env = int32(a * 256 / 240)
		} else {
			env = 256 - int32(min((a-240)/128, 128))
		}
		if left < 720 {
			env = env * int32(left) / 720
		}
		phase += step
		out[f] = w[phase>>22] * env / 256 * v.gain / 256
	}
	return out
}

// pcm is the voice as the guest hands it to its device: S16LE stereo.
func (v voice) pcm(total int) []byte {
	b := make([]byte, 0, 4*total)
	for _, s := range v.samples(total) {
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(s*v.panL/256)))
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(s*v.panR/256)))
	}
	return b
}

// peaks are the largest left and right magnitudes of the voice.
func (v voice) peaks(total int) (l, r int32) {
	for _, s := range v.samples(total) {
		s = max(s, -s)
		l, r = max(l, s*v.panL/256), max(r, s*v.panR/256)
	}
	return l, r
}

// TestSynthSanity checks the re-computation itself: the piece lasts about
// 15 s, and notes begin and end at zero (no clicks).
func TestSynthSanity(t *testing.T) {
	n := pieceFrames()
	if n != 68*eighth || n/rate != 15 {
		t.Errorf("piece is %d frames (%d s), want 68 eighths at 132 bpm, 15 s", n, n/rate)
	}
	for _, v := range []voice{melodyVoice, bassVoice, counterVoice} {
		s := v.samples(n)
		at := 0
		for _, x := range v.score {
			if s[at] != 0 || s[at+x.len*eighth-1] != 0 {
				t.Errorf("note %d at frame %d does not start and end at 0: %d, %d", x.key, at, s[at], s[at+x.len*eighth-1])
			}
			at += x.len * eighth
		}
	}
}

// TestNoClipping: even with all three voices at their peaks at the same
// instant, the mix stays inside 16 bits on both channels.
func TestNoClipping(t *testing.T) {
	n := pieceFrames()
	var sumL, sumR int32
	for _, v := range []voice{melodyVoice, bassVoice, counterVoice} {
		l, r := v.peaks(n)
		sumL += l
		sumR += r
	}
	if sumL > 32767 || sumR > 32767 {
		t.Errorf("worst-case mix peaks %d / %d exceed 32767", sumL, sumR)
	}
	// The melody leads: it is the loudest voice.
	ml, _ := melodyVoice.peaks(n)
	bl, _ := bassVoice.peaks(n)
	_, cr := counterVoice.peaks(n)
	if ml <= bl || ml <= cr {
		t.Errorf("melody peak %d is not above bass %d and counter-voice %d", ml, bl, cr)
	}
}

// ---- running the guest ----

type run struct {
	console string
	code    int
	dir     string
}

// runDemo boots the embedded demo with the given -object and -device
// arguments, all sound devices on one wav audiodev "demo" with per-stream
// files, in deterministic time.
func runDemo(t *testing.T, objects, devices []string) run {
	t.Helper()
	dir := t.TempDir()
	r := rig.Machine(t, machine.Config{
		BIOS:       "none",
		KernelData: guests.Demo,
		Kernel:     "demo.elf",
		Objects:    rig.Opts(t, "-object", objects...),
		Devices:    rig.Devices(t, devices...),
		// The demo's virtio-sound driver speaks modern virtio-mmio.
		Globals: rig.Opts(t, "-global", guests.DemoGlobals...),
		Audiodevs: rig.Audiodevs(t, "wav,id=demo,path="+filepath.Join(dir, "out.wav")+
			",out.frequency=48000,out.channels=2,out.format=s16,per-stream=on"),
		Deterministic: true,
		Shift:         machine.DefaultShift,
	})
	return run{r.Out, r.Code, dir}
}

// voiceFile names the per-stream WAV of a device's voice.
var voiceFile = map[string]string{
	"AC97":                "out-ac97.po.wav",
	"virtio-sound-device": "out-virtio-snd.out.wav",
	"ivshmem-plain":       "out-" + ivshmem.VoiceName + ".wav",
}

// TestDemoVoices runs the demo on the devices gemu's demo gives it and
// requires every device's stream to be exactly its voice, sample for
// sample, from the first frame to the last.
func TestDemoVoices(t *testing.T) {
	r := runDemo(t, guests.DemoObjects, guests.DemoDevices)
	if r.code != 0 || !strings.Contains(r.console, "gemu demo: done.") {
		t.Fatalf("exit %d; console:\n%s", r.code, r.console)
	}
	n := pieceFrames()
	rig.Contains(t, r.console,
		"AC97 (Intel 82801AA) at PCI 00:01.0, IRQ 33: plays the melody (left)",
		"virtio-sound at virtio-mmio slot 7 (0x10008000), IRQ 8: plays the bass (centre)",
		"ivshmem at PCI 00:02.0, 1024 KiB shared memory: plays the counter-voice (right)",
		"played 741812 frames per voice (AC97 melody, virtio-sound bass, ivshmem counter-voice)",
	)
	s16 := audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2}
	for _, tc := range []struct {
		dev string
		v   voice
	}{{"AC97", melodyVoice}, {"virtio-sound-device", bassVoice}, {"ivshmem-plain", counterVoice}} {
		t.Run(tc.dev, func(t *testing.T) {
			got := pcm.ReadWAV(t, filepath.Join(r.dir, voiceFile[tc.dev]), rate)
			want := pcm.Frames(tc.v.pcm(n))
			if tc.dev == "AC97" && len(got) > len(want) && len(got) <= len(want)+rate/1000 &&
				!slices.ContainsFunc(got[len(want):], func(f pcm.Frame) bool { return f != pcm.Frame{} }) {
				// The AC97 halts after the last buffer and feeds the
				// codec zeros until the guest clears RPBM: the rest of
				// that 1 ms tick (devices/ac97/dma.go underrunFill).
				got = got[:len(want)]
			}
			pcm.Equal(t, tc.dev+" voice", want, got)
		})
	}
	// The mix holds the piece once, all voices started together and none
	// gained or lost a frame on the way: the mixer adds voices in its own
	// format exactly, so every frame of the piece is the sum of the three
	// voices' frames (a device that paced one frame late would put a
	// frame of silence into its voice and shift the rest).
	spec, mix, err := audio.ReadWAVFile(filepath.Join(r.dir, "out.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(mix) / spec.FrameBytes(); spec != s16 || got < n || got > n+rate/50 {
		t.Errorf("mix: %v, %d frames; want %v, %d frames (+ at most 20 ms)", spec, got, s16, n)
	}
	voices := [][]byte{melodyVoice.pcm(n), bassVoice.pcm(n), counterVoice.pcm(n)}
	if !startsTogether(mix, voices, n) {
		t.Error("the mix is not the three voices added frame by frame from a common start within 1 ms")
	}
}

// sample is channel ch of frame i of S16LE stereo pcm, 0 outside it.
func sample(pcm []byte, i, ch int) int32 {
	if i < 0 || 4*i+4 > len(pcm) {
		return 0
	}
	return int32(int16(binary.LittleEndian.Uint16(pcm[4*i+2*ch:])))
}

// startsTogether reports whether, from some frame in its first 1 ms on, n
// frames of the mix are the sum of the voices' first n frames.
func startsTogether(mix []byte, voices [][]byte, n int) bool {
next:
	for d := 0; d <= rate/1000; d++ {
		for i := range n {
			for ch := range 2 {
				var s int32
				for _, v := range voices {
					s += sample(v, i, ch)
				}
				if s != sample(mix, d+i, ch) {
					continue next
				}
			}
		}
		return true
	}
	return false
}

// TestDemoDegrades: with devices missing (or an ivshmem that nothing
// plays), the demo says so and plays the voices it can.
func TestDemoDegrades(t *testing.T) {
	mem := "memory-backend-ram,id=m,size=1M"
	tests := []struct {
		name    string
		objects []string
		devices []string
		code    int
		lines   []string
		played  []string // devices whose voice file must be complete
	}{
		{"ac97 only", nil, []string{"AC97,audiodev=demo"}, 0,
			[]string{"plays the melody", "no virtio-sound device", "no ivshmem on the PCI bus",
				"(AC97 melody, virtio-sound absent, ivshmem absent)"},
			[]string{"AC97"}},
		{"virtio and ivshmem", []string{mem}, []string{"virtio-sound-device,audiodev=demo",
			"ivshmem-plain,memdev=m,audiodev=demo"}, 0,
			[]string{"no AC97 on the PCI bus", "plays the bass", "ivshmem at PCI 00:01.0",
				"(AC97 absent, virtio-sound bass, ivshmem counter-voice)"},
			[]string{"virtio-sound-device", "ivshmem-plain"}},
		{"ivshmem without audiodev", []string{mem}, []string{"AC97,audiodev=demo", "ivshmem-plain,memdev=m"}, 0,
			[]string{"plays the melody", "nothing plays the ivshmem ring", "gemu demo: done."},
			[]string{"AC97"}},
		{"nothing", nil, nil, 1, []string{"no sound device found"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runDemo(t, tc.objects, tc.devices)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			for _, l := range tc.lines {
				if !strings.Contains(r.console, l) {
					t.Errorf("console lacks %q", l)
				}
			}
			for _, d := range tc.played {
				_, got, err := audio.ReadWAVFile(filepath.Join(r.dir, voiceFile[d]))
				if n := len(got) / 4; err != nil || n < pieceFrames() || n > pieceFrames()+rate/1000 {
					t.Errorf("%s: %d bytes, err %v; want the whole voice", d, len(got), err)
				}
			}
			if t.Failed() {
				t.Logf("console:\n%s", r.console)
			}
		})
	}
}

// BenchmarkDemo runs the whole piece in deterministic time to a null sink
// and reports how many times faster than real time it plays.
func BenchmarkDemo(b *testing.B) {
	for b.Loop() {
		m, _ := rig.Boot(b, machine.Config{BIOS: "none", KernelData: guests.Demo, Kernel: "demo.elf",
			Objects: rig.Opts(b, "-object", guests.DemoObjects...), Devices: rig.Devices(b, guests.DemoDevices...), Audiodevs: rig.Audiodevs(b, "none,id=demo"),
			Globals:       rig.Opts(b, "-global", guests.DemoGlobals...),
			Deterministic: true, Shift: machine.DefaultShift})
		start := time.Now()
		if ex, err := m.Run(); err != nil || ex.Code != 0 {
			b.Fatalf("exit %+v, %v", ex, err)
		}
		b.ReportMetric(float64(pieceFrames())/rate/time.Since(start).Seconds(), "x-realtime")
	}
}
