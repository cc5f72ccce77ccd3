// Package realtime measures the main job (the embedded demo guest playing
// three voices through AC97, virtio-sound and ivshmem into one oto
// audiodev) as a user's sound card hears it, and explains what it heard.
//
// The sound card is alsa-lib's "file" PCM plugin (ALSA's default PCM is a
// plug into it; its file is the write end of a small blocking pipe, as in
// devices/audio/otosink/alsa_test.go), drained by a thread of this process
// at exactly 48000 frames/s: the DAC clock. The thread takes one ALSA
// period at a time, or two back to back (as a card whose interrupts come
// every other period), optionally with stress-ng loading every CPU. The
// drained stream is decomposed (Decompose) against the per-voice files of
// a deterministic (-icount) run of the same guest: for every voice, where
// it started, every run of silence inside it, and whether its end came out;
// plus the latency from the guest's first DMA (gemu's stats.csv) to the
// first sound written by the file plugin, without the pipe's buffering.
//
// The table of every combination: go run ./tests/realtime/cmd/rttable.
// TestDemoRealtime is its short CI form.
package realtime

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"gemu/guests"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gemu/devices/audio"
	"gemu/tests/pcm"
	"gemu/tests/rig"
)

// Rate is the demo's sample rate (frames per second), and of the sink.
const (
	Rate       = 48000
	frameBytes = 4
	byteRate   = Rate * frameBytes
)

// DefaultBuffer is oto's player buffer when out.buffer-length is not given
// (otosink.DefaultPlayerBuffer).
const DefaultBuffer = 50 * time.Millisecond

// alsaPeriod is the ALSA period oto configures for a player buffer: its
// context buffer is min(20 ms, buffer) in two periods (otosink.context).
func alsaPeriod(buffer time.Duration) time.Duration {
	return min(20*time.Millisecond, buffer) / 2
}

// demoDevices are the main job's devices (the demo's own list), given
// explicitly because an explicit -audiodev keeps the demo from adding its
// own. The audiodev is called "rt", not "demo": gemu then opens it as any
// -audiodev (the demo's opener would fall back to a WAV file instead of
// failing when oto cannot play).
var demoDevices = func() []string {
	var args []string
	for _, g := range guests.DemoGlobals {
		args = append(args, "-global", g)
	}
	for _, o := range guests.DemoObjects {
		args = append(args, "-object", o)
	}
	for _, d := range guests.DemoDevices {
		args = append(args, "-device", strings.ReplaceAll(d, "audiodev="+guests.DemoAudiodev, "audiodev=rt"))
	}
	return args
}()

// Reference runs the demo deterministically (-icount) into per-stream WAV
// files in dir and returns each voice's frames, by voice name.
func Reference(gemu, dir string) (names []string, refs [][]pcm.Frame, err error) {
	path := filepath.Join(dir, "ref.wav")
	args := append([]string{"-icount", "shift=auto",
		"-audiodev", "wav,id=rt,path=" + path + ",out.frequency=48000,out.format=s16,out.channels=2,per-stream=on"},
		demoDevices...)
	out, err := exec.Command(gemu, args...).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("gemu demo: done")) {
		return nil, nil, fmt.Errorf("reference run: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ref-*.wav"))
	sort.Strings(files)
	for _, f := range files {
		spec, data, err := audio.ReadWAVFile(f)
		if err != nil {
			return nil, nil, err
		}
		if spec != (audio.Spec{Freq: Rate, Format: audio.S16LE, Channels: 2}) {
			return nil, nil, fmt.Errorf("%s: %v, want 48 kHz s16 stereo", f, spec)
		}
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "ref-"), ".wav"))
		refs = append(refs, pcm.Frames(data))
	}
	if len(refs) != 3 {
		return nil, nil, fmt.Errorf("reference run made %d voice files, want 3: %v", len(refs), files)
	}
	return names, refs, nil
}

// Config is one real-time run.
type Config struct {
	Gemu    string        // the gemu binary
	Dir     string        // scratch directory
	Buffer  time.Duration // oto's player buffer (out.buffer-length); 0: DefaultBuffer
	Periods int           // ALSA periods the DAC takes at once: 1 or 2
	Load    int           // stress-ng --cpu workers running meanwhile (0: none)
	// Log, if set, is a file the run writes its DAC log to: one line per
	// chunk the DAC thread took (host CLOCK_MONOTONIC ns, stream byte
	// offset, bytes in the pipe before the read, bytes read), for lining
	// up with a trace of gemu (GEMU_TRACE, go tool trace).
	Log string
	// Env is extra environment for gemu (e.g. GEMU_TRACE=FILE).
	Env []string
	// Control plays the voices' reference mix with aplay (alsa-utils)
	// instead of running gemu: the same card, buffer sizes and load with
	// a plain C writer thread, to tell the harness's faults and the
	// host's from gemu's.
	Control bool
	// RT is gemu's -audiodev rt= value: "" or "on" (the default: host
	// audio threads at nice -11), "fifo" (SCHED_FIFO 10) or "off"
	// (package rtsched).
	RT string
}

// Result is what one run's listener heard.
type Result struct {
	Config
	Decomposition
	// Latency is from the guest's first DMA (the earliest first frame
	// written into any voice, gemu's stats.csv first_write_ns, host
	// CLOCK_MONOTONIC) to the first sound entering the pipe, i.e. being
	// written by ALSA's file plugin, the point where a sound card's buffer
	// takes it: the pipe's own buffering (up to a page, 21 ms) is not
	// counted. LatencyDrained is to the first sound drained by the DAC
	// thread, the pipe included. FromConsole is set when gemu wrote no
	// first_write_ns and both were measured from the guest's "playing"
	// console line instead (later than the first DMA by the console's
	// path, so shorter).
	Latency, LatencyDrained time.Duration
	FromConsole             bool
	// Stalls counts times the drain thread itself ran more than a period
	// late (the harness starved of CPU: the run's dropouts may be the
	// harness's).
	Stalls int
	// Late counts reads of the drain thread that came more than lateSlack
	// after their time (Stalls included); the reads after one are caught
	// up by at most lateSlack each, never coming early for the writer.
	Late int
	// OtherCPU is the CPU time, in cores on average over the run, that
	// processes other than gemu and this one used: a run with more than a
	// fraction of a core did not take place on an idle machine.
	OtherCPU float64
	// Xruns counts runs of chunks the pipe could not fill when the DAC
	// took them (silence the card played) before the music's last sound,
	// XrunFrames their frames; XrunAt is when each began, from the DAC's
	// start. (The pipe running dry after the last sound, while gemu plays
	// out and exits, was counted before: one xrun in clean runs.)
	Xruns, XrunFrames int
	XrunAt            []time.Duration
	// RealTime says the DAC thread ran SCHED_FIFO (root or RLIMIT_RTPRIO).
	RealTime bool
	// LoadCPU is the CPU time the stress-ng workers used, in cores on
	// average over the run; LoadAlive that all of them were still running
	// when gemu exited. LoadMissing says the run asked for a load it did
	// not get (a worker died, or they used less than a quarter core each).
	LoadCPU     float64
	LoadAlive   bool
	LoadMissing bool
	// Stats is gemu's stats=on summary; SinkSilence its host sink line's
	// underruns (silence gemu knows the host played).
	Stats, SinkSilence string
	Console, Stderr    string
	Drained            int // frames
	Wall               time.Duration
}

// busyCPU is the CPU time all processors have spent not idle since boot
// (/proc/stat).
func busyCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: %q", line)
	}
	var busy int64
	for i, x := range f[1:8] {
		var v int64
		fmt.Sscan(x, &v)
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return time.Duration(busy) * time.Second / 100, nil // USER_HZ
}

// OtherCPU samples, over d, the CPU time that processes other than this
// one use, in cores on average (/proc/stat's busy time less this
// process's own user and system time). Unlike the load average, which
// decays over minutes, it says whether the machine is busy now.
func OtherCPU(d time.Duration) (float64, error) {
	var self0, self1 unix.Rusage
	b0, err := busyCPU()
	if err != nil {
		return 0, err
	}
	unix.Getrusage(unix.RUSAGE_SELF, &self0)
	start := time.Now()
	time.Sleep(d)
	b1, err := busyCPU()
	if err != nil {
		return 0, err
	}
	unix.Getrusage(unix.RUSAGE_SELF, &self1)
	ours := time.Duration(self1.Utime.Nano() + self1.Stime.Nano() - self0.Utime.Nano() - self0.Stime.Nano())
	return max(0, (b1-b0-ours).Seconds()/time.Since(start).Seconds()), nil
}

// IdleCPU is the most CPU other processes may use (cores, OtherCPU) for a
// run to count as on an idle machine.
const IdleCPU = 0.25

// Settle waits until OtherCPU, sampled over 2 s at a time, is at most
// IdleCPU, or until limit has passed. It returns the last sample and
// whether the machine settled.
func Settle(limit time.Duration) (float64, bool, error) {
	deadline := time.Now().Add(limit)
	for {
		c, err := OtherCPU(2 * time.Second)
		if err != nil || c <= IdleCPU {
			return c, err == nil, err
		}
		if time.Now().After(deadline) {
			return c, false, nil
		}
	}
}

// eof reports whether the pipe is empty and its writer gone.
func eof(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	k, _ := unix.Poll(fds, 0)
	return k > 0 && fds[0].Revents&unix.POLLHUP != 0 && fds[0].Revents&unix.POLLIN == 0
}

// sleepUntil sleeps the calling thread until t in the kernel
// (clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME), without Go's timers:
// time.Sleep's wake-up passes through the runtime's timer handling on
// ordinary threads, so under CPU load a SCHED_FIFO thread waiting in it
// woke 5-20 ms late (harness stalls in rttable's cpu2 rows). As an
// ordinary system call (not a raw one, which the runtime sees as a
// goroutine running for the whole playback and preempts every 10 ms, a
// hand-off through ordinary threads that made 11-21 stalls per 10 ms run
// on an idle machine), the thread leaves it on its own: the runtime
// leaves a short system call's P alone while another is idle.
func sleepUntil(t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	ts := unix.NsecToTimespec(monoNow() + int64(d))
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}

// lateSlack is how much sooner than a chunk's time after the previous
// read the drain thread may read again to catch up lateness (see Run):
// it costs the writer at most that much of its period (it refills the
// pipe within 0.1 ms of being woken).
const lateSlack = time.Millisecond

// xrun is a run of chunks the pipe could not fill: when it began (from
// the DAC's start), where in the stream, and the silence it inserted.
type xrun struct {
	at    time.Duration
	off   int64
	bytes int
}

// pipeSlot is the size of one slot of the DAC's packet-mode pipe: a page,
// the most one packet holds (longer writes are split into pages).
const pipeSlot = 4096

// chunk is one read of the drain thread.
type chunk struct {
	off  int64 // stream offset (bytes)
	at   time.Time
	mono int64 // at, as host CLOCK_MONOTONIC ns
	fill int   // bytes in the pipe just before the read
	got  int   // bytes read
}

// startLoad starts stress-ng with n CPU workers in a process group of its
// own (rig.Command: killed whole, and by the kernel if this process
// dies) and waits until every worker runs. It returns the command and
// the group's CPU time by then.
func startLoad(n int) (*exec.Cmd, time.Duration, error) {
	if _, err := exec.LookPath("stress-ng"); err != nil {
		return nil, 0, fmt.Errorf("load needs stress-ng: %v", err)
	}
	st := rig.Command("stress-ng", "--cpu", fmt.Sprint(n), "--timeout", "300s", "--quiet")
	if err := st.Start(); err != nil {
		return nil, 0, err
	}
	// Ready: the parent and n workers exist and have used CPU.
	deadline := time.Now().Add(5 * time.Second)
	for {
		k, used := groupCPU(st.Process.Pid)
		if k >= n+1 && used > time.Duration(n)*50*time.Millisecond {
			return st, used, nil
		}
		if time.Now().After(deadline) {
			rig.KillGroup(st)
			st.Wait()
			return nil, 0, fmt.Errorf("stress-ng --cpu %d: %d processes, %v of CPU after 5 s", n, k, used)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// groupCPU counts the live (not zombie) processes of process group pgid
// and sums the CPU time (user and system) they have used, from /proc.
func groupCPU(pgid int) (live int, used time.Duration) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		// state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
		if len(f) < 13 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if f[0] != "Z" && f[0] != "X" {
			live++
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		used += time.Duration(u+s) * time.Second / 100 // USER_HZ
	}
	return live, used
}

// Run plays the demo once on the file-plugin sound card and decomposes
// what came out against refs.
func Run(cfg Config, names []string, refs [][]pcm.Frame) (Result, error) {
	res := Result{Config: cfg}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.Periods <= 0 {
		cfg.Periods = 1
	}
	res.Config = cfg
	// The drain goroutine must run on time. With GOMAXPROCS = 2 a GC cycle
	// (a mark worker on one P, the console reader on the other) kept it
	// waiting for a P for 10-20 ms just as gemu exited, which the run
	// counted as a harness stall and a card xrun. No collection while the
	// DAC runs: the stream is allocated up front, and what else the harness
	// allocates in one run is a few MB.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	longest := 0
	for _, r := range refs {
		longest = max(longest, len(r))
	}
	period := alsaPeriod(cfg.Buffer)
	chunkBytes := int(int64(byteRate)*int64(period)/int64(time.Second)) / frameBytes * frameBytes * cfg.Periods

	// The pipe is the card's DMA side: it must free room a period at a
	// time, as a card does. A byte-stream pipe does not: Linux appends to
	// its last page and frees a page only when the reader has taken all of
	// it, so with a one-page pipe (21 ms here) the writer woke every 21 ms
	// and then wrote four periods at once, and the sound waited 0-21 ms
	// more for its turn (latency 17-36 ms at 10 ms buffers, spread by the
	// harness alone). A packet-mode pipe (O_DIRECT, pipe(2)) keeps each
	// write in a slot of its own, and a slot is freed when its packet is
	// read: with one slot per period the DAC takes at once, the writer is
	// woken by every read, as by a card's period interrupt. ALSA's file
	// plugin writes a period per write (what exceeds its one-buffer hold),
	// and a period is at most 10 ms, 1,920 bytes: under a page.
	fds := make([]int, 2)
	if err := unix.Pipe2(fds, unix.O_CLOEXEC|unix.O_DIRECT); err != nil { // blocking
		return res, err
	}
	rfd, wfd := fds[0], fds[1]
	if _, err := unix.FcntlInt(uintptr(wfd), unix.F_SETPIPE_SZ, pipeSlot*cfg.Periods); err != nil {
		return res, fmt.Errorf("F_SETPIPE_SZ: %v", err)
	}
	wf := os.NewFile(uintptr(wfd), "pipe-w")
	rf := os.NewFile(uintptr(rfd), "pipe-r")
	defer rf.Close()
	const sysConf = "/usr/share/alsa/alsa.conf"
	if _, err := os.Stat(sysConf); err != nil {
		wf.Close()
		return res, fmt.Errorf("no ALSA configuration (%v)", err)
	}
	conf := filepath.Join(cfg.Dir, "asound.conf")
	// The child gets the pipe as file descriptor 3 (ExtraFiles).
	alsa := fmt.Sprintf("<%s>\npcm.!default { type plug; slave { pcm \"gemucap\"; format S16_LE; rate %d; channels 2 } }\npcm.gemucap { type file; slave.pcm \"null\"; file 3; format \"raw\" }\n", sysConf, Rate)
	if err := os.WriteFile(conf, []byte(alsa), 0o644); err != nil {
		wf.Close()
		return res, err
	}

	// The DAC: once the pipe holds a chunk (ALSA's start threshold), it
	// takes a chunk every chunk's time, never waiting for data. A chunk the
	// pipe cannot fill is played with silence for the rest, as a sound card
	// whose buffer ran dry plays silence (an xrun): the writer's later
	// frames play later.
	if err := unix.SetNonblock(rfd, true); err != nil {
		wf.Close()
		return res, err
	}
	var (
		stream   = make([]byte, 0, (longest+2*Rate)*frameBytes) // the piece and 2 s
		chunks   = make([]chunk, 0, (longest+2*Rate)*frameBytes/chunkBytes+16)
		stalls   int
		xrs      []xrun
		lates    int
		dacStart time.Time
		drained  = make(chan struct{})
		ready    = make(chan bool)
	)
	go func() {
		defer close(drained)
		// The thread is never unlocked: it ends with this goroutine. Its
		// real-time policy must not outlive the run. (Unlocked, it went
		// back to the runtime's pool still SCHED_FIFO, and later runs of
		// the same process forked gemu and stress-ng from it: children
		// inherit the policy, so gemu's emulation or the load ran as a
		// real-time task.) SCHED_RESET_ON_FORK guards the same from
		// this thread itself.
		runtime.LockOSThread()
		// A real-time thread where allowed (root or RLIMIT_RTPRIO).
		ready <- unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO,
			Priority: 50, Flags: unix.SCHED_FLAG_RESET_ON_FORK}, 0) == nil
		buf := make([]byte, chunkBytes)
		packet := make([]byte, pipeSlot)
		carry := make([]byte, 0, pipeSlot)
		chunkDur := time.Duration(int64(chunkBytes) * int64(time.Second) / byteRate)
		var start, last time.Time
		var total int64
		short := false
		for {
			if start.IsZero() {
				// Not started: wait for the first chunk (or the end).
				time.Sleep(period / 4)
				if fill, _ := unix.IoctlGetInt(rfd, unix.TIOCINQ); fill < chunkBytes {
					if eof(rfd) {
						return
					}
					continue
				}
				start = time.Now()
				dacStart = start
			} else {
				due := start.Add(time.Duration(total * int64(time.Second) / byteRate))
				// A real card frees a chunk of its buffer every chunk's
				// time, and the writer has that long to fill it. A read
				// that came late freed its chunk late: reading the next
				// one on schedule would give the writer less than a
				// chunk's time (traces of runs under load showed most
				// "card xruns" were that: a read late by 5-10 ms, the next
				// one 20 us after it finding the pipe empty). So no read
				// comes sooner than a chunk's time less lateSlack after
				// the previous one: lateness is caught up by at most
				// lateSlack a chunk, and the card keeps its rate on
				// average (gemu's host-queue estimate assumes it does).
				if !last.IsZero() {
					if earliest := last.Add(chunkDur - lateSlack); due.Before(earliest) {
						due = earliest
					}
				}
				sleepUntil(due)
				if late := time.Since(due); late > lateSlack {
					lates++
					// Late by more than a period is the harness starved
					// of CPU: a stall, whose debt is dropped.
					if late > period {
						stalls++
						start = start.Add(late)
					}
				}
			}
			now := time.Now()
			last = now
			mono := monoNow()
			fill, _ := unix.IoctlGetInt(rfd, unix.TIOCINQ) // FIONREAD
			fill += len(carry)
			// A read returns one packet and drops what does not fit in
			// the buffer, so read into a slot-sized one; a packet that
			// ends past the chunk is kept for the next chunk.
			got, end := copy(buf, carry), false
			carry = carry[:copy(carry, carry[got:])]
			for got < chunkBytes {
				n, err := unix.Read(rfd, packet)
				if n > 0 {
					c := copy(buf[got:], packet[:n])
					carry = append(carry, packet[c:n]...)
					got += c
					continue
				}
				if err == unix.EINTR {
					continue
				}
				end = err == nil // 0 bytes, no error: the writer has exited
				break
			}
			got = got / frameBytes * frameBytes
			chunks = append(chunks, chunk{off: int64(len(stream)), at: now, mono: mono, fill: fill, got: got})
			stream = append(stream, buf[:got]...)
			if end {
				return
			}
			if got < chunkBytes {
				if !short {
					xrs = append(xrs, xrun{at: now.Sub(dacStart), off: int64(len(stream))})
				}
				xrs[len(xrs)-1].bytes += chunkBytes - got
				stream = append(stream, make([]byte, chunkBytes-got)...)
			}
			short = got < chunkBytes
			total += int64(chunkBytes)
		}
	}()
	// Children are started once the DAC thread is locked to its goroutine,
	// so none is forked from it.
	res.RealTime = <-ready

	var load *exec.Cmd
	var load0 time.Duration
	if cfg.Load > 0 {
		var err error
		load, load0, err = startLoad(cfg.Load)
		if err != nil {
			wf.Close()
			return res, err
		}
		defer func() { rig.KillGroup(load); load.Wait() }()
	}

	statsCSV := filepath.Join(cfg.Dir, "stats.csv")
	rt := cmp.Or(cfg.RT, "on")
	args := append([]string{"-audiodev", fmt.Sprintf("oto,id=rt,out.frequency=%d,out.format=s16,out.channels=2,out.buffer-length=%d,stats=on,stats.csv=%s,rt=%s",
		Rate, cfg.Buffer.Microseconds(), statsCSV, rt)}, demoDevices...)
	cmd := rig.Command(cfg.Gemu, args...)
	if cfg.Control {
		raw := filepath.Join(cfg.Dir, "mix.raw")
		if err := os.WriteFile(raw, referenceMix(refs), 0o644); err != nil {
			wf.Close()
			return res, err
		}
		// aplay's writer at oto's ALSA sizes: min(20 ms, buffer) in two
		// periods, writing to ALSA's default PCM (the plug into the card),
		// from descriptor 3 as gemu would.
		ctx := 2 * period
		cmd = rig.Command("aplay", "-q", "-t", "raw", "-f", "S16_LE", "-r", fmt.Sprint(Rate), "-c", "2",
			"--buffer-time", fmt.Sprint(ctx.Microseconds()), "--period-time", fmt.Sprint(period.Microseconds()), raw)
	}
	cmd.Env = append(append(os.Environ(), "ALSA_CONFIG_PATH="+conf, "HOME="+cfg.Dir), cfg.Env...)
	cmd.ExtraFiles = []*os.File{wf}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		wf.Close()
		return res, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	begin := time.Now()
	begin0 := monoNow() // begin on CLOCK_MONOTONIC, gemu's first_write_ns clock
	busy0, _ := busyCPU()
	var self0 unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &self0)
	if err := cmd.Start(); err != nil {
		wf.Close()
		return res, err
	}
	wf.Close() // the child holds the write end: EOF when it exits
	var playing time.Time
	var console strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if playing.IsZero() && strings.HasPrefix(line, "gemu demo: playing") {
			playing = time.Now()
		}
		console.WriteString(line + "\n")
	}
	werr := cmd.Wait()
	res.Wall = time.Since(begin)
	var loadUsed time.Duration
	if load != nil {
		// The load must have run all along: every worker still alive now,
		// and their CPU time a fair share of the machine.
		n, used := groupCPU(load.Process.Pid)
		loadUsed = used - load0
		res.LoadCPU = loadUsed.Seconds() / res.Wall.Seconds()
		res.LoadAlive = n >= cfg.Load+1
		res.LoadMissing = !res.LoadAlive || res.LoadCPU < 0.25*float64(cfg.Load)
	}
	if busy1, err := busyCPU(); err == nil && cmd.ProcessState != nil {
		var self1 unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &self1)
		ours := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() + loadUsed +
			time.Duration(self1.Utime.Nano()+self1.Stime.Nano()-self0.Utime.Nano()-self0.Stime.Nano())
		res.OtherCPU = max(0, (busy1-busy0-ours).Seconds()/res.Wall.Seconds())
	}
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		return res, errors.New("the pipe did not close after gemu exited")
	}
	res.Console = console.String()
	res.Stderr = stderr.String()
	res.Stats = statsOf(stderr.String())
	res.SinkSilence = sinkLine(res.Stats)
	res.Stalls, res.Late = stalls, lates
	if cfg.Log != "" {
		var b bytes.Buffer
		fmt.Fprintf(&b, "# mono_ns offset fill got (chunk %d bytes, period %v)\n", chunkBytes, period)
		for _, c := range chunks {
			fmt.Fprintf(&b, "%d %d %d %d\n", c.mono, c.off, c.fill, c.got)
		}
		if err := os.WriteFile(cfg.Log, b.Bytes(), 0o644); err != nil {
			return res, err
		}
	}
	if cfg.Control {
		if werr != nil {
			return res, fmt.Errorf("aplay: %v\n%s", werr, stderr.String())
		}
	} else if werr != nil || !strings.Contains(res.Console, "gemu demo: done") {
		return res, fmt.Errorf("gemu: %v\n%s%s", werr, res.Console, stderr.String())
	}
	if !cfg.Control && !strings.Contains(stderr.String(), "audiodev rt (oto") {
		return res, fmt.Errorf("oto did not play (no stats line for it):\n%s", stderr.String())
	}
	mix := pcm.Frames(stream)
	res.Drained = len(mix)
	// Card xruns during the music. The pipe running dry after its last
	// sound, while gemu plays out and exits, is no fault, and one that
	// ends before its first sound (oto writes silence from its start, so
	// the DAC starts before the music) inserts nothing a listener hears:
	// it only delays the music, which the latency shows.
	first, end := int64(0), int64(len(mix))
	for first < end && mix[first] == (pcm.Frame{}) {
		first++
	}
	for end > first && mix[end-1] == (pcm.Frame{}) {
		end--
	}
	for _, x := range xrs {
		if x.off < end*frameBytes && x.off+int64(x.bytes) > first*frameBytes {
			res.Xruns++
			res.XrunFrames += x.bytes / frameBytes
			res.XrunAt = append(res.XrunAt, x.at)
		}
	}
	d, err := Decompose(mix, names, refs)
	res.Decomposition = d
	if err != nil {
		return res, err
	}
	// The start: the guest's first DMA, as a time of this process.
	start := playing
	if fw, err := firstWrite(statsCSV); err == nil && fw != 0 && begin0 != 0 {
		start = begin.Add(time.Duration(fw - begin0))
	} else {
		res.FromConsole = true
	}
	if d.FirstSound >= 0 && !start.IsZero() {
		off := int64(d.FirstSound) * frameBytes
		i := sort.Search(len(chunks), func(i int) bool { return chunks[i].off > off }) - 1
		if i >= 0 {
			c := chunks[i]
			k := off - c.off // bytes ahead of it in its chunk
			res.LatencyDrained = c.at.Add(time.Duration(k * int64(time.Second) / byteRate)).Sub(start)
			// It entered the pipe when the bytes written after it had not
			// been: (fill - k) bytes ago, at the drain rate.
			res.Latency = c.at.Add(-time.Duration((int64(c.fill) - k) * int64(time.Second) / byteRate)).Sub(start)
		}
	}
	return res, nil
}

// referenceMix is the voices' reference frames summed, each from frame 0,
// as S16LE stereo bytes (saturated; the demo's voices do not clip).
func referenceMix(refs [][]pcm.Frame) []byte {
	n := 0
	for _, r := range refs {
		n = max(n, len(r))
	}
	out := make([]byte, n*frameBytes)
	for i := range n {
		var l, r int32
		for _, v := range refs {
			if i < len(v) {
				l += int32(v[i][0])
				r += int32(v[i][1])
			}
		}
		sat := func(x int32) uint16 { return uint16(int16(max(-32768, min(32767, x)))) }
		binary.LittleEndian.PutUint16(out[i*frameBytes:], sat(l))
		binary.LittleEndian.PutUint16(out[i*frameBytes+2:], sat(r))
	}
	return out
}

// monoNow is CLOCK_MONOTONIC in ns (0 if unavailable).
func monoNow() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return ts.Nano()
}

// firstWrite reads gemu's stats.csv and returns the earliest
// first_write_ns of its voices (the host sink's line excluded).
func firstWrite(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return 0, fmt.Errorf("%s: empty", path)
	}
	col := -1
	for i, h := range recs[0] {
		if h == "first_write_ns" {
			col = i
		}
	}
	if col < 0 {
		return 0, fmt.Errorf("%s: no first_write_ns column", path)
	}
	var first int64
	for _, r := range recs[1:] {
		if len(r) <= col || r[0] == audio.SinkName {
			continue
		}
		v, err := strconv.ParseInt(r[col], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %v", path, err)
		}
		if v != 0 && (first == 0 || v < first) {
			first = v
		}
	}
	return first, nil
}

// statsOf returns the stats=on lines of gemu's stderr.
func statsOf(stderr string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(stderr, "\n") {
		switch {
		case strings.HasPrefix(l, "gemu: audiodev "):
			in = true
		case in && strings.HasPrefix(l, "  "):
		default:
			in = false
		}
		if in {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// sinkLine is the host sink's "underruns N (M frames)" from the stats.
func sinkLine(stats string) string {
	for _, l := range strings.Split(stats, "\n") {
		if !strings.Contains(l, audio.SinkName) {
			continue
		}
		if i := strings.Index(l, "underruns "); i >= 0 {
			rest := l[i+len("underruns "):]
			if j := strings.Index(rest, ")"); j >= 0 {
				return rest[:j+1]
			}
		}
	}
	return "?"
}

// Row formats r as a line of the table (Header).
func (r Result) Row() string {
	load := LoadName(r.Load)
	if r.Load > 0 {
		if r.LoadMissing {
			load += "!" // the load was not there all along (LoadMissing)
		}
	}
	var drops, sil, miss []string
	for _, v := range r.Voices {
		drops = append(drops, fmt.Sprint(v.Dropouts))
		sil = append(sil, fmt.Sprintf("%.1f", ms(v.Silence)))
		miss = append(miss, fmt.Sprint(v.Missing))
	}
	mark := " "
	if r.FromConsole {
		mark = "*" // measured from the console line, not the first DMA
	}
	loadCPU := "-"
	if r.Load > 0 {
		loadCPU = fmt.Sprintf("%.2f", r.LoadCPU)
	}
	rt := cmp.Or(r.RT, "on")
	if r.Control {
		rt = "-"
	}
	return fmt.Sprintf("%6v %5s %4d %4s | %-9s %-15s %-9s | %6.2f | %5.1f%s %5.1f | %-18s %-14s %-6d %-6.2f %-5s %.1f",
		r.Buffer, load, r.Periods, rt, strings.Join(drops, "/"), strings.Join(sil, "/"), strings.Join(miss, "/"),
		ms(r.Skew), r.Latency.Seconds()*1000, mark, r.LatencyDrained.Seconds()*1000, r.SinkSilence,
		fmt.Sprintf("%d (%d frames)", r.Xruns, r.XrunFrames), r.Stalls, r.OtherCPU, loadCPU, r.Wall.Seconds())
}

// Clean reports whether the listener heard the whole piece as the guest
// played it: no voice dropped out or was cut, the card never ran dry and
// the voices started within MaxSkew of each other.
func (r Result) Clean() bool {
	for _, v := range r.Voices {
		if v.Dropouts != 0 || v.Silence != 0 || v.Missing != 0 {
			return false
		}
	}
	return r.Xruns == 0 && r.Skew <= MaxSkew
}

// Disturbed reports a run in which the harness's own DAC thread, the
// highest-priority thread of the machine, once ran more than a period
// late (a stall): the machine did not run even that thread, so it may
// not have run gemu's either, and the run measures the host rather than
// gemu. (On the 2-core VM of the figures in docs/time-and-audio.md such
// runs come in spells, idle or not, when the VM's host is busy.)
func (r Result) Disturbed() bool { return r.Stalls > 0 }

// MaxSkew is the most the voices' starts may be apart (frames): 1 ms.
const MaxSkew = Rate / 1000

// Starts says where each voice started, in ms after the first.
func (r Result) Starts() string {
	first := -1
	for _, v := range r.Voices {
		if v.Start >= 0 && (first < 0 || v.Start < first) {
			first = v.Start
		}
	}
	var b strings.Builder
	for _, v := range r.Voices {
		if v.Start >= 0 {
			fmt.Fprintf(&b, " %s +%.2f", v.Name, float64(v.Start-first)*1000/Rate)
		}
	}
	return strings.TrimSpace(b.String())
}

// Header names Row's columns.
func Header(names []string) string {
	return fmt.Sprintf("buffer  load  per   rt | dropouts  silence ms      cut frms  | skew   | lat    lat+  | gemu sink silence  card xruns     stalls others load  wall s\n"+
		"                       | (voices: %s)                   ms: first DMA -> ALSA write, -> drained\n", strings.Join(names, ", "))
}

func ms(frames int) float64 { return float64(frames) * 1000 / Rate }
