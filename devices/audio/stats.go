package audio

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of one stream's diagnostics.
type Stats struct {
	Name     string
	Spec     Spec
	Capacity int // ring size, frames

	Produced, Consumed uint64 // frames written by the producer, read by the consumer
	Writes, Pulls      uint64 // producer Write calls, consumer pulls

	UnderrunEvents, UnderrunFrames uint64 // pulls that found the ring dry while active; silence frames played instead
	OverrunEvents, OverrunFrames   uint64 // writes that did not fit; frames refused

	FillMin, FillMax uint64  // ring fill seen by the consumer at each pull, frames
	FillAvg          float64 // mean of the same

	// Latency: how long the last frame of a write waited in the ring before
	// the consumer read it (sampled; zero LatencyN means no sample).
	LatencyMin, LatencyAvg, LatencyMax time.Duration
	LatencyN                           uint64

	// Pauses counts times a real-time sink's host stopped pulling for
	// more than a second in a session (the process was stopped, or the
	// host output stalled), Paused their total time; that time is not
	// counted as underrun frames (hostQueue in audiodev.go).
	Pauses uint64
	Paused time.Duration

	// FirstWrite is when the voice's first frame was written (the
	// guest's first DMA that delivered audio), as MonoNow: host
	// CLOCK_MONOTONIC ns on Linux; 0 if nothing was written.
	FirstWrite int64
}

// Stats returns the stream's counters. It may be called from any goroutine;
// the fields are each consistent but not with one another while the stream
// is running.
func (s *Stream) Stats() Stats {
	st := Stats{
		Name:           s.name,
		Spec:           s.spec,
		Capacity:       s.Capacity(),
		Produced:       s.produced.Load(),
		Consumed:       s.consumed.Load(),
		Writes:         s.writes.Load(),
		Pulls:          s.pulls.Load(),
		UnderrunEvents: s.underrunEvents.Load(),
		UnderrunFrames: s.underrunFrames.Load(),
		OverrunEvents:  s.overrunEvents.Load(),
		OverrunFrames:  s.overrunFrames.Load(),
		FillMax:        s.fillMax.Load(),
		LatencyMax:     time.Duration(s.latMax.Load()),
		LatencyN:       s.latN.Load(),
		FirstWrite:     s.firstWrite.Load(),
	}
	if st.Pulls > 0 {
		st.FillMin = s.fillMin.Load()
		st.FillAvg = float64(s.fillSum.Load()) / float64(st.Pulls)
	}
	if st.LatencyN > 0 {
		st.LatencyMin = time.Duration(s.latMin.Load())
		st.LatencyAvg = time.Duration(s.latSum.Load() / int64(st.LatencyN))
	}
	return st
}

// String is the one-line summary printed by stats=on.
func (st Stats) String() string {
	ms := func(frames float64) float64 {
		if st.Spec.Freq == 0 {
			return 0
		}
		return frames * 1000 / float64(st.Spec.Freq)
	}
	pauses := ""
	if st.Pauses > 0 {
		pauses = fmt.Sprintf(", paused %d times (%v)", st.Pauses, st.Paused.Round(time.Millisecond))
	}
	return fmt.Sprintf("%s [%v, ring %d]: produced %d consumed %d, underruns %d (%d frames), overruns %d (%d frames), fill min/avg/max %d/%.0f/%d frames (%.1f/%.1f/%.1f ms), latency min/avg/max %v/%v/%v%s",
		st.Name, st.Spec, st.Capacity, st.Produced, st.Consumed,
		st.UnderrunEvents, st.UnderrunFrames, st.OverrunEvents, st.OverrunFrames,
		st.FillMin, st.FillAvg, st.FillMax, ms(float64(st.FillMin)), ms(st.FillAvg), ms(float64(st.FillMax)),
		st.LatencyMin.Round(time.Microsecond), st.LatencyAvg.Round(time.Microsecond), st.LatencyMax.Round(time.Microsecond), pauses)
}

// mergeStats combines the statistics of two voices with the same name
// (b opened after a): counters add up, extremes combine, means are
// weighted; Spec and Capacity are b's.
func mergeStats(a, b Stats) Stats {
	m := b
	m.Produced += a.Produced
	m.Consumed += a.Consumed
	m.Writes += a.Writes
	m.Pulls += a.Pulls
	m.UnderrunEvents += a.UnderrunEvents
	m.UnderrunFrames += a.UnderrunFrames
	m.OverrunEvents += a.OverrunEvents
	m.OverrunFrames += a.OverrunFrames
	switch {
	case a.Pulls == 0:
	case b.Pulls == 0:
		m.FillMin, m.FillAvg = a.FillMin, a.FillAvg
	default:
		m.FillMin = min(a.FillMin, b.FillMin)
		m.FillAvg = (a.FillAvg*float64(a.Pulls) + b.FillAvg*float64(b.Pulls)) / float64(m.Pulls)
	}
	m.FillMax = max(a.FillMax, b.FillMax)
	m.LatencyN += a.LatencyN
	switch {
	case a.LatencyN == 0:
	case b.LatencyN == 0:
		m.LatencyMin, m.LatencyAvg = a.LatencyMin, a.LatencyAvg
	default:
		m.LatencyMin = min(a.LatencyMin, b.LatencyMin)
		m.LatencyAvg = time.Duration((float64(a.LatencyAvg)*float64(a.LatencyN) + float64(b.LatencyAvg)*float64(b.LatencyN)) / float64(m.LatencyN))
	}
	m.LatencyMax = max(a.LatencyMax, b.LatencyMax)
	if a.FirstWrite != 0 && (b.FirstWrite == 0 || a.FirstWrite < b.FirstWrite) {
		m.FirstWrite = a.FirstWrite
	}
	return m
}

// mergeTimelines appends b to a and merges neighbouring points until at
// most histPoints remain.
func mergeTimelines(a, b Timeline) Timeline {
	pts := append(append([]TimelinePoint(nil), a.Points...), b.Points...)
	for len(pts) > histPoints {
		n := 0
		for i := 0; i < len(pts); i += 2 {
			p := pts[i]
			if i+1 < len(pts) {
				q := pts[i+1]
				p.Min, p.Max = min(p.Min, q.Min), max(p.Max, q.Max)
				p.Underrun = p.Underrun || q.Underrun
			}
			pts[n] = p
			n++
		}
		pts = pts[:n]
	}
	return Timeline{Name: b.Name, Capacity: max(a.Capacity, b.Capacity), Points: pts}
}

// csvHeader is the column list of WriteCSV.
const csvHeader = "name,freq,format,channels,capacity,produced,consumed,writes,pulls,underrun_events,underrun_frames,overrun_events,overrun_frames,fill_min,fill_avg,fill_max,latency_min_us,latency_avg_us,latency_max_us,first_write_ns\n"

// WriteCSV writes one header line and one line per stream.
func WriteCSV(w io.Writer, all []Stats) error {
	var b strings.Builder
	b.WriteString(csvHeader)
	for _, st := range all {
		fmt.Fprintf(&b, "%s,%d,%v,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.2f,%d,%d,%d,%d,%d\n",
			csvField(st.Name), st.Spec.Freq, st.Spec.Format, st.Spec.Channels, st.Capacity,
			st.Produced, st.Consumed, st.Writes, st.Pulls,
			st.UnderrunEvents, st.UnderrunFrames, st.OverrunEvents, st.OverrunFrames,
			st.FillMin, st.FillAvg, st.FillMax,
			st.LatencyMin.Microseconds(), st.LatencyAvg.Microseconds(), st.LatencyMax.Microseconds(), st.FirstWrite)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// history is the ring-fill timeline: a fixed number of points covering the
// whole run. When it is full, neighbouring points are merged and each new
// point covers twice as many pulls, so it never allocates and always spans
// start to now. Written by the consumer only; every field is atomic so a
// snapshot can be taken from another goroutine (possibly torn, harmless for a
// picture).
type history struct {
	n      atomic.Int64
	stride int64 // consumer-only: pulls per point
	acc    int64 // pulls in the current point
	cur    histPoint
	pts    [histPoints]struct {
		t atomic.Int64
		v atomic.Uint64 // min<<32 | max<<1 | underrun, fills clamped to 2^31-1
	}
}

const histPoints = 512

type histPoint struct {
	t        int64
	min, max uint64
	under    bool
}

func (h *history) init() { h.stride = 1 }

func (h *history) add(t int64, fill uint64, under bool) {
	if h.acc == 0 {
		h.cur = histPoint{t: t, min: fill, max: fill, under: under}
	} else {
		h.cur.min = min(h.cur.min, fill)
		h.cur.max = max(h.cur.max, fill)
		h.cur.under = h.cur.under || under
	}
	h.acc++
	if h.acc < h.stride {
		return
	}
	h.acc = 0
	n := h.n.Load()
	if n == histPoints {
		for i := 0; i < histPoints/2; i++ {
			a, b := h.get(2*i), h.get(2*i+1)
			a.min = min(a.min, b.min)
			a.max = max(a.max, b.max)
			a.under = a.under || b.under
			h.put(i, a)
		}
		n = histPoints / 2
		h.stride *= 2
	}
	h.put(int(n), h.cur)
	h.n.Store(n + 1)
}

func (h *history) get(i int) histPoint {
	v := h.pts[i].v.Load()
	return histPoint{t: h.pts[i].t.Load(), min: v >> 32, max: (v >> 1) & 0x7fffffff, under: v&1 != 0}
}

func (h *history) put(i int, p histPoint) {
	c := func(x uint64) uint64 { return min(x, 0x7fffffff) }
	v := c(p.min)<<32 | c(p.max)<<1
	if p.under {
		v |= 1
	}
	h.pts[i].t.Store(p.t)
	h.pts[i].v.Store(v)
}

// Timeline is a stream's ring-fill history for plotting.
type Timeline struct {
	Name     string
	Capacity int
	Points   []TimelinePoint
}

// TimelinePoint covers one or more consecutive pulls starting at T (ns, the
// stream's time source: virtual time for wav/none, host time for oto).
type TimelinePoint struct {
	T        int64
	Min, Max uint64
	Underrun bool
}

// Timeline returns a copy of the ring-fill history (any goroutine).
func (s *Stream) Timeline() Timeline {
	n := int(s.hist.n.Load())
	tl := Timeline{Name: s.name, Capacity: s.Capacity(), Points: make([]TimelinePoint, n)}
	for i := range n {
		p := s.hist.get(i)
		tl.Points[i] = TimelinePoint{T: p.t, Min: p.min, Max: p.max, Underrun: p.under}
	}
	return tl
}

// WriteSVG draws each timeline as a band of ring fill (min to max per point)
// against time, with underruns marked by red bars, one panel per stream.
// Every panel shares one time axis (the earliest to the latest point of
// all of them), so the voices' silences and the host sink's line up; each
// red bar is labelled with when it began (the first svgLabels of a panel
// as text, every one as a tooltip with its length).
func WriteSVG(w io.Writer, tls []Timeline) error {
	const width, panelH, left, top, gap = 900.0, 160.0, 60.0, 24.0, 40.0
	height := top + float64(len(tls))*(panelH+gap)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", width+20, height)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	var t0, t1 int64
	first := true
	for _, tl := range tls {
		if n := len(tl.Points); n > 0 {
			if first || tl.Points[0].T < t0 {
				t0 = tl.Points[0].T
			}
			if first || tl.Points[n-1].T > t1 {
				t1 = tl.Points[n-1].T
			}
			first = false
		}
	}
	span := float64(t1 - t0)
	if span <= 0 {
		span = 1
	}
	for k, tl := range tls {
		y0 := top + float64(k)*(panelH+gap)
		plotW := width - left
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s: ring fill (frames, capacity %d) vs time; red = underrun (start s)</text>`+"\n", left, y0-6, xmlEscape(tl.Name), tl.Capacity)
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`+"\n", left, y0, plotW, panelH)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%d</text><text x="%.0f" y="%.0f" text-anchor="end">0</text>`+"\n", left-4, y0+10, tl.Capacity, left-4, y0+panelH)
		if len(tl.Points) == 0 {
			continue
		}
		x := func(t int64) float64 { return left + float64(t-t0)/span*plotW }
		y := func(f uint64) float64 {
			c := float64(max(tl.Capacity, 1))
			return y0 + panelH - math.Min(float64(f)/c, 1)*panelH
		}
		// One red bar per run of consecutive underrun points.
		labels := 0
		for i := 0; i < len(tl.Points); i++ {
			if !tl.Points[i].Underrun {
				continue
			}
			j := i
			for j+1 < len(tl.Points) && tl.Points[j+1].Underrun {
				j++
			}
			start, end := tl.Points[i].T, tl.Points[j].T
			if j+1 < len(tl.Points) {
				end = tl.Points[j+1].T
			}
			x1 := x(start)
			x2 := math.Max(x(end), x1+1)
			at := float64(start-t0) / 1e9
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" fill="#f33" fill-opacity="0.5"><title>%s: underrun at %.3f s, up to %.1f ms</title></rect>`+"\n",
				x1, y0, x2-x1, panelH, xmlEscape(tl.Name), at, float64(end-start)/1e6)
			if labels < svgLabels {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="9" fill="#c00">%.3f</text>`+"\n", x1+1, y0+12+float64(labels%4)*10, at)
			}
			labels++
			i = j
		}
		b.WriteString(`<polygon fill="#39f" fill-opacity="0.5" stroke="#06c" stroke-width="0.7" points="`)
		for _, p := range tl.Points {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(p.T), y(p.Max))
		}
		for i := len(tl.Points) - 1; i >= 0; i-- {
			p := tl.Points[i]
			fmt.Fprintf(&b, "%.1f,%.1f ", x(p.T), y(p.Min))
		}
		b.WriteString(`"/>` + "\n")
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">0 s</text><text x="%.0f" y="%.0f" text-anchor="end">%.3f s</text>`+"\n",
			left, y0+panelH+14, width, y0+panelH+14, span/1e9)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// svgLabels is how many underruns per panel WriteSVG labels as text.
const svgLabels = 24

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}
