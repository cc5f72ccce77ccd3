package realtime

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gemu/tests/pcm"
	"gemu/tests/rig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// TestDecompose: a mix of three voices, one started late, one with two
// dropouts (one of them where its own next frame is zero), one cut short,
// is explained exactly.
func TestDecompose(t *testing.T) {
	voice := func(n, seed int) []pcm.Frame {
		f := make([]pcm.Frame, n)
		for i := range f {
			x := int16((i*seed)%2000 - 1000)
			if i%97 == 0 || i == 0 {
				x = 0 // zeros inside the voice, as at note boundaries
			}
			f[i] = pcm.Frame{x, -x / 2}
		}
		return f
	}
	refs := [][]pcm.Frame{voice(3000, 7), voice(3000, 13), voice(3000, 29)}
	names := []string{"a", "b", "c"}
	// Where each voice's frames land in the mix: a from 100, b from 100
	// with gaps of 50 frames at its frame 500 and 30 at frame 970 (a zero
	// frame), c from 103 and cut after 2500 frames.
	mix := make([]pcm.Frame, 3400)
	place := func(r []pcm.Frame, at int, gaps map[int]int, upto int) {
		t := at
		for i := range upto {
			t += gaps[i]
			mix[t][0] += r[i][0]
			mix[t][1] += r[i][1]
			t++
		}
	}
	place(refs[0], 100, nil, 3000)
	place(refs[1], 100, map[int]int{500: 50, 970: 30}, 3000)
	place(refs[2], 103, nil, 2500)
	d, err := Decompose(mix, names, refs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Voice{
		{Name: "a", Start: 100},
		{Name: "b", Start: 100, Dropouts: 2, Silence: 80},
		{Name: "c", Start: 103, Missing: 500}, // its last frame (2999) is not zero
	}
	for i, v := range d.Voices {
		if v != want[i] {
			t.Errorf("voice %d: %+v, want %+v", i, v, want[i])
		}
	}
	if d.Skew != 3 || d.FirstSound < 100 {
		t.Errorf("skew %d, first sound %d", d.Skew, d.FirstSound)
	}
	// A frame no sum explains is an error.
	mix[2000][0]++
	if _, err := Decompose(mix, names, refs); err == nil {
		t.Error("a corrupt frame was explained")
	}
}

// TestDemoRealtime is the harness's CI form: the main job at the default
// player buffer, one ALSA period at a time, on an idle machine: no voice
// may drop out, be cut or start apart from the others. A run that did not
// have the machine to itself (the harness's DAC thread was starved, or
// other processes used more than IdleCPU meanwhile, as other test binaries
// running in parallel do) is repeated, up to three runs.
//
// By default (go test ./...) the test is skipped if no run had an idle
// machine. With GEMU_REALTIME_STRICT=1 (tests/ci.sh runs it so, on its own
// after the suite) it cannot be skipped: before each run it waits, up to
// GEMU_REALTIME_SETTLE (default 3m), for other processes to use at most
// IdleCPU (sampled from /proc/stat over 2 s, not the load average, which
// stays high for minutes after the suite), and it fails, saying why, if
// the machine never settles or no run was undisturbed.
func TestDemoRealtime(t *testing.T) {
	strict := os.Getenv("GEMU_REALTIME_STRICT") == "1"
	if testing.Short() && !strict {
		t.Skip("plays the 15 s demo in real time")
	}
	skip := t.Skipf
	if strict {
		skip = t.Fatalf
	}
	if _, err := os.Stat("/usr/share/alsa/alsa.conf"); err != nil {
		skip("no ALSA configuration (%v); install libasound2-dev", err)
	}
	settle := 3 * time.Minute
	if v := os.Getenv("GEMU_REALTIME_SETTLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("GEMU_REALTIME_SETTLE=%s: %v", v, err)
		}
		settle = d
	}
	gemu := rig.Gemu(t)
	dir := t.TempDir()
	names, refs, err := Reference(gemu, dir)
	if err != nil {
		t.Fatal(err)
	}
	var why []string
	for attempt := 1; attempt <= 3; attempt++ {
		if strict {
			c, ok, err := Settle(settle)
			if err != nil {
				t.Fatalf("sampling /proc/stat: %v", err)
			}
			if !ok {
				t.Fatalf("attempt %d: the machine did not settle within %v: other processes use %.2f cores (at most %.2f needed to measure real-time playback); run the test alone", attempt, settle, c, IdleCPU)
			}
			t.Logf("attempt %d: other processes use %.2f cores", attempt, c)
		}
		run := t.TempDir()
		r, err := Run(Config{Gemu: gemu, Dir: run, Periods: 1}, names, refs)
		if err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		t.Logf("attempt %d:\n%s%s\n%s", attempt, Header(names), r.Row(), r.Stats)
		if r.Stalls > 0 || r.OtherCPU > IdleCPU {
			why = append(why, fmt.Sprintf("attempt %d: %d stalls of the DAC thread, other processes %.2f cores", attempt, r.Stalls, r.OtherCPU))
			continue // not an idle machine
		}
		for _, v := range r.Voices {
			if v.Dropouts != 0 || v.Silence != 0 || v.Missing != 0 {
				t.Errorf("%s: %d dropouts (%d frames of silence), %d frames cut", v.Name, v.Dropouts, v.Silence, v.Missing)
			}
		}
		if r.Skew > MaxSkew {
			t.Errorf("voices start %d frames apart (more than 1 ms)", r.Skew)
		}
		return
	}
	skip("no attempt had an idle machine:\n%s", strings.Join(why, "\n"))
}
