package virtio

import (
	"bytes"
	"path/filepath"
	"testing"

	"gemu/devices/audio"
)

// TestStartRefusedVoice (issue 10): when the audiodev refuses a stream's
// voice (its MaxVoices limit, reached by other voices), START fails with
// VIRTIO_SND_S_IO_ERR and the stream stays prepared; once a voice is free
// the driver starts it again and every frame arrives.
func TestStartRefusedVoice(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.wav")
	r := newRig(t)
	a, err := audio.Open("wav,id=snd0,path="+path+",per-stream=on,out.frequency=48000", r.clk)
	if err != nil {
		t.Fatal(err)
	}
	r.snd.UseAudiodev(a)
	r.setup(16)
	var others []audio.Output
	for range audio.MaxVoices { // one name: one per-stream file
		o, err := a.OpenOutput("other", audio.Spec{Freq: 8000, Format: audio.U8, Channels: 1})
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, o)
	}
	spec := audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2}
	pb := uint32(480 * spec.FrameBytes())
	r.mustOK(params(0, 4*pb, pb, 2, 5, 7))
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	for range 2 {
		if st, _ := r.ctl(pcmReq(reqPCMStart, 0), 0); st != sndIOErr {
			t.Fatalf("START with the voice refused: status %#x, want IO_ERR", st)
		}
	}
	// Still prepared, not started: RELEASE is legal (it is not from
	// started) and STOP is not.
	if st, _ := r.ctl(pcmReq(reqPCMStop, 0), 0); st != sndNotSupp {
		t.Errorf("STOP after a failed START: status %#x, want NOT_SUPP", st)
	}
	r.mustOK(pcmReq(reqPCMRelease, 0))

	others[0].Close()
	r.run(2_000_000)
	pcm := make([]byte, 4800*spec.FrameBytes())
	for i := range pcm {
		pcm[i] = byte(i*7 + i/256)
	}
	r.playThrough(spec, 5, 7, pcm, 480)
	r.run(50_000_000)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	_, data, err := audio.ReadWAVFile(filepath.Join(dir, "out-virtio-snd.out.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, pcm) {
		t.Errorf("after recovery the voice holds %d bytes, want the %d played", len(data), len(pcm))
	}
}
