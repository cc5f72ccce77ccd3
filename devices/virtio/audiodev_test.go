package virtio

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"gemu/devices/audio"
)

// playThrough plays pcm (frames of spec) through the device into a, one
// period per message with at most 4 in flight, refilled as they come back,
// then STOP and RELEASE, as Linux does.
func (r *rig) playThrough(spec audio.Spec, fmtBit, rateBit uint8, pcm []byte, periodFrames int) {
	r.t.Helper()
	pb := periodFrames * spec.FrameBytes()
	r.mustOK(params(0, uint32(4*pb), uint32(pb), uint8(spec.Channels), fmtBit, rateBit))
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	chains := map[uint16]chain{}
	next, back := 0, 0
	queue := func() {
		if next*pb >= len(pcm) {
			return
		}
		end := min((next+1)*pb, len(pcm))
		c := r.submit(QueueTx, []buf{{data: le(0)}, {data: pcm[next*pb : end]}, {writable: 8}}, true)
		chains[c.head] = c
		next++
	}
	for k := 0; k < 4; k++ {
		queue()
	}
	r.mustOK(pcmReq(reqPCMStart, 0))
	total := (len(pcm) + pb - 1) / pb
	for i := 0; back < total && i < 100000; i++ {
		r.run(500_000)
		for range r.used(QueueTx, chains) {
			back++
			queue()
		}
	}
	if back != total {
		r.fatalf("%d of %d messages came back", back, total)
	}
	r.mustOK(pcmReq(reqPCMStop, 0))
	r.mustOK(pcmReq(reqPCMRelease, 0))
}

// TestWAVSink plays through a real wav audiodev (deterministic clock) in
// several formats and requires the files to hold exactly the guest's
// frames: the mix when its spec equals the stream's, and the per-stream
// file always.
func TestWAVSink(t *testing.T) {
	tests := []struct {
		spec            audio.Spec
		fmtBit, rateBit uint8
	}{
		{audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2}, 5, 7},
		{audio.Spec{Freq: 8000, Format: audio.U8, Channels: 1}, 4, 1},
		{audio.Spec{Freq: 96000, Format: audio.S32LE, Channels: 2}, 17, 10},
		{audio.Spec{Freq: 44100, Format: audio.F32LE, Channels: 2}, 19, 6},
	}
	for _, tc := range tests {
		t.Run(tc.spec.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.wav")
			r := newRig(t)
			a, err := audio.Open(fmt.Sprintf("wav,id=snd0,path=%s,per-stream=on,out.frequency=%d,out.channels=%d,out.format=%v",
				path, tc.spec.Freq, tc.spec.Channels, tc.spec.Format), r.clk)
			if err != nil {
				t.Fatal(err)
			}
			r.snd.UseAudiodev(a)
			r.setup(16)
			// 0.3 s of a ramp that never repeats a frame, in the stream's
			// format (any bytes are valid samples, except float NaNs, which
			// a ramp of small integers avoids).
			n := tc.spec.Freq * 3 / 10
			fb := tc.spec.FrameBytes()
			pcm := make([]byte, n*fb)
			for i := range n {
				for c := 0; c < tc.spec.Channels; c++ {
					s := pcm[i*fb+c*tc.spec.Format.Bytes():]
					v := uint32(i*3 + c + 1)
					switch tc.spec.Format {
					case audio.U8:
						s[0] = byte(v)
					case audio.S16LE:
						s[0], s[1] = byte(v), byte(v>>8)
					case audio.S32LE:
						put32(s, v<<12)
					case audio.F32LE:
						put32(s, 0x3b000000+v) // small positive floats
					}
				}
			}
			period := tc.spec.Freq / 100
			r.playThrough(tc.spec, tc.fmtBit, tc.rateBit, pcm, period)
			r.run(50_000_000)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			check := func(file string) {
				spec, data, err := audio.ReadWAVFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if !spec.SameStream(tc.spec) {
					t.Fatalf("%s is %v, want %v", file, spec, tc.spec)
				}
				if !bytes.Equal(data, pcm) {
					i := 0
					for i < min(len(data), len(pcm)) && data[i] == pcm[i] {
						i++
					}
					t.Errorf("%s: %d bytes, want %d; first difference at byte %d", file, len(data), len(pcm), i)
				}
			}
			check(filepath.Join(dir, "out-virtio-snd.out.wav"))
			if tc.spec.Format != audio.U8 && tc.spec.Format != audio.F32LE {
				check(path)
			}
		})
	}
}

// TestInPathSource records from an in.path WAV through rx messages and
// requires the guest buffers to hold exactly the file's frames from its
// first one.
func TestInPathSource(t *testing.T) {
	dir := t.TempDir()
	spec := audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2}
	src := pattern(9600, 1234)
	w, err := audio.CreateWAV(filepath.Join(dir, "in.wav"), spec)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(src)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := newRig(t)
	a, err := audio.Open("none,id=snd0,in.path="+filepath.Join(dir, "in.wav"), r.clk)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r.snd.UseAudiodev(a)
	r.setup(16)
	const pb = 480 * 4
	r.mustOK(params(1, 4*pb, pb, 2, 5, 7))
	r.mustOK(pcmReq(reqPCMPrepare, 1))
	chains := map[uint16]chain{}
	all := map[uint16]chain{}
	queue := func() {
		c := r.submit(QueueRx, []buf{{data: le(1)}, {writable: pb / 2}, {writable: pb / 2}, {writable: 8}}, true)
		chains[c.head], all[c.head] = c, c
	}
	for k := 0; k < 4; k++ {
		queue()
	}
	r.mustOK(pcmReq(reqPCMStart, 1))
	var got []byte
	for i := 0; len(got) < len(src) && i < 1000; i++ {
		r.run(1_000_000)
		for _, u := range r.used(QueueRx, chains) {
			c := all[u.head]
			if u.len != pb+8 {
				t.Fatalf("rx message returned with %d bytes, want %d", u.len, pb+8)
			}
			if st, _ := r.bus.Read32(c.bufs[3]); st != sndOK {
				t.Fatalf("rx status %#x", st)
			}
			p := make([]byte, pb)
			r.bus.ReadDMA(c.bufs[1], p[:pb/2])
			r.bus.ReadDMA(c.bufs[2], p[pb/2:])
			got = append(got, p...)
			queue()
		}
	}
	r.mustOK(pcmReq(reqPCMStop, 1))
	r.mustOK(pcmReq(reqPCMRelease, 1))
	if !bytes.Equal(got, src) {
		t.Errorf("recorded %d bytes, want the source's %d bytes exactly", len(got), len(src))
	}
}
