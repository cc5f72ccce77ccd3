// Command soak runs gemu's guests in real time for a long while and
// reports what would show a leak or a pacing problem as a trend: RSS and
// Go heap over time, the goroutine count, and audio underruns (issue 10).
//
//	go run ./tests/soak                       # the demo, 10 minutes
//	go run ./tests/soak -guest linux -minutes 10
//	go run ./tests/soak -guest both -minutes 2 -every 10s
//
// The machines run in this process (package machine, as cmd/gemu builds
// them), so the goroutine count is gemu's own. Audio goes to a "none"
// audiodev with stats=on, paced in real time like the speakers; its
// per-voice summary is printed when each run ends.
//
// The demo (guests.Demo, about 15 s of music on AC97, virtio-sound and
// ivshmem) is started again whenever it powers off, so that a soak also
// covers building and tearing down machines. The Linux guest is the one
// tests/linux builds (cached under $XDG_CACHE_HOME/gemu/linux; -kernel and
// -initrd override), booted into its shell with an AC97, where it plays
// /wav/s16-48000.wav in a loop; the tool does not build it.
//
// The underrun columns count what the voices saw while the guest ran
// (sampled every 100 ms); the stats=on summary printed at the end of each
// run is the complete account (it includes the drain after the run
// stopped).
//
// Every -every the tool prints a row: elapsed, RSS, live Go heap (after a
// GC; it includes guest RAM, which RSS holds only once touched), goroutines,
// underrun events and frames so far (summed over the voices of the
// machine running then), and machine runs. At the end it prints the RSS
// and heap slopes (least squares over the samples after the first
// minute) and the goroutine range.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gemu/devices/audio"
	"gemu/guests"
	"gemu/machine"
	"gemu/qemuopt"
)

type sample struct {
	t          time.Duration
	rss, heap  uint64
	goroutines int
	underEv    uint64
	underFr    uint64
	runs       int64
}

// counters is what the emulation goroutine publishes for the sampler.
type counters struct {
	underEv, underFr atomic.Uint64
	runs             atomic.Int64
	want             atomic.Bool
}

func main() {
	guest := flag.String("guest", "demo", "demo, linux or both (one after the other)")
	minutes := flag.Float64("minutes", 10, "real-time minutes per guest")
	every := flag.Duration("every", 30*time.Second, "sampling interval")
	kernel := flag.String("kernel", "", "Linux kernel (default: newest vmlinux in the tests/linux cache)")
	initrd := flag.String("initrd", "", "Linux initrd (default: newest initrd in the tests/linux cache)")
	flag.Parse()
	var guestsToRun []string
	switch *guest {
	case "demo", "linux":
		guestsToRun = []string{*guest}
	case "both":
		guestsToRun = []string{"demo", "linux"}
	default:
		fatal(fmt.Errorf("-guest %s: want demo, linux or both", *guest))
	}
	dur := time.Duration(*minutes * float64(time.Minute))
	for _, g := range guestsToRun {
		var mk func(*counters) (machine.Config, func(*machine.Machine, *bytes.Buffer), error)
		if g == "demo" {
			mk = demoConfig
		} else {
			k, i, err := linuxImages(*kernel, *initrd)
			if err != nil {
				fatal(err)
			}
			mk = func(c *counters) (machine.Config, func(*machine.Machine, *bytes.Buffer), error) {
				return linuxConfig(k, i)
			}
		}
		fmt.Printf("soak: %s for %v in real time, a sample every %v\n", g, dur, *every)
		samples := soak(mk, dur, *every)
		report(g, samples)
	}
}

// demoConfig is cmd/gemu's demo (cmd/gemu/demo.go: the demo's own
// globals, objects and devices) on a none audiodev.
func demoConfig(*counters) (machine.Config, func(*machine.Machine, *bytes.Buffer), error) {
	cfg := machine.Config{
		BIOS: "none", Kernel: "(demo)", KernelData: guests.Demo,
		Audiodevs: qemuopt.MustParseFlag("-audiodev", "none,id="+guests.DemoAudiodev+",stats=on"),
		Globals:   qemuopt.MustParseFlag("-global", guests.DemoGlobals...),
		Objects:   qemuopt.MustParseFlag("-object", guests.DemoObjects...),
		Devices:   qemuopt.MustParseFlag("-device", guests.DemoDevices...),
	}
	return cfg, nil, nil
}

// linuxConfig boots tests/linux's guest into its shell and, at the
// prompt, starts playing in a loop.
func linuxConfig(kernel, initrd string) (machine.Config, func(*machine.Machine, *bytes.Buffer), error) {
	cfg := machine.Config{
		RAMSize: 512 << 20, BIOS: machine.DefaultBIOS, Kernel: kernel, Initrd: initrd,
		Append:    "console=ttyS0 earlycon gemu.scenario=shell",
		Audiodevs: qemuopt.MustParseFlag("-audiodev", "none,id=snd0,stats=on"),
		Devices:   qemuopt.MustParseFlag("-device", "AC97,audiodev=snd0"),
	}
	started := false
	poll := func(m *machine.Machine, console *bytes.Buffer) {
		if !started && strings.Contains(console.String(), "gemu# ") {
			started = true
			m.SendInput([]byte("amixer -q -c 0 sset Master 100% unmute; amixer -q -c 0 sset PCM 100% unmute; " +
				"while :; do aplay -q -D hw:0,0 /wav/s16-48000.wav; done\n"))
		}
	}
	return cfg, poll, nil
}

// syncBuffer is a console buffer the sampler may read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // keep the tail only
		tail := append([]byte(nil), s.b.Bytes()[s.b.Len()-64<<10:]...)
		s.b.Reset()
		s.b.Write(tail)
	}
	return s.b.Write(p)
}

func (s *syncBuffer) snapshot() *bytes.Buffer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.NewBuffer(append([]byte(nil), s.b.Bytes()...))
}

// soak runs machines from mk back to back until dur has passed, sampling.
func soak(mk func(*counters) (machine.Config, func(*machine.Machine, *bytes.Buffer), error), dur, every time.Duration) []sample {
	var c counters
	start := time.Now()
	deadline := start.Add(dur)
	var samples []sample
	done := make(chan struct{})
	go func() { // the machines
		defer close(done)
		for time.Now().Before(deadline) {
			// Free the last machine's RAM first: otherwise the new one
			// reuses it and Go zeroes it, making all of it resident.
			debug.FreeOSMemory()
			cfg, poll, err := mk(&c)
			if err != nil {
				fatal(err)
			}
			console := &syncBuffer{}
			cfg.Console = console
			m, err := machine.New(cfg)
			if err != nil {
				fatal(err)
			}
			c.runs.Add(1)
			// Underruns: the totals of voices gone (earlier runs, and
			// voices closed and reopened in this one) plus the live
			// voices' counts, followed every 100 ms on the emulation
			// goroutine, so a voice that closes loses at most its last
			// 100 ms.
			base := [2]uint64{c.underEv.Load(), c.underFr.Load()}
			seen := map[*audio.Stream]audio.Stats{}
			var lastCount time.Time
			count := func() {
				lastCount = time.Now()
				live := map[*audio.Stream]bool{}
				for _, a := range m.Audiodevs {
					for _, s := range a.Streams() {
						live[s] = true
						seen[s] = s.Stats()
					}
				}
				ev, fr := base[0], base[1]
				for s, st := range seen {
					ev += st.UnderrunEvents
					fr += st.UnderrunFrames
					if !live[s] { // gone: fold into base
						base[0] += st.UnderrunEvents
						base[1] += st.UnderrunFrames
						delete(seen, s)
					}
				}
				c.underEv.Store(ev)
				c.underFr.Store(fr)
			}
			var lastPoll time.Time
			m.OnPoll(func() { // emulation goroutine
				if c.want.Swap(false) || time.Since(lastCount) > 100*time.Millisecond {
					count()
				}
				if poll != nil && time.Since(lastPoll) > 500*time.Millisecond {
					lastPoll = time.Now()
					poll(m, console.snapshot())
				}
			})
			stop := time.AfterFunc(time.Until(deadline), m.Stop)
			ex, err := m.Run()
			stop.Stop()
			count() // closed audiodevs list no voice: what was seen stays
			if err != nil {
				fmt.Fprintf(os.Stderr, "soak: run %d: %v (%+v)\n", c.runs.Load(), err, ex)
				fmt.Fprintf(os.Stderr, "soak: console tail:\n%s\n", tail(console.snapshot().String(), 20))
				return
			}
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	fmt.Printf("%8s %9s %9s %10s %12s %14s %5s\n", "elapsed", "RSS MiB", "heap MiB", "goroutines", "underruns", "underrun fr", "runs")
	take := func() {
		c.want.Store(true)
		time.Sleep(50 * time.Millisecond) // let the emulation goroutine publish
		// Collect and give freed memory back to the OS, so that heap and
		// RSS follow live memory: a leak, not garbage, makes a slope. (A
		// new machine's RAM reuses a freed one's, which Go must zero:
		// without this each restart of the demo left RSS 128 MiB higher.)
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := sample{t: time.Since(start), rss: rss(), heap: ms.HeapAlloc, goroutines: runtime.NumGoroutine(),
			underEv: c.underEv.Load(), underFr: c.underFr.Load(), runs: c.runs.Load()}
		samples = append(samples, s)
		fmt.Printf("%8s %9.1f %9.1f %10d %12d %14d %5d\n", s.t.Round(time.Second), mib(s.rss), mib(s.heap),
			s.goroutines, s.underEv, s.underFr, s.runs)
	}
	for {
		select {
		case <-done:
			if len(samples) == 0 {
				take()
			}
			return samples
		case <-tick.C:
			if time.Now().Before(deadline) { // not while the last run closes
				take()
			}
		}
	}
}

func report(guest string, ss []sample) {
	if len(ss) == 0 {
		return
	}
	var xs, rs, hs []float64
	gmin, gmax := ss[0].goroutines, ss[0].goroutines
	for _, s := range ss {
		gmin, gmax = min(gmin, s.goroutines), max(gmax, s.goroutines)
		if s.t < time.Minute && ss[len(ss)-1].t >= 2*time.Minute {
			continue // warm-up
		}
		xs = append(xs, s.t.Minutes())
		rs = append(rs, mib(s.rss))
		hs = append(hs, mib(s.heap))
	}
	last := ss[len(ss)-1]
	fmt.Printf("soak: %s: %d runs in %v; RSS %.1f MiB at the end, slope %+.2f MiB/min; heap slope %+.2f MiB/min; goroutines %d..%d; underruns %d events, %d frames\n",
		guest, last.runs, last.t.Round(time.Second), mib(last.rss), slope(xs, rs), slope(xs, hs), gmin, gmax, last.underEv, last.underFr)
	// A guest that takes more than the first minute to settle (Linux
	// booting on a loaded host) tilts the whole-run slope; a leak keeps
	// its slope in the second half too.
	if h := len(xs) / 2; len(xs)-h >= 3 {
		fmt.Printf("soak: %s: second half (from %.1f min): RSS slope %+.2f MiB/min, heap slope %+.2f MiB/min\n",
			guest, xs[h], slope(xs[h:], rs[h:]), slope(xs[h:], hs[h:]))
	}
}

// slope is the least-squares slope of y over x (0 with fewer than 2 points).
func slope(x, y []float64) float64 {
	n := float64(len(x))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// rss is this process's resident set (VmRSS in /proc/self/status).
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// linuxImages finds tests/linux's kernel and the newest initrd in its
// cache unless given.
func linuxImages(kernel, initrd string) (string, string, error) {
	if kernel != "" && initrd != "" {
		return kernel, initrd, nil
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	dir := filepath.Join(cache, "gemu", "linux")
	newest := func(pattern string) string {
		ms, _ := filepath.Glob(filepath.Join(dir, "*", pattern))
		sort.Slice(ms, func(i, j int) bool { return mtime(ms[i]).After(mtime(ms[j])) })
		if len(ms) == 0 {
			return ""
		}
		return ms[0]
	}
	if kernel == "" {
		kernel = newest("kernel/boot/vmlinux-*")
	}
	if initrd == "" {
		initrd = newest("initrd-*.cpio.gz")
	}
	if kernel == "" || initrd == "" {
		return "", "", fmt.Errorf("no Linux guest in %s: run go test ./tests/linux once (it builds one), or give -kernel and -initrd", dir)
	}
	return kernel, initrd, nil
}

func mtime(p string) time.Time {
	fi, err := os.Stat(p)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "soak:", err)
	os.Exit(2)
}
