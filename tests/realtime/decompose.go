package realtime

import (
	"fmt"
	"sort"

	"gemu/tests/pcm"
)

// Voice is what Decompose found of one reference voice in a mix.
type Voice struct {
	Name string
	// Start is the mix frame where the voice's frame 0 played (-1: never).
	Start int
	// Dropouts is the number of runs of silence inside the voice (its
	// frames stopped advancing while it had audio left); Silence is their
	// total length in frames.
	Dropouts, Silence int
	// Missing is how many of the voice's frames never played (cut at the
	// end); 0 when the whole voice came out.
	Missing int
}

// Decomposition is a mix explained as the sum of reference voices, each
// delayed and interrupted by silence.
type Decomposition struct {
	Voices []Voice
	// FirstSound is the mix frame of the first non-zero frame (-1: none).
	FirstSound int
	// Skew is the spread of the voices' Start (frames).
	Skew int
}

// maxStates bounds the search: more hypotheses than this are pruned to the
// cheapest (fewest silent frames).
const maxStates = 4096

type state struct {
	p       [maxVoices]int32 // next reference frame per voice
	start   [maxVoices]int32 // mix frame of frame 0, -1 before
	drops   [maxVoices]int32
	silence [maxVoices]int32
	gapLen  [maxVoices]int32 // frames of the current gap
	inGap   [maxVoices]bool
	cost    int64
}

const maxVoices = 4

// Decompose explains mix, frame by frame and exactly, as the sum of the
// reference voices refs (each as the -icount run's per-stream file holds
// it), where each voice either plays its next frame or is silent (a
// dropout). Nothing else is allowed: a frame no combination explains is an
// error (corruption, or frames lost rather than delayed). Where a voice's
// next frame is zero both readings fit; the search keeps every hypothesis
// (deduplicated by position) and prefers the one with the least silence.
func Decompose(mix []pcm.Frame, names []string, refs [][]pcm.Frame) (Decomposition, error) {
	nv := len(refs)
	if nv == 0 || nv > maxVoices {
		return Decomposition{}, fmt.Errorf("realtime: %d reference voices (1..%d)", nv, maxVoices)
	}
	// A voice's audio is from its first to its last non-zero frame.
	first := make([]int32, nv)
	end := make([]int32, nv)
	for v, r := range refs {
		first[v], end[v] = -1, 0
		for i, f := range r {
			if f != (pcm.Frame{}) {
				if first[v] < 0 {
					first[v] = int32(i)
				}
				end[v] = int32(i + 1)
			}
		}
		if first[v] < 0 {
			return Decomposition{}, fmt.Errorf("realtime: reference voice %s is silent", names[v])
		}
	}
	var init state
	for v := range nv {
		init.start[v] = -1
	}
	cur := []state{init}
	seen := map[[maxVoices]int32]int{}
	d := Decomposition{FirstSound: -1}
	for t, f := range mix {
		if d.FirstSound < 0 && f != (pcm.Frame{}) {
			d.FirstSound = t
		}
		next := make([]state, 0, len(cur)+4)
		clear(seen)
		for _, s := range cur {
			for mask := 0; mask < 1<<nv; mask++ {
				var l, r int32
				ok := true
				for v := range nv {
					if mask&(1<<v) == 0 {
						continue
					}
					if s.p[v] >= int32(len(refs[v])) {
						ok = false // nothing left to advance through
						break
					}
					x := refs[v][s.p[v]]
					l += int32(x[0])
					r += int32(x[1])
				}
				if !ok || l != int32(f[0]) || r != int32(f[1]) {
					continue
				}
				n := s
				for v := range nv {
					if mask&(1<<v) != 0 {
						if n.p[v] == first[v] && n.start[v] < 0 {
							n.start[v] = int32(t) - first[v]
						}
						n.p[v]++
						n.inGap[v], n.gapLen[v] = false, 0
						continue
					}
					// Silent: a dropout if the voice has begun and has audio left.
					if n.p[v] > first[v] && n.p[v] < end[v] {
						if !n.inGap[v] {
							n.drops[v]++
						}
						n.inGap[v] = true
						n.gapLen[v]++
						n.silence[v]++
						n.cost++
					}
				}
				if i, dup := seen[n.p]; dup {
					if n.cost < next[i].cost {
						next[i] = n
					}
					continue
				}
				seen[n.p] = len(next)
				next = append(next, n)
			}
		}
		if len(next) == 0 {
			return d, fmt.Errorf("realtime: mix frame %d (%d, %d) is no sum of the voices' next frames (corrupt, or frames lost)", t, f[0], f[1])
		}
		if len(next) > maxStates {
			sort.Slice(next, func(i, j int) bool { return next[i].cost < next[j].cost })
			next = next[:maxStates]
		}
		cur = next
	}
	best := cur[0]
	for _, s := range cur[1:] {
		if s.cost < best.cost || (s.cost == best.cost && sum(s.p[:nv]) > sum(best.p[:nv])) {
			best = s
		}
	}
	lo, hi := int32(-1), int32(-1)
	for v := range nv {
		vo := Voice{Name: names[v], Start: int(best.start[v]), Dropouts: int(best.drops[v]), Silence: int(best.silence[v])}
		if best.p[v] < end[v] {
			vo.Missing = int(end[v] - best.p[v])
			if best.inGap[v] { // the mix ended in its gap: that is the cut, not a dropout
				vo.Dropouts--
				vo.Silence -= int(best.gapLen[v])
			}
		}
		d.Voices = append(d.Voices, vo)
		if s := best.start[v]; s >= 0 {
			if lo < 0 || s < lo {
				lo = s
			}
			hi = max(hi, s)
		}
	}
	d.Skew = int(hi - lo)
	return d, nil
}

func sum(p []int32) int64 {
	var s int64
	for _, x := range p {
		s += int64(x)
	}
	return s
}
