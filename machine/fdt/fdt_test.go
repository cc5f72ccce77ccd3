package fdt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parse is an independent reader of the format, used to check Blob.
func parse(b []byte) (*Node, []Reservation, error) {
	be := binary.BigEndian
	if len(b) < headerSize || be.Uint32(b) != magic {
		return nil, nil, fmt.Errorf("bad header")
	}
	if int(be.Uint32(b[4:])) != len(b) {
		return nil, nil, fmt.Errorf("totalsize %d != %d", be.Uint32(b[4:]), len(b))
	}
	structOff, stringsOff, rsvOff := be.Uint32(b[8:]), be.Uint32(b[12:]), be.Uint32(b[16:])
	var rsv []Reservation
	for p := rsvOff; ; p += 16 {
		a, s := be.Uint64(b[p:]), be.Uint64(b[p+8:])
		if a == 0 && s == 0 {
			break
		}
		rsv = append(rsv, Reservation{a, s})
	}
	st := b[structOff:]
	strs := b[stringsOff:]
	pos := 0
	cstr := func(x []byte) string { return string(x[:bytes.IndexByte(x, 0)]) }
	var stack []*Node
	var root *Node
	for {
		tok := be.Uint32(st[pos:])
		pos += 4
		switch tok {
		case tokenBeginNode:
			name := cstr(st[pos:])
			pos += (len(name) + 1 + 3) &^ 3
			n := &Node{Name: name}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case tokenProp:
			l, off := be.Uint32(st[pos:]), be.Uint32(st[pos+4:])
			pos += 8
			v := append([]byte{}, st[pos:pos+int(l)]...)
			pos += (int(l) + 3) &^ 3
			n := stack[len(stack)-1]
			n.Props = append(n.Props, Prop{cstr(strs[off:]), v})
		case tokenEndNode:
			stack = stack[:len(stack)-1]
		case tokenEnd:
			return root, rsv, nil
		default:
			return nil, nil, fmt.Errorf("bad token %#x at %d", tok, pos-4)
		}
	}
}

func sample() *Node {
	root := NewNode("")
	root.SetU32("#address-cells", 2)
	root.SetString("compatible", "riscv-virtio")
	soc := root.AddNode("soc")
	soc.SetEmpty("ranges")
	u := soc.AddNode("serial@10000000")
	u.SetU64("reg", 0x10000000, 0x100)
	u.SetString("compatible", "ns16550a", "x")
	u.SetU32("interrupts", 10)
	u.SetU32("interrupts", 11) // replaces
	return root
}

func TestRoundTrip(t *testing.T) {
	root := sample()
	rsv := []Reservation{{0x80000000, 0x80000}}
	b, err := root.Blob(rsv, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, gotRsv, err := parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(root, got, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
		t.Errorf("tree mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(rsv, gotRsv); diff != "" {
		t.Errorf("reservations mismatch:\n%s", diff)
	}
	if v, _ := got.Lookup("/soc/serial@10000000").Prop("interrupts"); !bytes.Equal(v, []byte{0, 0, 0, 11}) {
		t.Errorf("interrupts = %x, want 0000000b", v)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func() *Node
		want  string
	}{
		{"named root", func() *Node { return NewNode("x") }, "root node"},
		{"bad node char", func() *Node { r := NewNode(""); r.AddNode("a b"); return r }, "invalid character"},
		{"long node", func() *Node { r := NewNode(""); r.AddNode(strings.Repeat("a", 32)); return r }, "1 to 31"},
		{"bad prop", func() *Node { r := NewNode(""); r.SetEmpty("a/b"); return r }, "invalid character"},
		{"dup node", func() *Node { r := NewNode(""); r.AddNode("a"); r.AddNode("a"); return r }, "duplicate node"},
		{"dup prop", func() *Node {
			r := NewNode("")
			r.Props = append(r.Props, Prop{"a", nil}, Prop{"a", nil})
			return r
		}, "duplicate property"},
	}
	for _, tc := range tests {
		_, err := tc.build().Blob(nil, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want containing %q", tc.name, err, tc.want)
		}
	}
}

// TestDtcDecodes checks the blob with the reference decoder.
func TestDtcDecodes(t *testing.T) {
	dtc, err := exec.LookPath("dtc")
	if err != nil {
		t.Fatal("dtc not found: install device-tree-compiler (apt-get install device-tree-compiler)")
	}
	b, err := sample().Blob([]Reservation{{0x80000000, 0x1000}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "x.dtb")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(dtc, "-q", "-I", "dtb", "-O", "dts", f).CombinedOutput()
	if err != nil {
		t.Fatalf("dtc: %v\n%s", err, out)
	}
	for _, want := range []string{"/memreserve/\t0x0000000080000000 0x0000000000001000;", `serial@10000000 {`,
		`compatible = "ns16550a\0x";`, `reg = <0x00 0x10000000 0x00 0x100>;`, `ranges;`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dtc output lacks %q:\n%s", want, out)
		}
	}
}
