package rtc

import (
	"testing"

	"gemu/bus"
	"gemu/clock"
)

type line struct{ level bool }

func (l *line) SetLevel(_ int, level bool) { l.level = level }

const base = int64(1_700_000_000) * 1e9

func setup() (*RTC, *uint64, *clock.Clock, *line) {
	n := new(uint64)
	clk := clock.NewDeterministic(0, func() uint64 { return *n })
	l := &line{}
	return New(clk, bus.IRQ{C: l, N: 11}, base), n, clk, l
}

func readTime(r *RTC) int64 {
	lo := r.Read(TimeLow, 4)
	hi := r.Read(TimeHigh, 4)
	return int64(hi<<32 | lo)
}

func TestTime(t *testing.T) {
	r, n, _, _ := setup()
	*n = 12345
	if got := readTime(r); got != base+12345 {
		t.Errorf("time = %d, want %d", got, base+12345)
	}
	// Set the clock: TIME_HIGH then TIME_LOW, as Linux's set_time does.
	want := int64(0x0000_0012_3456_7890)
	r.Write(TimeHigh, 4, uint64(want>>32))
	r.Write(TimeLow, 4, uint64(want&0xffffffff))
	*n += 100
	if got := readTime(r); got != want+100 {
		t.Errorf("time after set = %#x, want %#x", got, want+100)
	}
}

func TestAlarm(t *testing.T) {
	r, n, clk, l := setup()
	r.Write(IRQEnabled, 4, 1)
	at := base + 5000
	r.Write(AlarmHigh, 4, uint64(at>>32))
	r.Write(AlarmLow, 4, uint64(at&0xffffffff))
	if r.Read(AlarmStatus, 4) != 1 {
		t.Errorf("alarm not armed")
	}
	when, ok := clk.Next()
	if !ok || when != 5000 {
		t.Fatalf("timer at %d %v, want 5000", when, ok)
	}
	*n = 4999
	clk.RunDue()
	if l.level {
		t.Errorf("IRQ before the alarm time")
	}
	*n = 5000
	clk.RunDue()
	if !l.level || r.Read(AlarmStatus, 4) != 0 {
		t.Errorf("irq=%v status=%d after alarm, want irq and disarmed", l.level, r.Read(AlarmStatus, 4))
	}
	r.Write(ClearInterrupt, 4, 1)
	if l.level {
		t.Errorf("IRQ still high after CLEAR_INTERRUPT")
	}
	// Alarm in the past fires at once; masked when IRQ_ENABLED = 0.
	r.Write(IRQEnabled, 4, 0)
	r.Write(AlarmHigh, 4, 0)
	r.Write(AlarmLow, 4, 1)
	clk.RunDue()
	if l.level {
		t.Errorf("IRQ high while disabled")
	}
	r.Write(IRQEnabled, 4, 1)
	if !l.level {
		t.Errorf("pending alarm did not raise IRQ when enabled")
	}
	// Clear alarm disarms.
	r.Write(ClearInterrupt, 4, 1)
	r.Write(AlarmHigh, 4, uint64((base+9000)>>32))
	r.Write(AlarmLow, 4, uint64((base+9000)&0xffffffff))
	r.Write(ClearAlarm, 4, 1)
	*n = 10000
	clk.RunDue()
	if l.level || r.Read(AlarmStatus, 4) != 0 {
		t.Errorf("cleared alarm fired")
	}
}

// FuzzMMIO: random register traffic and time steps never panic, and the
// IRQ line is high exactly when enabled and pending.
func FuzzMMIO(f *testing.F) {
	f.Add([]byte{0x10, 1, 0x0c, 0, 0x08, 5, 0xff, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, n, clk, l := setup()
		for len(data) >= 2 {
			op, v := data[0], uint64(data[1])
			data = data[2:]
			off := uint64(op&0x1f) &^ 3
			switch op >> 5 {
			case 0, 1, 2:
				r.Write(off, 4, v<<(8*(op>>5)))
			case 3, 4:
				r.Read(off, 4)
			default:
				*n += v * 1000
				clk.RunDue()
			}
			if l.level != (r.irqEnabled && r.irqPending) {
				t.Fatalf("irq line %v, enabled %v pending %v", l.level, r.irqEnabled, r.irqPending)
			}
		}
	})
}
