package ivshmem

import (
	"bytes"
	"path/filepath"
	"testing"

	"gemu/devices/audio"
)

// TestPlayerVoiceRefused (issue 10): when the audiodev refuses the ring's
// voice (its MaxVoices limit, reached by other voices), the ring is marked
// broken with ReasonVoice and an error counted, once; it stays broken
// until the producer restarts it, and a restart once a voice is free
// plays every frame.
func TestPlayerVoiceRefused(t *testing.T) {
	dir := t.TempDir()
	r := newPlayerRig(t, 1<<20)
	a, err := audio.Open("wav,id=snd0,path="+filepath.Join(dir, "out.wav")+",per-stream=on,out.frequency=48000", r.clk)
	if err != nil {
		t.Fatal(err)
	}
	r.p.UseAudiodev(a)
	var others []audio.Output
	for range audio.MaxVoices { // one name: one per-stream file
		o, err := a.OpenOutput("other", audio.Spec{Freq: 8000, Format: audio.U8, Channels: 1})
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, o)
	}
	initRing(r.mem, stereo16, 1)
	r.produce(400)
	r.advance(15e6)
	if s, why := r.status(); s != RingBroken || why != ReasonVoice {
		t.Fatalf("status %d (%v), want broken (%v)", s, why, ReasonVoice)
	}
	if r.mem.Read(OffErrors, 4) != 1 || r.mem.Read(OffRead, 8) != 0 {
		t.Fatalf("errors %d, read index %d; want 1 and 0", r.mem.Read(OffErrors, 4), r.mem.Read(OffRead, 8))
	}
	// Broken until restarted, even once a voice is free; counted once.
	others[0].Close()
	r.advance(100e6)
	if s, _ := r.status(); s != RingBroken || r.mem.Read(OffErrors, 4) != 1 {
		t.Fatalf("status %d, errors %d before the restart", s, r.mem.Read(OffErrors, 4))
	}
	// The producer restarts (new epoch): playing, every frame delivered.
	r.w, r.seq = 0, 0
	initRing(r.mem, stereo16, 2)
	want := r.produce(4000)
	r.advance(300e6)
	if s, why := r.status(); s != RingPlaying {
		t.Fatalf("after restart: status %d (%v)", s, why)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	_, data, err := audio.ReadWAVFile(filepath.Join(dir, "out-"+VoiceName+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("after restart the voice holds %d bytes, want the %d produced", len(data), len(want))
	}
}
