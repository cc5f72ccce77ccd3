package audio

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// threadCPU locks the goroutine to its thread and returns a function giving
// the CPU time (user+system, ns) that thread has used. On a loaded host wall
// time overstates a benchmark's cost; this does not.
func threadCPU() func() int64 {
	runtime.LockOSThread()
	return func() int64 {
		var ru unix.Rusage
		if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
			return 0
		}
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
}
