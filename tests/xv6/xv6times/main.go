// Command xv6times prints how long stock xv6-riscv takes to boot to its
// shell prompt and to pass usertests -q on gemu and on QEMU, with the
// command line of xv6's Makefile, at each -smp given:
//
//	go run ./tests/xv6/xv6times [-smp 1,3] [-jit] [-p] [-gemu PATH] [-qemu PATH] [-n RUNS]
//
// It builds gemu from the checkout unless -gemu is given; -jit adds rows
// for gemu with its translator (-accel tcg,jit=on). Each row gives wall
// time and the emulator's host CPU time (all its threads: QEMU runs one
// thread per hart). Wall-clock times, so run it on an otherwise idle
// machine; the CPU times suffer less from a busy one. -p runs all rows at
// once: on a busy machine, when only the CPU times count.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gemu/tests/xv6"
)

func main() {
	gemu := flag.String("gemu", "", "gemu binary (default: go build ./cmd/gemu)")
	qemu := flag.String("qemu", "qemu-system-riscv64", "QEMU binary")
	guests := flag.String("guests", "", "shared guests directory (default $GEMU_GUESTS or ../shared/guests)")
	smp := flag.String("smp", fmt.Sprintf("1,%d", xv6.CPUs), "comma-separated -smp values")
	jit := flag.Bool("jit", false, "also run gemu with -accel tcg,jit=on")
	runs := flag.Int("n", 1, "runs per emulator")
	par := flag.Bool("p", false, "run all rows at the same time (CPU times only)")
	flag.Parse()
	var cpus []int
	for _, f := range strings.Split(*smp, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 8 {
			fmt.Fprintf(os.Stderr, "xv6times: bad -smp value %q\n", f)
			os.Exit(2)
		}
		cpus = append(cpus, n)
	}
	if err := run(*gemu, *qemu, *guests, cpus, *jit, *runs, *par); err != nil {
		fmt.Fprintln(os.Stderr, "xv6times:", err)
		os.Exit(1)
	}
}

func run(gemu, qemu, guests string, cpus []int, jit bool, runs int, par bool) error {
	if guests == "" {
		guests = os.Getenv("GEMU_GUESTS")
	}
	if guests == "" {
		guests = filepath.Join("..", "shared", "guests")
	}
	tb := xv6.Tarball(guests)
	if tb == "" {
		return fmt.Errorf("no xv6-riscv-*.tar.gz in %s", guests)
	}
	tr, err := xv6.Build(tb)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "xv6times-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if gemu == "" {
		gemu = filepath.Join(tmp, "gemu")
		if out, err := exec.Command("go", "build", "-o", gemu, "gemu/cmd/gemu").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	type emulator struct {
		name, bin string
		extra     []string
	}
	ems := []emulator{{"gemu", gemu, nil}}
	if jit {
		ems = append(ems, emulator{"gemu-jit", gemu, []string{"-accel", "tcg,jit=on"}})
	}
	ems = append(ems, emulator{"qemu-7.2", qemu, nil})
	type row struct {
		em   emulator
		cpus int
		img  string
		line string
		err  error
	}
	var rows []*row
	for _, n := range cpus {
		for _, em := range ems {
			for range runs {
				dir, err := os.MkdirTemp(tmp, "run-")
				if err != nil {
					return err
				}
				img, err := tr.FreshImage(dir)
				if err != nil {
					return err
				}
				rows = append(rows, &row{em: em, cpus: n, img: img})
			}
		}
	}
	do := func(r *row) {
		args, err := tr.QEMUArgs(r.img, r.cpus)
		if err != nil {
			r.err = err
			return
		}
		tm, out, err := xv6.Run(r.em.bin, append(args, r.em.extra...), true, time.Now().Add(3*time.Hour))
		if err != nil {
			r.err = fmt.Errorf("%s -smp %d: %v\n%s", r.em.name, r.cpus, err, out)
			return
		}
		r.line = fmt.Sprintf("%-9s %4d %22s %22s", r.em.name, r.cpus,
			fmt.Sprintf("%v / %v", tm.Boot.Round(100*time.Millisecond), tm.BootCPU.Round(100*time.Millisecond)),
			fmt.Sprintf("%v / %v", tm.Usertests.Round(time.Second), tm.UsertestsCPU.Round(time.Second)))
	}
	head := fmt.Sprintf("xv6 %s (wall / emulator CPU)\n%-9s %4s %22s %22s", filepath.Base(tb), "emulator", "smp", "boot-to-prompt", "usertests -q")
	if !par {
		fmt.Println(head)
		for _, r := range rows {
			if do(r); r.err != nil {
				return r.err
			}
			fmt.Println(r.line)
		}
		return nil
	}
	var wg sync.WaitGroup
	for _, r := range rows {
		wg.Go(func() { do(r) })
	}
	wg.Wait()
	fmt.Printf("%s (all rows at once)\n", head)
	var errs []error
	for _, r := range rows {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		fmt.Println(r.line)
	}
	return errors.Join(errs...)
}
