// Package rtc models the Goldfish real-time clock ("google,goldfish-rtc")
// that QEMU's virt board maps at 0x101000 with PLIC source 11. Linux's
// rtc-goldfish driver uses it for the wall clock and alarms.
//
// Registers (32-bit; Android emulator "goldfish" RTC documentation,
// GOLDFISH-VIRTUAL-HARDWARE.TXT, and QEMU hw/rtc/goldfish_rtc.c):
//
//	0x00 TIME_LOW        read: low 32 bits of ns since 1970; latches TIME_HIGH
//	                     write: sets the clock to TIME_HIGH:value
//	0x04 TIME_HIGH       the latched high half (write: stage the high half)
//	0x08 ALARM_LOW       write: arms the alarm at ALARM_HIGH:value
//	0x0c ALARM_HIGH      stage the high half of the alarm
//	0x10 IRQ_ENABLED     bit 0 enables the interrupt
//	0x14 CLEAR_ALARM     write: disarm
//	0x18 ALARM_STATUS    read: 1 while armed
//	0x1c CLEAR_INTERRUPT write: lower the interrupt
//
// The clock reads base + virtual time, so in deterministic mode it advances
// with retired instructions like every other clock of the machine. The
// alarm is a clock.Timer, not a poll.
package rtc

import (
	"gemu/bus"
	"gemu/clock"
)

// Register offsets.
const (
	TimeLow        = 0x00
	TimeHigh       = 0x04
	AlarmLow       = 0x08
	AlarmHigh      = 0x0c
	IRQEnabled     = 0x10
	ClearAlarm     = 0x14
	AlarmStatus    = 0x18
	ClearInterrupt = 0x1c
)

// RTC is the device. It belongs to the emulation goroutine.
type RTC struct {
	clk    *clock.Clock
	irq    bus.IRQ
	offset int64 // wall ns = offset + clk.Now()
	base   int64

	timeHigh   uint32 // latched by TIME_LOW reads, staged by TIME_HIGH writes
	alarmHigh  uint32
	alarm      int64 // wall ns
	armed      bool
	irqEnabled bool
	irqPending bool
	level      bool
	timer      *clock.Timer

	Trace bus.TraceFunc
}

// New returns an RTC whose clock reads baseNs (ns since the Unix epoch) at
// virtual time 0.
func New(clk *clock.Clock, irq bus.IRQ, baseNs int64) *RTC {
	r := &RTC{clk: clk, irq: irq, base: baseNs, offset: baseNs}
	r.timer = clk.NewTimer(r.fire)
	r.Reset()
	return r
}

// Reset disarms the alarm and lowers the interrupt. The time keeps
// running, as a battery-backed clock does across a reset.
func (r *RTC) Reset() {
	r.timeHigh, r.alarmHigh = 0, 0
	r.armed, r.irqEnabled, r.irqPending = false, false, false
	r.timer.Stop()
	r.update()
}

// Now returns the RTC's current time in ns since the epoch.
func (r *RTC) Now() int64 { return r.offset + r.clk.Now() }

func (r *RTC) tracef(format string, args ...any) {
	if r.Trace != nil {
		r.Trace(format, args...)
	}
}

func (r *RTC) update() {
	level := r.irqEnabled && r.irqPending
	if level != r.level {
		r.level = level
		r.irq.Set(level)
	}
}

func (r *RTC) fire() {
	if !r.armed {
		return
	}
	if d := r.alarm - r.Now(); d > 0 { // the clock was set back meanwhile
		r.timer.Set(r.clk.Now() + d)
		return
	}
	r.armed = false
	r.irqPending = true
	r.update()
}

func (r *RTC) arm() {
	r.armed = true
	d := r.alarm - r.Now()
	if d < 0 {
		d = 0
	}
	r.timer.Set(r.clk.Now() + d)
}

// Read implements bus.Device.
func (r *RTC) Read(off uint64, size int) uint64 {
	var v uint32
	switch off {
	case TimeLow:
		now := uint64(r.Now())
		r.timeHigh = uint32(now >> 32)
		v = uint32(now)
	case TimeHigh:
		v = r.timeHigh
	case AlarmLow:
		v = uint32(r.alarm)
	case AlarmHigh:
		v = uint32(uint64(r.alarm) >> 32)
	case IRQEnabled:
		if r.irqEnabled {
			v = 1
		}
	case AlarmStatus:
		if r.armed {
			v = 1
		}
	}
	r.tracef("rtc: read off=%#x -> %#x", off, v)
	return uint64(v)
}

// Write implements bus.Device.
func (r *RTC) Write(off uint64, size int, val uint64) {
	r.tracef("rtc: write off=%#x val=%#x", off, val)
	v := uint32(val)
	switch off {
	case TimeLow:
		t := int64(uint64(r.timeHigh)<<32 | uint64(v))
		r.offset = t - r.clk.Now()
		if r.armed {
			r.arm() // re-aim the timer at the new time scale
		}
	case TimeHigh:
		r.timeHigh = v
	case AlarmLow:
		r.alarm = int64(uint64(r.alarmHigh)<<32 | uint64(v))
		r.arm()
	case AlarmHigh:
		r.alarmHigh = v
	case IRQEnabled:
		r.irqEnabled = v&1 != 0
		r.update()
	case ClearAlarm:
		r.armed = false
		r.timer.Stop()
	case ClearInterrupt:
		r.irqPending = false
		r.update()
	}
}
