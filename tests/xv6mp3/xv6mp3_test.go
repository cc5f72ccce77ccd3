// Package xv6mp3 runs xv6-mp3, an xv6-riscv fork from an operating-systems
// course with an AC97 driver and a WAV/MP3/FLAC player, from its tarball in
// the shared guests (rig.SharedGuests, $GEMU_GUESTS), on QEMU 7.2 (the
// reference) and on gemu with the same command line, types the player's
// commands on the console, and requires the same samples in both WAV sinks.
//
// The guest is built with only the two fixes it needs on QEMU 7.2 as well:
// -Wno-infinite-recursion for GCC 12, and mstatus.FS set in kernel/start.c
// so the kernel's and the player's floating point run. A second kernel adds
// unmute writes after the driver's codec check (Master 0x0000, PCM out
// 0x0808). Its audio files are left out of the tarball; the test makes them
// with sox, lame and flac (Debian packages, tests/packages.txt).
//
// The command line is the one `make qemu` runs with -audiodev driver=alsa
// swapped for wav (path added) and -smp 1: xv6 does not save FP registers
// across harts. The 44.1 kHz scenarios leave the sink at QEMU's default
// rate, 44100 Hz, as `make qemu` does; the 48 kHz ones add
// out.frequency=48000. Two go through QEMU's resampler (gemu's default
// resampler=qemu must give the same samples, docs/devices/ac97.md):
// published-44100-sink-48000 plays a 44.1 kHz file into a 48 kHz sink at
// unity, unmuted-48000-default-sink a 48 kHz file at the volume the
// unmuted kernel sets into a sink at QEMU's default 44.1 kHz (`make qemu`
// as is).
//
// The disk is a legacy virtio-mmio virtio-blk-device; until gemu has one,
// the gemu half skips with one line naming the refused option.
package xv6mp3

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gemu/tests/rig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// nodeFrames is one of the driver's buffers (kernel/audio_def.h: 32
// descriptors of 0x1000 samples): it plays only whole ones.
const nodeFrames = 65536

// fileFrames is each audio file's length: 3.5 buffers, so 3 play.
const fileFrames = 3*nodeFrames + nodeFrames/2

// play is one player command and what it must make audible: the number of
// whole buffers (0: the voice is muted).
type play struct {
	cmd   string
	nodes int
}

// scenario is one boot: a kernel, the sink's rate and the commands typed.
type scenario struct {
	name    string
	unmuted bool // the kernel with unmute writes after the codec check
	rate    int  // the sink's rate
	plays   []play
}

// fileRate is the rate of the file a player command plays (w44.wav,
// m48.mp3, ...).
func fileRate(cmd string) int {
	if strings.Contains(cmd, "44") {
		return 44100
	}
	return 48000
}

// sinkFrames is how many sink frames n frames of the file cmd plays
// become.
func sinkFrames(sc scenario, cmd string, n int) int {
	return int(int64(n) * int64(sc.rate) / int64(fileRate(cmd)))
}

// scenarios follow QEMU 7.2's rule (docs/devices/ac97.md): the published
// driver mutes Master and never unmutes, so a 48 kHz file stays muted, but
// writing 44100 to the DAC rate re-opens the voice at unity. The player
// scales samples by its volume (default 50) itself.
var scenarios = []scenario{
	{"published-44100", false, 44100, []play{
		{"play w44.wav", 3}, {"play m44.mp3", 3}, {"play f44.flac", 3}, {"volume 30", -1}, {"play w44.wav", 3}}},
	{"published-48000", false, 48000, []play{{"play w48.wav", 0}}},
	{"unmuted-48000", true, 48000, []play{{"play w48.wav", 3}, {"play f48.flac", 3}, {"play m48.mp3", 3}}},
	{"unmuted-44100", true, 44100, []play{{"play w44.wav", 3}}},
	{"published-44100-sink-48000", false, 48000, []play{{"play w44.wav", 3}}},
	{"unmuted-48000-default-sink", true, 44100, []play{{"play w48.wav", 3}}},
}

// TestXv6MP3 plays each scenario on QEMU and on gemu and compares the
// sinks. GEMU_XV6MP3=qemu runs only the QEMU half (the reference), for
// checking the test itself while gemu cannot run the guest.
func TestXv6MP3(t *testing.T) {
	qemu := rig.Need(t, rig.QEMU, "sox", "lame", "flac", rig.Make, rig.CC, "tar")
	qemuOnly := os.Getenv("GEMU_XV6MP3") == "qemu"
	gemu := rig.Gemu(t)
	if out, ok := refusesDisk(gemu, args("no-such-kernel", "x.wav", 48000), t.TempDir()); !ok && !qemuOnly {
		t.Skipf("gemu cannot attach xv6's fs.img yet (legacy virtio-mmio virtio-blk-device): %s", out)
	}
	tree := build(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			kernel := filepath.Join(tree, "kernel.published")
			if sc.unmuted {
				kernel = filepath.Join(tree, "kernel.unmuted")
			}
			dir := t.TempDir()
			qwav := filepath.Join(dir, "qemu.wav")
			q := boot(t, tree, qemu, args(kernel, qwav, sc.rate), sc)
			gwav := filepath.Join(dir, "gemu.wav")
			gargs := append(args(kernel, gwav, sc.rate), "-icount", "shift=2")
			if qemuOnly {
				t.Logf("QEMU: %d audible frames (GEMU_XV6MP3=qemu: gemu not run)", len(q))
				return
			}
			g := boot(t, tree, gemu, gargs, sc)
			if resampled(sc) {
				// After each buffer the driver halts the DMA with the run
				// bit set until the player queues the next one, and the
				// AC97 feeds the voice silence (write_bup) from its next
				// audio tick on: none on QEMU if the player was quicker
				// than its 10 ms timer, whatever the host took otherwise;
				// one 1 ms tick's worth on gemu. That silence shifts the
				// interpolation phase of all that follows, so only the
				// outputs made from the first buffer alone are the same
				// on every run.
				qf, gf := readFrames(t, qwav), readFrames(t, gwav)
				n := firstOutputs(fileRate(sc.plays[0].cmd), sc.rate, nodeFrames)
				qr, gr := firstRun(qf), firstRun(gf)
				if len(qr) < n || len(gr) < n || !framesEqual(qr[:n], gr[:n]) {
					t.Errorf("first buffer differs: QEMU %d frames, gemu %d, first difference at frame %d\nQEMU runs: %s\ngemu runs: %s",
						len(qr), len(gr), firstDiff(qr, gr), runs(qf), runs(gf))
				}
				if d := len(q) - len(g); d < -6 || d > 6 {
					t.Errorf("audible frames: QEMU %d, gemu %d", len(q), len(g))
				}
				return
			}
			if !framesEqual(q, g) {
				t.Errorf("audible samples differ: QEMU %d frames, gemu %d, first difference at frame %d",
					len(q), len(g), firstDiff(q, g))
			}
		})
	}
}

// resampled reports whether the sink's rate differs from the files'.
func resampled(sc scenario) bool {
	for _, p := range sc.plays {
		if p.nodes > 0 && fileRate(p.cmd) != sc.rate {
			return true
		}
	}
	return false
}

// runs describes f as alternating counts of zero and non-zero frames.
func runs(f []uint32) string {
	var b strings.Builder
	for i := 0; i < len(f); {
		j := i
		for j < len(f) && (f[j] == 0) == (f[i] == 0) {
			j++
		}
		if f[i] == 0 {
			fmt.Fprintf(&b, "%d zero, ", j-i)
		} else {
			fmt.Fprintf(&b, "%d sound, ", j-i)
		}
		i = j
	}
	return b.String()
}

// firstOutputs is how many frames QEMU's resampler (audio/mixeng.c,
// rate_template.h) makes from the first n input frames alone: output k lies
// at k*inc (32.32, inc = (in << 32) / out) and needs the input frame after
// it, so the outputs before position n-1.
func firstOutputs(in, out, n int) int {
	inc := (uint64(in) << 32) / uint64(out)
	return int(((uint64(n-1) << 32) + inc - 1) / inc)
}

// firstRun is the frames from the first non-zero frame up to the next
// all-zero one.
func firstRun(f []uint32) []uint32 {
	i := 0
	for i < len(f) && f[i] == 0 {
		i++
	}
	j := i
	for j < len(f) && f[j] != 0 {
		j++
	}
	return f[i:j]
}

// args is `make qemu`'s command line (Makefile QEMUOPTS) with -smp 1 and
// driver=alsa swapped for wav.
func args(kernel, wav string, rate int) []string {
	return []string{"-machine", "virt", "-bios", "none", "-kernel", kernel, "-m", "256M", "-smp", "1",
		"-nographic", "-drive", "file=fs.img,if=none,format=raw,id=x0",
		"-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0",
		"-audiodev", audiodev(wav, rate), "-device", "AC97,audiodev=pa"}
}

// audiodev is the wav audiodev at rate; QEMU's default rate (44100 Hz,
// audio/audio.c audio_validate_per_direction_opts) is left implicit as in
// `make qemu`, so gemu's default must be the same.
func audiodev(wav string, rate int) string {
	if rate == 44100 {
		return "id=pa,driver=wav,path=" + wav
	}
	return fmt.Sprintf("id=pa,driver=wav,path=%s,out.frequency=%d", wav, rate)
}

// refusesDisk runs gemu with the test's flags and a kernel that does not
// exist (so nothing boots): it reports false, with gemu's line, only when
// gemu refuses the block device (the one reason to skip).
func refusesDisk(gemu string, a []string, dir string) (string, bool) {
	cmd := rig.Command(gemu, a...)
	cmd.Dir = dir
	done := make(chan []byte, 1)
	go func() { out, _ := cmd.CombinedOutput(); done <- out }()
	select {
	case out := <-done:
		s := strings.TrimSpace(string(out))
		if strings.Contains(s, "no block devices") ||
			strings.Contains(s, "virtio-blk-device") && strings.Contains(s, "unknown") {
			return s, false
		}
		return s, true
	case <-time.After(3 * time.Second):
		rig.KillGroup(cmd)
		<-done
		return "", true
	}
}

// console is a running emulator whose serial console is stdin/stdout.
type console struct {
	t   *testing.T
	cmd *exec.Cmd
	in  io.WriteCloser
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *console) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// wait waits until the console shows want for the n-th time.
func (c *console) wait(want string, n int, timeout time.Duration) {
	c.t.Helper()
	end := time.Now().Add(timeout)
	for strings.Count(c.text(), want) < n {
		if time.Now().After(end) {
			c.t.Fatalf("%s: no %q (#%d) after %v; console:\n%s", filepath.Base(c.cmd.Path), want, n, timeout, c.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startConsole starts bin with args a in dir (rig.Command: its own process
// group, killed when t ends) with its console on c.
func startConsole(t *testing.T, dir, bin string, a []string) *console {
	t.Helper()
	c := &console{t: t, cmd: rig.Command(bin, a...)}
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = c, c
	in, err := c.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.in = in
	if err := rig.Start(t, c.cmd); err != nil {
		t.Fatal(err)
	}
	return c
}

// quit types Ctrl-A x (QEMU's and gemu's -nographic mux) and waits up to
// 30 s for the emulator to exit.
func (c *console) quit() {
	c.t.Helper()
	_, _ = io.WriteString(c.in, "\x01x")
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.t.Fatalf("%s did not quit on Ctrl-A x", filepath.Base(c.cmd.Path))
	}
}

func (c *console) typeLine(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, s+"\n"); err != nil {
		c.t.Fatalf("typing %q: %v", s, err)
	}
}

// boot runs one scenario on an emulator and returns the sink's audible
// frames (stereo S16 as uint32, all-zero frames dropped: the silence
// between buffers depends on how fast the guest decodes).
func boot(t *testing.T, dir, bin string, a []string, sc scenario) []uint32 {
	t.Helper()
	wav := a[indexOf(a, "-audiodev")+1]
	wav = wav[strings.Index(wav, "path=")+5:]
	wav, _, _ = strings.Cut(wav, ",")
	c := startConsole(t, dir, bin, a)
	c.wait("$ ", 1, 2*time.Minute)
	c.typeLine("player")
	prompts := 1
	c.wait("Enter Command: ", prompts, time.Minute)
	audible := 0
	for _, p := range sc.plays {
		c.typeLine(p.cmd)
		prompts++
		c.wait("Enter Command: ", prompts, time.Minute)
		if p.nodes < 0 {
			continue
		}
		// Wait until this file's buffers are audible (MP3 starts with
		// the decoder's delay, near zero), then for half a second of
		// the sink's time more, so the last buffer has played out.
		audible += sinkFrames(sc, p.cmd, p.nodes*nodeFrames)
		need := max(audible-4096, 0)
		if p.nodes == 0 {
			need = -1
		}
		waitSink(t, c, wav, need, sc.rate)
	}
	c.quit()
	got := audibleFrames(readFrames(t, wav))
	want := 0
	for _, p := range sc.plays {
		want += sinkFrames(sc, p.cmd, max(p.nodes, 0)*nodeFrames)
	}
	if len(got) < want-4096*3 || len(got) > want+8 { // resampled: about one more frame per buffer
		t.Errorf("%s: %d audible frames, want about %d (%d whole buffers)", filepath.Base(bin), len(got), want, want/nodeFrames)
	}
	return got
}

// waitSink polls the WAV sink until it holds at least need audible frames
// (need < 0: a muted file, wait for its length of sink time) and then half
// a second of the sink's time more.
func waitSink(t *testing.T, c *console, wav string, need, rate int) {
	t.Helper()
	end := time.Now().Add(3 * time.Minute)
	total := 0
	for {
		f := readFramesLoose(wav)
		if need < 0 && len(f) >= fileFrames || need >= 0 && len(audibleFrames(f)) >= need {
			total = len(f)
			break
		}
		if time.Now().After(end) {
			t.Fatalf("sink: %d frames, %d audible, want %d; console:\n%s", len(f), len(audibleFrames(f)), need, c.text())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for len(readFramesLoose(wav)) < total+rate/2 {
		if time.Now().After(end) {
			t.Fatalf("sink stopped growing; console:\n%s", c.text())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func indexOf(a []string, s string) int {
	for i, x := range a {
		if x == s {
			return i
		}
	}
	return -1
}

// readFramesLoose reads a WAV file that may still be written: the frames
// after the "data" chunk header, whatever its size field says.
func readFramesLoose(path string) []uint32 {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	i := bytes.Index(b, []byte("data"))
	if i < 0 {
		return nil
	}
	b = b[i+8:]
	f := make([]uint32, len(b)/4)
	for k := range f {
		f[k] = binary.LittleEndian.Uint32(b[4*k:])
	}
	return f
}

func readFrames(t *testing.T, path string) []uint32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("RIFF")) {
		t.Fatalf("%s: not a WAV file (%v)", path, err)
	}
	return readFramesLoose(path)
}

func audibleFrames(f []uint32) []uint32 {
	var out []uint32
	for _, x := range f {
		if x != 0 {
			out = append(out, x)
		}
	}
	return out
}

func framesEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstDiff(a, b []uint32) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
