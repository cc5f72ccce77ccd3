//go:build linux

package rtsched

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// onThread runs a goroutine locked to its own thread until the returned
// stop function is called and returns the thread's TID. With exclude, the
// goroutine registers its thread with ExcludeThread before that.
func onThread(t *testing.T, exclude bool) (tid int, stop func()) {
	t.Helper()
	tids, quit, ended := make(chan int), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if exclude {
			defer ExcludeThread()()
		}
		tids <- unix.Gettid()
		<-quit
	}()
	return <-tids, func() { close(quit); <-ended }
}

func policyOf(t *testing.T, tid int) (int, int, int) {
	t.Helper()
	p, prio, nice, err := ThreadPolicy(tid)
	if err != nil {
		t.Fatalf("ThreadPolicy(%d): %v", tid, err)
	}
	return p, prio, nice
}

// Start raises the threads that are not excluded, and only those; a thread
// excluded after Start raised it goes back to SCHED_OTHER at once; threads
// made after Start are raised by the re-scan; Stop restores everything.
func TestStartExcludes(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	base := processNice()
	ex, stopEx := onThread(t, true)
	defer stopEx()
	plain, stopPlain := onThread(t, false)
	defer stopPlain()

	var log bytes.Buffer
	m := Start(Config{Interval: 10 * time.Millisecond, Log: &log})
	defer Stop()
	t.Logf("Start: %v: %s", m, log.String())
	if m == ModeNone {
		t.Skip("neither SCHED_FIFO nor a negative nice is permitted here")
	}
	if log.Len() == 0 {
		t.Error("Start with a Log said nothing")
	}
	raised := func(tid int) bool {
		p, prio, nice := policyOf(t, tid)
		if m == ModeFIFO {
			return p == unix.SCHED_FIFO && prio == DefaultPriority
		}
		return p == schedOther && nice == DefaultNice
	}
	lowered := func(tid int) bool {
		p, _, nice := policyOf(t, tid)
		return p == schedOther && nice == base
	}
	if !raised(plain) {
		t.Errorf("thread %d not raised: %v", plain, fmtPolicy(t, plain))
	}
	if !raised(unix.Gettid()) {
		t.Errorf("the test's own thread %d not raised", unix.Gettid())
	}
	if !lowered(ex) {
		t.Errorf("excluded thread %d was changed: %v", ex, fmtPolicy(t, ex))
	}

	// A thread that Start raised and that excludes itself afterwards.
	// The test's own (raised) thread excludes itself.
	release := ExcludeThread()
	if me := unix.Gettid(); !lowered(me) {
		t.Errorf("thread %d excluded after Start is still raised: %v", me, fmtPolicy(t, me))
	}
	time.Sleep(30 * time.Millisecond) // some re-scans
	if me := unix.Gettid(); !lowered(me) {
		t.Errorf("thread %d excluded after Start was raised again: %v", me, fmtPolicy(t, me))
	}
	release()

	// New threads (each locked goroutine needs one of its own) are raised
	// within a few scans, while the excluded one stays untouched.
	var more []int
	for range 3 {
		tid, stop := onThread(t, false)
		defer stop()
		more = append(more, tid)
	}
	time.Sleep(50 * time.Millisecond)
	for _, tid := range more {
		if !raised(tid) {
			t.Errorf("thread %d made after Start not raised: %v", tid, fmtPolicy(t, tid))
		}
	}
	if !lowered(ex) {
		t.Errorf("excluded thread %d was changed by a re-scan: %v", ex, fmtPolicy(t, ex))
	}
	if Active() != m {
		t.Errorf("Active = %v, want %v", Active(), m)
	}

	Stop()
	if Active() != ModeNone {
		t.Errorf("Active after Stop = %v", Active())
	}
	for _, tid := range append(more, plain) {
		if !lowered(tid) {
			t.Errorf("thread %d not restored by Stop: %v", tid, fmtPolicy(t, tid))
		}
	}
}

func fmtPolicy(t *testing.T, tid int) []int {
	p, prio, nice := policyOf(t, tid)
	return []int{p, prio, nice}
}
