package xv6mp3

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gemu/tests/rig"
)

// The README's worked example ("Debugging your kernel"): xv6-mp3's AC97
// driver, as published, run with -d guest_errors, and the lines gemu
// prints for its bugs. The driver's codec check writes 0x8000 to index
// 02h (its NAMBA_PCMV, which is Master, not PCM out) and never unmutes
// Master or PCM out (0x8808 at reset), and it writes the DAC rate without
// setting EXT_AUDIO_CTRL.VRA. QEMU plays the file anyway (its codec has
// VRA on at reset and re-opens the voice at unity on a rate change); a
// real codec plays silence at 44.1 kHz as at 48 kHz. It also writes the
// 32-bit GLOB_CNT with a byte store, which QEMU drops (and reads GLOB_STA
// with a 16-bit load, which QEMU answers with all ones; the width line is
// printed once, for the first).
var publishedLines = []string{
	"ac97: 1-byte write of GLOB_CNT is dropped in QEMU and gemu (QEMU decodes only some widths per bus-master register); real hardware accepts any width\n",
	"ac97: FRONT_DAC_RATE written (44100 Hz) with VRA never enabled by the guest; QEMU and gemu accept it (VRA is on at reset), real hardware keeps 48000\n",
	"ac97: ac97.po voice re-opened at 44100 Hz by a rate change: QEMU and gemu reset its volume to unity (the MASTER_VOL/PCM_OUT_VOL register no longer applies until written again); real hardware keeps the volume\n",
	"ac97: PCM out started (PO_CR.RPBM) with MASTER_VOL = 0x8000 and PCM_OUT_VOL = 0x8808 muted (bit 15): a real codec plays silence until the driver clears the mute bit (AC'97 2.3 section 5.7, Master Volume index 02h, PCM Out Volume index 18h); QEMU and gemu play it anyway, because a rate change re-opened the voice at unity volume\n",
}

// driverFixes are the fixes the README shows, in kernel/ac97.c: unmute
// Master and PCM out after the codec check and turn on variable rates;
// access GLOB_CNT and GLOB_STA as the 32-bit registers they are.
var driverFixes = [][2]string{
	{"    // Reading the Audio Codec Vendor ID",
		"    WriteRegShort(PCIE_PIO | (MASTER_VOLUME), 0x0000);  // unmute Master: the check above muted it\n" +
			"    WriteRegShort(PCIE_PIO | (PCM_OUT_VOLUME), 0x0000); // unmute PCM out (0x8808 at reset)\n" +
			"    WriteRegShort(PCIE_PIO | (namba + 0x2A), 0x0001);   // EXT_AUDIO_CTRL.VRA: variable DAC rates\n" +
			"    // Reading the Audio Codec Vendor ID"},
	{"WriteRegByte(PCIE_PIO | (NABMBA_GLOB_CNT), 0x2)", "WriteRegInt(PCIE_PIO | (NABMBA_GLOB_CNT), 0x2)"},
	{"ReadRegShort(PCIE_PIO | (NABMBA_GLOB_STA))", "ReadRegInt(PCIE_PIO | (NABMBA_GLOB_STA))"},
}

// TestDriverGuestErrors plays a 44.1 kHz WAV file with the published
// driver under -d guest_errors and checks the log has the lines above,
// then with the fixes and checks gemu reports nothing about the AC97.
func TestDriverGuestErrors(t *testing.T) {
	rig.Need(t, "sox", rig.Make, rig.CC, "tar")
	gemu := rig.Gemu(t)
	dir := buildDebug(t)
	for _, tc := range []struct {
		kernel string
		want   []string
	}{
		{"kernel.published", publishedLines},
		// GLOB_CNT fixed alone: the width line moves to GLOB_STA.
		{"kernel.globcnt", []string{"ac97: 2-byte read of GLOB_STA returns all ones in QEMU and gemu (QEMU decodes only some widths per bus-master register); real hardware accepts any width\n"}},
		{"kernel.fixed", nil},
	} {
		t.Run(tc.kernel, func(t *testing.T) {
			tmp := t.TempDir()
			log := filepath.Join(tmp, "log.txt")
			a := append(args(filepath.Join(dir, tc.kernel), filepath.Join(tmp, "out.wav"), 44100),
				"-d", "guest_errors", "-D", log)
			playOnce(t, dir, gemu, a, filepath.Join(tmp, "out.wav"))
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("log lacks %q", w)
				}
			}
			if tc.want == nil && strings.Contains(got, "ac97: ") {
				t.Errorf("the fixed driver still gets AC97 lines")
			}
			if t.Failed() {
				t.Logf("log:\n%s", got)
			}
		})
	}
}

// buildDebug builds xv6-mp3 with the two guest fixes of build (GCC 12,
// mstatus.FS) and one audio file, w44.wav (made as build makes its
// files), as kernel.published; with the first two driverFixes as
// kernel.globcnt; with all of them as kernel.fixed.
func buildDebug(t *testing.T) string {
	t.Helper()
	dir := unpack(t)
	ad := filepath.Join(dir, "audio")
	if err := os.MkdirAll(ad, 0o755); err != nil {
		t.Fatal(err)
	}
	// 1.5 of the driver's buffers: it plays only whole ones.
	run(t, ad, "sox", "-D", "-n", "-r", "44100", "-c", "2", "-b", "16", "w44.wav",
		"synth", fmt.Sprintf("%ds", nodeFrames*3/2), "sine", "440", "10", "25", "sine", "660", "-10", "50", "vol", "0.7")
	run(t, dir, "make", "-s", "-j2", "AUDIOS=audio/w44.wav", "kernel/kernel", "fs.img")
	run(t, dir, "cp", "kernel/kernel", "kernel.published")
	for i, f := range driverFixes {
		edit(t, filepath.Join(dir, "kernel/ac97.c"), f[0], f[1])
		if i == 1 { // the GLOB_CNT fix, after the volume and VRA one
			run(t, dir, "make", "-s", "-j2", "AUDIOS=audio/w44.wav", "kernel/kernel")
			run(t, dir, "cp", "kernel/kernel", "kernel.globcnt")
		}
	}
	run(t, dir, "make", "-s", "-j2", "AUDIOS=audio/w44.wav", "kernel/kernel")
	run(t, dir, "cp", "kernel/kernel", "kernel.fixed")
	return dir
}

// playOnce boots xv6 on gemu, plays w44.wav in the player until the sink
// has sound, and quits.
func playOnce(t *testing.T, dir, gemu string, a []string, wav string) {
	t.Helper()
	c := startConsole(t, dir, gemu, a)
	c.wait("$ ", 1, 2*time.Minute)
	c.typeLine("player")
	c.wait("Enter Command: ", 1, time.Minute)
	c.typeLine("play w44.wav")
	c.wait("Enter Command: ", 2, time.Minute)
	end := time.Now().Add(2 * time.Minute)
	for len(audibleFrames(readFramesLoose(wav))) < 4096 {
		if time.Now().After(end) {
			t.Fatalf("no sound in %s after 2 minutes; console:\n%s", wav, c.text())
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.quit()
}
