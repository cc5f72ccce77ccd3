// Command rttable plays the main job on a simulated sound card (package
// gemu/tests/realtime) for every combination of player buffer, CPU load
// and DAC pacing, and prints what the listener heard: dropouts, silence and
// cut frames per voice, the skew between the voices' starts, the latency to
// the first sound, and the silence gemu's own statistics saw.
//
//	go run ./tests/realtime/cmd/rttable [-buffers 50ms,20ms,10ms] [-periods 1,2] [-load 0,2] [-runs 1] [-gemu BIN]
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
	runs := flag.Int("runs", 1, "runs per combination")
	verbose := flag.Bool("v", false, "print gemu's statistics of every run")
	bin := flag.String("gemu", "", "gemu binary to measure (default: build this checkout's)")
	flag.Parse()

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
	for _, b := range strings.Split(*buffers, ",") {
		buf, err := time.ParseDuration(b)
		check(err)
		for _, l := range strings.Split(*loads, ",") {
			load, err := strconv.Atoi(l)
			check(err)
			for _, p := range strings.Split(*periods, ",") {
				per, err := strconv.Atoi(p)
				check(err)
				for range *runs {
					run := filepath.Join(dir, "run")
					os.RemoveAll(run)
					check(os.Mkdir(run, 0o755))
					r, err := realtime.Run(realtime.Config{Gemu: gemu, Dir: run, Buffer: buf, Periods: per, Load: load}, names, refs)
					if err != nil {
						fmt.Printf("%6v load %d periods %d: %v\n", buf, load, per, err)
						continue
					}
					fmt.Println(r.Row())
					if *verbose {
						fmt.Print(r.Stderr)
					}
				}
			}
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "rttable:", err)
		os.Exit(1)
	}
}
