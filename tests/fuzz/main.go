// Command fuzz runs every fuzz target of the module in turn, each for a
// given time, and prints a table: target, execs, execs/s, new inputs,
// failures (issue 10: fuzz targets must keep exploring, and this is how
// that is shown).
//
//	go run ./tests/fuzz                  # every target, 10 min each
//	go run ./tests/fuzz -time 30s -guest # guest-facing targets, 30 s each
//	go run ./tests/fuzz -run 'ivshmem|AC97' -time 1m -parallel 1
//
// Targets are found by scanning the module's _test.go files for
// `func FuzzX(f *testing.F)`. Each runs as `go test -run '^$' -fuzz
// '^FuzzX$' -fuzztime T -fuzzminimizetime M -parallel P PKG`; the build
// is not counted in T. A failing input is written by go test to the
// package's testdata/fuzz/FuzzX directory, as usual; the table names the
// target, and the run goes on with the next one. The exit status is 1 if
// any target failed.
//
// -fuzzminimizetime bounds the time spent minimising each new input
// (go test's default is 60 s, which made slow targets spend a whole run
// minimising); 1s by default here.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// faces says who controls a target's input: "guest" (registers, rings,
// descriptors, instructions and their operands, page tables), "peer" (an
// ivshmem server), or, for every target not listed, "host" (command line,
// files, the debugger). Issue 10 asks for 10 minutes of each guest-facing
// target before a release.
var faces = map[string]string{
	"cpu.FuzzStep": "guest",
	"devices/ac97.FuzzRegistersAndDescriptors": "guest",
	"devices/audio.FuzzMixer":                  "guest",
	"devices/audio.FuzzVoiceStorm":             "guest",
	"devices/clint.FuzzMMIO":                   "guest",
	"devices/ivshmem.FuzzParseHeader":          "guest",
	"devices/ivshmem.FuzzParseScreamHeader":    "guest",
	"devices/ivshmem.FuzzMsgReader":            "peer",
	"devices/ivshmem.FuzzProto":                "peer",
	"devices/pci.FuzzConfigSpace":              "guest",
	"devices/plic.FuzzMMIO":                    "guest",
	"devices/rtc.FuzzMMIO":                     "guest",
	"devices/uart.FuzzMMIO":                    "guest",
	"devices/virtio.FuzzVirtqueue":             "guest",
	"devices/virtio.FuzzSoundControl":          "guest",
	"devices/virtio.FuzzMMIORegisters":         "guest",
	"devices/virtio.FuzzBlk":                   "guest",
	"devices/virtio.FuzzLegacy":                "guest",
	"devices/virtio.FuzzPCI":                   "guest",
	"machine.FuzzGDBMemory":                    "guest",
}

type target struct {
	pkg  string // relative directory, "cpu/softfloat"
	name string // FuzzX
}

func (t target) String() string { return t.pkg + "." + t.name }

type result struct {
	target
	execs, newInputs int64
	elapsed          time.Duration
	failed           bool
	note             string
}

func main() {
	dur := flag.Duration("time", 10*time.Minute, "fuzzing time per target (the build is extra)")
	minimize := flag.String("minimize", "1s", "go test -fuzzminimizetime per new input (a duration or Nx)")
	parallel := flag.Int("parallel", 0, "fuzzing workers per target (0: GOMAXPROCS)")
	run := flag.String("run", "", "only targets whose pkg.Name matches this regexp")
	guest := flag.Bool("guest", false, "only guest-facing targets")
	list := flag.Bool("list", false, "list the targets and exit")
	verbose := flag.Bool("v", false, "pass go test's output through")
	flag.Parse()

	root, err := moduleRoot()
	if err != nil {
		fatal(err)
	}
	targets, err := findTargets(root)
	if err != nil {
		fatal(err)
	}
	var re *regexp.Regexp
	if *run != "" {
		if re, err = regexp.Compile(*run); err != nil {
			fatal(err)
		}
	}
	var sel []target
	for _, t := range targets {
		if (re == nil || re.MatchString(t.String())) && (!*guest || facing(t) == "guest") {
			sel = append(sel, t)
		}
	}
	if *list {
		for _, t := range sel {
			fmt.Printf("%s\t%s\n", t, facing(t))
		}
		return
	}
	if len(sel) == 0 {
		fatal(fmt.Errorf("no fuzz target selected"))
	}
	fmt.Fprintf(os.Stderr, "fuzz: %d targets, %v each (about %v in all, plus builds)\n",
		len(sel), *dur, time.Duration(len(sel))*(*dur))
	var results []result
	failed := false
	for i, t := range sel {
		fmt.Fprintf(os.Stderr, "fuzz: [%d/%d] %s\n", i+1, len(sel), t)
		r := fuzz(root, t, *dur, *minimize, *parallel, *verbose)
		failed = failed || r.failed
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "fuzz:        %d execs, %d new inputs%s\n", r.execs, r.newInputs, map[bool]string{true: ", FAILED " + r.note}[r.failed])
	}
	printTable(os.Stdout, results)
	if failed {
		os.Exit(1)
	}
}

func facing(t target) string {
	if f, ok := faces[t.String()]; ok {
		return f
	}
	if strings.HasPrefix(t.pkg, "cpu/softfloat") {
		return "guest" // the operands of guest FP instructions
	}
	return "host"
}

// fuzzLine is go test's progress line, e.g.
// "fuzz: elapsed: 9s, execs: 6504 (165/sec), new interesting: 12 (total: 15)".
var fuzzLine = regexp.MustCompile(`^fuzz: elapsed: (\S+), execs: (\d+) \(\d+/sec\), new interesting: (\d+)`)

func fuzz(root string, t target, dur time.Duration, minimize string, parallel int, verbose bool) result {
	r := result{target: t}
	args := []string{"test", "-run", "^$", "-fuzz", "^" + t.name + "$",
		"-fuzztime", dur.String(), "-fuzzminimizetime", minimize, "./" + t.pkg}
	if parallel > 0 {
		args = append(args, "-parallel", strconv.Itoa(parallel))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var out bytes.Buffer
	w := io.Writer(&out)
	if verbose {
		w = io.MultiWriter(&out, os.Stderr)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		m := fuzzLine.FindStringSubmatch(sc.Text())
		if m == nil {
			if strings.Contains(sc.Text(), "Failing input written to") {
				r.note = strings.TrimSpace(sc.Text())
			}
			continue
		}
		r.elapsed, _ = time.ParseDuration(m[1])
		r.execs, _ = strconv.ParseInt(m[2], 10, 64)
		r.newInputs, _ = strconv.ParseInt(m[3], 10, 64)
	}
	if err != nil {
		r.failed = true
		if r.note == "" {
			r.note = lastLines(out.String(), 3)
		}
	}
	return r
}

func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tfaces\texecs\texecs/s\tnew inputs\tfailures\t")
	for _, r := range rs {
		rate := 0.0
		if r.elapsed > 0 {
			rate = float64(r.execs) / r.elapsed.Seconds()
		}
		fails := 0
		if r.failed {
			fails = 1
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%d\t%d\t\n", r.target, facing(r.target), r.execs, rate, r.newInputs, fails)
	}
	tw.Flush()
	for _, r := range rs {
		if r.failed {
			fmt.Fprintf(w, "%s: %s\n", r.target, r.note)
		}
	}
}

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)

// findTargets scans the module for fuzz targets, sorted by package and
// name. Directories with their own go.mod, testdata and hidden ones are
// skipped.
func findTargets(root string) ([]target, error) {
	var ts []target
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); path != root && err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			ts = append(ts, target{filepath.ToSlash(rel), string(m[1])})
		}
		return nil
	})
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].pkg != ts[j].pkg {
			return ts[i].pkg < ts[j].pkg
		}
		return ts[i].name < ts[j].name
	})
	return ts, err
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the gemu module")
	}
	return filepath.Dir(mod), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "fuzz:", err)
	os.Exit(2)
}
