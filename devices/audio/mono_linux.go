package audio

import "golang.org/x/sys/unix"

// CLOCK_MONOTONIC at hostEpoch (clock_gettime(2)), so that MonoNow is a
// time other processes on the host can compare with theirs.
func init() {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) == nil {
		monoOffset = ts.Nano() - hostNow()
	}
}
