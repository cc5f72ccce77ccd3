package audio

import (
	"testing"
	"time"

	"gemu/clock"

	"github.com/google/go-cmp/cmp"
)

func TestTickFor(t *testing.T) {
	got := []time.Duration{tickFor(time.Millisecond), tickFor(10 * time.Millisecond), tickFor(1500 * time.Microsecond),
		tickFor(250 * time.Microsecond), tickFor(0), tickFor(7)}
	want := []time.Duration{time.Millisecond, time.Millisecond, 750 * time.Microsecond, 250 * time.Microsecond,
		time.Millisecond, 7}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestPacing: a sink pulled by the machine clock needs no lead on either
// clock (only a host sink such as oto does).
func TestPacing(t *testing.T) {
	det := clock.NewDeterministic(0, func() uint64 { return 0 })
	for _, c := range []struct {
		arg  string
		clk  *clock.Clock
		tick time.Duration
		lead time.Duration
	}{
		{"none,id=a", det, time.Millisecond, 0},
		{"none,id=a,timer-period=1500", det, 750 * time.Microsecond, 0},
		{"none,id=a", clock.NewRealtime(), time.Millisecond, 0},
	} {
		a, err := Open(c.arg, c.clk)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := a.Pacing(), (Pacing{Tick: c.tick, Lead: c.lead}); got != want {
			t.Errorf("%s: Pacing = %+v; want %+v", c.arg, got, want)
		}
		a.Close()
	}
}

// TestVoiceCloseRemoves: Close on an opened voice hands it back to the
// audiodev, as Remove does: an output is marked gone (it leaves the mix once
// drained), an input stops being fed at once.
func TestVoiceCloseRemoves(t *testing.T) {
	a, err := Open("none,id=a", clock.NewDeterministic(0, func() uint64 { return 0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	spec := Spec{Freq: 48000, Format: S16LE, Channels: 2}
	o, err := a.OpenOutput("out", spec)
	if err != nil {
		t.Fatal(err)
	}
	in, err := a.OpenInput("in", spec)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.Streams()); n != 2 {
		t.Fatalf("%d live streams, want 2", n)
	}
	o.Close()
	if !o.(openVoice).gone.Load() {
		t.Error("closed output not removed from the mix")
	}
	in.Close()
	if n := len(a.inputs); n != 0 {
		t.Errorf("%d capture inputs after closing the input, want 0", n)
	}
}
