package clock

import (
	"testing"
	"time"
)

func TestPauseHoldsRealtime(t *testing.T) {
	c := NewRealtime()
	c.Pause()
	if !c.Paused() {
		t.Fatal("not paused")
	}
	at := c.Now()
	time.Sleep(2 * time.Millisecond)
	if now := c.Now(); now != at {
		t.Fatalf("paused clock moved from %d to %d", at, now)
	}
	c.Pause() // no effect
	t0 := time.Now()
	c.Resume()
	now := c.Now()
	// Virtual time may have moved only by what the host spent since Resume.
	if el := int64(time.Since(t0)); now < at || now-at > el {
		t.Fatalf("after Resume Now = %d, paused at %d, %d ns since Resume: the pause leaked into virtual time", now, at, el)
	}
	time.Sleep(time.Millisecond)
	if c.Now() <= now {
		t.Fatal("resumed clock does not run")
	}
}

func TestPauseDeterministicNoop(t *testing.T) {
	n := uint64(10)
	c := NewDeterministic(1, func() uint64 { return n })
	c.Pause()
	if c.Paused() {
		t.Fatal("deterministic clock paused")
	}
	n = 20
	if c.Now() != 40 {
		t.Fatalf("Now = %d, want 40", c.Now())
	}
	c.Resume()
}
