package audio

import (
	"errors"
	"fmt"
	"io"
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
// A HostOutput may also have a Buffering() time.Duration method saying how
// much audio it holds between read and the speaker (used to tell when it
// has run dry).
type HostOutput interface {
	// Close stops pulling (read is not called after Close returns).
	Close() error
}

// HostDriver opens a host output for the requested spec and returns the spec
// it actually plays (for example oto supports only 1 or 2 channels and
// u8/s16/f32). bufferLength is the requested buffer (0 = driver default).
type HostDriver func(want Spec, bufferLength time.Duration, read func(p []byte) int) (HostOutput, Spec, error)

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
	host, got, err := d(a.out, a.opt.Out.BufferLength, read)
	if err != nil {
		return err
	}
	if err := got.Validate(); err != nil {
		host.Close()
		return fmt.Errorf("%w: driver plays %v", ErrNoAudio, err)
	}
	m := NewMixer(got)
	a.out, a.mix, a.host, a.now = got, m, host, hostNow
	a.hq = hostQueue{rate: int64(got.Freq), limit: int64(got.Freq) / 10}
	if b, ok := host.(interface{ Buffering() time.Duration }); ok {
		a.hq.limit = int64(got.BytesFor(b.Buffering()) / got.FrameBytes())
	}
	mix.Store(m)
	return nil
}

// hostRead is the real-time pull (oto's goroutine). It returns at most
// what is buffered, so that oto's player buffer holds real audio and works
// as a jitter buffer:
//   - frames buffered: mix and return them;
//   - nothing playing (no active stream): a short run of silence (5 ms), so
//     oto keeps its pipeline fed cheaply (and Play's prefill, which loops
//     until its buffer is full, does not spin);
//   - a stream is playing but its ring is empty: return 0 and let oto play
//     what it holds (it asks again after 1 ms). Whether oto has run dry is
//     estimated from the frames handed over against elapsed host time; when
//     it has, the silence it plays is counted as an underrun of the active
//     streams.
//
// It never blocks, takes a lock or allocates.
func (a *Audiodev) hostRead(m *Mixer, p []byte) int {
	fb := m.ofb
	n := len(p) / fb
	if n == 0 {
		return 0
	}
	now := hostNow()
	if k := min(n, m.Available()); k > 0 {
		m.Mix(p[:k*fb])
		a.hq.gave(now, k)
		return k * fb
	}
	if !m.audible() {
		k := min(n, max(m.out.Freq/200, 1))
		m.Mix(p[:k*fb])
		a.hq.gave(now, k)
		return k * fb
	}
	if q := a.hq.queued(now); q < 0 {
		m.starved(int(-q))
		a.hq.reset(now)
	}
	return 0
}

// hostQueue estimates how many frames the host output still holds (oto's
// player buffer and the device buffer), from frames handed over and time
// elapsed at the output rate. Consumer-only state. The estimate is clamped
// to the host's buffering and re-anchored whenever it runs dry, so clock
// drift between host and sound card cannot accumulate.
type hostQueue struct {
	rate   int64
	limit  int64 // frames the host can hold
	t0     int64 // anchor (host ns)
	given  int64 // frames handed over since t0
	primed bool
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

func (h *hostQueue) reset(now int64) { h.t0, h.given = now, 0 }

func (h *hostQueue) gave(now int64, k int) {
	if !h.primed {
		h.primed = true
		h.reset(now)
	}
	if q := h.queued(now); q < 0 {
		h.reset(now)
	} else if q > h.limit {
		h.given -= q - h.limit
	}
	h.given += int64(k)
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
	s := NewStream(spec, a.ringFrames(spec, a.outputRing()))
	s.name, s.now = name, a.now
	var tap func([]byte)
	if a.opt.PerStream {
		w, err := a.streamFile(name, spec)
		if err != nil {
			return nil, err
		}
		tap = w.Write
	}
	a.mix.Add(s, tap)
	a.addLive(s)
	a.arm()
	return s, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// streamFile returns the per-stream WAV for a voice: PATH-NAME.wav (PATH
// without its .wav suffix), reused while the voice keeps the same spec;
// a voice reopened with another spec gets PATH-NAME.2.wav, .3, ...
func (a *Audiodev) streamFile(name string, spec Spec) (*WAVWriter, error) {
	if name == "" {
		name = "stream"
	}
	safe := unsafeName.ReplaceAllString(name, "_")
	if w := a.files[safe]; w != nil {
		ws := spec
		ws.Format = wavFormat(spec.Format)
		if w.src == spec.Format && w.Spec().SameStream(ws) {
			return w, nil
		}
		if err := w.Close(); err != nil {
			fmt.Fprintln(a.log, "gemu:", err)
		}
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
	a.files[safe] = w
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
