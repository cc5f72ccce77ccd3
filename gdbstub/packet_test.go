package gdbstub

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func decodeAll(p []byte) []Frame {
	var d Decoder
	var out []Frame
	d.Feed(p, func(f Frame) { out = append(out, f) })
	return out
}

func TestDecoder(t *testing.T) {
	pkt := func(s string) Frame { return Frame{Kind: FramePacket, Data: []byte(s)} }
	bad := Frame{Kind: FrameBad}
	tests := []struct {
		name string
		in   string
		want []Frame
	}{
		{"packet", "$g#67", []Frame{pkt("g")}},
		{"upper-case checksum", "$m0,4#FD", []Frame{pkt("m0,4")}},
		{"empty packet", "$#00", []Frame{pkt("")}},
		{"acks and noise", "+-x\r\n+", []Frame{{Kind: FrameAck}, {Kind: FrameNack}, {Kind: FrameAck}}},
		{"interrupt", "\x03", []Frame{{Kind: FrameInterrupt}}},
		{"0x03 inside a packet is data", "$a\x03#64", []Frame{pkt("a\x03")}},
		{"bad checksum", "$g#00", []Frame{bad}},
		{"non-hex checksum", "$g#6z", []Frame{bad}},
		{"non-hex first digit", "$g#z7$g#67", []Frame{bad, pkt("g")}},
		{"restart inside a packet", "$ab$g#67", []Frame{bad, pkt("g")}},
		{"two packets", "$g#67+$?#3f", []Frame{pkt("g"), {Kind: FrameAck}, pkt("?")}},
		{"escaped bytes stay escaped", "$X0,1:}\x03#" + hexSum("X0,1:}\x03"), []Frame{pkt("X0,1:}\x03")}},
	}
	for _, tc := range tests {
		got := decodeAll([]byte(tc.in))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: frames (-want +got):\n%s", tc.name, diff)
		}
	}
}

func hexSum(s string) string {
	var sum uint8
	for i := 0; i < len(s); i++ {
		sum += s[i]
	}
	return string([]byte{hexDigits[sum>>4], hexDigits[sum&15]})
}

// Bytes may arrive one at a time.
func TestDecoderSplit(t *testing.T) {
	in := append([]byte("+"), AppendPacket(nil, []byte("qSupported:swbreak+"))...)
	in = append(in, "\x03$g#67"...)
	want := decodeAll(in)
	var d Decoder
	var got []Frame
	for i := range in {
		d.Feed(in[i:i+1], func(f Frame) { got = append(got, f) })
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("byte-wise feed differs (-whole +split):\n%s", diff)
	}
	if len(got) != 4 || got[1].Kind != FramePacket {
		t.Errorf("frames = %+v", got)
	}
}

func TestDecoderOverflow(t *testing.T) {
	payload := bytes.Repeat([]byte{'a'}, MaxPacket+10)
	in := AppendPacket(nil, payload)
	in = append(in, AppendPacket(nil, []byte("g"))...)
	got := decodeAll(in)
	want := []Frame{{Kind: FrameBad}, {Kind: FramePacket, Data: []byte("g")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("oversized packet (-want +got):\n%s", diff)
	}
}

func TestAppendPacketRoundTrip(t *testing.T) {
	for _, p := range []string{"", "OK", "a$b#c}d*e", "\x00\xff}"} {
		framed := AppendPacket(nil, []byte(p))
		got := decodeAll(framed)
		if len(got) != 1 || got[0].Kind != FramePacket {
			t.Fatalf("%q: frames %+v", p, got)
		}
		un, err := Unescape(got[0].Data)
		if err != nil || string(un) != p {
			t.Errorf("%q: round trip gave %q, %v", p, un, err)
		}
	}
}

func TestParseHelpers(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"80000078", 0x80000078, true},
		{"FFFFFFFFFFFFFFFF", ^uint64(0), true},
		{"0000000000000000001", 1, true},
		{"10000000000000000", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"0x10", 0, false},
	}
	for _, tc := range tests {
		v, err := parseHex([]byte(tc.in))
		if (err == nil) != tc.ok || v != tc.want {
			t.Errorf("parseHex(%q) = %#x, %v", tc.in, v, err)
		}
	}
	if _, err := Unescape([]byte("ab}")); err == nil {
		t.Error("Unescape accepted a trailing escape")
	}
	if _, err := decodeHex([]byte("abc")); err == nil {
		t.Error("decodeHex accepted an odd length")
	}
	if v, err := parseLE([]byte("7800008000000000"), 8); err != nil || v != 0x80000078 {
		t.Errorf("parseLE = %#x, %v", v, err)
	}
	if got := string(appendLE(nil, 0x80000078, 8)); got != "7800008000000000" {
		t.Errorf("appendLE = %s", got)
	}
}

// FuzzDecoder: any byte stream, split anywhere, gives the same frames and
// never panics; a packet re-framed with AppendPacket decodes to itself.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("$g#67"), 2)
	f.Add([]byte("+$qSupported:multiprocess+;swbreak+#00\x03-"), 7)
	f.Add([]byte("$X80000000,4:}\x03}\x04ab#00"), 1)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		whole := decodeAll(in)
		if split < 0 || split > len(in) {
			split = len(in) / 2
		}
		var d Decoder
		var parts []Frame
		d.Feed(in[:split], func(fr Frame) { parts = append(parts, fr) })
		d.Feed(in[split:], func(fr Frame) { parts = append(parts, fr) })
		if diff := cmp.Diff(whole, parts); diff != "" {
			t.Fatalf("split feed differs:\n%s", diff)
		}
		for _, fr := range whole {
			if fr.Kind != FramePacket {
				continue
			}
			if len(fr.Data) > MaxPacket {
				t.Fatalf("packet of %d bytes passed", len(fr.Data))
			}
			re := decodeAll(AppendPacket(nil, fr.Data))
			if len(re) != 1 || re[0].Kind != FramePacket {
				t.Fatalf("re-framed packet gave %+v", re)
			}
			un, err := Unescape(re[0].Data)
			if err != nil || !bytes.Equal(un, fr.Data) {
				t.Fatalf("re-framed %q came back as %q (%v)", fr.Data, un, err)
			}
		}
	})
}
