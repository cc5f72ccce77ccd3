// Command bench times the Debian Linux guest on gemu and on QEMU 7.2, on
// the same kernel, initramfs and firmware, in the same run:
//
//	go run ./tests/linux/bench [-runs 2] [-shift 3[,0,...]] [-smp 1,4] [-realtime] [-cpuprofile boot.prof]
//
// With -smp N,M,... every emulator runs at each hart count (the row names
// say which), and each gemu row is compared with QEMU at the same count.
// Runs alternate between the rows (run 1 of every row, then run 2, ...), so
// that a change in the machine's load during the bench hits every row.
// For each emulator it prints the wall time from process start to the
// first kernel message, to /init, to the shell prompt (shell scenario),
// the whole play48 scenario (start to exit) and aplay's own run, then the
// ratio gemu/QEMU. Wall columns are times at which console lines arrived;
// the CPU columns are the emulator process's user+system time for the whole
// shell and play48 runs (less sensitive to a loaded machine). Each figure is the best of -runs runs (the machine is
// shared, so the minimum is the least noisy estimate).
//
// -cpuprofile runs the shell boot once more with gemu in this process (the
// machine package, as cmd/gemu drives it) and writes a pprof CPU profile.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gemu/tests/linux/guest"
	"gemu/tests/rig"
)

type result struct {
	firstMsg, init, prompt, play, aplay time.Duration
	shellCPU, playCPU                   time.Duration
	err                                 string
}

func main() {
	runs := flag.Int("runs", 1, "runs per emulator and scenario (best is reported)")
	shift := flag.String("shift", "3", "gemu -icount shift (deterministic mode); a comma-separated list times each")
	realtime := flag.Bool("realtime", false, "also time gemu in real-time mode")
	gemuPath := flag.String("gemu", "", "gemu binary (default: go build ./cmd/gemu)")
	timeout := flag.Duration("timeout", 10*time.Minute, "per run")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of an in-process gemu boot to this file")
	echo := flag.Bool("v", false, "echo consoles")
	qemuIcount := flag.Bool("qemu-icount", false, "also time QEMU with gemu's -icount shift")
	smpList := flag.String("smp", "1", "hart counts (-smp N), comma-separated; each emulator runs at each")
	flag.Parse()
	log.SetFlags(log.Ltime)

	g, err := guest.Build(context.Background(), guest.Options{Log: log.Printf})
	if err != nil {
		log.Fatal(err)
	}
	if *cpuprofile != "" {
		if err := profile(g, *cpuprofile, strings.Split(*shift, ",")[0]); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *gemuPath == "" {
		dir, err := os.MkdirTemp("", "gemu-bench")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if *gemuPath, err = rig.BuildGemu(dir); err != nil {
			log.Fatal(err)
		}
	}
	type emu struct {
		name  string
		bin   string
		extra []string
		smp   string
		qemu  bool // plain QEMU, the reference of the ratios
	}
	var base []emu
	if p, err := exec.LookPath("qemu-system-riscv64"); err == nil {
		base = append(base, emu{name: "qemu-7.2", bin: p, qemu: true})
		if *qemuIcount {
			// Same instruction-counted guest time as gemu: the guest's own
			// timestamps then match gemu's almost exactly.
			base = append(base, emu{name: "qemu-7.2 -icount shift=" + strings.Split(*shift, ",")[0], bin: p,
				extra: []string{"-icount", "shift=" + strings.Split(*shift, ",")[0]}})
		}
	}
	for _, sh := range strings.Split(*shift, ",") {
		base = append(base, emu{name: "gemu -icount shift=" + sh, bin: *gemuPath, extra: []string{"-icount", "shift=" + sh}})
	}
	if *realtime {
		base = append(base, emu{name: "gemu realtime", bin: *gemuPath})
	}
	smps := strings.Split(*smpList, ",")
	var emus []emu
	for _, n := range smps {
		for _, e := range base {
			e.smp = n
			if len(smps) > 1 || n != "1" {
				e.name += " -smp " + n
				e.extra = append([]string{"-smp", n}, e.extra...)
			}
			emus = append(emus, e)
		}
	}
	results := make([]result, len(emus))
	for r := 0; r < *runs; r++ {
		for i, e := range emus {
			res := measure(g, e.bin, e.extra, *timeout, *echo)
			log.Printf("%s run %d: %s (load average %s)", e.name, r+1, res.row(), loadAvg())
			results[i] = results[i].min(res)
		}
	}
	fmt.Printf("\nLinux guest %s (%s), initrd %s, firmware %s; load average %s\n", g.KernelRelease, g.Version, filepath.Base(g.Initrd), guest.Firmware, loadAvg())
	fmt.Printf("%-30s %10s %10s %10s %10s %10s %10s %10s\n", "seconds", "1st msg", "/init", "prompt", "play48", "aplay", "shell CPU", "play CPU")
	for i, e := range emus {
		fmt.Printf("%-30s %s\n", e.name, results[i].row())
	}
	for i, e := range emus {
		if e.qemu {
			continue
		}
		ref := -1
		for j, o := range emus {
			if o.qemu && o.smp == e.smp {
				ref = j
			}
		}
		if ref < 0 {
			continue
		}
		q, g := results[ref], results[i]
		fmt.Printf("%-30s %10s %10s %10s %10s %10s %10s %10s\n", "ratio "+strings.TrimPrefix(emus[i].name, "gemu "), ratio(g.firstMsg, q.firstMsg),
			ratio(g.init, q.init), ratio(g.prompt, q.prompt), ratio(g.play, q.play), ratio(g.aplay, q.aplay),
			ratio(g.shellCPU, q.shellCPU), ratio(g.playCPU, q.playCPU))
	}
}

// loadAvg is the host's 1, 5 and 15 minute load averages (/proc/loadavg).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a.Seconds()/b.Seconds())
}

func sec(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}

func (r result) row() string {
	s := fmt.Sprintf("%10s %10s %10s %10s %10s %10s %10s", sec(r.firstMsg), sec(r.init), sec(r.prompt), sec(r.play), sec(r.aplay), sec(r.shellCPU), sec(r.playCPU))
	if r.err != "" {
		s += "  (" + r.err + ")"
	}
	return s
}

func (r result) min(o result) result {
	m := func(a, b time.Duration) time.Duration {
		if a <= 0 {
			return b
		}
		if b <= 0 || a < b {
			return a
		}
		return b
	}
	err := o.err
	if err == "" {
		err = r.err
	}
	return result{m(r.firstMsg, o.firstMsg), m(r.init, o.init), m(r.prompt, o.prompt), m(r.play, o.play), m(r.aplay, o.aplay),
		m(r.shellCPU, o.shellCPU), m(r.playCPU, o.playCPU), err}
}

// measure runs the shell scenario (typing exit at the prompt) and play48.
func measure(g *guest.Guest, bin string, extra []string, timeout time.Duration, echo bool) result {
	var res result
	var w *os.File
	if echo {
		w = os.Stderr
	}
	var prompt time.Duration
	start := time.Now()
	tr := guest.Run(context.Background(), g.Argv(bin, "shell", "none,id=snd0", extra...), timeout,
		func(text string, partial bool) (string, bool) {
			if partial && guest.IsPrompt(text, "gemu# ") && prompt == 0 {
				prompt = time.Since(start)
				return "exit\n", false
			}
			return "", false
		}, w)
	if l, ok := tr.First("Linux version"); ok {
		res.firstMsg = l.At
	}
	if m, ok := tr.Mark("init"); ok {
		res.init = m.At
	}
	res.prompt = prompt
	res.shellCPU = tr.CPU
	if tr.Err != nil || tr.ExitCode != 0 {
		res.err = fmt.Sprintf("shell: exit %d %v", tr.ExitCode, tr.Err)
		return res
	}
	dir, err := os.MkdirTemp("", "gemu-bench")
	if err != nil {
		res.err = err.Error()
		return res
	}
	defer os.RemoveAll(dir)
	tr = guest.Run(context.Background(), g.Argv(bin, "play48", guest.WAVAudiodev(filepath.Join(dir, "out.wav"), 48000), extra...), timeout, nil, w)
	if tr.Err != nil || tr.ExitCode != 0 {
		res.err = fmt.Sprintf("play48: exit %d %v", tr.ExitCode, tr.Err)
		return res
	}
	res.play = tr.Wall
	res.playCPU = tr.CPU
	a, ok1 := tr.Mark("play-start")
	b, ok2 := tr.Mark("play-done")
	if ok1 && ok2 {
		res.aplay = b.At - a.At
	}
	return res
}
