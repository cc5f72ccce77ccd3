package bus

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type regs struct {
	mem map[uint64]uint64
}

func (r *regs) Read(off uint64, size int) uint64 { return r.mem[off] }
func (r *regs) Write(off uint64, size int, v uint64) {
	if r.mem == nil {
		r.mem = map[uint64]uint64{}
	}
	r.mem[off] = v
}

func TestMapRejectsOverlap(t *testing.T) {
	b := New(0x80000000, 0x10000)
	if err := b.Map(0x1000, 0x100, &regs{}, "a"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		base, size uint64
	}{
		{0x10ff, 2},             // overlaps a
		{0x0f00, 0x101},         // overlaps a from below
		{0x8000fff0, 0x20},      // overlaps RAM
		{0x2000, 0},             // empty
		{^uint64(0) - 1, 0x100}, // wraps
	} {
		if err := b.Map(c.base, c.size, &regs{}, "b"); err == nil {
			t.Errorf("Map(%#x, %#x) succeeded, want error", c.base, c.size)
		}
	}
	if err := b.Map(0x1100, 0x100, &regs{}, "c"); err != nil {
		t.Errorf("adjacent region: %v", err)
	}
}

func TestLoadStoreRouting(t *testing.T) {
	b := New(0x80000000, 0x1000)
	dev := &regs{}
	if err := b.Map(0x10000000, 0x100, dev, "dev"); err != nil {
		t.Fatal(err)
	}
	if !b.Store(0x80000ffc, 4, 0xdeadbeef) {
		t.Fatal("store to RAM failed")
	}
	if v, ok := b.Load(0x80000ffc, 4); !ok || v != 0xdeadbeef {
		t.Errorf("RAM load = %#x, %v", v, ok)
	}
	if v, _ := b.Load(0x80000ffc, 2); v != 0xbeef {
		t.Errorf("little-endian halfword = %#x", v)
	}
	// Straddling the end of RAM is not RAM and not a device.
	if _, ok := b.Load(0x80000ffe, 4); ok {
		t.Error("load across end of RAM succeeded")
	}
	b.Store(0x10000008, 8, 42)
	if v, ok := b.Load(0x10000008, 8); !ok || v != 42 {
		t.Errorf("device load = %d, %v", v, ok)
	}
	if _, ok := b.Load(0x100000fe, 4); ok {
		t.Error("load across end of device succeeded")
	}
	if _, ok := b.Load(0x20000000, 4); ok {
		t.Error("load from unmapped address succeeded")
	}
	if b.Store(0x0, 1, 1) {
		t.Error("store to unmapped address succeeded")
	}
}

func TestDMABounds(t *testing.T) {
	b := New(0x80000000, 0x1000)
	for _, c := range []struct {
		addr, n uint64
		ok      bool
	}{
		{0x80000000, 0x1000, true},
		{0x80000fff, 1, true},
		{0x80001000, 0, true}, // empty range at the end is inside
		{0x80000fff, 2, false},
		{0x7fffffff, 1, false},
		{0x80000000, 0x1001, false},
		{^uint64(0), 2, false},          // wraps
		{0x80000800, ^uint64(0), false}, // huge length
	} {
		_, err := b.Slice(c.addr, c.n)
		if (err == nil) != c.ok {
			t.Errorf("Slice(%#x, %#x) err = %v, want ok=%v", c.addr, c.n, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrDMA) {
			t.Errorf("error %v does not wrap ErrDMA", err)
		}
	}
	if err := b.Write32(0x80000010, 0x11223344); err != nil {
		t.Fatal(err)
	}
	got, _ := b.Slice(0x80000010, 4)
	if diff := cmp.Diff([]byte{0x44, 0x33, 0x22, 0x11}, got); diff != "" {
		t.Errorf("Write32 bytes (-want +got):\n%s", diff)
	}
	if v, _ := b.Read64(0x80000010); v != 0x11223344 {
		t.Errorf("Read64 = %#x", v)
	}
}

func TestWritesReachObserver(t *testing.T) {
	b := New(0x80000000, 0x4000)
	var hits [][2]uint64
	b.ObserveWrites(func(a, n uint64) { hits = append(hits, [2]uint64{a, n}) })
	b.WriteDMA(0x80000ff0, make([]byte, 0x20))
	b.WriteDMA(0x80001000, nil) // empty: nothing written, nothing reported
	b.Write32(0x80002000, 1)
	b.Store(0x80003000, 8, 1)
	b.Store(0x10000000, 4, 1)               // not RAM (and not mapped)
	b.WriteDMA(0x80003ffc, make([]byte, 8)) // fails: partly outside RAM
	want := [][2]uint64{{0x80000ff0, 0x20}, {0x80002000, 4}, {0x80003000, 8}}
	if diff := cmp.Diff(want, hits); diff != "" {
		t.Errorf("observed writes (-want +got):\n%s", diff)
	}
}

func TestSecondObserverPanics(t *testing.T) {
	b := New(0x80000000, 0x1000)
	b.ObserveWrites(func(a, n uint64) {})
	defer func() {
		if recover() == nil {
			t.Error("a second ObserveWrites did not panic")
		}
	}()
	b.ObserveWrites(func(a, n uint64) {})
}

type ctl struct{ levels map[int]bool }

func (c *ctl) SetLevel(n int, l bool) { c.levels[n] = l }

func TestIRQ(t *testing.T) {
	var zero IRQ
	zero.Set(true) // must not panic
	c := &ctl{levels: map[int]bool{}}
	q := IRQ{C: c, N: 33}
	q.Set(true)
	if !c.levels[33] {
		t.Error("line 33 not raised")
	}
	q.Set(false)
	if c.levels[33] {
		t.Error("line 33 not lowered")
	}
}

func BenchmarkLoadRAM(b *testing.B) {
	bs := New(0x80000000, 1<<20)
	for i := 0; i < b.N; i++ {
		bs.Load(0x80000000+uint64(i&0xfff)*8, 8)
	}
}
