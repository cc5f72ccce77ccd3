package xv6mp3

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gemu/tests/rig"
)

// audioFiles are the files the test puts in fs.img (mkfs strips "audio/"),
// made from one source signal per rate: a 440 Hz sine left and a 660 Hz
// sine right, each with a DC offset so no frame is all zero, 3.5 buffers
// long, without dither (sox -D), so the files are the same on every run.
var audioFiles = []string{"w48.wav", "w44.wav", "m44.mp3", "m48.mp3", "f44.flac", "f48.flac"}

// build extracts the xv6-mp3 tarball from the shared guests into a
// temporary directory, applies the two guest fixes, makes the audio files,
// and builds fs.img and two kernels: kernel.published (the driver as
// published) and kernel.unmuted (unmute writes added after its codec
// check). It returns the directory (the emulators run there: the command
// line names fs.img relatively, as `make qemu` does).
func build(t *testing.T) string {
	t.Helper()
	dir := unpack(t)

	ad := filepath.Join(dir, "audio")
	if err := os.MkdirAll(ad, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, rate := range []int{48000, 44100} {
		src := fmt.Sprintf("src%d.wav", rate)
		run(t, ad, "sox", "-D", "-n", "-r", fmt.Sprint(rate), "-c", "2", "-b", "16", src,
			"synth", fmt.Sprintf("%ds", fileFrames), "sine", "440", "10", "25", "sine", "660", "-10", "50", "vol", "0.7")
		k := fmt.Sprint(rate / 1000)
		run(t, ad, "cp", src, "w"+k+".wav")
		run(t, ad, "lame", "--quiet", "-b", "192", src, "m"+k+".mp3")
		run(t, ad, "flac", "-s", "-f", "-o", "f"+k+".flac", src)
	}
	var audios []string
	for _, f := range audioFiles {
		audios = append(audios, "audio/"+f)
	}
	av := "AUDIOS=" + strings.Join(audios, " ")
	run(t, dir, "make", "-s", "-j2", av, "kernel/kernel", "fs.img")
	run(t, dir, "cp", "kernel/kernel", "kernel.published")

	// The unmuted kernel: after the codec check (which wrote Master
	// 0x8000), unmute Master and set PCM out to 0x0808 (-12 dB of the
	// codec, QEMU's level 190/255).
	edit(t, filepath.Join(dir, "kernel/ac97.c"), "    // Reading the Audio Codec Vendor ID",
		"    WriteRegShort(PCIE_PIO | (MASTER_VOLUME), 0x0000);\n    WriteRegShort(PCIE_PIO | (PCM_OUT_VOLUME), 0x0808);\n    // Reading the Audio Codec Vendor ID")
	run(t, dir, "make", "-s", "-j2", av, "kernel/kernel")
	run(t, dir, "cp", "kernel/kernel", "kernel.unmuted")
	return dir
}

// edit replaces the first occurrence of old in the file (whose lines may
// end in CRLF, as the tarball's Makefile and kernel/ac97.c do).
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	crlf := strings.Contains(s, "\r\n")
	if crlf {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	if !strings.Contains(s, old) {
		t.Fatalf("%s: no %q to patch", path, old)
	}
	s = strings.Replace(s, old, new, 1)
	if crlf {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// unpack extracts the xv6-mp3 tarball from the shared guests into a
// temporary directory (skipping the test when it is absent) and applies
// the two guest fixes every build needs. It returns the source directory.
func unpack(t *testing.T) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(rig.SharedGuests(t), "xv6-mp3-*.tar.gz"))
	if len(matches) == 0 {
		t.Skipf("no xv6-mp3-*.tar.gz in %s", rig.SharedGuests(t))
	}
	top := t.TempDir()
	run(t, top, "tar", "xzf", matches[0])
	dirs, _ := filepath.Glob(filepath.Join(top, "xv6-mp3*"))
	if len(dirs) != 1 {
		t.Fatalf("tarball %s: want one top directory, got %v", matches[0], dirs)
	}
	dir := dirs[0]

	// Fix 1: GCC 12 rejects the infinite recursion in user/sh.c's
	// runcmd under -Werror.
	edit(t, filepath.Join(dir, "Makefile"), "-fno-omit-frame-pointer -ggdb", "-fno-omit-frame-pointer -ggdb -Wno-infinite-recursion")
	// Fix 2: the kernel (volume scaling) and the player (MP3, FLAC) use
	// floating point; mstatus.FS must be non-zero or every FP instruction
	// traps (RISC-V privileged spec 3.1.6.6).
	edit(t, filepath.Join(dir, "kernel/start.c"), "  x |= MSTATUS_MPP_S;\n", "  x |= MSTATUS_MPP_S;\n  x |= 1L << 13; // mstatus.FS = Initial\n")
	return dir
}
