package realtime

import (
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"gemu/tests/rig"
)

// Wakeups is what the machine did with a real-time thread that only
// sleeps: how late its wakeups came (WakeupProbe).
type Wakeups struct {
	Period   time.Duration
	Load     int  // stress-ng --cpu workers running meanwhile
	RealTime bool // the probe ran SCHED_FIFO
	N        int  // wakeups
	Over1ms  int  // wakeups more than 1 ms late
	OverPer  int  // wakeups more than a period late (a DAC stall in Run)
	Worst    time.Duration
}

func (w Wakeups) String() string {
	rt := ""
	if !w.RealTime {
		rt = " (not SCHED_FIFO: needs root or RLIMIT_RTPRIO)"
	}
	return fmt.Sprintf("wakeups every %v, %s: %d, over 1 ms late %d, over a period late %d, worst %v late%s",
		w.Period, LoadName(w.Load), w.N, w.Over1ms, w.OverPer, w.Worst.Round(10*time.Microsecond), rt)
}

// LoadName names a load of n stress-ng CPU workers as the table does:
// idle, cpu1, cpu2, ...
func LoadName(n int) string {
	if n == 0 {
		return "idle"
	}
	return fmt.Sprintf("cpu%d", n)
}

// WakeupProbe measures the machine, not gemu: a thread like Run's DAC
// thread (SCHED_FIFO 50 where allowed, clock_nanosleep to absolute
// times) wakes every ALSA period of the player buffer (as Run's DAC
// does with one-period pacing) for d, with load stress-ng CPU workers
// running meanwhile (0: none), and counts how late it woke. A sound
// card's writer needs wakeups within about a period; a machine that
// cannot give its highest-priority thread that cannot play 10 ms
// buffers without dropouts, with gemu or anything else. (On the 2-core
// VM of docs/time-and-audio.md idle wakeups were the worst: an idle
// virtual CPU halts and its host must schedule it again.)
func WakeupProbe(buffer, d time.Duration, load int) (Wakeups, error) {
	period := alsaPeriod(buffer)
	w := Wakeups{Period: period, Load: load}
	if load > 0 {
		st, _, err := startLoad(load)
		if err != nil {
			return w, err
		}
		defer func() { rig.KillGroup(st); st.Wait() }()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// As Run's DAC thread: the thread ends with this goroutine and
		// its policy is not inherited.
		runtime.LockOSThread()
		w.RealTime = unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO,
			Priority: 50, Flags: unix.SCHED_FLAG_RESET_ON_FORK}, 0) == nil
		next := monoNow()
		end := next + int64(d)
		for next < end {
			next += int64(period)
			ts := unix.NsecToTimespec(next)
			for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
			}
			late := time.Duration(monoNow() - next)
			w.N++
			if late > time.Millisecond {
				w.Over1ms++
			}
			if late > period {
				w.OverPer++
				next = monoNow() // as Run drops a stall's debt
			}
			w.Worst = max(w.Worst, late)
		}
	}()
	<-done
	return w, nil
}
