package pcm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBytesRoundTrip(t *testing.T) {
	f := []Frame{{1, -1}, {32767, -32768}, {0x1234, -0x1234}}
	b := Bytes(f)
	if want := []byte{1, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0x80, 0x34, 0x12, 0xcc, 0xed}; !cmp.Equal(want, b) {
		t.Errorf("Bytes = % x, want % x", b, want)
	}
	if got := Frames(append(b, 9)); !cmp.Equal(f, got) {
		t.Errorf("Frames(Bytes(f)) = %v, want %v", got, f)
	}
}

func TestPatternNeverZero(t *testing.T) {
	for _, rate := range []int{8000, 44100, 48000} {
		for i, f := range Pattern(rate, 70000) {
			if f[0] == 0 || f[1] == 0 {
				t.Fatalf("rate %d: frame %d is %v", rate, i, f)
			}
		}
	}
}

// fakeT records a Fatalf instead of stopping the test.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestEqualNamesFirstDifference(t *testing.T) {
	want := Pattern(48000, 10)
	got := append([]Frame(nil), want...)
	got[6][1]++
	for _, c := range []struct {
		got  []Frame
		fail string
	}{
		{want, ""},
		{got, "first differing frame"},
		{want[:9], "frames, want"},
	} {
		ft := &fakeT{}
		func() {
			defer func() {
				if r := recover(); r != nil && r != any(ft) {
					panic(r)
				}
			}()
			Equal(ft, "x", want, c.got)
		}()
		if c.fail == "" && ft.msg != "" || c.fail != "" && !strings.Contains(ft.msg, c.fail) {
			t.Errorf("Equal failure %q, want one containing %q", ft.msg, c.fail)
		}
	}
}

func TestParseHex(t *testing.T) {
	got, err := ParseHex([]string{"ffff0001", "80007fff"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Frame{{1, -1}, {32767, -32768}}; !cmp.Equal(want, got) {
		t.Errorf("ParseHex = %v, want %v", got, want)
	}
	if _, err := ParseHex([]string{"12345678", "xyz"}); err == nil {
		t.Error("ParseHex accepted a non-hex word")
	}
	if _, err := ParseHex([]string{"123456789"}); err == nil {
		t.Error("ParseHex accepted a word wider than 32 bits")
	}
}

func TestDump(t *testing.T) {
	console := "REC pi 00020001 0004fffd\n" +
		"REC mc 00010001\n" +
		"REC pi 00060005\n" +
		"REC pi 0007 short\n" + // not a dump line
		"REC pi 0008000G\n" + // nor this
		"xREC pi 00090009\n" +
		"REC pi \n"
	want := []Frame{{1, 2}, {-3, 4}, {5, 6}}
	if got := Dump(console, "REC pi"); !cmp.Equal(want, got) {
		t.Errorf("Dump(REC pi) = %v, want %v", got, want)
	}
	if got := Dump(console, "REC mc"); !cmp.Equal([]Frame{{1, 1}}, got) {
		t.Errorf("Dump(REC mc) = %v", got)
	}
	if got := Dump(console, "REC"); len(got) != 0 {
		t.Errorf("Dump(REC) = %v, want nothing (pi and mc are not hex)", got)
	}
}
