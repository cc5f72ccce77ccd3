// Package fdt builds flattened device trees (DTB blobs).
//
// A tree is built in memory as Nodes holding Props, then flattened by Blob
// into the format of the Devicetree Specification v0.4, chapter 5: a 40-byte
// header, the memory reservation block, the structure block (FDT_BEGIN_NODE,
// FDT_PROP, FDT_END_NODE, FDT_END tokens) and the strings block.
//
// Building in memory (rather than streaming tokens) lets several pieces of
// code add nodes and properties to the same parent in any order: the board
// builds /soc, and other files of package machine add their devices to it.
package fdt

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Structure block tokens (DT spec §5.4.1).
const (
	tokenBeginNode = 0x1
	tokenEndNode   = 0x2
	tokenProp      = 0x3
	tokenEnd       = 0x9
)

const (
	magic          = 0xd00dfeed
	version        = 17
	lastCompatible = 16
	headerSize     = 40
)

// Prop is one property: a name and its raw big-endian value.
type Prop struct {
	Name  string
	Value []byte
}

// Node is one device-tree node. Name includes the unit address, e.g.
// "serial@10000000". The root node has the empty name.
type Node struct {
	Name     string
	Props    []Prop
	Children []*Node
}

// NewNode returns an empty node.
func NewNode(name string) *Node { return &Node{Name: name} }

// AddNode appends a new child and returns it.
func (n *Node) AddNode(name string) *Node {
	c := NewNode(name)
	n.Children = append(n.Children, c)
	return c
}

// Child returns the direct child with the given name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Lookup finds a node by absolute path ("/soc/serial@10000000"); "/" is n
// itself. It returns nil if any component is missing.
func (n *Node) Lookup(path string) *Node {
	cur := n
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if part == "" {
			continue
		}
		if cur = cur.Child(part); cur == nil {
			return nil
		}
	}
	return cur
}

// Prop returns the value of a property and whether it exists.
func (n *Node) Prop(name string) ([]byte, bool) {
	for _, p := range n.Props {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

// SetBytes sets (adds or replaces) a property with a raw value.
func (n *Node) SetBytes(name string, v []byte) {
	for i := range n.Props {
		if n.Props[i].Name == name {
			n.Props[i].Value = v
			return
		}
	}
	n.Props = append(n.Props, Prop{name, v})
}

// SetEmpty sets a property with no value (a boolean flag such as
// "interrupt-controller").
func (n *Node) SetEmpty(name string) { n.SetBytes(name, []byte{}) }

// SetString sets a string-list property: each string NUL-terminated, back to
// back (DT spec §2.2.4, <stringlist>).
func (n *Node) SetString(name string, s ...string) {
	var b []byte
	for _, x := range s {
		b = append(b, x...)
		b = append(b, 0)
	}
	n.SetBytes(name, b)
}

// SetU32 sets a property of big-endian 32-bit cells.
func (n *Node) SetU32(name string, v ...uint32) {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint32(b[4*i:], x)
	}
	n.SetBytes(name, b)
}

// SetU64 sets a property of 64-bit values, each written as two cells (high
// then low), as "reg" uses with #address-cells = #size-cells = 2.
func (n *Node) SetU64(name string, v ...uint64) {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint64(b[8*i:], x)
	}
	n.SetBytes(name, b)
}

// Reservation is one entry of the memory reservation block (DT spec §5.3).
type Reservation struct {
	Address, Size uint64
}

// Blob flattens the tree rooted at n. bootCPU is the header's
// boot_cpuid_phys. Node and property names are checked for the characters
// the spec allows (§2.2.1, §2.2.4) so a typo cannot produce a blob that dtc
// rejects.
func (n *Node) Blob(rsv []Reservation, bootCPU uint32) ([]byte, error) {
	if n.Name != "" {
		return nil, fmt.Errorf("fdt: root node has name %q, want empty", n.Name)
	}
	w := writer{strOff: map[string]uint32{}}
	if err := w.node(n, true); err != nil {
		return nil, err
	}
	w.u32(tokenEnd)

	// Layout: header, reservation map (8-aligned), structure, strings.
	rsvOff := uint32(headerSize)
	rsvLen := uint32(16 * (len(rsv) + 1))
	structOff := rsvOff + rsvLen
	stringsOff := structOff + uint32(len(w.st))
	total := stringsOff + uint32(len(w.strs))

	out := make([]byte, 0, total)
	for _, v := range []uint32{magic, total, structOff, stringsOff, rsvOff,
		version, lastCompatible, bootCPU, uint32(len(w.strs)), uint32(len(w.st))} {
		out = binary.BigEndian.AppendUint32(out, v)
	}
	for _, r := range rsv {
		out = binary.BigEndian.AppendUint64(out, r.Address)
		out = binary.BigEndian.AppendUint64(out, r.Size)
	}
	out = append(out, make([]byte, 16)...)
	out = append(out, w.st...)
	out = append(out, w.strs...)
	return out, nil
}

type writer struct {
	st     []byte // structure block
	strs   []byte // strings block
	strOff map[string]uint32
}

func (w *writer) u32(v uint32) { w.st = binary.BigEndian.AppendUint32(w.st, v) }

func (w *writer) pad() {
	for len(w.st)%4 != 0 {
		w.st = append(w.st, 0)
	}
}

func (w *writer) node(n *Node, root bool) error {
	if !root {
		if err := checkNodeName(n.Name); err != nil {
			return err
		}
	}
	w.u32(tokenBeginNode)
	w.st = append(w.st, n.Name...)
	w.st = append(w.st, 0)
	w.pad()
	seen := map[string]bool{}
	for _, p := range n.Props {
		if err := checkPropName(p.Name); err != nil {
			return fmt.Errorf("%w in node %q", err, n.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("fdt: duplicate property %q in node %q", p.Name, n.Name)
		}
		seen[p.Name] = true
		off, ok := w.strOff[p.Name]
		if !ok {
			off = uint32(len(w.strs))
			w.strOff[p.Name] = off
			w.strs = append(w.strs, p.Name...)
			w.strs = append(w.strs, 0)
		}
		w.u32(tokenProp)
		w.u32(uint32(len(p.Value)))
		w.u32(off)
		w.st = append(w.st, p.Value...)
		w.pad()
	}
	names := map[string]bool{}
	for _, c := range n.Children {
		if names[c.Name] {
			return fmt.Errorf("fdt: duplicate node %q under %q", c.Name, n.Name)
		}
		names[c.Name] = true
		if err := w.node(c, false); err != nil {
			return err
		}
	}
	w.u32(tokenEndNode)
	return nil
}

// checkNodeName enforces DT spec §2.2.1: node-name[@unit-address], 1..31
// characters of [0-9a-zA-Z,._+-] before the '@'.
func checkNodeName(s string) error {
	name, unit, _ := strings.Cut(s, "@")
	if len(name) == 0 || len(name) > 31 {
		return fmt.Errorf("fdt: node name %q must have 1 to 31 characters before '@'", s)
	}
	for _, r := range name + unit {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			strings.ContainsRune(",._+-", r)) {
			return fmt.Errorf("fdt: node name %q has invalid character %q", s, r)
		}
	}
	return nil
}

// checkPropName enforces DT spec §2.2.4: 1..31 characters of
// [0-9a-zA-Z,._+?#-].
func checkPropName(s string) error {
	if len(s) == 0 || len(s) > 31 {
		return fmt.Errorf("fdt: property name %q must have 1 to 31 characters", s)
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			strings.ContainsRune(",._+?#-", r)) {
			return fmt.Errorf("fdt: property name %q has invalid character %q", s, r)
		}
	}
	return nil
}
