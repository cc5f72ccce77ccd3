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
	"strconv"
	"strings"
	"testing"

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
// at rate in for a sink at rate out, written from the algorithm's
// definition (audio/mixeng.c st_rate_start and rate_template.h, conv and
// clip of mixeng_template.h): output k lies at P = k*inc, inc =
// (in << 32) / out, between input frames P>>32 and the next, weights
// 2^32-1-t and t (t = P mod 2^32) on samples shifted left by 16; the sum
// is shifted right by 32 and clipped back with a floor shift of 16. Only
// outputs whose two input frames exist are made.
func qemuResampled(f []pcm.Frame, in, out int) []pcm.Frame {
	inc := (uint64(in) << 32) / uint64(out)
	var y []pcm.Frame
	for k := uint64(0); ; k++ {
		p := k * inc
		i, t := int(p>>32), int64(p&0xffffffff)
		if i+1 >= len(f) {
			return y
		}
		var o pcm.Frame
		for c := range 2 {
			a, b := int64(f[i][c])<<16, int64(f[i+1][c])<<16
			v := (a*(0xffffffff-t) + b*t) >> 32
			o[c] = int16(min(max(v, -1<<31), 1<<31-1) >> 16)
		}
		y = append(y, o)
	}
}

// TestQEMUResampled plays the guest's pattern at one rate into a WAV sink
// at another (-audiodev's default resampler=qemu) and requires QEMU 7.2's
// samples bit for bit: the expected conversion of the pattern (then the
// guest's trailing silence) on gemu, and QEMU's own file when QEMU is
// installed. The guest lingers 300 ms after its last buffer: QEMU drops
// what its mixer still holds when the voice stops, and under load a
// 50 ms linger lost the end of a 44.1 -> 8 kHz run.
func TestQEMUResampled(t *testing.T) {
	for _, c := range []struct{ guest, sink int }{{44100, 48000}, {8000, 48000}, {48000, 44100}, {44100, 8000}} {
		t.Run(fmt.Sprintf("%d-to-%d", c.guest, c.sink), func(t *testing.T) {
			dir := t.TempDir()
			opts := fmt.Sprintf(",out.frequency=%d,out.channels=2,out.format=s16", c.sink)
			args := fmt.Sprintf("play=%d rec=none ms=250 linger=300", c.guest)
			gwav := filepath.Join(dir, "gemu.wav")
			runGemu(t, "wav,id=snd0,path="+gwav+opts, args)
			g := trimSilence(pcm.ReadWAV(t, gwav, c.sink))
			in := append(pcm.Pattern(c.guest, c.guest/4), make([]pcm.Frame, 64)...)
			pcm.Equal(t, "QEMU's conversion (want) vs gemu (got)", trimSilence(qemuResampled(in, c.guest, c.sink)), g)

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
