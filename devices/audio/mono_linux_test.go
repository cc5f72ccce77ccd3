package audio

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestFirstWriteMonotonic: a voice's FirstWrite is the host's
// CLOCK_MONOTONIC when its first frame was accepted, comparable with what
// another process reads (tests/realtime's latency), and later writes do
// not move it.
func TestFirstWriteMonotonic(t *testing.T) {
	mono := func() int64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			t.Fatal(err)
		}
		return ts.Nano()
	}
	s := NewStream(s16, 64)
	s.Write(make([]byte, 0))
	if st := s.Stats(); st.FirstWrite != 0 {
		t.Fatalf("FirstWrite %d before any frame", st.FirstWrite)
	}
	before := mono()
	s.Write(make([]byte, 4*8))
	after := mono()
	first := s.Stats().FirstWrite
	// MonoNow is CLOCK_MONOTONIC read once at start plus Go's monotonic
	// time since: allow a millisecond for the two clocks' reads.
	if first < before-1e6 || first > after+1e6 {
		t.Errorf("FirstWrite %d, want within [%d, %d]", first, before, after)
	}
	s.Write(make([]byte, 4*8))
	if got := s.Stats().FirstWrite; got != first {
		t.Errorf("FirstWrite moved from %d to %d", first, got)
	}
	if m := mergeStats(Stats{FirstWrite: first + 5}, Stats{FirstWrite: first}); m.FirstWrite != first {
		t.Errorf("merged FirstWrite %d, want the earlier %d", m.FirstWrite, first)
	}
	if m := mergeStats(Stats{FirstWrite: first}, Stats{}); m.FirstWrite != first {
		t.Errorf("merged with a silent voice: %d", m.FirstWrite)
	}
}
