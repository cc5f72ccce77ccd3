// Command bench measures gemu's speed on the benchmark guest in
// guests/bench, one part per row:
//
//	int     CRC-32 and quicksort, M mode, paging off (PARTS bit 0)
//	sv39    a memory-heavy loop (strided read-modify-write, random loads)
//	        over 4 MiB of 4 KiB Sv39 pages, S mode (bit 1)
//	mem     the same loop with paging off, M mode (bit 3)
//	fp      floating-point kernels, double and single: matrix multiply
//	        (fused multiply-adds), dot/saxpy, an n-body step (sqrt, div),
//	        int<->fp conversions, compares, min/max, sign injection; M
//	        mode, paging off (bit 4)
//	fpsv39  the fp kernels on data in 4 KiB Sv39 pages, S mode (bit 5)
//
// Each part checks its result: the check column must be the same in every
// emulator (-compare marks a QEMU check that differs from gemu's).
//
//	go run ./tests/bench [-gemu path] [-flags "-icount auto"] [-runs 3] [-smp 1,2,4] [-compare]
//
// -compare also runs QEMU (qemu-system-riscv64, or -qemu path) on the
// parts' ELFs and prints, per part and as a geometric mean, the ratio of
// gemu's host CPU time to QEMU's for the same guest instructions.
//
// Each part is built as its own guest (-DPARTS=1, 2, 4, 8, 16, 32) plus an empty
// baseline (-DPARTS=0) by guests/Makefile (make -C guests bench) and run in
// its own gemu process. The third table runs the integer part on every hart
// at once (bench4.elf) with -smp N for each N of -smp, and prints MIPS per
// hart and in total; the runs of the different N alternate, so that a
// change in the machine's load hits them alike. The guest reports the
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
	smp := flag.String("smp", "1,2,4", "hart counts for the SMP table (\"\" skips it)")
	compare := flag.Bool("compare", false, "also run QEMU on the parts' ELFs and print gemu/QEMU CPU-time ratios")
	qemuPath := flag.String("qemu", "qemu-system-riscv64", "QEMU binary for -compare")
	flag.Parse()
	qemu := ""
	if *compare {
		qemu = *qemuPath
	}
	var ns []int
	for _, f := range strings.FieldsFunc(*smp, func(r rune) bool { return r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 8 {
			fmt.Fprintf(os.Stderr, "bench: -smp %q: want hart counts 1..8\n", *smp)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if err := run(*gemuPath, strings.Fields(*extra), *runs, ns, qemu); err != nil {
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

func run(gemu string, extra []string, runs int, smp []int, qemu string) error {
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
	for _, p := range append([]int{0, 4}, tableParts...) {
		elfs[p] = filepath.Join(dir, "guests", "bench", fmt.Sprintf("bench%d.elf", p))
	}
	best := func(elf string) ([]result, time.Duration, time.Duration, error) {
		var bres []result
		var bcpu, bwall time.Duration
		for i := 0; i < runs; i++ {
			res, cpu, wall, err := runGuest(gemu, extra, elf)
			if err != nil {
				return nil, 0, 0, err
			}
			if i == 0 || cpu < bcpu {
				bres, bcpu, bwall = res, cpu, wall
			}
		}
		return bres, bcpu, bwall, nil
	}
	_, baseCPU, _, err := best(elfs[0])
	if err != nil {
		return err
	}
	mode := "real-time clock"
	if len(extra) > 0 {
		mode = strings.Join(extra, " ")
	}
	fmt.Printf("gemu (%s), host %s/%s, %d CPUs, best of %d runs; baseline (boot+exit) CPU %.3fs\n",
		mode, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runs, baseCPU.Seconds())
	fmt.Printf("%-6s %12s %10s %10s %11s %10s  %s\n", "part", "instret", "guest s", "CPU s", "MIPS(wall)", "MIPS(CPU)", "check")
	var rows []row
	for _, p := range tableParts {
		res, cpu, _, err := best(elfs[p])
		if err != nil {
			return err
		}
		if len(res) != 1 {
			return fmt.Errorf("part %d: expected one report line, got %d", p, len(res))
		}
		r := res[0]
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
		rows = append(rows, row{r.part, r.instret, cs, elfs[p], r.check})
	}
	if qemu != "" {
		if err := compareQEMU(qemu, runs, elfs[0], rows); err != nil {
			return err
		}
	}
	if len(smp) > 0 {
		if err := smpTable(gemu, extra, runs, smp, elfs[0], elfs[4]); err != nil {
			return err
		}
	}
	if len(extra) > 0 && strings.Contains(strings.Join(extra, " "), "icount") {
		fmt.Println("note: with -icount the guest time is derived from instructions; use MIPS(CPU)")
	}
	return nil
}

// smpTable runs bench4.elf (the integer part on every hart) with -smp n
// for each n, runs times each, the n alternating; per n the run with the
// least CPU time above the baseline (bench0.elf at -smp n) is reported:
// one row per hart (MIPS over its own guest time) and a total (all the
// harts' instructions over the time from the first start to the last end,
// and over the CPU time).
func smpTable(gemu string, extra []string, runs int, ns []int, base, elf string) error {
	type best struct {
		res       []result
		cpu, base time.Duration
		ok        bool
	}
	bests := make([]best, len(ns))
	for i := 0; i < runs; i++ {
		for j, n := range ns {
			args := append([]string{"-smp", strconv.Itoa(n)}, extra...)
			_, bcpu, _, err := runGuest(gemu, args, base)
			if err != nil {
				return err
			}
			res, cpu, _, err := runGuest(gemu, args, elf)
			if err != nil {
				return err
			}
			if len(res) != n+1 {
				return fmt.Errorf("-smp %d: %d report lines, want %d", n, len(res), n+1)
			}
			if b := &bests[j]; !b.ok || cpu-bcpu < b.cpu-b.base {
				*b = best{res, cpu, bcpu, true}
			}
		}
	}
	fmt.Printf("\nSMP: the int part on every hart at once (bench4.elf), %d alternating runs per -smp N, best by CPU time\n", runs)
	fmt.Printf("%-4s %-5s %12s %10s %10s %11s %10s  %s\n", "-smp", "hart", "instret", "guest s", "CPU s", "MIPS(wall)", "MIPS(CPU)", "check")
	for j, n := range ns {
		b := bests[j]
		for _, r := range b.res {
			gs := float64(r.ticks) / timebase
			mipsWall := 0.0
			if gs > 0 {
				mipsWall = float64(r.instret) / gs / 1e6
			}
			if r.part != "all" {
				fmt.Printf("%-4d %-5s %12d %10.3f %10s %11.1f %10s  %s\n", n, r.part, r.instret, gs, "", mipsWall, "", r.check)
				continue
			}
			cs := (b.cpu - b.base).Seconds()
			mipsCPU := 0.0
			if cs > 0 {
				mipsCPU = float64(r.instret) / cs / 1e6
			}
			fmt.Printf("%-4d %-5s %12d %10.3f %10.3f %11.1f %10.1f  %s\n", n, "total", r.instret, gs, cs, mipsWall, mipsCPU, r.check)
		}
	}
	return nil
}

// row is one part's figures in gemu: instructions, host CPU seconds above
// the baseline, and its ELF.
type row struct {
	part    string
	instret uint64
	cpu     float64
	elf     string
	check   string
}

// tableParts are the PARTS bits of the main table's rows, in order: int,
// sv39, mem, fp, fpsv39.
var tableParts = []int{1, 2, 8, 16, 32}

// compareQEMU runs QEMU on the baseline and on each part of rows (best of
// runs by CPU time) and prints its table and the gemu/QEMU CPU-time
// ratios with their geometric mean. QEMU 7.2 without -icount reads instret
// as host ticks (target/riscv/csr.c), so its MIPS use gemu's count of the
// same program's instructions.
func compareQEMU(qemu string, runs int, base string, rows []row) error {
	best := func(elf string) ([]result, time.Duration, error) {
		var bres []result
		var bcpu time.Duration
		for i := 0; i < runs; i++ {
			res, cpu, _, err := runGuest(qemu, nil, elf)
			if err != nil {
				return nil, 0, err
			}
			if i == 0 || cpu < bcpu {
				bres, bcpu = res, cpu
			}
		}
		return bres, bcpu, nil
	}
	_, baseCPU, err := best(base)
	if err != nil {
		return err
	}
	fmt.Printf("QEMU (%s); baseline (boot+exit) CPU %.3fs\n", qemu, baseCPU.Seconds())
	fmt.Printf("%-6s %12s %10s %10s %11s %10s  %s  %s\n", "part", "instret", "guest s", "CPU s", "MIPS(wall)", "MIPS(CPU)", "check", "gemu/QEMU")
	prod, n, differ := 1.0, 0, 0
	for _, g := range rows {
		res, cpu, err := best(g.elf)
		if err != nil {
			return err
		}
		if len(res) != 1 {
			return fmt.Errorf("QEMU %s: expected one report line, got %d", g.part, len(res))
		}
		r := res[0]
		gs := float64(r.ticks) / timebase
		cs := (cpu - baseCPU).Seconds()
		mipsWall, mipsCPU, ratio := 0.0, 0.0, 0.0
		if gs > 0 {
			mipsWall = float64(g.instret) / gs / 1e6
		}
		if cs > 0 {
			mipsCPU = float64(g.instret) / cs / 1e6
			ratio = g.cpu / cs
			prod *= ratio
			n++
		}
		same := ""
		if r.check != g.check {
			same = "  CHECK DIFFERS from gemu's " + g.check
			differ++
		}
		fmt.Printf("%-6s %12d %10.3f %10.3f %11.1f %10.1f  %s  %9.2f%s\n", r.part, g.instret, gs, cs, mipsWall, mipsCPU, r.check, ratio, same)
	}

	if n > 0 {
		fmt.Printf("gemu/QEMU CPU time, geometric mean: %.2f\n", math.Pow(prod, 1/float64(n)))
	}
	if differ > 0 {
		return fmt.Errorf("%d part(s) computed a different check in QEMU", differ)
	}
	return nil
}
