//go:build linux

package rtsched

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// schedFlagResetOnFork is SCHED_FLAG_RESET_ON_FORK of sched_setattr(2)
// (include/uapi/linux/sched.h).
const schedFlagResetOnFork = 0x01

var (
	mu       sync.Mutex
	excluded = map[int]int{}  // TID -> ExcludeThread calls not yet released
	ours     = map[int]bool{} // TIDs this package changed
	mode     Mode             // what Start achieved; ModeNone when stopped
	cfg      Config           // Start's configuration
	baseNice int              // the process's nice value at Start
	stop     chan struct{}    // closed by Stop
	done     chan struct{}    // closed when the scanner has ended
	started  bool
)

// Start raises every thread of the process that is not excluded (see the
// package comment) and keeps doing so every c.Interval until Stop. It
// reports what it achieved; calling it again while it runs changes
// nothing and reports the same.
func Start(c Config) Mode {
	mu.Lock()
	defer mu.Unlock()
	if started {
		return mode
	}
	cfg = c.withDefaults()
	baseNice = processNice()
	var why error
	mode, why = pickMode()
	if cfg.Log != nil {
		fifo := fmt.Sprintf("SCHED_FIFO priority %d", cfg.Priority)
		nice := fmt.Sprintf("at nice %d", cfg.Nice)
		got, other, allow := fifo, nice, "root or RLIMIT_NICE"
		if mode == ModeNice {
			got, other, allow = nice, fifo, "root or RLIMIT_RTPRIO"
		}
		switch {
		case mode == ModeNone:
			fmt.Fprintf(cfg.Log, "gemu: host audio threads keep ordinary priority (nice %d and SCHED_FIFO refused: %v; root, RLIMIT_NICE or RLIMIT_RTPRIO allows them); other busy processes may cause dropouts\n", cfg.Nice, why)
		case why != nil: // the first choice was refused
			fmt.Fprintf(cfg.Log, "gemu: host audio threads run %s (the emulation thread does not; %s refused: %v; %s allows it)\n", got, other, why, allow)
		default:
			fmt.Fprintf(cfg.Log, "gemu: host audio threads run %s (the emulation thread does not)\n", got)
		}
	}
	if mode == ModeNone {
		return mode
	}
	started = true
	stop, done = make(chan struct{}), make(chan struct{})
	scanLocked()
	go scanner(cfg.Interval, stop, done)
	return mode
}

// pickMode tries SCHED_FIFO, then the nice fallback, on the calling
// thread (which the first scan raises anyway), and returns the last
// refusal when neither is allowed.
func pickMode() (Mode, error) {
	tid := unix.Gettid()
	if excluded[tid] > 0 {
		// Never touch an excluded thread: try on a fresh, locked one.
		var m Mode
		var err error
		ch := make(chan struct{})
		go func() {
			defer close(ch)
			// This goroutine's thread ends with it (LockOSThread without
			// Unlock), so the trial leaves nothing behind.
			runtime.LockOSThread()
			m, err = pickMode()
		}()
		<-ch
		return m, err
	}
	first, second := ModeNice, ModeFIFO
	if cfg.FIFO {
		first, second = ModeFIFO, ModeNice
	}
	err := raise(tid, first)
	if err == nil {
		return first, nil
	}
	if err2 := raise(tid, second); err2 == nil {
		return second, err
	}
	restore(tid)
	return ModeNone, err
}

func scanner(every time.Duration, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			mu.Lock()
			scanLocked()
			mu.Unlock()
		}
	}
}

// scanLocked raises every thread not excluded. Setting an already raised
// thread again is cheap (one system call) and also covers a TID the kernel
// reused for a new thread.
func scanLocked() {
	tids, err := threads()
	if err != nil {
		return
	}
	live := make(map[int]bool, len(tids))
	for _, tid := range tids {
		live[tid] = true
		if excluded[tid] > 0 {
			continue
		}
		if err := raise(tid, mode); err == nil {
			ours[tid] = true
		}
	}
	for tid := range ours {
		if !live[tid] {
			delete(ours, tid)
		}
	}
}

// Stop ends the scanner and puts every thread it changed back to
// SCHED_OTHER at the process's nice value.
func Stop() {
	mu.Lock()
	if !started {
		mu.Unlock()
		return
	}
	close(stop)
	d := done
	started = false
	mu.Unlock()
	<-d
	mu.Lock()
	defer mu.Unlock()
	for tid := range ours {
		restore(tid)
		delete(ours, tid)
	}
	mode = ModeNone
}

// Active is what the running Start achieved (ModeNone when not running).
func Active() Mode {
	mu.Lock()
	defer mu.Unlock()
	if !started {
		return ModeNone
	}
	return mode
}

// ExcludeThread registers the calling thread as one Start never raises,
// and lowers it again if Start already did. The caller must have locked
// its goroutine to the thread (runtime.LockOSThread) and calls release,
// from the same thread, before it unlocks it.
func ExcludeThread() (release func()) {
	tid := unix.Gettid()
	mu.Lock()
	excluded[tid]++
	if ours[tid] {
		restore(tid)
		delete(ours, tid)
	}
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if excluded[tid]--; excluded[tid] <= 0 {
			delete(excluded, tid)
		}
	}
}

func raise(tid int, m Mode) error {
	a := unix.SchedAttr{Size: uint32(unsafe.Sizeof(unix.SchedAttr{})), Flags: schedFlagResetOnFork}
	switch m {
	case ModeFIFO:
		a.Policy, a.Priority = unix.SCHED_FIFO, uint32(cfg.Priority)
	case ModeNice:
		a.Policy, a.Nice = schedOther, int32(cfg.Nice)
	default:
		return errors.New("rtsched: no mode")
	}
	return unix.SchedSetAttr(tid, &a, 0)
}

// restore puts tid back to SCHED_OTHER at the process's nice value. The
// reset-on-fork flag stays: clearing it needs privilege (sched(7)).
func restore(tid int) {
	a := unix.SchedAttr{Size: uint32(unsafe.Sizeof(unix.SchedAttr{})), Flags: schedFlagResetOnFork,
		Policy: schedOther, Nice: int32(baseNice)}
	unix.SchedSetAttr(tid, &a, 0)
}

// processNice is the nice value of the process's main thread.
func processNice() int {
	a, err := unix.SchedGetAttr(os.Getpid(), 0)
	if err != nil || a.Policy != schedOther && a.Policy != schedBatch {
		return 0
	}
	return int(a.Nice)
}

// threads lists the process's thread IDs.
func threads() ([]int, error) {
	es, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(es))
	for _, e := range es {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, n)
		}
	}
	return tids, nil
}

// ThreadPolicy reports a thread's scheduling policy (unix.SCHED_*),
// SCHED_FIFO priority and nice value.
func ThreadPolicy(tid int) (policy, priority, nice int, err error) {
	a, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	return int(a.Policy), int(a.Priority), int(a.Nice), nil
}

// Policies of sched(7) that x/sys/unix does not name.
const (
	schedOther = 0 // SCHED_OTHER (SCHED_NORMAL)
	schedBatch = 3 // SCHED_BATCH
)
