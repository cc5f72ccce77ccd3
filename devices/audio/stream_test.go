package audio

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var s16 = Spec{Freq: 48000, Format: S16LE, Channels: 2}

// seqFrames returns n S32LE mono frames numbered from first.
func seqFrames(first uint32, n int) []byte {
	p := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(p[4*i:], first+uint32(i))
	}
	return p
}

func TestStreamCapacity(t *testing.T) {
	for _, tc := range []struct{ ask, want int }{{0, 2}, {1, 2}, {2, 2}, {3, 4}, {1000, 1024}, {1024, 1024}, {1025, 2048}} {
		if got := NewStream(s16, tc.ask).Capacity(); got != tc.want {
			t.Errorf("NewStream(%d).Capacity() = %d, want %d", tc.ask, got, tc.want)
		}
	}
}

func TestStreamWrapAndBackPressure(t *testing.T) {
	sp := Spec{Freq: 8000, Format: S32LE, Channels: 1}
	s := NewStream(sp, 8)
	next, want := uint32(0), uint32(0)
	buf := make([]byte, 4*8)
	for round := range 50 {
		n := (round*5)%11 + 1
		free := s.Free()
		got := s.Write(seqFrames(next, n))
		if got != min(n, free) {
			t.Fatalf("round %d: Write(%d) with Free %d = %d", round, n, free, got)
		}
		next += uint32(got)
		if s.Buffered()+s.Free() != 8 {
			t.Fatalf("Buffered %d + Free %d != 8", s.Buffered(), s.Free())
		}
		k := s.Read(buf[:4*((round*3)%8+1)])
		for i := range k {
			if v := binary.LittleEndian.Uint32(buf[4*i:]); v != want {
				t.Fatalf("round %d: read %d want %d", round, v, want)
			}
			want++
		}
	}
	st := s.Stats()
	if st.Produced != uint64(next) || st.Consumed != uint64(want) {
		t.Errorf("produced %d consumed %d, want %d %d", st.Produced, st.Consumed, next, want)
	}
}

func TestStreamPartialFrameAndOverrun(t *testing.T) {
	s := NewStream(s16, 4)
	if n := s.Write(make([]byte, 7)); n != 1 {
		t.Fatalf("Write(7 bytes) = %d frames, want 1", n)
	}
	if n := s.Write(make([]byte, 4*5)); n != 3 {
		t.Fatalf("Write(5 frames) into 3 free = %d", n)
	}
	st := s.Stats()
	if st.OverrunEvents != 1 || st.OverrunFrames != 2 {
		t.Errorf("overruns %d/%d, want 1/2", st.OverrunEvents, st.OverrunFrames)
	}
}

// A scripted stall: the producer writes 10 frames per pull, then stops for
// a while, then resumes; the underruns must be counted exactly.
func TestFillScriptedStall(t *testing.T) {
	sp := Spec{Freq: 8000, Format: S16LE, Channels: 1}
	type step struct {
		write  int  // frames the producer writes before the pull
		active bool // SetActive before the pull
	}
	script := []step{
		{10, true}, {10, true}, // steady
		{0, true}, {0, true}, {0, true}, // stall: one event, 30 frames
		{10, true}, {4, true}, // resume; then a short pull: second event, 6 frames
		{10, true},
		{0, false}, {0, false}, // producer stopped: not an underrun
		{25, true}, // starts again with more than a pull
		{0, true},  // 15 left: enough
		{0, true},  // 5 left: third event, 5 frames
	}
	s := NewStream(sp, 64)
	buf := make([]byte, 2*10)
	var frame int16 = 1
	for i, st := range script {
		p := make([]byte, 2*st.write)
		for j := range st.write {
			binary.LittleEndian.PutUint16(p[2*j:], uint16(frame))
			frame++
		}
		s.Write(p)
		s.SetActive(st.active)
		s.Fill(buf)
		_ = i
	}
	type counts struct{ Events, Frames uint64 }
	st := s.Stats()
	if d := cmp.Diff(counts{3, 30 + 6 + 5}, counts{st.UnderrunEvents, st.UnderrunFrames}); d != "" {
		t.Errorf("underruns (-want +got):\n%s", d)
	}
}

func TestFillPadsWithSilenceAndAppliesGain(t *testing.T) {
	sp := Spec{Freq: 8000, Format: U8, Channels: 2}
	s := NewStream(sp, 8)
	s.Write([]byte{0xc0, 0x40, 0xff, 0x00})
	s.SetVolume(0.5, 1, false)
	buf := make([]byte, 7)
	s.Fill(buf)
	want := []byte{0xa0, 0x40, 0xc0, 0x00, 0x80, 0x80, 0x80}
	if d := cmp.Diff(want, buf); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	s.Write([]byte{0xc0, 0x40})
	s.SetVolume(1, 1, true)
	s.Fill(buf[:2])
	if buf[0] != 0x80 || buf[1] != 0x80 {
		t.Errorf("muted: % x", buf[:2])
	}
}

func TestNoAllocs(t *testing.T) {
	s := NewStream(s16, 4096)
	p := make([]byte, 4*256)
	buf := make([]byte, 4*300)
	s.SetVolume(0.7, 0.3, false)
	allocs := testing.AllocsPerRun(200, func() {
		s.Write(p)
		s.Fill(buf)
		s.Write(p)
		s.Read(buf)
	})
	if allocs != 0 {
		t.Errorf("Write/Fill/Read allocate %v times per run", allocs)
	}
	m := NewMixer(s16)
	a := NewStream(Spec{Freq: 44100, Format: F32LE, Channels: 1}, 4096)
	b := NewStream(s16, 4096)
	m.Add(a, nil)
	m.Add(b, nil)
	pa := make([]byte, 4*441)
	out := make([]byte, 4*480)
	allocs = testing.AllocsPerRun(100, func() {
		a.Write(pa)
		b.Write(p)
		m.Mix(out)
		m.Available()
	})
	if allocs != 0 {
		t.Errorf("Mixer.Mix allocates %v times per run", allocs)
	}
}

// TestConcurrentNoLossNoDup pushes 10 million numbered frames through a
// small ring with random chunk sizes on both sides, producer and consumer
// on different goroutines. Run it with -race.
func TestConcurrentNoLossNoDup(t *testing.T) {
	const total = 10_000_000 // also under -short: this is the -race run that matters
	sp := Spec{Freq: 48000, Format: S32LE, Channels: 1}
	s := NewStream(sp, 1024)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // producer
		defer wg.Done()
		rng := rand.New(rand.NewPCG(3, 4))
		p := make([]byte, 4*700)
		next := uint32(0)
		for int(next) < total {
			n := min(rng.IntN(700)+1, total-int(next))
			for i := range n {
				binary.LittleEndian.PutUint32(p[4*i:], next+uint32(i))
			}
			w := s.Write(p[:4*min(n, s.Free())])
			next += uint32(w)
		}
	}()
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 4*900)
	want := uint32(0)
	for int(want) < total {
		var k int
		if rng.IntN(2) == 0 {
			k = s.Read(buf[:4*(rng.IntN(900)+1)])
		} else {
			n := rng.IntN(900) + 1
			k = min(n, s.Buffered())
			s.Fill(buf[:4*k])
		}
		for i := range k {
			if v := binary.LittleEndian.Uint32(buf[4*i:]); v != want {
				t.Fatalf("frame %d: got %d (loss or duplication)", want, v)
			}
			want++
		}
	}
	wg.Wait()
	st := s.Stats()
	if st.Produced != uint64(total) || st.Consumed != uint64(total) || st.UnderrunFrames != 0 {
		t.Errorf("stats %+v", st)
	}
}
