package audio

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"gemu/clock"
)

func TestSmokeWAV(t *testing.T) {
	var icount uint64
	clk := clock.NewDeterministic(0, func() uint64 { return icount })
	dir := t.TempDir()
	path := filepath.Join(dir, "out.wav")
	ad, err := Open("wav,id=snd0,path="+path+",out.frequency=48000,per-stream=on", clk)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ad.NewOutput("pcm", Spec{Freq: 48000, Format: S16LE, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	src := make([]byte, 48000*4/10)
	for i := range src {
		src[i] = byte(i*7 + 1)
	}
	rest := src
	for len(rest) > 0 {
		n := st.Write(rest[:min(len(rest), st.Free()*4)])
		rest = rest[n*4:]
		icount += 1_000_000
		for {
			when, ok := clk.Next()
			if !ok || when > clk.Now() {
				break
			}
			clk.RunDue()
		}
	}
	if err := ad.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, "out-pcm.wav")} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sp, data, err := ParseWAV(b)
		if err != nil {
			t.Fatal(err)
		}
		if sp != (Spec{Freq: 48000, Format: S16LE, Channels: 2}) || !bytes.Equal(data, src) {
			t.Errorf("%s: spec %v, %d bytes, equal=%v", p, sp, len(data), bytes.Equal(data, src))
		}
	}
}
