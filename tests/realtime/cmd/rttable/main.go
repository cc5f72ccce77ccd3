// Command rttable plays the main job on a simulated sound card (package
// gemu/tests/realtime) for every combination of player buffer, CPU load
// and DAC pacing, and prints what the listener heard: dropouts, silence and
// cut frames per voice, the skew between the voices' starts, the latency to
// the first sound, and the silence gemu's own statistics saw.
//
//	go run ./tests/realtime/cmd/rttable [-buffers 50ms,20ms,10ms] [-periods 1,2] [-load 0,2]
//	    [-rt on,fifo,off] [-repeat N] [-trace DIR] [-wakeup D] [-v] [-gemu BIN]
//
// -rt lists gemu's rt= settings to play (on, the default: the host audio
// threads run at nice -11; fifo: SCHED_FIFO 10; off: ordinary priority;
// the "rt" column).
//
// -wakeup D first probes the machine itself for D per buffer and load
// (realtime.WakeupProbe: how late a SCHED_FIFO thread that only sleeps a
// period at a time wakes): a machine that wakes even that thread over a
// period late cannot play that buffer cleanly, with gemu or anything else.
//
// -repeat N plays every combination N times and, after its N rows, prints
// how many runs were not clean (a dropout, a cut, a card xrun or a start
// skew over 1 ms) and the totals, so an intermittent fault shows as a
// count, and the same count over the undisturbed runs alone: those in
// which the harness's own DAC thread never stalled (Result.Disturbed). -trace DIR keeps, for
// every run that was not clean, gemu's Go execution trace (GEMU_TRACE;
// read it with go tool trace) and the DAC thread's log of its reads
// (realtime.Config.Log), named after the row and run. -control plays the
// reference mix with aplay instead of gemu (realtime.Config.Control): a
// row that is not clean then is the harness's or the host's.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gemu/tests/realtime"
	"gemu/tests/rig"
)

func main() {
	buffers := flag.String("buffers", "50ms,20ms,10ms", "oto player buffers (out.buffer-length)")
	periods := flag.String("periods", "1,2", "ALSA periods the DAC takes at once")
	loads := flag.String("load", "0,2", "stress-ng --cpu workers (0: idle)")
	rts := flag.String("rt", "on", "gemu's -audiodev rt= values to play (on, off or on,off)")
	repeat := flag.Int("repeat", 1, "runs per combination (a summary line follows when more than 1)")
	flag.IntVar(repeat, "runs", 1, "same as -repeat")
	control := flag.Bool("control", false, "play the voices' reference mix with aplay instead of gemu (a control: the harness and host without gemu)")
	traceDir := flag.String("trace", "", "keep gemu's execution trace and the DAC log of every run that is not clean in this directory")
	verbose := flag.Bool("v", false, "print gemu's statistics of every run")
	bin := flag.String("gemu", "", "gemu binary to measure (default: build this checkout's)")
	wakeup := flag.Duration("wakeup", 0, "first probe the machine for this long per buffer and load: how late a real-time thread that only sleeps wakes (0: no probe)")
	flag.Parse()

	bufList, loadList, perList := parseList(*buffers, time.ParseDuration), parseList(*loads, strconv.Atoi), parseList(*periods, strconv.Atoi)
	rtList := strings.Split(*rts, ",")
	for _, rt := range rtList {
		if rt != "on" && rt != "off" && rt != "fifo" {
			check(fmt.Errorf("-rt %q: want on, off or fifo", rt))
		}
	}

	if *wakeup > 0 {
		for _, buf := range bufList {
			for _, load := range loadList {
				w, err := realtime.WakeupProbe(buf, *wakeup, load)
				check(err)
				fmt.Printf("probe %6v: %v\n", buf, w)
			}
		}
	}

	dir, err := os.MkdirTemp("", "rttable-")
	check(err)
	defer os.RemoveAll(dir)
	gemu := *bin
	if gemu == "" {
		gemu, err = rig.BuildGemu(dir)
		check(err)
	}
	names, refs, err := realtime.Reference(gemu, dir)
	check(err)
	up, _ := exec.Command("uptime").Output()
	fmt.Printf("load before: %s", up)
	fmt.Print(realtime.Header(names))
	for _, buf := range bufList {
		for _, load := range loadList {
			for _, per := range perList {
				for _, rt := range rtList {
					var bad, drops, xruns, missing, runs, calm, calmBad int
					for i := range *repeat {
						run := filepath.Join(dir, "run")
						os.RemoveAll(run)
						check(os.Mkdir(run, 0o755))
						cfg := realtime.Config{Gemu: gemu, Dir: run, Buffer: buf, Periods: per, Load: load, Control: *control, RT: rt}
						if *traceDir != "" {
							cfg.Log = filepath.Join(run, "dac.log")
							cfg.Env = []string{"GEMU_TRACE=" + filepath.Join(run, "gemu.trace")}
						}
						r, err := realtime.Run(cfg, names, refs)
						if err != nil {
							fmt.Printf("%6v load %d periods %d rt %s: %v\n", buf, load, per, rt, err)
							continue
						}
						runs++
						fmt.Println(r.Row())
						if len(r.XrunAt) > 0 {
							fmt.Printf("       card xruns at %v from the DAC's start\n", r.XrunAt)
						}
						if r.Skew > realtime.MaxSkew {
							fmt.Printf("       voices started apart (ms): %s\n", r.Starts())
						}
						if r.Late > 0 {
							fmt.Printf("       %d DAC reads came over 1 ms late (caught up at most 1 ms a chunk)\n", r.Late)
						}
						if !r.RealTime {
							fmt.Println("       the DAC thread could not run SCHED_FIFO (needs root or RLIMIT_RTPRIO): its stalls are likely")
						}
						if !*control && rt != "off" && strings.Contains(r.Stderr, "keep ordinary priority") {
							fmt.Printf("       gemu's host audio threads were not raised: %s\n", rtLine(r.Stderr))
						}
						if r.LoadMissing {
							fmt.Printf("       the load was missing: stress-ng used %.2f cores, all workers alive at the end: %v\n", r.LoadCPU, r.LoadAlive)
						}
						if *verbose {
							fmt.Print(r.Stderr)
						}
						if !r.Disturbed() {
							calm++
						}
						if !r.Clean() {
							bad++
							if !r.Disturbed() {
								calmBad++
							}
							if *traceDir != "" {
								base := fmt.Sprintf("%v-load%d-per%d-rt%s-run%d", buf, load, per, rt, i+1)
								check(os.MkdirAll(*traceDir, 0o755))
								for _, f := range []string{"dac.log", "gemu.trace", "stats.csv"} {
									if b, err := os.ReadFile(filepath.Join(run, f)); err == nil {
										check(os.WriteFile(filepath.Join(*traceDir, base+"."+f), b, 0o644))
									}
								}
							}
						}
						xruns += r.Xruns
						for _, v := range r.Voices {
							drops += v.Dropouts
							missing += v.Missing
						}
					}
					if *repeat > 1 {
						if *control {
							rt = "-" // aplay: gemu's rt= does not apply
						}
						fmt.Printf("%6v %5s %4d %4s   %d of %d runs not clean; dropouts %d (all voices), card xruns %d, frames cut %d; undisturbed runs %d, %d of them not clean\n",
							buf, realtime.LoadName(load), per, rt, bad, runs, drops, xruns, missing, calm, calmBad)
					}
				}
			}
		}
	}
}

// rtLine is gemu's line saying what priority its host audio threads got
// (package rtsched, printed with stats=on).
func rtLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "gemu: host audio threads") {
			return l
		}
	}
	return "(no line from gemu)"
}

// parseList parses a comma-separated flag value with parse, exiting on the
// first bad item.
func parseList[T any](list string, parse func(string) (T, error)) []T {
	var out []T
	for _, item := range strings.Split(list, ",") {
		v, err := parse(item)
		check(err)
		out = append(out, v)
	}
	return out
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "rttable:", err)
		os.Exit(1)
	}
}
