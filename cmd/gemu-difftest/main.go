// Command gemu-difftest runs a guest on gemu and on qemu-system-riscv64 in
// lock-step and reports the first instruction after which their states
// differ (package gemu/debug/difftest; docs/debugging.md):
//
//	gemu-difftest [-shift N] [-max N] [-ring N] kernel.elf
package main

import (
	"flag"
	"fmt"
	"os"

	"gemu/debug/difftest"
)

func main() {
	shift := flag.Uint("shift", 0, "-icount shift of both emulators")
	max := flag.Uint64("max", 0, "stop after this many instructions (0: until the guest ends)")
	ring := flag.Int("ring", 16, "instructions shown before a difference")
	qemu := flag.String("qemu", "qemu-system-riscv64", "the QEMU binary")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gemu-difftest [-shift N] [-max N] [-ring N] kernel.elf")
		os.Exit(2)
	}
	r, err := difftest.Run(difftest.Options{Kernel: flag.Arg(0), Shift: *shift, MaxSteps: *max, Ring: *ring, QEMU: *qemu, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gemu-difftest:", err)
		os.Exit(1)
	}
	if r.Found {
		fmt.Print(r.Report)
		os.Exit(3)
	}
	fmt.Printf("gemu-difftest: no difference in %d instructions (gemu: %s)\n", r.Steps, r.Exit.Reason)
}
