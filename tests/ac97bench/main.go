// Command ac97bench measures what playing audio through the AC97 costs the
// host: the CPU time gemu spends running the test driver guest while it
// plays N seconds of 48 kHz stereo into the wav sink, against the same guest
// idling (WFI) for the same N seconds of virtual time.
//
//	go run ./tests/ac97bench                 # deterministic (-icount shift=2), 60 s
//	go run ./tests/ac97bench -realtime       # real time: takes 2 x 60 s of wall time
//	go run ./tests/ac97bench -seconds 10
//
// Both runs happen in this process, one after the other; CPU time is the
// process's user+system time (getrusage) over each run.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"gemu/machine"
	"gemu/qemuopt"
	"gemu/tests/rig"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type result struct {
	cpu, wall time.Duration
	console   string
}

func run(args string, realtime bool, wav string) (result, error) {
	var console bytes.Buffer
	cfg := machine.Config{
		BIOS: "none", Kernel: rig.Path("guests/ac97/ac97.elf"), Append: args,
		Devices:   qemuopt.MustParseFlag("-device", "AC97,audiodev=snd0"),
		Audiodevs: qemuopt.MustParseFlag("-audiodev", "wav,id=snd0,path="+wav+",out.frequency=48000"),
		Console:   &console,
	}
	if !realtime {
		cfg.Deterministic, cfg.Shift = true, machine.DefaultShift
	}
	m, err := machine.New(cfg)
	if err != nil {
		return result{}, err
	}
	m.CloseInput()
	c0, w0 := cpuTime(), time.Now()
	ex, err := m.Run()
	r := result{cpu: cpuTime() - c0, wall: time.Since(w0), console: console.String()}
	if err == nil && ex.Code != 0 {
		err = fmt.Errorf("guest exit %d (%s)", ex.Code, ex.Reason)
	}
	if err == nil && !strings.Contains(r.console, "done") {
		err = fmt.Errorf("guest did not finish:\n%s", r.console)
	}
	return r, err
}

func main() {
	secs := flag.Int("seconds", 60, "seconds of audio (and of idling)")
	realtime := flag.Bool("realtime", false, "run on the real-time clock instead of -icount shift=2")
	flag.Parse()
	dir, err := os.MkdirTemp("", "ac97bench")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	ms := *secs * 1000
	mode := "deterministic (-icount shift=2)"
	if *realtime {
		mode = "real time"
	}
	idle, err := run(fmt.Sprintf("idle=%d", ms), *realtime, filepath.Join(dir, "idle.wav"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle run:", err)
		os.Exit(1)
	}
	play, err := run(fmt.Sprintf("play=48000 ms=%d rec=none", ms), *realtime, filepath.Join(dir, "play.wav"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "play run:", err)
		os.Exit(1)
	}
	st, _ := os.Stat(filepath.Join(dir, "play.wav"))
	fmt.Printf("AC97 playback cost, %s, %d s of 48 kHz stereo S16 into the wav sink (%d bytes):\n", mode, *secs, st.Size())
	fmt.Printf("  idle guest: %8.3f s CPU, %8.3f s wall\n", idle.cpu.Seconds(), idle.wall.Seconds())
	fmt.Printf("  playing:    %8.3f s CPU, %8.3f s wall\n", play.cpu.Seconds(), play.wall.Seconds())
	fmt.Printf("  extra CPU for audio: %.3f s = %.2f%% of one core over %d s of audio\n",
		(play.cpu - idle.cpu).Seconds(), 100*(play.cpu-idle.cpu).Seconds()/float64(*secs), *secs)
	if idle.cpu > 0 {
		fmt.Printf("  ratio playing/idle CPU: %.2f\n", play.cpu.Seconds()/idle.cpu.Seconds())
	}
}
