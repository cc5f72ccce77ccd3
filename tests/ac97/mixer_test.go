package ac97

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gemu/machine"
	"gemu/tests/pcm"
	"gemu/tests/rig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// mixLevel is one audible segment of guests/ac97mix: its number and the
// voice levels QEMU plays it at (0..255 per channel).
type mixLevel struct{ seg, l, r int }

// mixSegments lists what guests/ac97mix should be heard playing at DAC rate
// rate under QEMU 7.2's voice rule (docs/devices/ac97.md): muted segments
// are silent and absent from the list.
func mixSegments(rate int) []mixLevel {
	g := func(master, pcmv int) int { // QEMU get_volume + combine, per channel
		m := 255 - 255*master/0x3f
		p := 255 - 255*pcmv/0x1f
		return m * p / 255
	}
	s := []mixLevel{
		{1, g(0, 8), g(0, 8)},
		{2, g(5, 0x0a), g(3, 0x11)},
		{3, g(0x3f, 0), 255},
	}
	if rate == 48000 {
		return append(s, mixLevel{7, g(0, 8), g(0, 8)})
	}
	return append(s, mixLevel{4, 255, 255}, mixLevel{6, 255, 255})
}

// qemuGain is QEMU's integer volume path (audio/mixeng.c conv, mixeng_volume
// and clip; audio.c audio_set_volume_out).
func qemuGain(s int16, level int) int16 {
	vol := int64((uint64(1) << 32) * uint64(level) / 255)
	return int16((int64(s) << 16) * vol >> 32 >> 16)
}

// mixExpected is the sink's content with silence removed: the segments,
// then (at 48000 Hz) the runs around empty descriptors at unity, 480-frame
// buffers 1, 2 (first run: BD 0 is empty) and 0, 1 (second run: BD 3 is
// empty) of the pattern starting at 20001.
func mixExpected(rate int) []pcm.Frame {
	var f []pcm.Frame
	for _, sg := range mixSegments(rate) {
		for i := 0; i < 2400; i++ {
			l := int16((i+1000*sg.seg)%32767 + 1)
			f = append(f, pcm.Frame{qemuGain(l, sg.l), qemuGain(-l, sg.r)})
		}
	}
	if rate == 48000 {
		for _, b := range []int{1, 2, 0, 1} {
			for i := 480 * b; i < 480*(b+1); i++ {
				l := int16((i+20000)%32767 + 1)
				f = append(f, pcm.Frame{l, -l})
			}
		}
	}
	return f
}

// audible drops all-zero frames: the silence between segments (underrun
// fill while the guest lingers) depends on host timing on QEMU, and the
// guest's own frames are never all zero unless muted.
func audible(f []pcm.Frame) []pcm.Frame {
	var out []pcm.Frame
	for _, x := range f {
		if x != (pcm.Frame{}) {
			out = append(out, x)
		}
	}
	return out
}

func consoleLines(out, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestQEMUMixer runs guests/ac97mix, which exercises QEMU 7.2's AC97 rules
// (voice volume on open and re-open, mute, attenuation, rate writes with
// and without VRA, codec reset, undecoded access widths, restarts on empty
// descriptors), on gemu and on QEMU, and requires the same console lines
// and the same samples in the WAV sink, bit for bit, at 48000 and 44100 Hz
// (the sink runs at the guest's rate, so nothing is resampled). Without
// QEMU, gemu is still checked against the expected samples.
func TestQEMUMixer(t *testing.T) {
	elf := rig.Guest(t, "guests/ac97mix/ac97mix.elf")
	for _, rate := range []int{48000, 44100} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			dir := t.TempDir()
			opts := fmt.Sprintf(",out.frequency=%d,out.channels=2,out.format=s16", rate)
			gwav := filepath.Join(dir, "gemu.wav")
			var errs strings.Builder
			cfg := machine.Config{
				BIOS:          "none",
				Kernel:        elf,
				Append:        fmt.Sprintf("rate=%d", rate),
				Devices:       rig.Devices(t, "AC97,audiodev=snd0"),
				Audiodevs:     rig.Audiodevs(t, "wav,id=snd0,path="+gwav+opts),
				Deterministic: true,
				Shift:         machine.DefaultShift,
				Trace:         []string{"guest_errors"},
				TraceOut:      &errs,
			}
			gout := rig.MachineOK(t, cfg, "ac97mix: done")
			got := audible(pcm.ReadWAV(t, gwav, rate))
			pcm.Equal(t, "gemu vs QEMU's rule", mixExpected(rate), got)
			if !strings.Contains(errs.String(), "FRONT_DAC_RATE written") && rate != 48000 {
				t.Errorf("-d guest_errors lacks the VRA line:\n%s", errs.String())
			}
			if n := strings.Count(errs.String(), "returns all ones"); n != 1 {
				t.Errorf("-d guest_errors: %d width lines, want 1 per run:\n%s", n, errs.String())
			}

			qemu := rig.Need(t, rig.QEMU)
			qwav := filepath.Join(dir, "qemu.wav")
			qout := rig.ExecOK(t, qemu, "-M", "virt", "-m", "128M", "-bios", "none", "-nographic",
				"-kernel", elf, "-append", fmt.Sprintf("rate=%d", rate),
				"-audiodev", "wav,id=snd0,path="+qwav+opts, "-device", "AC97,audiodev=snd0")
			if q, g := consoleLines(qout, "ac97mix: "), consoleLines(gout, "ac97mix: "); q != g {
				t.Errorf("console differs:\nQEMU:\n%s\ngemu:\n%s", q, g)
			}
			pcm.Equal(t, "QEMU (want) vs gemu (got)", audible(pcm.ReadWAV(t, qwav, rate)), got)
		})
	}
}
