// Command xv6times prints how long stock xv6-riscv takes to boot to its
// shell prompt and to pass usertests -q on gemu and on QEMU, with the
// command line of xv6's Makefile, at each -smp given:
//
//	go run ./tests/xv6/xv6times [-smp 1,3] [-jit] [-gemu PATH] [-qemu PATH] [-n RUNS]
//
// It builds gemu from the checkout unless -gemu is given; -jit adds rows
// for gemu with its translator (-accel tcg,jit=on). Each row gives wall
// time and the emulator's host CPU time (all its threads: QEMU runs one
// thread per hart). Wall-clock times, so run it on an otherwise idle
// machine; the CPU times suffer less from a busy one.
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

	"gemu/tests/xv6"
)

func main() {
	gemu := flag.String("gemu", "", "gemu binary (default: go build ./cmd/gemu)")
	qemu := flag.String("qemu", "qemu-system-riscv64", "QEMU binary")
	guests := flag.String("guests", "", "shared guests directory (default $GEMU_GUESTS or ../shared/guests)")
	smp := flag.String("smp", fmt.Sprintf("1,%d", xv6.CPUs), "comma-separated -smp values")
	jit := flag.Bool("jit", false, "also run gemu with -accel tcg,jit=on")
	runs := flag.Int("n", 1, "runs per emulator")
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
	if err := run(*gemu, *qemu, *guests, cpus, *jit, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "xv6times:", err)
		os.Exit(1)
	}
}

func run(gemu, qemu, guests string, cpus []int, jit bool, runs int) error {
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
	fmt.Printf("xv6 %s (wall / emulator CPU)\n%-9s %4s %22s %22s\n", filepath.Base(tb), "emulator", "smp", "boot-to-prompt", "usertests -q")
	for _, n := range cpus {
		for _, em := range ems {
			for range runs {
				img, err := tr.FreshImage(tmp)
				if err != nil {
					return err
				}
				args, err := tr.QEMUArgs(img, n)
				if err != nil {
					return err
				}
				tm, out, err := xv6.Run(em.bin, append(args, em.extra...), true, time.Now().Add(2*time.Hour))
				if err != nil {
					return fmt.Errorf("%s -smp %d: %v\n%s", em.name, n, err, out)
				}
				fmt.Printf("%-9s %4d %22s %22s\n", em.name, n,
					fmt.Sprintf("%v / %v", tm.Boot.Round(100*time.Millisecond), tm.BootCPU.Round(100*time.Millisecond)),
					fmt.Sprintf("%v / %v", tm.Usertests.Round(time.Second), tm.UsertestsCPU.Round(time.Second)))
			}
		}
	}
	return nil
}
