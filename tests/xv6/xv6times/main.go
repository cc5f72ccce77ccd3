// Command xv6times prints how long stock xv6-riscv takes to boot to its
// shell prompt and to pass usertests -q on gemu and on QEMU, with the
// command line of xv6's Makefile (-smp as package gemu/tests/xv6 sets it):
//
//	go run ./tests/xv6/xv6times [-gemu PATH] [-qemu PATH] [-n RUNS]
//
// It builds gemu from the checkout unless -gemu is given. Wall-clock
// times, so run it on an otherwise idle machine.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"gemu/tests/xv6"
)

func main() {
	gemu := flag.String("gemu", "", "gemu binary (default: go build ./cmd/gemu)")
	qemu := flag.String("qemu", "qemu-system-riscv64", "QEMU binary")
	guests := flag.String("guests", "", "shared guests directory (default $GEMU_GUESTS or ../shared/guests)")
	runs := flag.Int("n", 1, "runs per emulator")
	flag.Parse()
	if err := run(*gemu, *qemu, *guests, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "xv6times:", err)
		os.Exit(1)
	}
}

func run(gemu, qemu, guests string, runs int) error {
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
	fmt.Printf("xv6 %s, -smp %d\n%-8s %14s %14s\n", filepath.Base(tb), xv6.CPUs, "emulator", "boot-to-prompt", "usertests -q")
	for _, em := range []struct{ name, bin string }{{"gemu", gemu}, {"qemu-7.2", qemu}} {
		for range runs {
			img, err := tr.FreshImage(tmp)
			if err != nil {
				return err
			}
			args, err := tr.QEMUArgs(img)
			if err != nil {
				return err
			}
			tm, out, err := xv6.Run(em.bin, args, true, 30*time.Minute)
			if err != nil {
				return fmt.Errorf("%s: %v\n%s", em.name, err, out)
			}
			fmt.Printf("%-8s %14s %14s\n", em.name, tm.Boot.Round(time.Millisecond), tm.Usertests.Round(100*time.Millisecond))
		}
	}
	return nil
}
