package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gemu/clock"
)

// vclock is a deterministic machine clock the test advances by hand.
type vclock struct {
	ns  uint64
	clk *clock.Clock
}

func newVClock() *vclock {
	v := &vclock{}
	v.clk = clock.NewDeterministic(0, func() uint64 { return v.ns })
	return v
}

// advance moves virtual time by d ns in steps, running due timers the way
// the machine's run loop does.
func (v *vclock) advance(d int64) {
	end := v.ns + uint64(d)
	for v.ns < end {
		next, ok := v.clk.Next()
		if !ok || uint64(next) > end {
			v.ns = end
		} else if uint64(next) > v.ns {
			v.ns = uint64(next)
		}
		v.clk.RunDue()
	}
}

func openTest(t *testing.T, v *vclock, arg string) (*Audiodev, *bytes.Buffer) {
	t.Helper()
	opt, err := ParseOptions(arg)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	a, err := OpenOptions(opt, v.clk, &log)
	if err != nil {
		t.Fatal(err)
	}
	return a, &log
}

func readWAV(t *testing.T, path string) (Spec, []byte) {
	t.Helper()
	sp, data, err := ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sp, data
}

// The wav sink pulls exactly what virtual time says: a device that keeps
// its ring full sees Free grow by rate x elapsed, and the file ends up with
// every frame, bit-exact, however the time steps fall.
func TestWAVSinkPacedByVirtualTime(t *testing.T) {
	v := newVClock()
	dir := t.TempDir()
	path := filepath.Join(dir, "out.wav")
	a, _ := openTest(t, v, "wav,id=snd0,path="+path+",out.frequency=48000,per-stream=on")
	sp := Spec{Freq: 48000, Format: S16LE, Channels: 2}
	st, err := a.NewOutput("ac97.out", sp)
	if err != nil {
		t.Fatal(err)
	}
	src := randomPCMSeed(sp, 48000/2, 13)
	rest := src
	fill := func() {
		n := st.Write(rest[:min(len(rest), st.Free()*4)])
		rest = rest[n*4:]
	}
	fill()
	steps := []int64{250_000, 1_000_000, 3_700_000, 10_000_000, 1, 999_999}
	var elapsed int64
	for i := 0; len(rest) > 0; i++ {
		d := steps[i%len(steps)]
		v.advance(d)
		elapsed += d
		before := st.Stats().Consumed
		fill()
		// Pulled so far = frames due one period before the last tick.
		periods := elapsed / 1_000_000
		if want := uint64(max(periods-1, 0) * 48); before != want {
			t.Fatalf("after %d ns: consumed %d, want %d", elapsed, before, want)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, "out-ac97.out.wav")} {
		gs, data := readWAV(t, p)
		if gs != sp || !bytes.Equal(data, src) {
			t.Errorf("%s: %v, %d bytes, equal %v", p, gs, len(data), bytes.Equal(data, src))
		}
	}
	if s := st.Stats(); s.UnderrunFrames != 0 {
		t.Errorf("underruns: %v", s)
	}
}

func randomPCMSeed(sp Spec, frames int, seed uint64) []byte {
	p := make([]byte, frames*sp.FrameBytes())
	x := seed
	for i := range p {
		x = x*6364136223846793005 + 1442695040888963407
		p[i] = byte(x >> 56)
	}
	return p
}

// A voice reopened with another rate continues in PATH-NAME.2.wav; with the
// same spec it continues in the same file.
func TestPerStreamFiles(t *testing.T) {
	v := newVClock()
	dir := t.TempDir()
	path := filepath.Join(dir, "cap.wav")
	a, _ := openTest(t, v, "wav,path="+path+",out.frequency=48000,per-stream=on")
	sp1 := Spec{Freq: 48000, Format: S16LE, Channels: 2}
	sp2 := Spec{Freq: 44100, Format: S16LE, Channels: 2}
	s1, _ := a.NewOutput("pcm", sp1)
	s1.Write(randomPCMSeed(sp1, 100, 1))
	v.advance(5_000_000)
	a.Remove(s1)
	s2, _ := a.NewOutput("pcm", sp1) // same spec: same file
	s2.Write(randomPCMSeed(sp1, 100, 2))
	v.advance(5_000_000)
	a.Remove(s2)
	s3, _ := a.NewOutput("pcm", sp2)
	s3.Write(randomPCMSeed(sp2, 100, 3))
	v.advance(5_000_000)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	_, d1 := readWAV(t, filepath.Join(dir, "cap-pcm.wav"))
	want := append(randomPCMSeed(sp1, 100, 1), randomPCMSeed(sp1, 100, 2)...)
	if !bytes.Equal(d1, want) {
		t.Errorf("cap-pcm.wav: %d bytes, want %d", len(d1), len(want))
	}
	g2, d2 := readWAV(t, filepath.Join(dir, "cap-pcm.2.wav"))
	if g2 != sp2 || !bytes.Equal(d2, randomPCMSeed(sp2, 100, 3)) {
		t.Errorf("cap-pcm.2.wav: %v %d bytes", g2, len(d2))
	}
}

// Capture sources never run ahead of virtual time: after any advance the
// frames made available equal the frames due at the last timer tick.
func TestCaptureToneNeverAhead(t *testing.T) {
	v := newVClock()
	a, _ := openTest(t, v, "none,in.tone=1000")
	sp := Spec{Freq: 8000, Format: S16LE, Channels: 1}
	st, err := a.NewInput("mic", sp)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 2*4096)
	var elapsed int64
	for _, d := range []int64{300_000, 1_000_000, 2_500_000, 7_000_000, 1_000_000, 50_000_000} {
		v.advance(d)
		elapsed += d
		ticks := elapsed / 1_000_000 * 1_000_000 // tick times
		due := int(framesAt(sp.Freq, ticks))
		if have := len(got)/2 + st.Buffered(); have != due {
			t.Fatalf("at %d ns: %d frames available, %d due", elapsed, have, due)
		}
		n := st.Read(buf)
		got = append(got, buf[:2*n]...)
	}
	for i := 0; i < len(got)/2; i++ {
		want := int16(math.Round(ToneAmplitude * math.Sin(2*math.Pi*1000*float64(i)/8000) * 32768))
		if g := int16(binary.LittleEndian.Uint16(got[2*i:])); g != want {
			t.Fatalf("frame %d: %d want %d", i, g, want)
		}
	}
	a.Close()
}

func TestCaptureFileLoopAndOverrun(t *testing.T) {
	v := newVClock()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	sp := Spec{Freq: 8000, Format: S16LE, Channels: 2}
	clip := randomPCMSeed(sp, 30, 5)
	w, _ := CreateWAV(in, sp)
	w.Write(clip)
	w.Close()
	for _, loop := range []bool{false, true} {
		arg := "none,in.path=" + in
		if loop {
			arg += ",in.loop=on"
		}
		a, _ := openTest(t, v, arg)
		st, err := a.NewInput("mic", sp)
		if err != nil {
			t.Fatal(err)
		}
		v.advance(10_000_000) // 80 frames
		buf := make([]byte, 4*100)
		n := st.Read(buf)
		want := append(append([]byte(nil), clip...), clip...)
		want = append(want, clip...)[:80*4]
		if !loop {
			want = append(append([]byte(nil), clip...), make([]byte, 50*4)...)
		}
		if n != 80 || !bytes.Equal(buf[:n*4], want) {
			t.Errorf("loop=%v: read %d frames, equal %v", loop, n, bytes.Equal(buf[:n*4], want))
		}
		// Not reading for longer than the ring holds overflows it.
		v.advance(int64(2*st.Capacity()) * 1e9 / 8000)
		if s := st.Stats(); s.OverrunFrames == 0 || st.Free() != 0 {
			t.Errorf("loop=%v: no overrun after a long stall: %v", loop, s)
		}
		a.Close()
	}
}

// Capture at another rate than the file resamples; a tone at another rate
// still has the right frequency.
func TestCaptureFileResampled(t *testing.T) {
	v := newVClock()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	fs := Spec{Freq: 44100, Format: F32LE, Channels: 1}
	w, _ := CreateWAV(in, fs)
	w.Write(sineF32(44100, 1000, 0.5, 44100, 1))
	w.Close()
	a, _ := openTest(t, v, "none,in.path="+in)
	sp := Spec{Freq: 48000, Format: F32LE, Channels: 2}
	st, _ := a.NewInput("mic", sp)
	var x []float64
	buf := make([]byte, 8*48000)
	for range 9 {
		v.advance(100_000_000)
		n := st.Read(buf)
		f := make([]float64, 2*n)
		decode(sp, buf[:8*n], f)
		for i := 0; i < len(f); i += 2 {
			x = append(x, f[i])
		}
	}
	if got := sinad(x[1000:], 1000, 48000); got < 90 {
		t.Errorf("SINAD %.1f dB", got)
	}
	a.Close()
}

// With no oto driver linked in (this test binary does not import otosink),
// -audiodev oto says so in one line, names the wav alternative, and runs as
// none: a guest writing audio still makes progress.
func TestOtoFallbackMessage(t *testing.T) {
	v := newVClock()
	a, log := openTest(t, v, "oto,id=snd0")
	msg := log.String()
	if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "-audiodev wav,id=snd0,path=") || !strings.Contains(msg, "no sound output") {
		t.Errorf("fallback message %q", msg)
	}
	if a.Options().Driver != "none" {
		t.Errorf("driver %q after fallback", a.Options().Driver)
	}
	st, err := a.NewOutput("pcm", Spec{Freq: 44100, Format: S16LE, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for range 100 {
		total += st.Write(make([]byte, 4*st.Free()))
		v.advance(10_000_000)
	}
	if total < 44100 {
		t.Errorf("only %d frames accepted in 1 s of virtual time", total)
	}
	a.Close()
}

// A QEMU host driver name says once that oto plays it (here oto then finds
// no device, or does: either way the first line is the mapping).
func TestQEMUHostDriverMessage(t *testing.T) {
	for _, drv := range HostDrivers {
		a, log := openTest(t, newVClock(), "id=pa,driver="+drv)
		first, _, _ := strings.Cut(log.String(), "\n")
		if want := "gemu: audiodev pa: QEMU's " + drv + " driver plays through gemu's host driver (oto)"; first != want {
			t.Errorf("%s: first line %q, want %q", drv, first, want)
		}
		a.Close()
	}
}

func TestStatsOutputs(t *testing.T) {
	v := newVClock()
	dir := t.TempDir()
	csv, svg := filepath.Join(dir, "s.csv"), filepath.Join(dir, "s.svg")
	a, log := openTest(t, v, "none,stats=on,stats.csv="+csv+",stats.svg="+svg+",out.frequency=48000")
	sp := Spec{Freq: 48000, Format: S16LE, Channels: 2}
	st, _ := a.NewOutput("pcm", sp)
	// 20 ms steady, a 10 ms stall, 20 ms steady.
	for i := range 50 {
		if i < 20 || i >= 30 {
			st.Write(make([]byte, 4*48))
		}
		v.advance(1_000_000)
	}
	a.Close()
	s := st.Stats()
	if s.UnderrunEvents != 1 {
		t.Errorf("underrun events %d, want 1 (%v)", s.UnderrunEvents, s)
	}
	if !strings.Contains(log.String(), "pcm [48000Hz s16 2ch") || !strings.Contains(log.String(), "underruns 1 ") {
		t.Errorf("summary: %q", log.String())
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || strings.Count(lines[0], ",") != strings.Count(lines[1], ",") || !strings.HasPrefix(lines[1], "pcm,48000,s16,2,") {
		t.Errorf("csv: %q", b)
	}
	b, err = os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("<svg")) || !bytes.Contains(b, []byte(`fill="#f33"`)) {
		t.Errorf("svg lacks the underrun mark: %.200s", b)
	}
}

func TestTimelineDecimates(t *testing.T) {
	s := NewStream(s16, 64)
	n := 0
	s.now = func() int64 { n++; return int64(n) }
	buf := make([]byte, 4)
	for i := range 10 * histPoints {
		if i != 3000 {
			s.Write(buf)
		}
		s.Fill(buf)
	}
	tl := s.Timeline()
	if len(tl.Points) < histPoints/2 || len(tl.Points) > histPoints {
		t.Fatalf("%d points", len(tl.Points))
	}
	under := 0
	for _, p := range tl.Points {
		if p.Underrun {
			under++
		}
	}
	if d := cmp.Diff(1, under); d != "" {
		t.Errorf("underrun points (-want +got)\n%s", d)
	}
}

// A device that writes exactly the frames due at its own ticks, on a grid
// unrelated to the sink's, never underruns: the sink pulls one period late
// (PullGrid).
func TestUnalignedDeviceNoUnderrun(t *testing.T) {
	for _, offset := range []int64{1, 370_000, 999_999} {
		v := newVClock()
		a, _ := openTest(t, v, "none,out.frequency=48000")
		v.advance(offset)
		st, _ := a.NewOutput("pcm", s16)
		st.SetActive(true) // the device runs from now on
		anchor, period, ok := a.PullGrid()
		if !ok || period != time.Millisecond || anchor != int64(offset) {
			t.Fatalf("PullGrid = %d %v %v", anchor, period, ok)
		}
		dev := v.clk.NewTimer(nil)
		start := v.clk.Now() + 123_457 // the device's own phase
		var written uint64
		devTick := func() {
			due := framesAt(48000, v.clk.Now()-start)
			n := st.Write(make([]byte, 4*int(due-written)))
			written += uint64(n)
			dev.Set(dev.When() + 1_000_000)
		}
		dev = v.clk.NewTimer(func() { devTick() })
		dev.Set(start)
		v.advance(1_000_000_000)
		if s := st.Stats(); s.UnderrunFrames != 0 || s.Consumed < 47000 {
			t.Errorf("offset %d: %v", offset, s)
		}
		a.Close()
	}
}

// A device that opens and closes its voice many times leaves one merged
// statistics line per voice name and no growing list of streams.
func TestStatsMergedPerName(t *testing.T) {
	v := newVClock()
	a, _ := openTest(t, v, "none,out.frequency=48000")
	for i := range 300 {
		st, _ := a.NewOutput("pcm", s16)
		st.Write(make([]byte, 4*96)) // 2 ms, then 1 ms dry while active
		v.advance(4_000_000)
		a.Remove(st)
		v.advance(2_000_000)
		if n := len(a.Streams()); n > 1 {
			t.Fatalf("round %d: %d streams kept", i, n)
		}
	}
	in, _ := a.NewInput("mic", s16)
	v.advance(1_000_000)
	sts, tls := a.Stats()
	if len(sts) != 2 || len(tls) != 2 || sts[0].Name != "pcm" || sts[1].Name != "mic" {
		t.Fatalf("stats: %v", sts)
	}
	p := sts[0]
	if p.Produced != 300*96 || p.Consumed != 300*96 || p.UnderrunEvents != 300 || p.UnderrunFrames != 300*48 {
		t.Errorf("merged: %v", p)
	}
	if len(tls[0].Points) == 0 || len(tls[0].Points) > histPoints {
		t.Errorf("timeline of %d points", len(tls[0].Points))
	}
	if in.Stats().Produced != 48 {
		t.Errorf("mic: %v", in.Stats())
	}
	a.Close()
}

// A voice re-opened under the same name right after its predecessor drained
// (AC97 stopping and restarting PCM out): the first pull then finishes the
// predecessor and takes the successor's frames in the same Mix, and those
// frames must reach the WAV file (they were once mixed and dropped, because
// the pull decided "nothing audible" before mixing).
func TestWAVSuccessorAfterDrainedVoice(t *testing.T) {
	v := newVClock()
	path := filepath.Join(t.TempDir(), "out.wav")
	a, _ := openTest(t, v, "wav,id=snd0,path="+path+",out.frequency=48000")
	sp := Spec{Freq: 48000, Format: S16LE, Channels: 2}
	first := randomPCMSeed(sp, 96, 1)
	second := randomPCMSeed(sp, 480, 2)
	st, err := a.NewOutput("ac97.po", sp)
	if err != nil {
		t.Fatal(err)
	}
	st.Write(first)
	v.advance(3_000_000) // both 48-frame periods pulled: drained
	st.SetActive(false)
	a.Remove(st)
	st2, err := a.NewOutput("ac97.po", sp)
	if err != nil {
		t.Fatal(err)
	}
	st2.Write(second)
	v.advance(20_000_000)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	_, data := readWAV(t, path)
	want := append(append([]byte(nil), first...), second...)
	// Silence from the pulls while the first voice was active and empty
	// may stand between them; random frames are never all zero.
	if data, want = nonZeroFrames(data), nonZeroFrames(want); !bytes.Equal(data, want) {
		t.Errorf("WAV holds %d bytes, want the %d written (first difference at byte %d)", len(data), len(want), firstDiffAt(data, want))
	}
}

func nonZeroFrames(p []byte) []byte {
	var out []byte
	for i := 0; i+4 <= len(p); i += 4 {
		if p[i]|p[i+1]|p[i+2]|p[i+3] != 0 {
			out = append(out, p[i:i+4]...)
		}
	}
	return out
}

func firstDiffAt(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
