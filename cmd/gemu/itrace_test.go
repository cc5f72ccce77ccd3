package main

import (
	"bytes"
	"testing"
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
