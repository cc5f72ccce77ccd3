package audio

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stepLog records a pacer's steps: the grid point each stood for and the
// time the clock ran it.
type stepLog struct {
	at, ran []int64
}

func newLoggedPacer(v *vclock) (*Pacer, *stepLog) {
	l := &stepLog{}
	p := NewPacer(v.clk, func(at int64) {
		l.at = append(l.at, at)
		l.ran = append(l.ran, v.clk.Now())
	})
	return p, l
}

// Steps stand for the grid points t0 + k*Tick and run 1 ns before them.
func TestPacerGrid(t *testing.T) {
	v := newVClock()
	v.advance(123_456)
	p, l := newLoggedPacer(v)
	t0 := v.clk.Now()
	p.Start(t0, 48000, Pacing{Tick: 250 * time.Microsecond})
	v.advance(1_000_000)
	var at, ran []int64
	for k := int64(1); k <= 4; k++ {
		at = append(at, t0+k*250_000)
		ran = append(ran, t0+k*250_000-1)
	}
	if d := cmp.Diff(stepLog{at, ran}, *l, cmp.AllowUnexported(stepLog{})); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
}

// A zero Tick is DefaultTick.
func TestPacerDefaultTick(t *testing.T) {
	v := newVClock()
	p, l := newLoggedPacer(v)
	p.Start(0, 48000, Pacing{})
	v.advance(int64(3 * DefaultTick))
	if d := cmp.Diff([]int64{1e6, 2e6, 3e6}, l.at); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
}

// A step the clock runs late stands for the time it runs (never ahead of
// time by more than 1 ns), and the next goes to the first grid point after.
func TestPacerLate(t *testing.T) {
	v := newVClock()
	p, l := newLoggedPacer(v)
	p.Start(0, 48000, Pacing{Tick: time.Millisecond})
	v.ns = 2_300_000 // the clock gets to its timers only now
	v.clk.RunDue()
	v.advance(700_000)
	want := stepLog{at: []int64{2_300_000, 3_000_000}, ran: []int64{2_300_000, 2_999_999}}
	if d := cmp.Diff(want, *l, cmp.AllowUnexported(stepLog{})); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
}

// Stop ends the ticks; Start again takes a new origin. A step may stop or
// restart its own stream.
func TestPacerStartStop(t *testing.T) {
	v := newVClock()
	p, l := newLoggedPacer(v)
	p.Start(0, 48000, Pacing{Tick: time.Millisecond})
	v.advance(2_500_000)
	p.Stop()
	if p.Running() {
		t.Error("running after Stop")
	}
	v.advance(5_000_000)
	if len(l.at) != 2 {
		t.Fatalf("%d steps, want 2 before Stop", len(l.at))
	}
	p.Start(v.clk.Now(), 48000, Pacing{Tick: time.Millisecond})
	v.advance(1_000_000)
	if d := cmp.Diff([]int64{1e6, 2e6, 8_500_000}, l.at); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}

	// A step that stops the stream: no further ticks.
	v = newVClock()
	var q *Pacer
	n := 0
	q = NewPacer(v.clk, func(int64) { n++; q.Stop() })
	q.Start(0, 48000, Pacing{Tick: time.Millisecond})
	v.advance(5_000_000)
	if n != 1 || q.Running() {
		t.Errorf("stopping step: %d steps, running %v", n, q.Running())
	}

	// A step that restarts the stream: the new grid holds.
	v = newVClock()
	var ats []int64
	q = NewPacer(v.clk, func(at int64) {
		ats = append(ats, at)
		if len(ats) == 1 {
			q.Start(at+400_000, 48000, Pacing{Tick: time.Millisecond})
		}
	})
	q.Start(0, 48000, Pacing{Tick: time.Millisecond})
	v.advance(3_000_000)
	if d := cmp.Diff([]int64{1e6, 2_400_000}, ats); d != "" {
		t.Errorf("restarting step (-want +got):\n%s", d)
	}
}

// Due moves the stream at its rate: exact frame counts on any grid, with
// Lead added for playback.
func TestPacerDue(t *testing.T) {
	v := newVClock()
	p := NewPacer(v.clk, func(int64) {})
	p.Start(1000, 44100, Pacing{Tick: time.Millisecond})
	total := 0
	for at := int64(1000); ; at += 333_333 {
		at = min(at, 1000+1e9)
		n := p.Due(at)
		p.Moved(n)
		total += n
		if at == 1000+1e9 {
			break
		}
	}
	if total != 44100 {
		t.Errorf("moved %d frames in 1 s, want 44100", total)
	}
	p.Start(0, 48000, Pacing{Tick: time.Millisecond, Lead: 20 * time.Millisecond})
	if n := p.Due(0); n != 960 {
		t.Errorf("Due at start with a 20 ms lead = %d, want 960", n)
	}
	p.Stop()
	if n := p.Due(0); n != 960 {
		t.Errorf("Due after Stop = %d, want 960", n)
	}
}

// Back-pressure: what was not moved stays due, up to MaxLag; Skip
// forgives it.
func TestPacerBackPressure(t *testing.T) {
	v := newVClock()
	p := NewPacer(v.clk, func(int64) {})
	p.Start(0, 48000, Pacing{Tick: time.Millisecond})
	if n := p.Due(1e6); n != 48 {
		t.Fatalf("Due = %d, want 48", n)
	}
	p.Moved(10)
	if n := p.Due(2e6); n != 86 {
		t.Errorf("Due after moving 10 of 48 = %d, want 86", n)
	}
	// A second without moving anything: at most MaxLag is owed.
	if n := p.Due(1_002_000_000); n != 2400 {
		t.Errorf("Due after a stall = %d, want %d (MaxLag)", n, 2400)
	}
	p.Moved(100)
	if n := p.Due(1_002_000_000); n != 2300 {
		t.Errorf("Due = %d, want 2300", n)
	}
	p.Skip()
	if n := p.Due(1_003_000_000); n != 48 {
		t.Errorf("Due after Skip = %d, want 48", n)
	}
}

// Link: a clock-pulled sink gets no lead, a real-time one RealTimeLead;
// both give the tick that divides the timer period.
func TestLinkUseAudiodev(t *testing.T) {
	v := newVClock()
	var l Link
	a, _ := openTest(t, v, "none,timer-period=1500")
	l.UseAudiodev(a)
	if l.Backend != Backend(a) || l.Pacing != (Pacing{Tick: 750 * time.Microsecond}) {
		t.Errorf("none: %+v", l)
	}
	a.Close()

	f := &fakeHost{}
	RegisterHost("fakehost-link", f.open)
	h, err := OpenOptions(Options{Driver: "fakehost-link", TimerPeriod: time.Millisecond, Out: Direction{Frequency: 48000}}, v.clk, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	l.UseAudiodev(h)
	if l.Backend != Backend(h) || l.Pacing != (Pacing{Tick: time.Millisecond, Lead: RealTimeLead + 10*time.Millisecond}) {
		t.Errorf("host: %+v", l)
	}
	h.Close()
}

// A device paced by a Pacer, started at any phase of the sink's grid,
// never underruns a clock-pulled sink, and plays every frame.
func TestPacerFeedsClockSink(t *testing.T) {
	for _, offset := range []int64{0, 1, 370_000, 999_999} {
		v := newVClock()
		a, _ := openTest(t, v, "none,out.frequency=48000")
		v.advance(offset)
		o, err := a.OpenOutput("pcm", s16)
		if err != nil {
			t.Fatal(err)
		}
		o.SetActive(true)
		buf := make([]byte, 4*2400)
		var p *Pacer
		p = NewPacer(v.clk, func(at int64) {
			n := min(p.Due(at), o.Free())
			p.Moved(o.Write(buf[:4*n]))
		})
		p.Start(v.clk.Now(), 48000, a.Pacing())
		v.advance(1_000_000_000)
		st := o.(openVoice).Stats()
		if st.UnderrunFrames != 0 || st.Produced != 48000 {
			t.Errorf("offset %d: %v", offset, st)
		}
		a.Close()
	}
}
