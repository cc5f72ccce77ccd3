package audio

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		arg  string
		want Options
	}{
		{"wav,id=snd0,path=out.wav,out.frequency=48000,out.channels=2,out.format=s16",
			Options{Driver: "wav", ID: "snd0", Path: "out.wav", TimerPeriod: time.Millisecond,
				Out: Direction{Frequency: 48000, Channels: 2, Format: S16LE}}},
		{"none", Options{Driver: "none", TimerPeriod: time.Millisecond}},
		{"wav", Options{Driver: "wav", Path: "gemu.wav", TimerPeriod: time.Millisecond}},
		{"driver=oto,id=a,out.buffer-length=40000,timer-period=10000,out.mixing-engine=off,in.voices=1",
			Options{Driver: "oto", ID: "a", TimerPeriod: 10 * time.Millisecond,
				Out: Direction{BufferLength: 40 * time.Millisecond}}},
		{"wav,path=a,,b.wav,per-stream=on,stats=on,stats.csv=s.csv,stats.svg=s.svg",
			Options{Driver: "wav", Path: "a,b.wav", TimerPeriod: time.Millisecond, PerStream: true, Stats: true, StatsCSV: "s.csv", StatsSVG: "s.svg"}},
		{"none,in.path=mic.wav,in.loop=yes,in.frequency=8000,in.channels=1,in.format=u8",
			Options{Driver: "none", TimerPeriod: time.Millisecond, InPath: "mic.wav", InLoop: true,
				In: Direction{Frequency: 8000, Channels: 1, Format: U8}}},
		{"none,in.tone=440", Options{Driver: "none", TimerPeriod: time.Millisecond, InTone: 440}},
		{"oto,rt=off", Options{Driver: "oto", TimerPeriod: time.Millisecond, NoRT: true}},
		{"oto,rt=off,rt=on", Options{Driver: "oto", TimerPeriod: time.Millisecond}},
		{"oto,rt=fifo", Options{Driver: "oto", TimerPeriod: time.Millisecond, RTFIFO: true}},
		{"oto,rt=fifo,rt=on", Options{Driver: "oto", TimerPeriod: time.Millisecond}},
		{"oto,rt=fifo,rt=off", Options{Driver: "oto", TimerPeriod: time.Millisecond, NoRT: true}},
		// QEMU's host drivers play through oto (xv6-mp3's make qemu line).
		{"id=pa,driver=alsa", Options{Driver: "oto", QEMUDriver: "alsa", ID: "pa", TimerPeriod: time.Millisecond}},
		{"pa,id=x", Options{Driver: "oto", QEMUDriver: "pa", ID: "x", TimerPeriod: time.Millisecond}},
		// keyval: the last of a repeated key wins (util/keyval.c).
		{"wav,id=a,id=b", Options{Driver: "wav", ID: "b", Path: "gemu.wav", TimerPeriod: time.Millisecond}},
	}
	for _, tc := range tests {
		got, err := ParseOptions(tc.arg)
		if err != nil {
			t.Errorf("%q: %v", tc.arg, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tc.arg, d)
		}
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, arg := range []string{
		"", "pulse", "id=a", "wav,bogus=1", "wav,out.frequency=0", "wav,out.frequency=x", "wav,out.channels=9",
		"wav,out.format=s24", "wav,stats=1", "none,per-stream=on", "wav,stats=maybe", "wav,timer-period=5",
		"wav,path=", "none,in.path=a.wav,in.tone=440", "none,in.tone=-3", "none,out.path=x", "wav,noequals",
		"oto,rt=maybe",
	} {
		if _, err := ParseOptions(arg); err == nil {
			t.Errorf("%q accepted", arg)
		} else if !strings.HasPrefix(err.Error(), "audiodev: ") {
			t.Errorf("%q: error %q lacks the audiodev prefix", arg, err)
		}
	}
}

func FuzzParseOptions(f *testing.F) {
	f.Add("wav,id=snd0,path=out.wav,out.frequency=48000,out.channels=2,out.format=s16")
	f.Add("oto,out.buffer-length=50000,timer-period=1000")
	f.Add("none,in.path=a,,b.wav,in.loop=on,stats=on")
	f.Fuzz(func(t *testing.T, arg string) {
		o, err := ParseOptions(arg)
		if err != nil {
			return
		}
		for _, d := range []Direction{o.Out, o.In} {
			if err := d.Spec().Validate(); err != nil {
				t.Fatalf("%q: accepted %v", arg, err)
			}
		}
		if o.TimerPeriod < 100*time.Microsecond {
			t.Fatalf("%q: timer period %v", arg, o.TimerPeriod)
		}
	})
}
