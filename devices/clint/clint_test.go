package clint

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/clock"
)

type rec struct {
	Line  string
	Level bool
	At    uint64 // mtime when the line changed
}

// setup returns a CLINT on a deterministic clock where each "instruction"
// is 100 ns (one mtime tick), so *n is mtime directly.
func setup() (*CLINT, *clock.Clock, *uint64, *[]rec) {
	n := new(uint64)
	clk := clock.NewDeterministic(0, func() uint64 { return *n * 100 })
	var log []rec
	c := New(clk, []Lines{{
		MSIP: func(l bool) { log = append(log, rec{"msip", l, clk.Ticks()}) },
		MTIP: func(l bool) { log = append(log, rec{"mtip", l, clk.Ticks()}) },
	}})
	log = nil
	return c, clk, n, &log
}

func TestMSIP(t *testing.T) {
	c, _, _, log := setup()
	c.Write(0, 4, 1)
	c.Write(0, 4, 1) // no change, no event
	if got := c.Read(0, 4); got != 1 {
		t.Errorf("msip = %d, want 1", got)
	}
	c.Write(0, 4, 2) // bit 0 clear
	c.Write(4, 4, 1) // hart 1 does not exist: ignored
	want := []rec{{"msip", true, 0}, {"msip", false, 0}}
	if diff := cmp.Diff(want, *log); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestTimer(t *testing.T) {
	c, clk, n, log := setup()
	if got := c.Read(MTimeCmpBase, 8); got != math.MaxUint64 {
		t.Errorf("reset mtimecmp = %#x", got)
	}
	*n = 50
	if got := c.Read(MTime, 8); got != 50 {
		t.Errorf("mtime = %d, want 50", got)
	}
	if got := c.Read(MTime+4, 4); got != 0 {
		t.Errorf("mtime hi = %d, want 0", got)
	}
	// Program mtimecmp = 120 in two halves, high first (as RV32 code does).
	c.Write(MTimeCmpBase+4, 4, 0)
	c.Write(MTimeCmpBase, 4, 120)
	if when, ok := clk.Next(); !ok || when != 120*100 {
		t.Fatalf("timer at %d %v, want %d", when, ok, 120*100)
	}
	*n = 119
	clk.RunDue()
	if len(*log) != 0 { // mtimecmp (first 0x0000_0000_ffff_ffff, then 120) is still ahead
		t.Fatalf("events before mtimecmp: %v", *log)
	}
	*n = 120
	clk.RunDue()
	// Re-arm in the past: MTIP stays high. Then far future: MTIP drops.
	c.Write(MTimeCmpBase, 8, 10)
	c.Write(MTimeCmpBase, 8, math.MaxUint64)
	want := []rec{{"mtip", true, 120}, {"mtip", false, 120}}
	if diff := cmp.Diff(want, *log); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, ok := clk.Next(); ok {
		t.Errorf("timer still armed for mtimecmp = max")
	}
}

func TestMTimeWriteIgnored(t *testing.T) {
	c, _, n, _ := setup()
	*n = 7
	c.Write(MTime, 8, 1000)
	if got := c.Read(MTime, 8); got != 7 {
		t.Errorf("mtime = %d after write, want 7", got)
	}
}

func TestReset(t *testing.T) {
	c, clk, _, log := setup()
	c.Write(MTimeCmpBase, 8, 0)
	c.Write(0, 4, 1)
	c.Write(MTimeCmpBase, 8, 5)
	c.Reset()
	if _, ok := clk.Next(); ok {
		t.Errorf("timer armed after reset")
	}
	want := []rec{{"mtip", true, 0}, {"msip", true, 0}, {"mtip", false, 0}, {"msip", false, 0}, {"mtip", false, 0}}
	if diff := cmp.Diff(want, *log); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// FuzzMMIO feeds random register traffic and time steps: no panic, and MTIP
// always equals mtime >= mtimecmp after the due timers ran.
func FuzzMMIO(f *testing.F) {
	f.Add([]byte{0x40, 0x00, 5, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := new(uint64)
		clk := clock.NewDeterministic(0, func() uint64 { return *n })
		var mtip bool
		c := New(clk, []Lines{{MTIP: func(l bool) { mtip = l }}})
		for len(data) >= 4 {
			op, a, v := data[0], uint64(data[1])<<8|uint64(data[2]), uint64(data[3])
			data = data[4:]
			size := []int{1, 2, 4, 8}[op&3]
			off := []uint64{0, MTimeCmpBase, MTime, a}[op>>2&3] + uint64(op>>4&7)*4
			switch op >> 7 {
			case 0:
				c.Write(off, size, v<<(8*(op&7)))
			case 1:
				c.Read(off, size)
				*n += v * 37
				clk.RunDue()
			}
			if want := clk.Ticks() >= c.harts[0].mtimecmp; mtip != want {
				t.Fatalf("mtip %v at mtime %d, mtimecmp %d", mtip, clk.Ticks(), c.harts[0].mtimecmp)
			}
		}
	})
}
