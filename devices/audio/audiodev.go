package audio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gemu/clock"
)

// HostOutput is a real-time audio output (the oto sink, registered by
// package gemu/devices/audio/otosink). It pulls PCM by calling read, which
// fills p with whole frames and never blocks, from its own goroutine.
//
// A HostOutput may also have these methods:
//
//	Buffering() time.Duration // the most audio it holds between read and the speaker
//	Burst() time.Duration     // the most it may take from its buffer at once, without notice
//
// Buffering bounds the estimate of how much the host still holds (to tell
// when it has run dry and played silence of its own). Burst sizes the lead
// of the devices and the wait for a late voice: the host's consumer (ALSA
// taking one or two periods back to back) may take that much in one go
// from the audio handed over, so the devices keep more than that queued.
// Buffering defaults to 70 ms (oto's defaults: a 50 ms player buffer and
// a 20 ms ALSA buffer), Burst to Buffering.
type HostOutput interface {
	// Close stops pulling (read is not called after Close returns).
	Close() error
}

// HostDriver opens a host output for the requested spec and returns the spec
// it actually plays (for example oto supports only 1 or 2 channels and
// u8/s16/f32).
type HostDriver func(want Spec, cfg HostConfig, read func(p []byte) int) (HostOutput, Spec, error)

// HostConfig is what a HostDriver gets from the -audiodev options.
type HostConfig struct {
	BufferLength time.Duration // out.buffer-length (0 = driver default)
	// RealTime asks the driver to raise its threads' priority (rt=on,
	// the default); FIFO asks for SCHED_FIFO rather than a negative nice
	// (rt=fifo). The oto driver uses package rtsched.
	RealTime, FIFO bool
	// Log, when not nil (stats=on), gets the driver's one-line notes,
	// such as what priority its threads got.
	Log io.Writer
}

var (
	hostMu      sync.Mutex
	hostDrivers = map[string]HostDriver{}
)

// RegisterHost makes a real-time driver available to -audiodev NAME. The
// otosink package registers "oto" from its init function.
func RegisterHost(name string, d HostDriver) {
	hostMu.Lock()
	defer hostMu.Unlock()
	hostDrivers[name] = d
}

func hostDriver(name string) HostDriver {
	hostMu.Lock()
	defer hostMu.Unlock()
	return hostDrivers[name]
}

// ErrNoAudio is wrapped by host drivers that find no usable audio device.
var ErrNoAudio = errors.New("no audio output device")

// Audiodev is one -audiodev backend: a mixer feeding a sink (the speakers
// through oto, a WAV file, or nothing), plus the capture sources behind its
// input voices.
//
// Everything except the host sink's pull runs on the emulation goroutine
// (the owner of clk): NewOutput, NewInput, Remove, Close and the clock timer
// that pulls the wav/none sinks and runs capture sources.
type Audiodev struct {
	opt  Options
	clk  *clock.Clock
	log  io.Writer
	out  Spec
	in   *inFile // in.path (source.go)
	mix  *Mixer
	host HostOutput // oto; nil for wav and none
	hq   hostQueue  // host sink's queue estimate (consumer)
	now  func() int64

	// Real-time (host) sink only: the device lead and ring size it
	// needs, the start gate and the record of silence the host played.
	lead, ring time.Duration
	lateWait   int64        // frames: wait for a late voice while the host holds more
	gate       atomic.Int64 // host ns until which the pull waits for voices starting together; 0: open
	gateTimer  *clock.Timer // opens the gate StartWindow of clock time after a session's first voice
	gateAt     int64        // emulation: clock time the gate timer is due
	gateMore   int          // emulation: windows added this session (gateDue)
	idle       atomic.Bool  // consumer: nothing was audible at its last pull
	sink       *sinkRecord
	limitLog   rateLog

	timer   *clock.Timer
	t0      int64  // virtual time the output pull was anchored at
	pulled  uint64 // output frames pulled since t0
	outBuf  []byte
	wav     *WAVWriter
	files   map[string]*WAVWriter // per-stream files by voice name
	fileSeq map[string]int

	inputs  []*capture
	live    []*Stream          // open or draining voices
	retired map[string]*record // statistics of finished voices, by name
	names   []string           // voice names in order of first use
	closed  bool
}

// Open parses an -audiodev argument (see ParseOptions) and starts the
// backend on clk. If the oto driver finds no audio device, Open prints one
// line to stderr naming the alternative and returns a working "none"
// backend instead: a guest never hangs for lack of speakers.
func Open(arg string, clk *clock.Clock) (*Audiodev, error) {
	opt, err := ParseOptions(arg)
	if err != nil {
		return nil, err
	}
	return OpenOptions(opt, clk, os.Stderr)
}

// OpenOptions is Open with parsed options and a writer for the fallback
// message and statistics.
func OpenOptions(opt Options, clk *clock.Clock, log io.Writer) (*Audiodev, error) {
	if clk == nil {
		return nil, errors.New("audiodev: nil clock")
	}
	if log == nil {
		log = io.Discard
	}
	if opt.TimerPeriod <= 0 {
		opt.TimerPeriod = DefaultTimerPeriod
	}
	for _, d := range []Direction{opt.Out, opt.In} {
		if err := d.Spec().Validate(); err != nil {
			return nil, fmt.Errorf("audiodev: %v", err)
		}
	}
	in, err := readInFile(opt)
	if err != nil {
		return nil, err
	}
	a := &Audiodev{opt: opt, clk: clk, log: log, out: opt.Out.Spec(), now: clk.Now, in: in,
		files: map[string]*WAVWriter{}, fileSeq: map[string]int{}}
	a.limitLog.w = log
	a.timer = clk.NewTimer(a.tick)
	switch opt.Driver {
	case "none":
	case "wav":
		w, err := CreateWAV(opt.Path, a.out)
		if err != nil {
			return nil, err
		}
		a.wav = w
	default: // a real-time host driver: oto
		if opt.QEMUDriver != "" {
			fmt.Fprintf(log, "gemu: audiodev %s: QEMU's %s driver plays through gemu's host driver (oto)\n", a.name(), opt.QEMUDriver)
		}
		if err := a.openHost(); err != nil {
			fmt.Fprintf(log, "gemu: audiodev %s: no sound output (%v); continuing silently; use -audiodev wav,id=%s,path=out.wav to record the audio instead\n",
				a.name(), err, a.idOr("snd0"))
			a.opt.Driver = "none"
			a.host = nil
		}
	}
	if a.host == nil {
		a.mix = NewMixer(a.out)
		a.mix.SetResampler(opt.Resampler)
		a.outBuf = make([]byte, mixChunk*a.out.FrameBytes())
	}
	return a, nil
}

func (a *Audiodev) name() string { return a.idOr(a.opt.Driver) }

func (a *Audiodev) idOr(def string) string {
	if a.opt.ID != "" {
		return a.opt.ID
	}
	return def
}

func (a *Audiodev) openHost() error {
	d := hostDriver(a.opt.Driver)
	if d == nil {
		return fmt.Errorf("%w: %s support is not built in (needs cgo and the otosink package)", ErrNoAudio, a.opt.Driver)
	}
	// The host may start pulling before the driver has returned the spec
	// it plays. Until the mixer is published it gets nothing (oto retries;
	// that window is the few microseconds until this function returns),
	// since not even the size and value of a silent frame are known yet.
	var mix atomic.Pointer[Mixer]
	read := func(p []byte) int {
		if m := mix.Load(); m != nil {
			return a.hostRead(m, p)
		}
		return 0
	}
	hc := HostConfig{BufferLength: a.opt.Out.BufferLength, RealTime: !a.opt.NoRT, FIFO: a.opt.RTFIFO}
	if a.opt.Stats {
		hc.Log = a.log
	}
	host, got, err := d(a.out, hc, read)
	if err != nil {
		return err
	}
	if err := got.Validate(); err != nil {
		host.Close()
		return fmt.Errorf("%w: driver plays %v", ErrNoAudio, err)
	}
	m := NewMixer(got)
	m.SetResampler(a.opt.Resampler)
	a.out, a.mix, a.host, a.now = got, m, host, hostNow
	buffering, burst := defaultHostBuffering, defaultHostBuffering
	if b, ok := host.(interface{ Buffering() time.Duration }); ok {
		buffering = b.Buffering()
		burst = buffering
	}
	if b, ok := host.(interface{ Burst() time.Duration }); ok {
		burst = b.Burst()
	}
	frames := func(d time.Duration) int64 { return int64(framesAt(got.Freq, int64(d))) }
	a.lead = RealTimeLead + burst
	a.ring = a.lead + buffering + 2*tickFor(a.opt.TimerPeriod)
	a.lateWait = frames(burst + 2*time.Millisecond)
	a.hq = hostQueue{rate: int64(got.Freq), limit: frames(buffering), slack: frames(burst)}
	a.sink = &sinkRecord{}
	a.sink.hist.init()
	a.sink.fillMin.Store(math.MaxUint64)
	a.idle.Store(true)
	a.gateTimer = a.clk.NewTimer(a.gateDue)
	mix.Store(m)
	return nil
}

// defaultHostBuffering is a host output's Buffering and Burst when it does
// not say.
const defaultHostBuffering = 70 * time.Millisecond

// StartWindow is how close together in clock time voices must start to
// start in the same frame of a real-time sink's mix. The first voice of a
// session (one that opens while nothing plays) closes a gate for this
// long: the host's pull waits, so that every voice opened meanwhile (the
// demo's three devices, started back to back by the guest) begins with
// the others instead of a few milliseconds of audio later. If the clock
// does not get there (the emulation is paused or stalled), the pull opens
// the gate itself after maxGate of host time.
//
// The window is for the guest to run in. In real time the clock is the
// host's, and the host may keep the emulation thread off its CPU (other
// processes' threads, a virtual machine's CPU not scheduled) right after
// the first voice opened: the gate timer then fires late, and the guest
// has had no time to start the others (tests/realtime saw a voice start
// 35 ms after the others under stress-ng --cpu 2). A timer that fires
// more than a window late gives the guest another window from then, at
// most maxGateMore times a session; maxGate, the pull's own limit, is
// long enough to cover such a stall.
const (
	StartWindow = time.Millisecond
	maxGate     = 100 * time.Millisecond
	maxGateMore = 3
)

// startSession closes the start gate when the first voice of a session
// opens (emulation goroutine).
func (a *Audiodev) startSession() {
	if a.host == nil || !a.idle.Load() || a.gateTimer.Armed() {
		return
	}
	a.idle.Store(false)
	a.gate.Store(a.now() + int64(maxGate))
	a.gateAt, a.gateMore = a.clk.Now()+int64(StartWindow), 0
	a.gateTimer.Set(a.gateAt)
}

// gateDue opens the start gate, or, when its timer fired more than a
// window late (the emulation did not run meanwhile), gives the guest
// another window from now (emulation goroutine; see StartWindow).
func (a *Audiodev) gateDue() {
	now := a.clk.Now()
	if now-a.gateAt > int64(StartWindow) && a.gateMore < maxGateMore {
		// Only while the gate is closed: the pull may have opened it
		// (maxGate), and sound that started must not stop again.
		if g := a.gate.Load(); g != 0 && a.gate.CompareAndSwap(g, a.now()+int64(maxGate)) {
			a.gateMore++
			a.gateAt = now + int64(StartWindow)
			a.gateTimer.Set(a.gateAt)
		}
		return
	}
	a.gate.Store(0)
}

// hostRead is the real-time pull (oto's goroutine). oto asks for a whole
// player buffer at a time and accepts short reads; ALSA takes one or two
// periods at a time from what it was given. The contract:
//
//   - Every voice that plays advances by the same number of frames: the
//     read returns what all playing voices have (Mixer.ready), never a mix
//     in which one voice is padded with silence while others have data.
//   - A late voice (playing, nothing buffered, while others have frames)
//     is waited for as long as the host still holds more than its Burst
//     plus 2 ms (lateWait): it is not silence yet, oto will ask again in
//     1 ms. Past that the voices that have frames are mixed and the late
//     one is padded with silence, counted as its underrun (with the time,
//     in its timeline): waiting longer would make every voice drop out.
//   - Nothing playing: 0. oto's mux plays silence on its own while its
//     player buffer is empty, so no silence is queued ahead of the next
//     sound (that would only add latency).
//   - Voices starting together start in the same frame (StartWindow).
//   - Silence the host plays because it ran dry, whether or not the rings
//     had data (ALSA taking more than oto's buffer held), is counted on the
//     sink's record and as an underrun of every voice playing (hostQueue
//     says how much).
//
// It never blocks, takes a lock or allocates.
func (a *Audiodev) hostRead(m *Mixer, p []byte) int {
	fb := m.ofb
	n := len(p) / fb
	if n == 0 {
		return 0
	}
	now := a.now() // hostNow
	if gap := a.hq.pull(now); gap > 0 {
		a.sink.pause(gap)
	}
	if g := a.gate.Load(); g != 0 {
		if now < g {
			return 0
		}
		a.gate.CompareAndSwap(g, 0)
	}
	m.settle()
	all, some, late := m.ready()
	k := all
	if late {
		if q := a.hq.queued(now); q-a.hq.over > a.lateWait {
			a.sink.note(now, q, 0)
			return 0
		}
		k = some
	}
	if k == 0 {
		if !m.audible() {
			// The session is over: the next voice starts a new one.
			a.idle.Store(true)
			a.hq.primed = false
			return 0
		}
		q := a.hq.queued(now)
		if q < 0 {
			a.sink.note(now, q, -q)
			m.starved(int(-q))
			a.hq.reset(now)
		} else {
			a.sink.note(now, q, 0)
		}
		return 0
	}
	k = min(k, n)
	m.Mix(p[:k*fb])
	q, silence := a.hq.gave(now, k)
	if silence > 0 {
		m.starved(int(silence))
	}
	a.sink.note(now, q, silence)
	return k * fb
}

// hostQueue estimates how many of the frames handed over the host output
// still holds (oto's player buffer and the ALSA buffer), from the frames
// handed over and the host time elapsed at the output rate. Consumer-only
// state.
//
// The estimate never falls below the truth, so a negative estimate proves
// that the host played that much silence of its own: it starts each
// session slack frames high (the host may still hold up to Burst of its
// own silence ahead of the first frame, which delays the sound but inserts
// nothing into it), and it is clamped to limit (the host's Buffering),
// which the truth cannot exceed. After silence it is re-anchored at 0
// (the host was empty), so clock drift between host and sound card cannot
// accumulate.
//
// The estimate assumes the host consumes at its rate all the time. That
// fails when nothing ran for a while: the process was stopped (SIGSTOP, a
// debugger, a frozen container or VM) or the host output stopped asking.
// Then the host time since the last pull would all count as silence (a
// 116 s stop gives 5.6M frames at 48 kHz, the size of the one unexplained
// "(host sink)" figure a tests/realtime run reported), although whether
// the card played anything meanwhile is not known. So a gap of more than pauseGap between pulls (oto pulls at
// least every millisecond while it plays, or every ALSA period) is a
// pause of the sink, counted as such, and the estimate starts again from
// the most the host can hold, so what follows is not over-counted either.
type hostQueue struct {
	rate   int64
	limit  int64 // frames the host can hold
	slack  int64 // frames of the host's own silence that may precede a session
	over   int64 // how far the estimate may exceed the truth (slack, until re-anchored)
	t0     int64 // anchor (host ns)
	given  int64 // frames handed over since t0
	primed bool
	last   int64 // host ns of the previous pull; 0: none yet
}

// pauseGap is the longest time between two pulls of a session that is
// still counted as the host playing (silence, if it ran dry); a longer gap
// is a pause (hostQueue).
const pauseGap = time.Second

// pull records a pull at now and returns the gap since the previous one
// if it was a pause (0 otherwise); after a pause the estimate is
// re-anchored at the most the host can hold.
func (h *hostQueue) pull(now int64) (pause int64) {
	last := h.last
	h.last = now
	if !h.primed || last == 0 || now-last <= int64(pauseGap) {
		return 0
	}
	h.reset(now)
	h.given, h.over = h.limit, h.limit
	return now - last
}

func (h *hostQueue) elapsed(now int64) int64 {
	return (now - h.t0) * h.rate / int64(time.Second)
}

func (h *hostQueue) queued(now int64) int64 {
	if !h.primed {
		return 0
	}
	return h.given - h.elapsed(now)
}

func (h *hostQueue) reset(now int64) { h.t0, h.given, h.over = now, 0, 0 }

// gave records k frames handed over at now. It returns the estimate
// before them, and how much silence the host has played since the last
// call (0 if none).
func (h *hostQueue) gave(now int64, k int) (q, silence int64) {
	if !h.primed {
		h.primed = true
		h.reset(now)
		h.given, h.over = h.slack, h.slack
	}
	q = h.queued(now)
	if q < 0 {
		silence = -q
		h.reset(now)
		q = 0
	} else if q > h.limit {
		h.given -= q - h.limit
		q = h.limit
	}
	h.given += int64(k)
	return q, silence
}

// sinkRecord is what a real-time sink's pull saw of the host: its queue
// estimate at every pull and the silence the host played, with times
// (consumer writes; any goroutine reads).
type sinkRecord struct {
	events, frames, pulls     atomic.Uint64
	fillMin, fillMax, fillSum atomic.Uint64
	pauses, paused            atomic.Uint64 // gaps between pulls over pauseGap; their total ns
	starving                  bool
	hist                      history
}

func (r *sinkRecord) pause(gap int64) {
	r.pauses.Add(1)
	r.paused.Add(uint64(gap))
}

func (r *sinkRecord) note(now, q, silence int64) {
	fill := uint64(max(q, 0))
	r.pulls.Add(1)
	if fill < r.fillMin.Load() {
		r.fillMin.Store(fill)
	}
	if fill > r.fillMax.Load() {
		r.fillMax.Store(fill)
	}
	r.fillSum.Add(fill)
	if silence > 0 {
		if !r.starving {
			r.events.Add(1)
		}
		r.frames.Add(uint64(silence))
	}
	r.starving = silence > 0
	r.hist.add(now, fill, silence > 0)
}

// SinkName is the name of the statistics line of a real-time sink: the
// host's queue (estimated) as its fill, and the silence it played as its
// underruns.
const SinkName = "(host sink)"

func (a *Audiodev) sinkStats() (Stats, Timeline) {
	r := a.sink
	st := Stats{Name: SinkName, Spec: a.out, Capacity: int(a.hq.limit),
		Pulls: r.pulls.Load(), UnderrunEvents: r.events.Load(), UnderrunFrames: r.frames.Load(),
		FillMax: r.fillMax.Load(), Pauses: r.pauses.Load(), Paused: time.Duration(r.paused.Load())}
	if st.Pulls > 0 {
		st.FillMin = r.fillMin.Load()
		st.FillAvg = float64(r.fillSum.Load()) / float64(st.Pulls)
	}
	tl := Timeline{Name: SinkName, Capacity: int(a.hq.limit)}
	for i := range int(r.hist.n.Load()) {
		p := r.hist.get(i)
		tl.Points = append(tl.Points, TimelinePoint{T: p.t, Min: p.min, Max: p.max, Underrun: p.under})
	}
	return st, tl
}

// ID is the audiodev's id= value.
func (a *Audiodev) ID() string { return a.opt.ID }

// Options returns the options the backend runs with (Driver is "none" after
// an oto fallback).
func (a *Audiodev) Options() Options { return a.opt }

// OutputSpec is the format of the mix the sink plays or writes.
func (a *Audiodev) OutputSpec() Spec { return a.out }

// ringFrames sizes a voice's ring: enough for the sink's pull granularity
// and the device's preferred chunk (spec.Samples), rounded up to a power of
// two by NewStream.
func (a *Audiodev) ringFrames(spec Spec, d time.Duration) int {
	n := int(int64(spec.Freq) * int64(d) / int64(time.Second))
	return max(n, 2*spec.Samples, 64)
}

// NewOutput opens a playback voice: the device writes frames of spec into
// the returned stream and the sink pulls them. The ring holds about 20 ms
// (wav/none, pulled every timer period) or 40 ms (oto, pulled in ALSA
// periods), or two spec.Samples if larger (see outputRing).
func (a *Audiodev) NewOutput(name string, spec Spec) (*Stream, error) {
	if a.closed {
		return nil, errors.New("audiodev: closed")
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := a.checkVoices(name); err != nil {
		return nil, err
	}
	s := NewStream(spec, a.ringFrames(spec, a.outputRing()))
	s.name, s.now = name, a.now
	var tap func([]byte)
	if a.opt.PerStream {
		w, err := a.streamFile(name, spec)
		if err != nil {
			return nil, err
		}
		if w != nil {
			tap = w.Write
		}
	}
	a.startSession()
	if old := a.mix.Add(s, tap); old != nil {
		if n := old.Buffered(); n > 0 {
			a.limitLog.printf("gemu: audiodev %s: voice %s reopened before its previous audio started playing; %d frames of it dropped", a.name(), name, n)
		}
		a.retire(old)
	}
	a.addLive(s)
	a.arm()
	return s, nil
}

// checkVoices refuses a new voice past MaxVoices.
func (a *Audiodev) checkVoices(name string) error {
	if len(a.live) < MaxVoices {
		return nil
	}
	a.reap()
	if len(a.live) < MaxVoices {
		return nil
	}
	a.limitLog.printf("gemu: audiodev %s: voice %s refused: %d voices open (the limit)", a.name(), name, MaxVoices)
	return fmt.Errorf("audiodev %s: too many voices (limit %d)", a.name(), MaxVoices)
}

// SetLog sets where statistics (stats=on) and limit messages go from now
// on (OpenOptions' log at first). An opener that captured the open's
// fallback message sets it to stderr once it has decided.
func (a *Audiodev) SetLog(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	a.log, a.limitLog.w = w, w
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// streamFile returns the per-stream WAV for a voice: PATH-NAME.wav (PATH
// without its .wav suffix), reused while the voice keeps the same spec;
// a voice reopened with another spec gets PATH-NAME.2.wav, .3, ..., and
// one that returns to a spec it had continues that spec's file. Past
// MaxStreamFiles files it returns nil (the voice is not recorded).
func (a *Audiodev) streamFile(name string, spec Spec) (*WAVWriter, error) {
	if name == "" {
		name = "stream"
	}
	safe := unsafeName.ReplaceAllString(name, "_")
	key := fmt.Sprintf("%s\x00%d/%v/%d", safe, spec.Freq, spec.Format, spec.Channels)
	if w := a.files[key]; w != nil {
		return w, nil
	}
	if len(a.files) >= MaxStreamFiles {
		a.limitLog.printf("gemu: audiodev %s: voice %s (%v) not recorded: per-stream=on made %d files (the limit)", a.name(), name, spec, MaxStreamFiles)
		return nil, nil
	}
	a.fileSeq[safe]++
	base := strings.TrimSuffix(a.opt.Path, filepath.Ext(a.opt.Path))
	p := base + "-" + safe + ".wav"
	if n := a.fileSeq[safe]; n > 1 {
		p = fmt.Sprintf("%s-%s.%d.wav", base, safe, n)
	}
	w, err := CreateWAV(p, spec)
	if err != nil {
		return nil, err
	}
	a.files[key] = w
	return w, nil
}

// Remove takes a voice away (the device stops it or reopens it with
// another Spec). An output's buffered frames are still played; a new output
// with the same name starts right where they end. Removing costs one list
// copy; nothing is flushed or waited for.
func (a *Audiodev) Remove(s *Stream) {
	if s == nil {
		return
	}
	for i, c := range a.inputs {
		if c.s == s {
			s.gone.Store(true)
			a.inputs = append(a.inputs[:i], a.inputs[i+1:]...)
			a.retire(s)
			return
		}
	}
	a.mix.Remove(s)
	a.reap()
}

// arm starts the clock-driven pull if it is not running.
func (a *Audiodev) arm() {
	if a.timer.Armed() {
		return
	}
	a.t0 = a.clk.Now()
	a.pulled = 0
	for _, c := range a.inputs {
		c.anchor(a.t0)
	}
	a.timer.Set(a.t0 + int64(a.opt.TimerPeriod))
}

// PullGrid describes when the clock-driven sinks (wav, none) pull: at every
// anchor + k*period (virtual ns, k >= 1) while any voice is open, taking the
// frames due at the previous grid point. The anchor is the time the first
// voice opened (again after all voices closed). A device that has written
// the frames due by time T - period when the pull at T runs never causes an
// underrun, whatever its own timer grid; ok is false while no pull is
// scheduled.
func (a *Audiodev) PullGrid() (anchor int64, period time.Duration, ok bool) {
	return a.t0, a.opt.TimerPeriod, a.timer.Armed()
}

// framesAt is the number of frames of a rate-Hz stream due dt ns after its
// anchor (floor: never ahead of time).
func framesAt(rate int, dt int64) uint64 {
	if dt <= 0 {
		return 0
	}
	s := dt / 1e9
	ns := dt % 1e9
	return uint64(s)*uint64(rate) + uint64(ns*int64(rate)/1e9)
}

// tick runs every timer period on the emulation goroutine: the wav and none
// sinks pull what virtual time says is due, and capture sources produce
// what is due.
func (a *Audiodev) tick() {
	now := a.clk.Now()
	period := int64(a.opt.TimerPeriod)
	// The grid point this tick stands for (the clock may run it late).
	at := a.timer.When()
	if a.host == nil {
		// One period of lag (see PullGrid): what was due at the previous
		// grid point.
		due := framesAt(a.out.Freq, at-period-a.t0) - a.pulled
		a.pullOut(int(due))
		a.pulled += due
	}
	for _, c := range a.inputs {
		c.run(now)
	}
	a.reap()
	if a.host == nil && len(a.mix.Streams()) == 0 && len(a.inputs) == 0 {
		return // nothing to do until the next voice opens: let the clock idle
	}
	if a.host != nil && len(a.inputs) == 0 {
		return
	}
	next := at + period
	if next <= now { // fell behind: skip to the next grid point
		next = now - (now-a.t0)%period + period
	}
	a.timer.Set(next)
}

// pullOut mixes n output frames and writes them to the WAV file (wav) or
// drops them (none). While no voice is audible the mix is not written, as
// with QEMU, whose wav backend only writes for enabled voices.
func (a *Audiodev) pullOut(n int) {
	fb := a.out.FrameBytes()
	for n > 0 {
		k := min(n, mixChunk)
		buf := a.outBuf[:k*fb]
		audible := a.mix.audible()
		a.mix.Mix(buf)
		if a.wav != nil && audible {
			a.wav.Write(buf)
		}
		n -= k
	}
}

// NewInput opens a capture voice: the audiodev's source (in.path WAV file,
// in.tone sine, or silence) fills the returned stream in virtual time at
// spec's rate and the device reads it. Frames appear only once virtual time
// has reached them; if the device does not read in time the ring fills and
// the newest frames are dropped and counted as an overrun (a capture FIFO
// overflow).
func (a *Audiodev) NewInput(name string, spec Spec) (*Stream, error) {
	if a.closed {
		return nil, errors.New("audiodev: closed")
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := a.checkVoices(name); err != nil {
		return nil, err
	}
	s := NewStream(spec, a.ringFrames(spec, 100*time.Millisecond))
	s.name, s.now = name, a.clk.Now
	c := newCapture(s, a.opt, a.in)
	a.inputs = append(a.inputs, c)
	a.addLive(s)
	if a.timer.Armed() {
		c.anchor(a.clk.Now())
	} else {
		a.arm()
	}
	return s, nil
}

// Streams returns the voices open now, or still draining (diagnostics).
func (a *Audiodev) Streams() []*Stream { return append([]*Stream(nil), a.live...) }

// Close stops the backend. The wav sink first mixes out every frame still
// buffered (so files hold all the device wrote); the oto sink is given up to
// the buffered duration plus 200 ms to play it. Then files get their final
// headers and, if asked, statistics are printed and written.
func (a *Audiodev) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	a.timer.Stop()
	if a.gateTimer != nil {
		a.gateTimer.Stop()
	}
	var errs []error
	if a.host != nil {
		var left time.Duration
		for _, s := range a.mix.Streams() {
			left = max(left, s.spec.DurationOf(s.Buffered()*s.fb))
		}
		deadline := time.Now().Add(200*time.Millisecond + left)
		for a.mix.anyBuffered() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		errs = append(errs, a.host.Close())
	} else {
		// Drain: at most every ring's capacity, converted, plus filter tails.
		limit := 0
		for _, s := range a.mix.Streams() {
			s.SetActive(false)
			limit += s.Capacity()*a.out.Freq/s.spec.Freq + 2*maxTaps + mixChunk
		}
		for limit > 0 && a.mix.audible() {
			// Exactly what is buffered (no padding after the last frame),
			// then small steps to flush resampler tails.
			k := min(a.mix.Available(), mixChunk)
			if k == 0 {
				k = 64
			}
			a.pullOut(k)
			limit -= k
		}
	}
	if a.wav != nil {
		errs = append(errs, a.wav.Close())
	}
	for _, w := range a.files {
		errs = append(errs, w.Close())
	}
	errs = append(errs, a.writeStats())
	return errors.Join(errs...)
}

// reap moves the statistics of voices the mixer has finished into their
// name's record, so that a device opening and closing voices for hours
// keeps memory bounded.
func (a *Audiodev) reap() {
	for _, s := range a.mix.prune() {
		a.retire(s)
	}
}

func (a *Audiodev) addLive(s *Stream) {
	a.live = append(a.live, s)
	if a.retired == nil {
		a.retired = map[string]*record{}
	}
	if _, ok := a.retired[s.name]; !ok {
		a.retired[s.name] = nil
		a.names = append(a.names, s.name)
	}
}

func (a *Audiodev) retire(s *Stream) {
	for i, l := range a.live {
		if l == s {
			a.live = append(a.live[:i], a.live[i+1:]...)
			break
		}
	}
	a.retired[s.name] = a.retired[s.name].merge(s.Stats(), s.Timeline())
}

// record is the merged statistics of every voice that had one name.
type record struct {
	st Stats
	tl Timeline
}

func (r *record) merge(st Stats, tl Timeline) *record {
	if r == nil {
		return &record{st, tl}
	}
	return &record{mergeStats(r.st, st), mergeTimelines(r.tl, tl)}
}

// Stats returns one line of statistics per voice name: every voice that
// had the name (a device reopens voices when the guest changes rate or
// restarts a stream), merged.
func (a *Audiodev) Stats() ([]Stats, []Timeline) {
	var sts []Stats
	var tls []Timeline
	for _, name := range a.names {
		var r *record
		if a.retired[name] != nil {
			c := *a.retired[name]
			r = &c
		}
		for _, s := range a.live {
			if s.name == name {
				r = r.merge(s.Stats(), s.Timeline())
			}
		}
		if r != nil {
			sts = append(sts, r.st)
			tls = append(tls, r.tl)
		}
	}
	if a.sink != nil {
		st, tl := a.sinkStats()
		sts = append(sts, st)
		tls = append(tls, tl)
	}
	return sts, tls
}

func (a *Audiodev) writeStats() error {
	all, tls := a.Stats()
	if a.opt.Stats {
		fmt.Fprintf(a.log, "gemu: audiodev %s (%s, %v): %d voice(s)\n", a.name(), a.opt.Driver, a.out, len(all))
		for _, st := range all {
			fmt.Fprintf(a.log, "  %v\n", st)
		}
	}
	var errs []error
	if a.opt.StatsCSV != "" {
		errs = append(errs, writeFile(a.opt.StatsCSV, func(w io.Writer) error { return WriteCSV(w, all) }))
	}
	if a.opt.StatsSVG != "" {
		errs = append(errs, writeFile(a.opt.StatsSVG, func(w io.Writer) error { return WriteSVG(w, tls) }))
	}
	return errors.Join(errs...)
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("audio: %w", err)
	}
	err = fn(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audio: %s: %w", path, err)
	}
	return nil
}
