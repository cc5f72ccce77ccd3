//go:build linux

package machine

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gemu/clock"
	"gemu/devices/audio/rtsched"
)

// schedOther is SCHED_OTHER (sched(7)), which x/sys/unix does not name.
const schedOther = 0

// TestRunNotRealTime: while package rtsched raises gemu's threads (as the
// oto sink starts it with rt=on), the thread Run executes the guest on
// stays at ordinary priority through many re-scans, so a spinning guest
// cannot starve the host, while the process's other threads are raised.
func TestRunNotRealTime(t *testing.T) {
	// Another thread of the process, which rtsched must raise: a goroutine
	// locked to a thread of its own until the test ends.
	tids, quit := make(chan int), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		<-quit
	}()
	other := <-tids
	defer close(quit)
	_, _, nice0, err := rtsched.ThreadPolicy(other)
	if err != nil {
		t.Fatal(err)
	}
	mode := rtsched.Start(rtsched.Config{Interval: 5 * time.Millisecond})
	defer rtsched.Stop()
	if mode == rtsched.ModeNone {
		t.Skip("neither SCHED_FIFO nor a negative nice is permitted here")
	}

	cfg := bare((&prog{}).loop().bytes(), nil) // the guest spins
	cfg.Deterministic = false
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		tid, policy, nice int
		otherRaised       bool
		err               error
	}
	var got []seen
	var tick *clock.Timer
	n := 0
	// Timer callbacks run on Run's goroutine, hence on its thread. Look
	// at it several times over 100 ms of host time (20 re-scans).
	tick = m.Clock.NewTimer(func() {
		s := seen{tid: unix.Gettid()}
		s.policy, _, s.nice, s.err = rtsched.ThreadPolicy(s.tid)
		if p, _, nice, err := rtsched.ThreadPolicy(other); err == nil {
			s.otherRaised = p == unix.SCHED_FIFO || nice < nice0
		}
		got = append(got, s)
		if n++; n == 5 {
			m.Stop()
			return
		}
		tick.Set(m.Clock.Now() + int64(20*time.Millisecond))
	})
	tick.Set(m.Clock.Now() + int64(20*time.Millisecond))
	watchdog := time.AfterFunc(20*time.Second, m.Stop)
	defer watchdog.Stop()
	if _, err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("the timer ran %d times, want 5", len(got))
	}
	for _, s := range got {
		if s.err != nil {
			t.Fatal(s.err)
		}
		if s.tid != got[0].tid {
			t.Errorf("Run's callbacks ran on threads %d and %d: its goroutine is not locked to a thread", got[0].tid, s.tid)
		}
		if s.tid == other {
			t.Fatalf("Run ran on the test's other thread %d", other)
		}
		if s.policy != schedOther || s.nice != nice0 {
			t.Errorf("emulation thread %d: policy %d nice %d, want SCHED_OTHER (%d) at nice %d",
				s.tid, s.policy, s.nice, schedOther, nice0)
		}
		// Without this the check above would prove nothing.
		if !s.otherRaised {
			t.Errorf("thread %d, not excluded, was not raised while the machine ran", other)
		}
	}
}
