package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCtrlAT: Ctrl-A t asks for the instruction ring buffer and sends
// nothing to the guest.
func TestCtrlAT(t *testing.T) {
	dumps := 0
	e := &escaper{quit: func() {}, help: &bytes.Buffer{}, dump: func() { dumps++ }}
	if out := e.filter([]byte("a\x01tb")); string(out) != "ab" || dumps != 1 {
		t.Errorf("filter = %q, %d dumps; want \"ab\", 1", out, dumps)
	}
}

// TestDebugFlags: the debugging flags reach the machine configuration.
func TestDebugFlags(t *testing.T) {
	o, err := parseArgs([]string{"-itrace-panic", "Oops", "-ftrace", "-symbols", "a.elf", "-trace", "enable=ua*", "-d", "int,guest_errors"})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.ITrace != 64 || c.PanicString != "Oops" || !c.Ftrace || len(c.Symbols) != 1 || c.Symbols[0] != "a.elf" {
		t.Errorf("cfg = %+v", c)
	}
	if want := []string{"trace:ua*", "int", "guest_errors"}; len(c.Trace) != 3 || c.Trace[0] != want[0] || c.Trace[2] != want[2] {
		t.Errorf("Trace = %q, want %q", c.Trace, want)
	}
	if _, err := parseArgs([]string{"-itrace", "0"}); err == nil {
		t.Error("-itrace 0 accepted")
	}
}

// TestCtrlATRace runs gemu with -itrace on a guest that never stops and
// presses Ctrl-A t on the console several times while it runs: each press
// must print the ring buffer to the -D log, whole, from the emulation
// goroutine. Under -race (go test -race -run TestCtrlATRace ./cmd/gemu;
// machine's TestRequestITraceDump is the same check in tests/ci.sh's race
// run) a dump made from the console goroutine, as it once was, reads the
// harts' state and writes the log concurrently with the emulation and
// fails.
func TestCtrlATRace(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "loop.bin")
	// addi a0,a0,1; j -4: a raw image at 0x80000000 that loops forever.
	if err := os.WriteFile(kernel, []byte{0x13, 0x05, 0x15, 0x00, 0x6f, 0xf0, 0xdf, 0xff}, 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "log.txt")
	inR, inW := io.Pipe()
	defer inW.Close()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-bios", "none", "-kernel", kernel, "-nographic", "-itrace", "4", "-D", logPath},
			inR, &stdout, &stderr)
	}()
	const presses = 3
	for i := 1; i <= presses; i++ {
		if _, err := inW.Write([]byte("\x01t")); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, _ := os.ReadFile(logPath)
			if strings.Count(string(b), "itrace: Ctrl-A t\n") >= i {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("press %d: no dump in the log after 20 s:\n%s", i, b)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, err := inW.Write([]byte("\x01x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Ctrl-A x did not stop gemu")
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// Each dump is whole: its header, the hart line and four
	// instructions of the loop, the last marked, then the pc line.
	dump := regexp.MustCompile(`itrace: Ctrl-A t\nitrace: hart 0, last 4 instructions:\n(    \[M\] 0x000000008000000[04]: .*\n){3}--> \[M\] 0x000000008000000[04]: .*\npc: \[M\] 0x000000008000000[04]: .*\n`)
	if n := len(dump.FindAllString(string(b), -1)); n != presses {
		t.Errorf("%d whole dumps in the log, want %d:\n%s", n, presses, b)
	}
}
