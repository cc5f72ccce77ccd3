package audio

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gemu/qemuopt"
)

// Options is a parsed -audiodev argument.
type Options struct {
	Driver string // oto, wav or none
	// QEMUDriver is the QEMU host driver the command line named (alsa,
	// pa, ...) when gemu plays it through oto instead (HostDrivers).
	QEMUDriver string
	ID         string
	Path       string // wav: output file (QEMU's path=, default gemu.wav)

	// TimerPeriod is how often the machine clock runs the wav/none sinks and
	// the capture sources (QEMU's timer-period, given in µs).
	TimerPeriod time.Duration

	Out, In Direction

	InPath string  // in.path: WAV file a capture voice records from
	InLoop bool    // in.loop: restart the file at its end (else silence)
	InTone float64 // in.tone: Hz of a sine the capture voices record (0 = off)

	// Resampler converts voices at another rate than the output:
	// ResamplerQEMU (default, also for "") or ResamplerSinc (qemurate.go).
	Resampler string

	PerStream bool   // per-stream: also write PATH-NAME.wav per voice
	Stats     bool   // stats: print a summary on Close
	StatsCSV  string // stats.csv: write per-stream statistics here on Close
	StatsSVG  string // stats.svg: draw the ring-fill timelines here on Close

	// NoRT (rt=off) keeps the host driver's threads at ordinary
	// priority; by default (rt=on) the oto driver raises them to nice
	// -11, and with rt=fifo (RTFIFO) to SCHED_FIFO (package rtsched).
	NoRT   bool
	RTFIFO bool
}

// Direction holds QEMU's per-direction options (out.* or in.*).
type Direction struct {
	Frequency    int    // Hz; 0 = default 44100 (QEMU's default)
	Channels     int    // 0 = default 2
	Format       Format // 0 = default s16
	BufferLength time.Duration
}

// Defaults, as QEMU's audio subsystem has them, except the timer period (see
// DefaultTimerPeriod).
const (
	DefaultFrequency = 44100
	DefaultChannels  = 2
	DefaultFormat    = S16LE
)

// DefaultTimerPeriod is 1 ms, not QEMU's 10 ms: a device's DMA position
// moves only when the sink pulls, and 10 ms steps are what makes guest
// sound servers (PipeWire) report xruns. At 1 ms a 48 kHz
// stream advances 48 frames per step, and the cost is 1000 timer events per
// second of virtual time, far below 0.1% of a core.
const DefaultTimerPeriod = time.Millisecond

// Spec returns the direction's stream format with defaults filled in.
func (d Direction) Spec() Spec {
	s := Spec{Freq: d.Frequency, Channels: d.Channels, Format: d.Format}
	if s.Freq == 0 {
		s.Freq = DefaultFrequency
	}
	if s.Channels == 0 {
		s.Channels = DefaultChannels
	}
	if s.Format == FormatInvalid {
		s.Format = DefaultFormat
	}
	return s
}

// Drivers are the -audiodev drivers, for -audiodev help (QEMU's
// audio_help prints "Available audio drivers:" and one name a line).
var Drivers = []string{"none", "oto", "wav"}

// HostDrivers are QEMU's host audio drivers (qapi/audio.json AudiodevDriver,
// less none and wav): a pasted QEMU command line naming one plays through
// gemu's host driver, oto, and OpenOptions says so in one line.
var HostDrivers = []string{"alsa", "pa", "pipewire", "sdl", "jack", "oss", "coreaudio", "dsound", "dbus", "spice", "sndio"}

// Keys are the -audiodev keys gemu takes, with QEMU's value types and a
// description, for -audiodev DRIVER,help; the out. and in. keys are listed
// once with a "out.|in." prefix.
var Keys = []struct{ Name, Type, Help string }{
	{"id", "str", "name the sound devices refer to with audiodev="},
	{"path", "str", "wav: output file (default gemu.wav)"},
	{"timer-period", "int", "µs between sink and capture ticks (default 1000)"},
	{"out.|in.frequency", "uint32", "Hz (default 44100)"},
	{"out.|in.channels", "uint32", "1.." + strconv.Itoa(MaxChannels) + " (default 2)"},
	{"out.|in.format", "AudioFormat", "u8, s8, u16, s16, u32, s32 or f32 (default s16)"},
	{"out.|in.buffer-length", "uint32", "host buffer in µs"},
	{"out.|in.mixing-engine", "bool", "accepted, no effect"},
	{"out.|in.fixed-settings", "bool", "accepted, no effect"},
	{"out.|in.voices", "uint32", "accepted, no effect"},
	{"in.path", "str", "gemu: WAV file the capture voices record from"},
	{"in.loop", "bool", "gemu: restart in.path at its end (else silence)"},
	{"in.tone", "number", "gemu: Hz of a sine the capture voices record"},
	{"resampler", "str", "gemu: qemu (QEMU 7.2's linear interpolation, bit-exact; default) or sinc (windowed sinc)"},
	{"per-stream", "bool", "gemu, wav: also write PATH-NAME.wav per voice"},
	{"stats", "bool", "gemu: print a summary when the run ends"},
	{"stats.csv", "str", "gemu: per-stream statistics file"},
	{"stats.svg", "str", "gemu: ring-fill timelines drawing"},
	{"rt", "on|off|fifo", "gemu, oto: raise the host audio threads' priority: on (nice -11, the default), fifo (SCHED_FIFO) or off"},
}

// ParseOptions parses an -audiodev argument in QEMU's syntax (keyval:
// DRIVER[,id=ID][,KEY=VALUE...] or driver=DRIVER,...) and reads it with
// ParseOpts.
func ParseOptions(arg string) (Options, error) {
	q, err := qemuopt.ParseFlag("-audiodev", arg)
	if err != nil {
		return Options{}, fmt.Errorf("audiodev: %v", err)
	}
	return ParseOpts(q)
}

// ParseOpts reads a parsed -audiodev. Recognised keys (Keys): id, path,
// timer-period (µs), out.|in. frequency, channels, format, buffer-length
// (µs), plus QEMU keys gemu accepts and ignores (mixing-engine,
// fixed-settings, voices) and gemu's own in.path, in.loop, in.tone,
// per-stream, stats, stats.csv, stats.svg and rt. A key given twice keeps its
// last value, as in QEMU.
func ParseOpts(q *qemuopt.Opts) (Options, error) {
	o := Options{TimerPeriod: DefaultTimerPeriod}
	for _, k := range q.Keys() {
		v, _ := q.Get(k)
		if err := o.set(k, v); err != nil {
			return Options{}, err
		}
	}
	for _, h := range HostDrivers {
		if o.Driver == h {
			o.QEMUDriver, o.Driver = h, "oto"
		}
	}
	switch o.Driver {
	case "oto", "wav", "none":
	case "":
		return Options{}, fmt.Errorf("audiodev: no driver (want oto, wav or none)")
	default:
		return Options{}, fmt.Errorf("audiodev: unknown driver %q (want oto, wav or none)", o.Driver)
	}
	if o.Driver == "wav" && o.Path == "" {
		o.Path = "gemu.wav"
	}
	if o.PerStream && o.Driver != "wav" {
		return Options{}, fmt.Errorf("audiodev: per-stream needs the wav driver")
	}
	if o.InPath != "" && o.InTone != 0 {
		return Options{}, fmt.Errorf("audiodev: in.path and in.tone exclude each other")
	}
	for _, d := range []Direction{o.Out, o.In} {
		if err := d.Spec().Validate(); err != nil {
			return Options{}, fmt.Errorf("audiodev: %v", err)
		}
	}
	return o, nil
}

// parseBool reads QEMU's boolean spellings.
func parseBool(key, v string) (bool, error) {
	b, err := qemuopt.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("audiodev: %s=%s: %v", key, v, err)
	}
	return b, nil
}

func (o *Options) set(k, v string) error {
	num := func(lo, hi int64) (int64, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("audiodev: %s=%q: want an integer in %d..%d", k, v, lo, hi)
		}
		return n, nil
	}
	var err error
	var n int64
	var d *Direction
	key := k
	if rest, ok := strings.CutPrefix(k, "out."); ok {
		d, key = &o.Out, rest
	} else if rest, ok := strings.CutPrefix(k, "in."); ok {
		d, key = &o.In, rest
	}
	if d != nil {
		switch key {
		case "frequency":
			n, err = num(MinFreq, MaxFreq)
			d.Frequency = int(n)
			return err
		case "channels":
			n, err = num(1, MaxChannels)
			d.Channels = int(n)
			return err
		case "format":
			d.Format, err = ParseFormat(v)
			if err != nil {
				return fmt.Errorf("audiodev: %s: %w", k, err)
			}
			return nil
		case "buffer-length":
			n, err = num(1000, 10_000_000)
			d.BufferLength = time.Duration(n) * time.Microsecond
			return err
		case "mixing-engine", "fixed-settings":
			_, err = parseBool(k, v)
			return err
		case "voices":
			_, err = num(1, 64)
			return err
		}
		if d == &o.In {
			switch key {
			case "path":
				if v == "" {
					return fmt.Errorf("audiodev: in.path is empty")
				}
				o.InPath = v
				return nil
			case "loop":
				o.InLoop, err = parseBool(k, v)
				return err
			case "tone":
				f, ferr := strconv.ParseFloat(v, 64)
				if ferr != nil || !(f > 0 && f <= 100000) {
					return fmt.Errorf("audiodev: in.tone=%q: want a frequency in Hz (0 < f <= 100000)", v)
				}
				o.InTone = f
				return nil
			}
		}
		return fmt.Errorf("audiodev: unknown option %q", k)
	}
	switch k {
	case "driver":
		o.Driver = v
	case "id":
		o.ID = v
	case "path":
		if v == "" {
			return fmt.Errorf("audiodev: path is empty")
		}
		o.Path = v
	case "timer-period":
		n, err = num(100, 1_000_000)
		o.TimerPeriod = time.Duration(n) * time.Microsecond
		return err
	case "resampler":
		if v != ResamplerQEMU && v != ResamplerSinc {
			return fmt.Errorf("audiodev: resampler=%q: want qemu or sinc", v)
		}
		o.Resampler = v
	case "per-stream":
		o.PerStream, err = parseBool(k, v)
		return err
	case "stats":
		o.Stats, err = parseBool(k, v)
		return err
	case "stats.csv":
		o.StatsCSV = v
	case "stats.svg":
		o.StatsSVG = v
	case "rt":
		o.NoRT, o.RTFIFO = false, false
		if v == "fifo" {
			o.RTFIFO = true
			return nil
		}
		var on bool
		on, err = parseBool(k, v)
		if err != nil {
			return fmt.Errorf("audiodev: rt=%s: want on, off or fifo", v)
		}
		o.NoRT = !on
		return nil
	default:
		return fmt.Errorf("audiodev: unknown option %q", k)
	}
	return nil
}
