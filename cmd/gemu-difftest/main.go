// Command gemu-difftest runs a guest on gemu and on qemu-system-riscv64 in
// lock-step and reports the first instruction after which their states
// differ (package gemu/debug/difftest; docs/debugging.md):
//
//	gemu-difftest [-step] [-shift N] [-max N] [-ring N] kernel.elf
//
// By default QEMU runs block by block (to a breakpoint at each block end)
// and a differing block is bisected by single steps in a second run;
// -step single-steps and compares after every instruction.
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
	step := flag.Bool("step", false, "single-step QEMU after every instruction instead of running it block by block")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gemu-difftest [-step] [-shift N] [-max N] [-ring N] kernel.elf")
		os.Exit(2)
	}
	mode := difftest.Block
	if *step {
		mode = difftest.Step
	}
	r, err := difftest.Run(difftest.Options{Kernel: flag.Arg(0), Shift: *shift, MaxSteps: *max, Ring: *ring, QEMU: *qemu, Log: os.Stderr, Mode: mode})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gemu-difftest:", err)
		os.Exit(1)
	}
	if r.Found {
		fmt.Print(r.Report)
		os.Exit(3)
	}
	fmt.Printf("gemu-difftest: no difference in %d instructions, %d blocks, %d GDB packets (gemu: %s)\n", r.Steps, r.Blocks, r.Packets, r.Exit.Reason)
}
