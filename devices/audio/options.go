package audio

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Options is a parsed -audiodev argument.
type Options struct {
	Driver string // oto, wav or none
	ID     string
	Path   string // wav: output file (QEMU's path=, default gemu.wav)

	// TimerPeriod is how often the machine clock runs the wav/none sinks and
	// the capture sources (QEMU's timer-period, given in µs).
	TimerPeriod time.Duration

	Out, In Direction

	InPath string  // in.path: WAV file a capture voice records from
	InLoop bool    // in.loop: restart the file at its end (else silence)
	InTone float64 // in.tone: Hz of a sine the capture voices record (0 = off)

	PerStream bool   // per-stream: also write PATH-NAME.wav per voice
	Stats     bool   // stats: print a summary on Close
	StatsCSV  string // stats.csv: write per-stream statistics here on Close
	StatsSVG  string // stats.svg: draw the ring-fill timelines here on Close
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

// splitOpts splits QEMU's key=value list: ',' separates, ",," is a literal
// comma.
func splitOpts(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			if i+1 < len(s) && s[i+1] == ',' {
				cur.WriteByte(',')
				i++
				continue
			}
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(s[i])
	}
	return append(parts, cur.String())
}

func parseBool(key, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "yes", "true", "y", "1":
		return true, nil
	case "off", "no", "false", "n", "0":
		return false, nil
	}
	return false, fmt.Errorf("audiodev: %s=%q: want on or off", key, v)
}

// ParseOptions parses an -audiodev argument in QEMU's syntax:
// DRIVER[,id=ID][,KEY=VALUE...] (or driver=DRIVER,...). Recognised keys:
// id, path, timer-period (µs), out.|in. frequency, channels, format,
// buffer-length (µs), plus QEMU keys gemu accepts and ignores
// (mixing-engine, fixed-settings, voices) and gemu's own in.path, in.loop,
// in.tone, per-stream, stats, stats.csv and stats.svg.
func ParseOptions(arg string) (Options, error) {
	o := Options{TimerPeriod: DefaultTimerPeriod}
	parts := splitOpts(arg)
	if len(parts) > 0 && !strings.Contains(parts[0], "=") {
		o.Driver = parts[0]
		parts = parts[1:]
	}
	seen := map[string]bool{}
	for _, kv := range parts {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Options{}, fmt.Errorf("audiodev: %q: want KEY=VALUE", kv)
		}
		if seen[k] {
			return Options{}, fmt.Errorf("audiodev: %s given twice", k)
		}
		seen[k] = true
		if err := o.set(k, v); err != nil {
			return Options{}, err
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
	default:
		return fmt.Errorf("audiodev: unknown option %q", k)
	}
	return nil
}
