// Command qemu10 fetches QEMU 10 (Debian bookworm-backports, unpacked in
// gemu's cache without replacing the installed QEMU 7.2) and runs it with
// the arguments given, or, with none, prints how to run it by hand:
//
//	go run ./tests/qemu10 -machine virt -device help
package main

import (
	"fmt"
	"os"
	"strings"

	"gemu/tests/rig"
)

func main() {
	q, err := rig.FetchQEMU10()
	if err != nil {
		fmt.Fprintln(os.Stderr, "qemu10:", err)
		os.Exit(1)
	}
	if len(os.Args) == 1 {
		fmt.Printf("%s %s %s\n", strings.Join(q.Env, " "), q.Bin, strings.Join(q.Args, " "))
		return
	}
	cmd := q.Command(os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if cmd.ProcessState != nil {
			os.Exit(cmd.ProcessState.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "qemu10:", err)
		os.Exit(1)
	}
}
