package audio

import (
	"bytes"
	"testing"
	"time"
)

// fakeHost is a HostDriver that hands the read callback to the test.
type fakeHost struct {
	read   func([]byte) int
	closed bool
}

func (f *fakeHost) Close() error             { f.closed = true; return nil }
func (f *fakeHost) Buffering() time.Duration { return 20 * time.Millisecond }
func (f *fakeHost) open(want Spec, _ time.Duration, read func([]byte) int) (HostOutput, Spec, error) {
	f.read = read
	return f, want, nil
}

func TestHostReader(t *testing.T) {
	f := &fakeHost{}
	RegisterHost("fakehost", f.open)
	opt := Options{Driver: "fakehost", TimerPeriod: time.Millisecond, Out: Direction{Frequency: 48000}}
	v := newVClock()
	var log bytes.Buffer
	a, err := OpenOptions(opt, v.clk, &log)
	if err != nil || log.Len() != 0 {
		t.Fatalf("%v %q", err, log.String())
	}
	p := make([]byte, 4*4800) // oto asks for a whole player buffer
	// Nothing playing: 5 ms of silence.
	if n := f.read(p); n != 4*240 {
		t.Errorf("idle read = %d bytes, want %d", n, 4*240)
	}
	st, err := a.NewOutput("pcm", s16)
	if err != nil {
		t.Fatal(err)
	}
	src := randomPCMSeed(s16, 1000, 4)
	st.Write(src)
	// Playing: exactly what is buffered, bit-exact.
	if n := f.read(p); n != len(src) || !bytes.Equal(p[:n], src) {
		t.Errorf("read = %d bytes, want the %d written", n, len(src))
	}
	// Playing but dry while the host still holds audio: 0, no underrun.
	if n := f.read(p); n != 0 {
		t.Errorf("dry read = %d, want 0", n)
	}
	if s := st.Stats(); s.UnderrunEvents != 0 {
		t.Errorf("underrun counted while the host still had audio: %v", s)
	}
	// Once the host has played everything it had, the silence it plays is
	// an underrun.
	time.Sleep(60 * time.Millisecond)
	f.read(p)
	if s := st.Stats(); s.UnderrunEvents != 1 || s.UnderrunFrames < 48000*30/1000 {
		t.Errorf("after the host ran dry: %v", s)
	}
	// The pull allocates nothing.
	small := make([]byte, 4*100)
	if n := testing.AllocsPerRun(100, func() {
		st.Write(src[:400])
		f.read(small)
		f.read(small)
	}); n != 0 {
		t.Errorf("host read allocates %v times", n)
	}
	t.Logf("buffered at close: %d", st.Buffered())
	if err := a.Close(); err != nil || !f.closed {
		t.Errorf("Close: %v, host closed %v", err, f.closed)
	}
}
