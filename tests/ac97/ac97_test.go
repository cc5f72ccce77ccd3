// Package ac97 holds the end-to-end tests of the AC97 sound device: our
// freestanding driver (guests/ac97) runs on gemu in deterministic
// mode with the wav audiodev, and what it played or recorded is compared
// frame by frame with what it should be; the same ELF on QEMU must produce
// the same WAV.
//
//	go test ./tests/ac97              # gemu, plus QEMU if installed
//	go test ./tests/ac97 -run QEMU -v # just the compatibility check
package ac97

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gemu/devices/audio"
	"gemu/machine"
	"gemu/tests/pcm"
	"gemu/tests/rig"
)

// guestELF is the committed driver (tests/guests checks it is what
// guests/ac97/ac97.c builds).
var guestELF = rig.Path("guests/ac97/ac97.elf")

// source is the capture source the tests feed in: distinct, never zero, and
// unrelated to the playback pattern.
func source(n int) []pcm.Frame {
	f := make([]pcm.Frame, n)
	for i := range f {
		l := int16((i*7+3)%30011 + 1)
		f[i] = pcm.Frame{l, -l / 2}
	}
	return f
}

// runGemu boots the guest on gemu (deterministic, -icount shift=2) with one
// audiodev and the AC97, and returns the console output.
func runGemu(t *testing.T, audiodev, appendArgs string) string {
	t.Helper()
	return rig.MachineOK(t, machine.Config{
		BIOS:          "none",
		Kernel:        guestELF,
		Append:        appendArgs,
		Devices:       rig.Devices(t, "AC97,audiodev=snd0"),
		Audiodevs:     rig.Audiodevs(t, audiodev),
		Deterministic: true,
		Shift:         machine.DefaultShift,
	}, "ac97: done")
}

// TestPlayback plays 250 ms at each rate (44100 and 8000 through VRA) and
// requires the WAV sink's bytes to be exactly the guest's frames: nothing
// missing, repeated, or padded before, between or after them.
func TestPlayback(t *testing.T) {
	for _, rate := range []int{48000, 44100, 8000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			wav := filepath.Join(t.TempDir(), "out.wav")
			out := runGemu(t, fmt.Sprintf("wav,id=snd0,path=%s,out.frequency=%d,out.channels=2,out.format=s16", wav, rate),
				fmt.Sprintf("play=%d rec=none ms=250", rate))
			n := rate / 4
			rig.Contains(t, out, fmt.Sprintf("ac97: played %d frames at %d Hz", n, rate))
			pcm.Equal(t, "WAV sink", pcm.Pattern(rate, n), pcm.ReadWAV(t, wav, rate))
		})
	}
}

// TestCapture records 2048 frames through PCM in and MIC in from a WAV
// capture source (in.path) and requires the guest's buffers to hold exactly
// the source's frames from its first one: no stale, zero or repeated
// frames before or between them.
func TestCapture(t *testing.T) {
	for _, rate := range []int{48000, 8000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			dir := t.TempDir()
			src := source(2048)
			if err := pcm.WriteWAV(filepath.Join(dir, "src.wav"), rate, src); err != nil {
				t.Fatal(err)
			}
			out := runGemu(t, fmt.Sprintf("wav,id=snd0,path=%s,in.path=%s", filepath.Join(dir, "out.wav"), filepath.Join(dir, "src.wav")),
				fmt.Sprintf("play=none rec=pi,mc recrate=%d recframes=2048", rate))
			for _, ch := range []string{"pi", "mc"} {
				rig.Contains(t, out, fmt.Sprintf("ac97: rec %s %d Hz: 2048 frames", ch, rate))
				pcm.Equal(t, "recording through "+ch, src, pcm.Dump(out, "REC "+ch))
			}
		})
	}
}

// TestQEMUCompat runs the same ELF on qemu-system-riscv64 (QEMU 7.2, Debian
// package qemu-system-misc) and on gemu with the same wav audiodev options,
// and requires identical PCM. QEMU's wav backend has no capture, so only
// playback is compared.
//
// QEMU discards samples still queued in its mixer when the guest disables
// the voice, so the guest keeps PCM out running for 50 ms past its last
// buffer (linger=50): the engine then feeds silence, as on real hardware.
// How much of that silence QEMU writes depends on host timing, so trailing
// silence is trimmed from both files before comparing.
func TestQEMUCompat(t *testing.T) {
	qemu := rig.Need(t, rig.QEMU)
	dir := t.TempDir()
	const rate = 48000
	qwav, gwav := filepath.Join(dir, "qemu.wav"), filepath.Join(dir, "gemu.wav")
	opts := ",out.frequency=48000,out.channels=2,out.format=s16"
	args := "play=48000 rec=none ms=250 linger=50"
	qout := rig.ExecOK(t, qemu, "-M", "virt", "-m", "128M", "-bios", "none", "-nographic",
		"-kernel", guestELF, "-append", args,
		"-audiodev", "wav,id=snd0,path="+qwav+opts, "-device", "AC97,audiodev=snd0")
	if !strings.Contains(qout, "ac97: done") {
		t.Fatalf("guest did not finish on QEMU:\n%s", qout)
	}
	runGemu(t, "wav,id=snd0,path="+gwav+opts, args)
	q, g := trimSilence(pcm.ReadWAV(t, qwav, rate)), trimSilence(pcm.ReadWAV(t, gwav, rate))
	pcm.Equal(t, "QEMU (want) vs gemu (got)", q, g)
	pcm.Equal(t, "QEMU vs the guest's pattern", pcm.Pattern(rate, rate/4), q)
}

// trimSilence drops trailing all-zero frames (the guest's patterns have
// none).
func trimSilence(f []pcm.Frame) []pcm.Frame {
	for len(f) > 0 && f[len(f)-1] == (pcm.Frame{}) {
		f = f[:len(f)-1]
	}
	return f
}

// qemuResampled is what QEMU 7.2's mixing engine makes of stereo frames f
// at rate in for an s16 sink at rate out (qemuMix, then qemuClip16).
func qemuResampled(f []pcm.Frame, in, out int) []pcm.Frame {
	st := qemuMix(f, in, out)
	y := make([]pcm.Frame, len(st))
	for k, v := range st {
		y[k] = pcm.Frame{qemuClip16(v[0]), qemuClip16(v[1])}
	}
	return y
}

// qemuMix is QEMU 7.2's mix buffer (st_samples, full scale 2^31) for
// stereo frames f at rate in and a sink at rate out, written from the
// algorithm's definition (audio/mixeng.c st_rate_start and
// rate_template.h, conv of mixeng_template.h): output k lies at
// P = k*inc, inc = (in << 32) / out, between input frames P>>32 and the
// next, weights 2^32-1-t and t (t = P mod 2^32) on samples shifted left by
// 16, the sum shifted right by 32. Only outputs whose two input frames
// exist are made.
func qemuMix(f []pcm.Frame, in, out int) [][2]int64 {
	inc := (uint64(in) << 32) / uint64(out)
	var y [][2]int64
	for k := uint64(0); ; k++ {
		p := k * inc
		i, t := int(p>>32), int64(p&0xffffffff)
		if i+1 >= len(f) {
			return y
		}
		var o [2]int64
		for c := range 2 {
			a, b := int64(f[i][c])<<16, int64(f[i+1][c])<<16
			o[c] = (a*(0xffffffff-t) + b*t) >> 32
		}
		y = append(y, o)
	}
}

// qemuClip16 is QEMU 7.2's clip of an st_sample to a signed 16-bit sample
// (audio/mixeng_template.h clip_*, integer engine): 32767 for
// v >= 0x7fffffff, -32768 for v < -2^31, else v >> 16 (a floor). Older
// QEMU sources saturate from v >= 0x7f000000 on, which would turn every
// sample from 32512 up into 32767; the Debian 7.2 binary does not
// (TestQEMUResampled's loud case).
func qemuClip16(v int64) int16 {
	switch {
	case v >= 0x7fffffff:
		return 32767
	case v < -1<<31:
		return -32768
	}
	return int16(v >> 16)
}

// qemuClipU8 is QEMU 7.2's clip to u8 (clip_* of mixeng_template.h,
// unsigned): 255 for v >= 0x7fffffff, 0 for v < -2^31, else
// (v >> 24) + 127 as a byte, HALF being IN_MAX >> 1, so -2^31 wraps to 255.
func qemuClipU8(v int64) byte {
	switch {
	case v >= 0x7fffffff:
		return 255
	case v < -1<<31:
		return 0
	}
	return byte(v>>24 + 127)
}

// loudPattern is what guests/ac97 plays with loud=1: full-scale ramps,
// L = 32767 - (i mod 1024) and R = -32768 + (i mod 1024).
func loudPattern(n int) []pcm.Frame {
	f := make([]pcm.Frame, n)
	for i := range f {
		f[i] = pcm.Frame{int16(32767 - i%1024), int16(-32768 + i%1024)}
	}
	return f
}

// TestQEMUResampled plays the guest's pattern at one rate into a WAV sink
// at another (-audiodev's default resampler=qemu) and requires QEMU 7.2's
// samples bit for bit: the expected conversion of the pattern (then the
// guest's trailing silence) on gemu, and QEMU's own file when QEMU is
// installed. The guest lingers 300 ms after its last buffer: QEMU drops
// what its mixer still holds when the voice stops, and under load a
// 50 ms linger lost the end of a 44.1 -> 8 kHz run. The loud case plays
// full-scale ramps (loud=1) so that interpolated samples fall on both
// sides of every clip threshold near full scale: it checks where the sink
// conversion saturates (qemuClip16), which the default pattern (below
// 28000) never reaches.
func TestQEMUResampled(t *testing.T) {
	for _, c := range []struct {
		guest, sink int
		loud        bool
	}{{44100, 48000, false}, {8000, 48000, false}, {48000, 44100, false}, {44100, 8000, false}, {44100, 48000, true}} {
		name := fmt.Sprintf("%d-to-%d", c.guest, c.sink)
		if c.loud {
			name += "-loud"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			opts := fmt.Sprintf(",out.frequency=%d,out.channels=2,out.format=s16", c.sink)
			args := fmt.Sprintf("play=%d rec=none ms=250 linger=300", c.guest)
			src := pcm.Pattern(c.guest, c.guest/4)
			if c.loud {
				args += " loud=1"
				src = loudPattern(c.guest / 4)
			}
			gwav := filepath.Join(dir, "gemu.wav")
			runGemu(t, "wav,id=snd0,path="+gwav+opts, args)
			g := trimSilence(pcm.ReadWAV(t, gwav, c.sink))
			in := append(src, make([]pcm.Frame, 64)...)
			want := trimSilence(qemuResampled(in, c.guest, c.sink))
			if c.loud {
				checkLoud(t, want)
			}
			pcm.Equal(t, "QEMU's conversion (want) vs gemu (got)", want, g)

			qemu := rig.Need(t, rig.QEMU)
			qwav := filepath.Join(dir, "qemu.wav")
			qout := rig.ExecOK(t, qemu, "-M", "virt", "-m", "128M", "-bios", "none", "-nographic",
				"-kernel", guestELF, "-append", args,
				"-audiodev", "wav,id=snd0,path="+qwav+opts, "-device", "AC97,audiodev=snd0")
			if !strings.Contains(qout, "ac97: done") {
				t.Fatalf("guest did not finish on QEMU:\n%s", qout)
			}
			pcm.Equal(t, "QEMU (want) vs gemu (got)", trimSilence(pcm.ReadWAV(t, qwav, c.sink)), g)
		})
	}
}

// checkLoud makes sure the loud case tests what it is for: the expected
// output has samples in 32512..32766 (which a clip from 0x7f000000 on
// would have made 32767) as well as 32766 itself, the largest a
// full-scale input gives after the interpolation's 2^32-1 weights, and
// -32768.
func checkLoud(t *testing.T, f []pcm.Frame) {
	t.Helper()
	var near, top, bottom int
	for _, x := range f {
		switch {
		case x[0] == 32766:
			top++
		case x[0] >= 32512 && x[0] < 32766:
			near++
		}
		if x[1] == -32768 {
			bottom++
		}
	}
	if near < 200 || top == 0 || bottom == 0 {
		t.Fatalf("loud pattern: %d samples in 32512..32765, %d at 32766, %d at -32768", near, top, bottom)
	}
}

// TestQEMUResampledU8 plays the loud pattern at 44100 Hz into a 48 kHz u8
// wav sink: the clip is the sink-format conversion (the hw voice's clip_*,
// applied by audio_pcm_hw_clip_out for the wav backend too), so an
// unsigned sink shows QEMU's offset of IN_MAX >> 1 = 127, under which
// -32768 wraps to 0xff. gemu must write QEMU 7.2's bytes.
func TestQEMUResampledU8(t *testing.T) {
	const guest, sink = 44100, 48000
	dir := t.TempDir()
	opts := fmt.Sprintf(",out.frequency=%d,out.channels=2,out.format=u8", sink)
	args := fmt.Sprintf("play=%d rec=none ms=250 linger=300 loud=1", guest)
	gwav := filepath.Join(dir, "gemu.wav")
	runGemu(t, "wav,id=snd0,path="+gwav+opts, args)
	g := trimU8Silence(readU8(t, gwav, sink))
	var want []byte
	for _, v := range qemuMix(append(loudPattern(guest/4), make([]pcm.Frame, 64)...), guest, sink) {
		want = append(want, qemuClipU8(v[0]), qemuClipU8(v[1]))
	}
	want = trimU8Silence(want)
	if !slices.Contains(want, 0xff) || !slices.Contains(want, 0xfe) {
		t.Fatal("loud pattern: no 0xfe or 0xff (-32768) in the expected u8 output")
	}
	equalBytes(t, "QEMU's conversion (want) vs gemu (got)", want, g)

	qemu := rig.Need(t, rig.QEMU)
	qwav := filepath.Join(dir, "qemu.wav")
	qout := rig.ExecOK(t, qemu, "-M", "virt", "-m", "128M", "-bios", "none", "-nographic",
		"-kernel", guestELF, "-append", args,
		"-audiodev", "wav,id=snd0,path="+qwav+opts, "-device", "AC97,audiodev=snd0")
	if !strings.Contains(qout, "ac97: done") {
		t.Fatalf("guest did not finish on QEMU:\n%s", qout)
	}
	equalBytes(t, "QEMU (want) vs gemu (got)", trimU8Silence(readU8(t, qwav, sink)), g)
}

// readU8 reads a stereo u8 WAV file at rate.
func readU8(t *testing.T, path string, rate int) []byte {
	t.Helper()
	spec, data, err := audio.ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Freq != rate || spec.Channels != 2 || spec.Format != audio.U8 {
		t.Fatalf("%s is %v, want %d Hz u8 2ch", path, spec, rate)
	}
	return data
}

// trimU8Silence drops trailing silent frames (0x7f 0x7f: QEMU's u8 zero).
func trimU8Silence(b []byte) []byte {
	for len(b) >= 2 && b[len(b)-1] == 0x7f && b[len(b)-2] == 0x7f {
		b = b[:len(b)-2]
	}
	return b
}

// equalBytes fails t at the first differing byte.
func equalBytes(t *testing.T, what string, want, got []byte) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			lo, hi := max(i-4, 0), min(i+4, len(want), len(got))
			t.Fatalf("%s: first differing byte %d (want %d bytes, got %d): want % x, got % x",
				what, i, len(want), len(got), want[lo:hi], got[lo:hi])
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%s: want %d bytes, got %d", what, len(want), len(got))
	}
}
