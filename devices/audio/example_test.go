package audio_test

import (
	"fmt"
	"os"
	"path/filepath"

	"gemu/clock"
	"gemu/devices/audio"
)

// A device model's view: open a voice, write what Free allows, advance
// virtual time; the wav sink pulls in virtual time and Close completes the
// file.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "gemu-audio")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.wav")

	var instructions uint64 // the hart's retired-instruction counter
	clk := clock.NewDeterministic(0, func() uint64 { return instructions })
	ad, err := audio.Open("wav,id=snd0,path="+out+",out.frequency=48000,out.channels=2,out.format=s16", clk)
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := ad.NewOutput("pcm", audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2})

	pcm := make([]byte, 4*4800) // 100 ms of silence from "guest memory"
	pos := 0                    // the device's guest-visible position, in frames
	for pos < 4800 {
		n := st.Write(pcm[4*pos : 4*min(4800, pos+st.Free())]) // back-pressure: at most Free
		pos += n                                               // advance only by what was taken
		instructions += 1_000_000                              // 1 ms of virtual time
		clk.RunDue()
	}
	st.SetActive(false) // the guest stopped the stream
	ad.Close()

	spec, data, _ := audio.ReadWAVFile(out)
	fmt.Println(spec, len(data)/spec.FrameBytes(), "frames")
	// Output: 48000Hz s16 2ch 4800 frames
}
