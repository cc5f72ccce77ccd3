package audio

import (
	"time"

	"gemu/clock"
)

// This file is the one home of how a device model moves audio in time: the
// Pacing an audiodev asks for (tick and lead), the Link a device embeds to
// get it, and the Pacer that runs one stream on it. The AC97 DMA engines,
// the virtio-sound PCM streams and the ivshmem ring players all pace with
// it, the way QEMU's audio devices are driven by the audio timer
// (audio/audio.c audio_timer, hw/audio/ac97.c transfer_audio): a stream
// moves the frames that are due at its rate, no more, at each tick.

// RealTimeLead is how much audio, beyond what the host sink may take in
// one burst, a device keeps queued ahead of a sink that pulls in real
// time, to ride out host scheduling jitter (of the emulation goroutine,
// which writes, and of the sink's, which pulls).
const RealTimeLead = 20 * time.Millisecond

// clockRing is the output ring of a clock-pulled sink (wav, none): it
// takes one timer period at a time, so 20 ms leaves ample room. A host
// sink's ring is sized from the host (openHost): the device's lead
// (RealTimeLead plus the host's Burst), plus what the host buffers (its
// pulls stop while its buffer is full), plus two ticks of the device.
// Either is raised to two spec.Samples for devices with larger chunks.
const clockRing = 20 * time.Millisecond

// DefaultTick is a device's pacing step when no audiodev says otherwise:
// the default timer period, so position registers move in 1 ms steps.
const DefaultTick = DefaultTimerPeriod

// MaxLag bounds how far a stream catches up after it moved less than was
// due (the output refused frames, the guest's buffers or ring ran short,
// the capture source ran dry): older debt is forgiven rather than moved in
// one burst. The Lead comes on top (a stream starts by moving its Lead).
const MaxLag = 50 * time.Millisecond

// Pacing is how a device model moves a stream's audio for an audiodev.
//
// Tick is the device's DMA step (0 means DefaultTick). Lead is how far
// ahead of its due time playback runs; capture never leads (its source
// produces frames only once virtual time reaches them).
type Pacing struct {
	Tick time.Duration
	Lead time.Duration
}

// Pacing tells a device model how to move audio for this audiodev.
//
// The tick is the largest step of at most 1 ms that divides the timer
// period, so device ticks land just before every pull of a clock-pulled
// sink and position registers advance smoothly.
//
// The lead is how far ahead of the sink the device keeps playback. A sink
// pulled by the machine clock (wav, none) needs none, on either clock: its
// pulls are timers on the same queue as the device's ticks, one period
// behind them (PullGrid), so they always find the frames due. A host sink
// (oto) pulls on its own thread, late or early by host scheduling jitter,
// and takes up to its Burst at once (ALSA taking one or two periods): it
// gets RealTimeLead plus that Burst (50 ms with oto's defaults). The lead
// shows in a device's DMA position, so only host sinks pay for it
// (Linux's AC97 clock measurement reads it). It does not delay the sound:
// a stream's first frames are queued at once and play as soon as the host
// takes them.
func (a *Audiodev) Pacing() Pacing {
	p := Pacing{Tick: tickFor(a.opt.TimerPeriod)}
	if a.host != nil {
		p.Lead = a.lead
	}
	return p
}

// outputRing is how much audio an output voice's ring holds.
func (a *Audiodev) outputRing() time.Duration {
	if a.host != nil {
		return a.ring
	}
	return clockRing
}

// tickFor returns the largest step of at most 1 ms that divides period
// (1 ms for a non-positive period).
func tickFor(period time.Duration) time.Duration {
	p, ms := int64(period), int64(time.Millisecond)
	if p <= 0 {
		return time.Millisecond
	}
	for steps := (p + ms - 1) / ms; steps < p; steps++ {
		if p%steps == 0 {
			return time.Duration(p / steps)
		}
	}
	return 1
}

// Link is a device model's connection to its -audiodev: the Backend its
// voices open on and the Pacing of its streams. Sound devices embed it, so
// the machine connects any of them with d.UseAudiodev(a), and tests set
// Backend to a fake.
type Link struct {
	// Backend opens the device's voices; nil: playback is consumed at the
	// stream's rate and discarded, capture produces nothing.
	Backend Backend
	Pacing
}

// UseAudiodev plays and records through a, paced as a.Pacing says.
func (l *Link) UseAudiodev(a *Audiodev) {
	l.Backend, l.Pacing = a, a.Pacing()
}

// Pacer runs one stream of a device model like a DAC: on a grid of Tick
// from the moment the stream starts, which is also when the audiodev
// anchors its own pull (the voice opens then). Each timer fires 1 ns
// before its grid point and calls the device's step with the grid point,
// so the step moves the frames due at that point: a sink pulling there
// finds exactly what it needs whichever timer the clock runs first, while
// the guest sees the position at most 1 ns ahead of time.
//
// A timer the clock runs late (it runs timers between instruction blocks,
// and in real time whenever the host gets to them) steps at the time it
// actually runs, not at a later grid point: the stream is never further
// ahead than the 1 ns, and the next timer goes to the first grid point
// after that time. (The ivshmem players once rounded a late step up to the
// next grid point; that ran up to a tick ahead of time and could find the
// producer's ring short for no reason, so they follow this rule too.)
//
// Due and Moved keep the stream at its rate: the step asks how many
// frames are due, moves what it can, and reports what it moved.
//
// A Pacer belongs to the emulation goroutine, like the clock.
type Pacer struct {
	clk   *clock.Clock
	timer *clock.Timer
	step  func(at int64)

	tick, lead int64 // ns
	rate       int
	maxLag     int64 // MaxLag in frames at rate

	t0     int64  // the stream's origin (ns)
	next   int64  // grid point of the next step
	frames int64  // frames moved (or forgiven) since t0
	due    int64  // frames due at the last Due
	gen    uint64 // counts Starts: a step that restarts the stream owns the timer
	on     bool
}

// NewPacer returns a stopped pacer that calls step(at) on each tick of a
// running stream, at = the grid point the tick stands for (or the time the
// clock ran it, if later).
func NewPacer(clk *clock.Clock, step func(at int64)) *Pacer {
	p := &Pacer{clk: clk, step: step}
	p.timer = clk.NewTimer(p.fire)
	return p
}

// Start (re)starts the stream at time t0 (normally the clock's Now) at
// rate frames per second: nothing moved yet, first step at t0 + Tick. A
// capture stream passes a Pacing without Lead. Start does not step; a
// device that moves what is due at t0 (the Lead, for playback) calls its
// step itself.
func (p *Pacer) Start(t0 int64, rate int, pc Pacing) {
	tick := int64(pc.Tick)
	if tick <= 0 {
		tick = int64(DefaultTick)
	}
	p.tick, p.lead, p.rate = tick, int64(pc.Lead), rate
	p.maxLag = int64(framesAt(rate, int64(MaxLag+pc.Lead)))
	p.t0, p.frames, p.due = t0, 0, 0
	p.next = t0 + tick
	p.gen++
	p.on = true
	p.timer.Set(p.next - 1)
}

// Stop stops the ticks (Due still answers, from the last Start).
func (p *Pacer) Stop() {
	p.on = false
	p.timer.Stop()
}

// Running reports whether the stream ticks (started and not stopped).
func (p *Pacer) Running() bool { return p.on }

// fire is the timer: step at the grid point (or at now, when run late),
// then arm the first grid point after it, unless the step stopped or
// restarted the stream.
func (p *Pacer) fire() {
	at := max(p.clk.Now(), p.next)
	gen := p.gen
	p.step(at)
	if !p.on || p.gen != gen {
		return
	}
	if p.next <= at {
		p.next += ((at-p.next)/p.tick + 1) * p.tick
	}
	p.timer.Set(p.next - 1)
}

// Due returns how many frames the stream should move now to be where it
// is due at time at (plus the Lead): at the stream's rate since Start,
// minus what it has moved, at most MaxLag of audio (older debt is
// forgiven), never negative.
func (p *Pacer) Due(at int64) int {
	due := int64(framesAt(p.rate, at+p.lead-p.t0))
	budget := due - p.frames
	if budget > p.maxLag {
		p.frames = due - p.maxLag
		budget = p.maxLag
	}
	p.due = due
	return int(max(budget, 0))
}

// Moved counts n frames as moved.
func (p *Pacer) Moved(n int) { p.frames += int64(n) }

// Skip counts every frame due at the last Due as moved: the time passed
// in silence (virtio-sound with no message queued: later messages play
// from then on, not in a burst).
func (p *Pacer) Skip() { p.frames = max(p.frames, p.due) }
