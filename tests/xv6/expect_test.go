package xv6

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Expect's waits, with shell loops standing in for the emulator.

// A guest that hangs spinning (xv6's idle harts do) uses CPU with nothing
// on the console: Expect fails once the budget is spent, long before the
// wall-clock deadline.
func TestExpectFailsOnSpinningHang(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU time from /proc")
	}
	s, err := Start("sh", "-c", "echo booted; while :; do :; done")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	s.Deadline = time.Now().Add(5 * time.Minute)
	if _, err := s.Expect("booted", time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = s.Expect("$ ", 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "CPU time with nothing new") {
		t.Fatalf("Expect on a spinning, silent emulator: %v", err)
	}
	if cpu := s.CPU(); cpu < 300*time.Millisecond {
		t.Errorf("gave up after %v of CPU, before the budget", cpu)
	}
}

// An emulator that hangs asleep uses no CPU: the deadline ends the wait.
func TestExpectFailsAtDeadline(t *testing.T) {
	s, err := Start("sh", "-c", "sleep 600")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	s.Deadline = time.Now().Add(500 * time.Millisecond)
	t0 := time.Now()
	_, err = s.Expect("$ ", time.Hour)
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Expect on a sleeping emulator: %v", err)
	}
	if d := time.Since(t0); d > 30*time.Second {
		t.Errorf("the deadline took %v", d)
	}
}

// A slow emulator that keeps printing is waited for, however much CPU it
// uses in all: each new output restarts the budget.
func TestExpectWaitsForProgress(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU time from /proc")
	}
	// Calibrate a shell busy loop (no forks: its CPU is the shell's).
	const loop = `n=0; while [ $n -lt %d ]; do n=$((n+1)); done`
	cal := exec.Command("sh", "-c", fmt.Sprintf(loop, 20000))
	if err := cal.Run(); err != nil {
		t.Fatal(err)
	}
	per := cal.ProcessState.UserTime() + cal.ProcessState.SystemTime()
	if per < 10*time.Millisecond {
		per = 10 * time.Millisecond
	}
	// Eight bursts of about a third of the budget each, printing after
	// each: three budgets in all.
	budget := 12 * per
	iters := 20000 * 4
	script := fmt.Sprintf(`i=0; while [ $i -lt 8 ]; do `+loop+`; echo "test $i: OK"; i=$((i+1)); done; echo '$ '; sleep 600`, iters)
	s, err := Start("sh", "-c", script)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	s.Deadline = time.Now().Add(5 * time.Minute)
	out, err := s.Expect("$ ", budget)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if cpu := s.CPU(); cpu <= budget {
		t.Logf("the shell used %v of CPU in all, not more than the budget %v: the test shows less than it could", cpu, budget)
	}
}
