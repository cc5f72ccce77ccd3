package guest

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWAVRoundTrip(t *testing.T) {
	for _, f := range TestFiles {
		t.Run(f.Name, func(t *testing.T) {
			w := Generate(f.Format, f.Frames)
			if w.Frames() != f.Frames {
				t.Fatalf("Generate made %d frames, want %d", w.Frames(), f.Frames)
			}
			got, err := ParseWAV(w.Encode())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// The offset search relies on the test signals having no silent frame, and
// frame-exact comparison on neighbouring frames being different.
func TestSignalsHaveNoSilentOrRepeatedFrame(t *testing.T) {
	for _, f := range TestFiles {
		w := Generate(f.Format, f.Frames)
		s, err := Stereo16(w)
		if err != nil {
			t.Fatal(err)
		}
		for i, fr := range s {
			if fr == [2]int16{} {
				t.Errorf("%s: frame %d is silent", f.Name, i)
			}
			if i > 0 && fr == s[i-1] {
				t.Errorf("%s: frame %d repeats frame %d", f.Name, i, i-1)
			}
		}
	}
}

func TestStereo16(t *testing.T) {
	tests := []struct {
		name string
		w    WAV
		want [][2]int16
	}{
		{"s16 stereo", WAV{Format{48000, 2, 16}, []byte{0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f}},
			[][2]int16{{1, -1}, {-32768, 32767}}},
		{"s16 mono is duplicated", WAV{Format{48000, 1, 16}, []byte{0x34, 0x12, 0x00, 0x80}},
			[][2]int16{{0x1234, 0x1234}, {-32768, -32768}}},
		{"u8 stereo", WAV{Format{48000, 2, 8}, []byte{0, 255, 128, 129}},
			[][2]int16{{-32768, 127 << 8}, {0, 256}}},
		{"u8 mono", WAV{Format{8000, 1, 8}, []byte{127}}, [][2]int16{{-256, -256}}},
		{"partial frame ignored", WAV{Format{48000, 2, 16}, []byte{1, 0, 2}}, [][2]int16{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Stereo16(&tc.w)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func stereo(frames ...[2]int16) *WAV {
	w := &WAV{Format: Format{48000, 2, 16}}
	for _, f := range frames {
		w.Data = binary.LittleEndian.AppendUint16(w.Data, uint16(f[0]))
		w.Data = binary.LittleEndian.AppendUint16(w.Data, uint16(f[1]))
	}
	return w
}

func TestCompare(t *testing.T) {
	want := [][2]int16{{1, 2}, {3, 4}, {5, 6}}
	z := [2]int16{}
	tests := []struct {
		name  string
		got   *WAV
		match Match
		exact bool
	}{
		{"exact at 0", stereo(want...), Match{Offset: 0, Compared: 3, FirstBad: -1}, true},
		{"offset and trailing silence", stereo(z, z, want[0], want[1], want[2], z),
			Match{Offset: 2, Compared: 3, FirstBad: -1, Trailing: 1}, true},
		{"one bad frame", stereo(z, want[0], [2]int16{3, 5}, want[2]),
			Match{Offset: 1, Compared: 3, Mismatches: 1, FirstBad: 1}, false},
		{"cut short", stereo(want[0], want[1]), Match{Offset: 0, Compared: 2, FirstBad: -1, Missing: 1}, false},
		{"noise after", stereo(want[0], want[1], want[2], z, [2]int16{0, 1}),
			Match{Offset: 0, Compared: 3, FirstBad: -1, Trailing: 2, NonZeroAft: 1}, false},
		{"all silent", stereo(z, z), Match{Offset: -1, FirstBad: -1, Missing: 3}, false},
		{"empty", stereo(), Match{Offset: -1, FirstBad: -1, Missing: 3}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Compare(tc.got, want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.match, m); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if m.Exact() != tc.exact {
				t.Errorf("Exact() = %v, want %v", m.Exact(), tc.exact)
			}
		})
	}
	if _, err := Compare(&WAV{Format: Format{48000, 1, 16}}, want); err == nil {
		t.Error("Compare accepted a mono output")
	}
}

func TestGain(t *testing.T) {
	want := [][2]int16{{1000, -2000}, {3000, 4000}, {-5000, 6000}}
	half := stereo([2]int16{}, [2]int16{500, -1000}, [2]int16{1500, 2000}, [2]int16{-2500, 3000})
	g, dev, err := Gain(half, want)
	if err != nil {
		t.Fatal(err)
	}
	if g != [2]float64{0.5, 0.5} || dev != 0 {
		t.Errorf("Gain = %v, %d; want [0.5 0.5], 0", g, dev)
	}
}

func TestParseWAV(t *testing.T) {
	good := (&WAV{Format{44100, 2, 16}, []byte{1, 2, 3, 4, 5, 6, 7, 8}}).Encode()
	unclosed := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(unclosed[40:], 0) // emulator killed before it fixed the sizes
	withList := append(append(append([]byte(nil), good[:36]...), []byte("LIST\x03\x00\x00\x00abc\x00")...), good[36:]...)
	tests := []struct {
		name   string
		in     []byte
		frames int
		err    bool
	}{
		{"canonical", good, 2, false},
		{"data size 0 means to the end", unclosed, 2, false},
		{"odd chunk padded", withList, 2, false},
		{"partial frame dropped", append(append([]byte(nil), good...), 9), 2, false},
		{"truncated header", good[:20], 0, true},
		{"not RIFF", append([]byte("RIFX"), good[4:]...), 0, true},
		{"no data", good[:36], 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseWAV(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err != nil {
				if !errors.Is(err, ErrWAV) {
					t.Errorf("error %v does not wrap ErrWAV", err)
				}
				return
			}
			if w.Frames() != tc.frames {
				t.Errorf("%d frames, want %d", w.Frames(), tc.frames)
			}
		})
	}
}

// The emulator's WAV output is written from guest-controlled data; the
// parser must never panic and only return whole frames.
func FuzzParseWAV(f *testing.F) {
	f.Add((&WAV{Format{48000, 2, 16}, []byte{1, 2, 3, 4}}).Encode())
	f.Add((&WAV{Format{8000, 1, 8}, []byte{1}}).Encode())
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWAV(b)
		if err != nil {
			return
		}
		if w.FrameBytes() == 0 || len(w.Data)%w.FrameBytes() != 0 {
			t.Fatalf("partial frames: %+v, %d bytes", w.Format, len(w.Data))
		}
		if w.Channels <= 2 {
			if s, err := Stereo16(w); err != nil || len(s) != w.Frames() {
				t.Fatalf("Stereo16: %v, %d frames", err, len(s))
			}
		}
	})
}

func TestIsPrompt(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"gemu# ", true},
		{"gemu# \x1b[6n", true},
		{"\x1b[0mgemu# \x1b[6n\x1b[", true},
		{"gemu# echo", false},
		{"gemu#", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := IsPrompt(tc.text, "gemu# "); got != tc.want {
			t.Errorf("IsPrompt(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
