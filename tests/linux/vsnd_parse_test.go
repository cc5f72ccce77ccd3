package linux_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"gemu/tests/linux/guest"

	"github.com/google/go-cmp/cmp"
)

// vsndConsole is a shortened vsnd console (one card) as gemu prints it,
// with a kernel message in the middle of a block.
const vsndConsole = `@@gemu init 9.01
@@gemu-begin dmesg-virtio
virtio_snd virtio3: device does not comply with spec version 1.x
@@gemu-rc dmesg-virtio 0
@@gemu-end dmesg-virtio
@@gemu-begin aplay-l
**** List of PLAYBACK Hardware Devices ****
card 0: SoundCard [VirtIO SoundCard], device 0: virtio-snd [VirtIO PCM 0]
  Subdevices: 1/1
[   20.238707] virtio_snd virtio3: probe with driver virtio_snd failed with error -22
  Subdevice #0: subdevice #0
@@gemu-rc aplay-l 0
@@gemu-end aplay-l
@@gemu-begin aplay-L
null
    Discard all samples (playback) or generate zero samples (capture)
hw:CARD=SoundCard,DEV=0
    VirtIO SoundCard, VirtIO PCM 0
    Direct hardware device without any conversions
@@gemu-rc aplay-L 0
@@gemu-end aplay-L
@@gemu-begin cards
 0 [SoundCard      ]: virtio-snd - VirtIO SoundCard
                      VirtIO SoundCard at platform/10008000.virtio_mmio/virtio0
@@gemu-rc cards 0
@@gemu-end cards
@@gemu-begin pcm
00-00: virtio-snd : VirtIO PCM 0 : playback 1 : capture 1
@@gemu-rc pcm 0
@@gemu-end pcm
@@gemu-begin contents0
numid=1,iface=CARD,name='Headphone Jack'
  ; type=BOOLEAN,access=r-------,values=1
  : values=on
numid=2,iface=MIXER,name='Master Playback Volume'
  ; type=INTEGER,access=rw---R--,values=2,min=0,max=63,step=1
  : values=63,63
  | dBlinear-min=-99999.99dB,max=0.00dB
@@gemu-rc contents0 0
@@gemu-end contents0
@@gemu jack 19.04 on
@@gemu-begin hw-params
@@gemu play-start 19.04 hw:0,0 /wav/s16-48000.wav
Playing WAVE '/wav/s16-48000.wav' : Signed 16 bit Little Endian, Rate 48000 Hz, Stereo
HW Params of device "hw:0,0":
--------------------
ACCESS:  MMAP_INTERLEAVED RW_INTERLEAVED
FORMAT:  S8 U8 S16_LE U16_LE S32_LE FLOAT_LE
RATE: [5512 384000]
--------------------
@@gemu play-done 19.59 rc=0
@@gemu-end hw-params
@@gemu-begin capture-hw-params
HW Params of device "hw:2,0":
--------------------
CHANNELS: [1 2]
--------------------
Recording WAVE '/dev/null' : Signed 16 bit Little Endian, Rate 48000 Hz, Stereo
@@gemu-rc capture-hw-params 0
@@gemu-end capture-hw-params
@@gemu rec-done 21.43 rec2 rc=0
@@gemu-begin rec2
REC2
@@gemu-end rec2
@@gemu poweroff 22.01
`

func vsndTranscript(text string) *guest.Transcript {
	w := guest.WAV{Format: guest.Format{Rate: 48000, Channels: 2, Bits: 16}, Data: make([]byte, 4*10)}
	text = strings.Replace(text, "REC2", base64.StdEncoding.EncodeToString(w.Encode()), 1)
	tr := &guest.Transcript{}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		tr.Lines = append(tr.Lines, guest.Line{Text: l})
	}
	return tr
}

// TestVsndParse: the parsers read every field of the report, skip kernel
// messages, and the normalisation removes gemu's controls but keeps any
// other difference.
func TestVsndParse(t *testing.T) {
	rep, err := parseVsnd(vsndTranscript(vsndConsole))
	if err != nil {
		t.Fatal(err)
	}
	want := vsndReport{
		Dmesg: []string{"virtio_snd virtio3: device does not comply with spec version 1.x"},
		Playback: []alsaDevice{{CardID: "SoundCard", CardName: "VirtIO SoundCard", DeviceID: "virtio-snd", DeviceName: "VirtIO PCM 0",
			Subdevices: []string{"Subdevices: 1/1", "Subdevice #0: subdevice #0"}}},
		PCMNames: []alsaPCMName{
			{"null", []string{"Discard all samples (playback) or generate zero samples (capture)"}},
			{"hw:CARD=SoundCard,DEV=0", []string{"VirtIO SoundCard, VirtIO PCM 0", "Direct hardware device without any conversions"}},
		},
		Cards: []alsaCard{{ID: "SoundCard", Driver: "virtio-snd", Name: "VirtIO SoundCard", LongName: "VirtIO SoundCard at platform/10008000.virtio_mmio/virtio0"}},
		PCMs:  []alsaPCM{{Fields: []string{"virtio-snd", "VirtIO PCM 0", "playback 1", "capture 1"}}},
		Controls: [3][]alsaControl{{
			{Numid: 1, Iface: "CARD", Name: "Headphone Jack", Info: "type=BOOLEAN,access=r-------,values=1", Values: "values=on"},
			{Numid: 2, Iface: "MIXER", Name: "Master Playback Volume", Info: "type=INTEGER,access=rw---R--,values=2,min=0,max=63,step=1",
				Values: "values=63,63", TLV: "dBlinear-min=-99999.99dB,max=0.00dB"},
		}},
		HWParams:       map[string]string{"ACCESS": "MMAP_INTERLEAVED RW_INTERLEAVED", "FORMAT": "S8 U8 S16_LE U16_LE S32_LE FLOAT_LE", "RATE": "[5512 384000]"},
		CaptureParams:  map[string]string{"CHANNELS": "[1 2]"},
		JackAtBoot:     "on",
		RecordSilence:  recording{Format: guest.Format{Rate: 48000, Channels: 2, Bits: 16}, Frames: 10, Zero: true},
		PlaybackMarks:  []string{"rc=0"},
		RecordMarks:    []string{"rec2 rc=0"},
		BlockExitCodes: map[string]string{"dmesg-virtio": "0", "aplay-l": "0", "aplay-L": "0", "arecord-l": "missing", "cards": "0", "pcm": "0", "contents0": "0", "contents1": "missing", "contents2": "missing", "capture-hw-params": "0"},
	}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("parsed report (-want +got):\n%s", diff)
	}

	// QEMU's: no controls, U32.
	q := strings.NewReplacer("FLOAT_LE", "U32_LE FLOAT_LE", "@@gemu jack 19.04 on", "@@gemu jack 19.04 none").Replace(vsndConsole)
	i, j := strings.Index(q, "numid=1"), strings.Index(q, "@@gemu-rc contents0")
	q = q[:i] + q[j:]
	qrep, err := parseVsnd(vsndTranscript(q))
	if err != nil {
		t.Fatal(err)
	}
	qrep.BlockExitCodes = rep.BlockExitCodes
	if diff := cmp.Diff(vsndNormalise(qrep), vsndNormalise(rep)); diff != "" {
		t.Errorf("normalised reports differ (-qemu +gemu):\n%s", diff)
	}
	// Anything else still counts: another control, another card name.
	for _, change := range []func(r *vsndReport){
		func(r *vsndReport) {
			r.Controls[0] = append(r.Controls[0], alsaControl{Numid: 3, Iface: "MIXER", Name: "Capture Volume"})
		},
		func(r *vsndReport) { r.Cards[0].LongName = "VirtIO SoundCard at virtio1" },
		func(r *vsndReport) { r.HWParams["FORMAT"] = "S16_LE" },
		func(r *vsndReport) { r.Dmesg = nil },
	} {
		g, _ := parseVsnd(vsndTranscript(vsndConsole))
		g.BlockExitCodes = rep.BlockExitCodes
		change(&g)
		if cmp.Equal(vsndNormalise(qrep), vsndNormalise(g)) {
			t.Errorf("normalisation hides a difference: %+v", g)
		}
	}
}
