package ac97

import (
	"fmt"
	"testing"

	"gemu/devices/audio"
)

// TestVoiceRefused (issue 10): when the audiodev refuses the channel's
// voice (its MaxVoices limit is reached by other devices' voices), starting
// the channel puts it in the FIFO error state (FIFOE, DCH, an interrupt
// with FEIE, an error counted) instead of consuming the guest's buffers
// into nothing; resuming while still refused faults again; once a voice is
// free, a guest that resets the channel plays again.
func TestVoiceRefused(t *testing.T) {
	r := newRig(t)
	a, err := audio.Open("none,id=snd0,out.frequency=48000", r.clk)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r.d.UseAudiodev(a)
	spec := audio.Spec{Freq: 8000, Format: audio.S16LE, Channels: 1}
	var others []audio.Output
	for i := range audio.MaxVoices {
		o, err := a.OpenOutput(fmt.Sprintf("other%d", i), spec)
		if err != nil {
			t.Fatalf("voice %d: %v", i, err)
		}
		others = append(others, o)
	}

	r.unmute()
	const list, buf = ramBase + 0x2000, ramBase + 0x20000
	r.bus.WriteDMA(buf, pattern(7, 64))
	r.bd(list, 0, buf, 128, 0)
	r.setBM(0x10, 4, list)
	r.setBM(0x1b, 1, crRPBM|crFEIE)
	r.run(2_000_000)
	if sr := r.bm(0x16, 2); sr&(srFIFOE|srDCH) != srFIFOE|srDCH {
		t.Fatalf("refused voice: SR = %#x, want FIFOE and DCH", sr)
	}
	if !r.d.IRQ() {
		t.Error("FIFOE with FEIE did not interrupt")
	}
	if r.d.Errors != 1 {
		t.Errorf("Errors = %d, want 1", r.d.Errors)
	}
	if picb := r.bm(0x18, 2); picb != 0 {
		t.Errorf("PICB = %d after the fault", picb)
	}

	// Resuming while still refused: the open is retried and faults again.
	r.setBM(0x16, 2, srFIFOE)
	r.setBM(0x1b, 1, crRPBM|crFEIE)
	r.run(2_000_000)
	if sr := r.bm(0x16, 2); sr&(srFIFOE|srDCH) != srFIFOE|srDCH || r.d.Errors != 2 {
		t.Fatalf("resumed while refused: SR = %#x, Errors %d", sr, r.d.Errors)
	}

	// A voice frees up; the guest resets the channel and plays again.
	others[0].Close()
	r.run(2_000_000) // the audiodev forgets the closed voice
	r.setBM(0x1b, 1, crRR)
	if sr := r.bm(0x16, 2); sr != srDCH || r.d.IRQ() {
		t.Fatalf("after RR: SR = %#x irq=%v", sr, r.d.IRQ())
	}
	r.setBM(0x10, 4, list)
	r.setBM(0x1b, 1, crRPBM)
	r.run(10_000_000)
	var po *audio.Stream
	for _, s := range a.Streams() {
		if s.Name() == voiceNames[PO] {
			po = s
		}
	}
	if po == nil {
		t.Fatal("no ac97.po voice after recovery")
	}
	if st := po.Stats(); st.Produced < 64 {
		t.Errorf("after recovery the voice got %d frames, want the buffer's 64", st.Produced)
	}
	if sr := r.bm(0x16, 2); sr&srFIFOE != 0 || r.d.Errors != 2 {
		t.Errorf("after recovery: SR = %#x, Errors %d", sr, r.d.Errors)
	}
}
