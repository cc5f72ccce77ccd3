//go:build cgo && linux

package otosink

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gemu/clock"
	"gemu/devices/audio"
)

// The whole oto -> ALSA path, for real and bit-exact, without a sound card
// (alsa-lib's "file" PCM plugin, which accepts an open descriptor as its
// file): ALSA's default PCM is a plug (float
// -> S16_LE) into the file plugin, whose file is the write end of a small
// blocking pipe. A goroutine drains the pipe at exactly 48000 frames/s,
// acting as the DAC clock, so oto runs in real time. The clip must come out
// of the pipe byte-identical, preceded and followed only by silence.
//
// The player buffer is 500 ms (oto's own default) instead of gemu's 50 ms:
// this test checks the bytes, and CI machines run many test binaries at
// once; a real-time path starved of CPU for longer than its buffers inserts
// silence.
//
// oto allows one context per process, so this is the only test in this
// binary that opens one; the fallback test runs in a child process.
func TestOtoALSAFilePluginBitExact(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("helper process")
	}
	if os.Getenv(alsaChildEnv) != "" {
		alsaChild(t)
		return
	}
	if _, err := os.Stat(sysConf); err != nil {
		t.Skipf("no ALSA configuration (%v); install libasound2-dev", err)
	}
	// Each attempt runs in a child process (one oto context per process).
	// Wrong bytes fail at once. An attempt whose only fault is silence
	// inserted because the host starved the real-time path of CPU (the
	// machine running many tests at once) is retried, up to five attempts.
	for attempt := 1; attempt <= 5; attempt++ {
		out, err := runChild(t, "^TestOtoALSAFilePluginBitExact$", alsaChildEnv+"=1")
		res := ""
		for _, l := range strings.Split(out, "\n") {
			if r, ok := strings.CutPrefix(strings.TrimSpace(l), "RESULT "); ok {
				res = r
			}
		}
		t.Logf("attempt %d: %s", attempt, res)
		switch {
		case err == nil && res == "exact":
			return
		case strings.HasPrefix(res, "gaps"):
			continue
		default:
			t.Fatalf("attempt %d: %v\n%s", attempt, err, out)
		}
	}
	t.Fatal("five attempts all had silence gaps: the host is too loaded for a real-time test")
}

const (
	sysConf      = "/usr/share/alsa/alsa.conf"
	alsaChildEnv = "GEMU_OTOSINK_ALSA_CHILD"
)

// runChild runs this test binary for one test with extra environment and
// returns its combined output (with a 60 s guard against hangs).
func runChild(t *testing.T, run string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("child hung")
	}
}

// alsaChild is one attempt; it prints RESULT exact, RESULT gaps N or
// RESULT corrupt.
func alsaChild(t *testing.T) {
	fds := make([]int, 2)
	if err := unix.Pipe2(fds, 0); err != nil { // blocking, unlike os.Pipe
		t.Fatal(err)
	}
	rfd, wfd := fds[0], fds[1]
	if _, err := unix.FcntlInt(uintptr(wfd), unix.F_SETPIPE_SZ, 4096); err != nil {
		t.Logf("F_SETPIPE_SZ: %v (continuing with the default pipe size)", err)
	}
	conf := filepath.Join(t.TempDir(), "asound.conf")
	cfg := fmt.Sprintf("<%s>\npcm.!default { type plug; slave { pcm \"gemucap\"; format S16_LE } }\npcm.gemucap { type file; slave.pcm \"null\"; file %d; format \"raw\" }\n", sysConf, wfd)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALSA_CONFIG_PATH", conf)

	const rate, fb = 48000, 4
	// Pacer: the simulated DAC.
	var mu sync.Mutex
	var captured []byte
	stop := make(chan struct{})
	go func() {
		buf := make([]byte, 960) // 5 ms
		var start time.Time
		var total int64
		for {
			n, err := unix.Read(rfd, buf)
			if err != nil || n <= 0 {
				return
			}
			if start.IsZero() {
				start = time.Now()
			}
			total += int64(n)
			select {
			case <-stop:
			default:
				mu.Lock()
				if len(captured) < 20*rate*fb {
					captured = append(captured, buf[:n]...)
				}
				mu.Unlock()
			}
			due := start.Add(time.Duration(total * int64(time.Second) / (rate * fb)))
			if late := -time.Until(due); late > 50*time.Millisecond {
				// The whole process was descheduled (a loaded CI host):
				// a DAC does not pause, but racing to catch up would only
				// turn the host's stall into a gap at a random place.
				// Drop the debt instead.
				start = start.Add(late)
				continue
			}
			time.Sleep(time.Until(due))
		}
	}()

	var log bytes.Buffer
	opt, err := audio.ParseOptions("oto,id=snd0,out.frequency=48000,out.channels=2,out.format=s16,out.buffer-length=500000,stats=on")
	if err != nil {
		t.Fatal(err)
	}
	a, err := audio.OpenOptions(opt, clock.NewRealtime(), &log)
	if err != nil {
		t.Fatal(err)
	}
	if a.Options().Driver != "oto" {
		t.Fatalf("oto did not open: %s", log.String())
	}
	// Prime the ALSA pipeline: a Play right after the context is ready can
	// see oto's first ALSA writes drain the player buffer (a gap one player
	// buffer into the clip; seen in about a third of unprimed runs).
	time.Sleep(200 * time.Millisecond)

	spec := audio.Spec{Freq: rate, Format: audio.S16LE, Channels: 2}
	st, err := a.NewOutput("pcm", spec)
	if err != nil {
		t.Fatal(err)
	}
	// One second, L = 0.5 sin, R = 0.5 cos of 440 Hz: no frame is all zero.
	clip := make([]byte, rate*fb)
	for n := range rate {
		w := 2 * math.Pi * 440 * float64(n) / rate
		binary.LittleEndian.PutUint16(clip[fb*n:], uint16(int16(math.Round(0.5*32767*math.Sin(w)))))
		binary.LittleEndian.PutUint16(clip[fb*n+2:], uint16(int16(math.Round(0.5*32767*math.Cos(w)))))
	}
	begin := time.Now()
	for rest := clip; len(rest) > 0; {
		n := st.Write(rest[:min(len(rest), st.Free()*fb)])
		rest = rest[n*fb:]
		time.Sleep(time.Millisecond)
	}
	st.SetActive(false) // the clip is over: silence from here is not an underrun
	for st.Buffered() > 0 && time.Since(begin) < 5*time.Second {
		time.Sleep(time.Millisecond)
	}
	played := time.Since(begin)
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// Flush ALSA's buffer and the pipe: wait until the capture holds the
	// whole clip plus 50 ms (or give up after 3 s).
	for wait := time.Now(); time.Since(wait) < 3*time.Second; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		first := firstSound(captured)
		n := len(captured)
		mu.Unlock()
		if first >= 0 && n >= first+len(clip)+rate*fb/20 {
			break
		}
	}
	close(stop)
	mu.Lock()
	got := append([]byte(nil), captured...)
	mu.Unlock()
	t.Logf("clip handed over in %v; %d bytes captured; %s", played.Round(time.Millisecond), len(got), strings.TrimSpace(log.String()))

	// Paced by the simulated DAC, so never faster than real time, less
	// what the voice's ring and oto's player buffer hold (slower only when
	// the host stalls the process: the pacer then drops its debt).
	ahead := spec.DurationOf(st.Capacity()*fb) + 500*time.Millisecond
	if min := time.Second - ahead - 100*time.Millisecond; played < min {
		t.Errorf("1 s clip consumed in %v (ring %d frames): faster than real time", played, st.Capacity())
	}
	first := firstSound(got)
	if first < 0 {
		fmt.Println("RESULT corrupt: captured only silence")
		t.Fatal("captured only silence")
	}
	// Walk the capture against the clip: matching frames advance both,
	// all-zero captured frames inside the clip are inserted silence (the
	// clip has no zero frame), anything else is corruption.
	j, gaps, inGap := 0, 0, false
	for i := first; i+fb <= len(got) && j < len(clip); i += fb {
		switch {
		case bytes.Equal(got[i:i+fb], clip[j:j+fb]):
			j += fb
			inGap = false
		case binary.LittleEndian.Uint32(got[i:]) == 0:
			if !inGap {
				gaps++
				t.Logf("gap at clip frame %d (capture byte %d, first %d)", j/fb, i, first)
			}
			inGap = true
		default:
			fmt.Printf("RESULT corrupt: frame %d of the clip differs\n", j/fb)
			t.Fatalf("captured frame at byte %d differs from clip frame %d", i, j/fb)
		}
	}
	if j < len(clip) && gaps == 0 {
		fmt.Printf("RESULT corrupt: capture ends at clip frame %d\n", j/fb)
		t.Fatalf("capture ends at clip frame %d of %d", j/fb, len(clip)/fb)
	}
	if gaps > 0 {
		fmt.Printf("RESULT gaps %d (stats: %v)\n", gaps, st.Stats())
		t.Fatalf("%d silence gaps inside the clip", gaps)
	}
	for i, b := range got[first+len(clip):] {
		if b != 0 {
			fmt.Printf("RESULT corrupt: non-silence after the clip\n")
			t.Fatalf("non-silence %d bytes after the clip", i)
		}
	}
	if s := st.Stats(); s.UnderrunFrames != 0 {
		t.Errorf("underruns counted although the capture is exact: %v", s)
	}
	fmt.Println("RESULT exact")
}

// firstSound is the byte offset of the first non-zero S16 stereo frame, or -1.
func firstSound(p []byte) int {
	for i := 0; i+4 <= len(p); i += 4 {
		if binary.LittleEndian.Uint32(p[i:]) != 0 {
			return i
		}
	}
	return -1
}

const helperEnv = "GEMU_OTOSINK_FALLBACK_HELPER"

// With no audio device at all, -audiodev oto prints one line naming the
// wav alternative and the machine keeps running with the none sink. Runs in
// a child process because oto allows one context per process.
func TestOtoFallbackNoDevice(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		fallbackHelper()
		return
	}
	out, err := runChild(t, "^TestOtoFallbackNoDevice$", helperEnv+"=1", "ALSA_CONFIG_PATH="+filepath.Join(t.TempDir(), "none.conf"))
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	var stderr, stdout strings.Builder
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "gemu: ") || strings.HasPrefix(l, "ALSA lib"):
			stderr.WriteString(l + "\n")
		default:
			stdout.WriteString(l + "\n")
		}
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "gemu: audiodev snd0: no sound output") ||
		!strings.Contains(lines[0], "-audiodev wav,id=snd0,path=") {
		t.Errorf("stderr should be the one fallback line, got:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "HELPER OK") {
		t.Errorf("helper did not finish:\n%s", stdout.String())
	}
	t.Logf("fallback: %s", lines[0])
}

func fallbackHelper() {
	var icount uint64
	clk := clock.NewDeterministic(0, func() uint64 { return icount })
	a, err := audio.Open("oto,id=snd0", clk)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	st, err := a.NewOutput("pcm", audio.Spec{Freq: 44100, Format: audio.S16LE, Channels: 2})
	if err != nil {
		fmt.Println("output:", err)
		os.Exit(1)
	}
	total := 0
	for range 200 {
		total += st.Write(make([]byte, 4*st.Free()))
		icount += 5_000_000
		clk.RunDue()
	}
	if total < 44100 {
		fmt.Println("guest starved: frames accepted", total)
		os.Exit(1)
	}
	if err := a.Close(); err != nil {
		fmt.Println("close:", err)
		os.Exit(1)
	}
	fmt.Println("HELPER OK", a.Options().Driver)
}
