package clock

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDeterministicNowAndSkip(t *testing.T) {
	var n uint64
	c := NewDeterministic(3, func() uint64 { return n })
	n = 1000
	if got := c.Now(); got != 8000 {
		t.Errorf("Now = %d, want 8000", got)
	}
	c.Skip(5000) // in the past: no effect
	if got := c.Now(); got != 8000 {
		t.Errorf("Now after past Skip = %d", got)
	}
	c.Skip(1_000_000)
	if got := c.Now(); got != 1_000_000 {
		t.Errorf("Now after Skip = %d", got)
	}
	n = 1001
	if got, want := c.Now(), int64(1_000_008); got != want {
		t.Errorf("Now = %d, want %d", got, want)
	}
	if got := c.Ticks(); got != 10000 {
		t.Errorf("Ticks = %d, want 10000", got)
	}
}

func TestTimersFireInOrderAndRearm(t *testing.T) {
	var n uint64
	c := NewDeterministic(0, func() uint64 { return n })
	var fired []string
	a := c.NewTimer(func() { fired = append(fired, "a") })
	var b *Timer
	b = c.NewTimer(func() {
		fired = append(fired, "b")
		if len(fired) < 4 {
			b.Set(b.When() + 10) // periodic
		}
	})
	x := c.NewTimer(func() { fired = append(fired, "x") })
	a.Set(30)
	b.Set(5)
	x.Set(20)
	x.Stop()
	x.Stop() // stopping twice is harmless
	if x.Armed() {
		t.Error("stopped timer still armed")
	}
	a.Set(12) // re-arm earlier while armed
	if next, ok := c.Next(); !ok || next != 5 {
		t.Errorf("Next = %d, %v", next, ok)
	}
	n = 4
	c.RunDue()
	if len(fired) != 0 {
		t.Fatalf("fired early: %v", fired)
	}
	n = 100
	c.RunDue()
	if diff := cmp.Diff([]string{"b", "a", "b", "b"}, fired); diff != "" {
		t.Errorf("firing order (-want +got):\n%s", diff)
	}
	if _, ok := c.Next(); ok {
		t.Error("queue not empty")
	}
}

func TestRealtimeMonotonic(t *testing.T) {
	c := NewRealtime()
	a := c.Now()
	b := c.Now()
	if b < a || a < 0 {
		t.Errorf("Now went backwards: %d then %d", a, b)
	}
	c.Skip(a + 1e12) // no effect in real time
	if c.Now() > b+1e11 {
		t.Error("Skip moved real time")
	}
}

func BenchmarkTimerRearm(b *testing.B) {
	c := NewDeterministic(0, func() uint64 { return 0 })
	ts := make([]*Timer, 16)
	for i := range ts {
		ts[i] = c.NewTimer(func() {})
		ts[i].Set(int64(i))
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ts[i&15].Set(int64(i))
	}
}
