// Command bench measures gemu's speed on the benchmark guest in
// guests/bench: an integer workload with paging off (CRC-32 and
// quicksort, M mode) and a memory-heavy loop with Sv39 paging on (S mode).
//
//	go run ./tests/bench [-gemu path] [-flags "-icount auto"] [-runs 3] [-compare]
//
// -compare also runs QEMU (qemu-system-riscv64, or -qemu path) on the same
// ELFs and prints, per part and as a geometric mean, the ratio of gemu's
// host CPU time to QEMU's for the same guest instructions.
//
// Each part is built as its own guest (-DPARTS=1, 2) plus an empty baseline
// (-DPARTS=0) by guests/Makefile (make -C guests bench) and run in its own gemu process. The guest reports the
// instructions the part retired (instret) and the guest time it took (the
// time CSR, which follows the host clock in gemu's default real-time mode).
// The tool prints, per part, MIPS over that wall-clock interval and MIPS
// over the host CPU time of the process minus the baseline's (the better
// figure on a loaded machine). These are figures, not a pass/fail test.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gemu/tests/rig"
)

const timebase = 10e6 // mtime ticks per second (virt board)

func main() {
	gemuPath := flag.String("gemu", "", "gemu binary (default: build ./cmd/gemu)")
	extra := flag.String("flags", "", "extra gemu flags, e.g. \"-icount auto\"")
	runs := flag.Int("runs", 3, "runs per part; the fastest (by CPU time) is reported")
	compare := flag.Bool("compare", false, "also run QEMU on the same ELFs and print gemu/QEMU CPU-time ratios")
	qemuPath := flag.String("qemu", "qemu-system-riscv64", "QEMU binary for -compare")
	flag.Parse()
	q := ""
	if *compare {
		q = *qemuPath
	}
	if err := run(*gemuPath, strings.Fields(*extra), *runs, q); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	part    string
	instret uint64
	ticks   uint64
	check   string
}

var lineRE = regexp.MustCompile(`bench (\w+) instret=(\d+) ticks=(\d+) check=([0-9a-f]+)`)

// runGuest runs one ELF and returns its reports and the process CPU time.
func runGuest(gemu string, extra []string, elf string) ([]result, time.Duration, time.Duration, error) {
	args := append(append([]string{}, extra...), "-machine", "virt", "-bios", "none", "-kernel", elf, "-nographic")
	cmd := exec.Command(gemu, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s %s: %v\n%s", gemu, strings.Join(args, " "), err, out.String())
	}
	var cpu time.Duration
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var res []result
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		in, _ := strconv.ParseUint(m[2], 10, 64)
		tk, _ := strconv.ParseUint(m[3], 10, 64)
		res = append(res, result{m[1], in, tk, m[4]})
	}
	return res, cpu, wall, nil
}

func run(gemu string, extra []string, runs int, qemu string) error {
	dir, err := os.MkdirTemp("", "gemu-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if gemu == "" {
		if gemu, err = rig.BuildGemu(dir); err != nil {
			return err
		}
	}
	if err := rig.BuildGuests(dir, "bench"); err != nil {
		return fmt.Errorf("%v(tests/setup.sh installs the cross compiler)", err)
	}
	elfs := map[int]string{}
	for _, p := range []int{0, 1, 2} {
		elfs[p] = filepath.Join(dir, "guests", "bench", fmt.Sprintf("bench%d.elf", p))
	}
	mode := "real-time clock"
	if len(extra) > 0 {
		mode = strings.Join(extra, " ")
	}
	fmt.Printf("host %s/%s, %d CPUs, best of %d runs\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runs)
	g, err := measure(fmt.Sprintf("gemu (%s)", mode), gemu, extra, elfs, runs, nil)
	if err != nil {
		return err
	}
	if qemu != "" {
		// QEMU 7.2 without -icount reads instret as host ticks
		// (target/riscv/csr.c), so its MIPS use gemu's count of the
		// same program's instructions.
		q, err := measure("QEMU", qemu, nil, elfs, runs, g)
		if err != nil {
			return err
		}
		// The time ratio is of host CPU seconds for the same guest
		// instructions: gemu's over QEMU's (above 1: gemu is slower).
		fmt.Printf("%-6s %12s\n", "part", "gemu/QEMU")
		prod, n := 1.0, 0
		for i := range g {
			if g[i].cpu > 0 && q[i].cpu > 0 {
				r := g[i].cpu / q[i].cpu
				fmt.Printf("%-6s %12.2f\n", g[i].part, r)
				prod *= r
				n++
			}
		}
		if n > 0 {
			fmt.Printf("%-6s %12.2f\n", "geomean", math.Pow(prod, 1/float64(n)))
		}
	}
	if len(extra) > 0 && strings.Contains(strings.Join(extra, " "), "icount") {
		fmt.Println("note: with -icount the guest time is derived from instructions; use MIPS(CPU)")
	}
	return nil
}

// row is one part's figures: instructions and host CPU seconds (baseline
// subtracted).
type row struct {
	part    string
	instret uint64
	cpu     float64
}

// measure runs the baseline and each part with emulator bin and prints a
// table of them under title. With instret set, its counts replace the
// guest-reported ones.
func measure(title, bin string, extra []string, elfs map[int]string, runs int, instret []row) ([]row, error) {
	best := func(elf string) ([]result, time.Duration, error) {
		var bres []result
		var bcpu time.Duration
		for i := 0; i < runs; i++ {
			res, cpu, _, err := runGuest(bin, extra, elf)
			if err != nil {
				return nil, 0, err
			}
			if i == 0 || cpu < bcpu {
				bres, bcpu = res, cpu
			}
		}
		return bres, bcpu, nil
	}
	_, baseCPU, err := best(elfs[0])
	if err != nil {
		return nil, err
	}
	fmt.Printf("%s; baseline (boot+exit) CPU %.3fs\n", title, baseCPU.Seconds())
	fmt.Printf("%-6s %12s %10s %10s %11s %10s  %s\n", "part", "instret", "guest s", "CPU s", "MIPS(wall)", "MIPS(CPU)", "check")
	var rows []row
	for _, p := range []int{1, 2} {
		res, cpu, err := best(elfs[p])
		if err != nil {
			return nil, err
		}
		if len(res) != 1 {
			return nil, fmt.Errorf("part %d: expected one report line, got %d", p, len(res))
		}
		r := res[0]
		if instret != nil {
			r.instret = instret[len(rows)].instret
		}
		gs := float64(r.ticks) / timebase
		cs := (cpu - baseCPU).Seconds()
		mipsWall, mipsCPU := 0.0, 0.0
		if gs > 0 {
			mipsWall = float64(r.instret) / gs / 1e6
		}
		if cs > 0 {
			mipsCPU = float64(r.instret) / cs / 1e6
		}
		fmt.Printf("%-6s %12d %10.3f %10.3f %11.1f %10.1f  %s\n", r.part, r.instret, gs, cs, mipsWall, mipsCPU, r.check)
		rows = append(rows, row{r.part, r.instret, cs})
	}
	return rows, nil
}
