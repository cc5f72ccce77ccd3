package machine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"time"

	"gemu/cpu"
	"gemu/devices/audio/rtsched"
	"gemu/devices/syscon"
)

// MaxBatch bounds the instructions run between two looks at timers, the
// finisher, tohost and host input. 2^16 instructions are a few hundred
// microseconds of guest time: short enough for real-time timers and console
// echo, long enough that the checks cost nothing.
const MaxBatch = 1 << 16

// Quantum is how many instructions one hart runs before the next gets its
// turn when there are several (-smp N > 1). The harts take turns on the one
// emulation goroutine, like QEMU's single-threaded TCG round-robin: a hart
// runs its quantum, or less if it waits in WFI, a timer falls due
// (deterministic mode) or the guest stops; then the next hart that is not
// idle runs. The order depends only on instruction counts, so -icount runs
// repeat exactly. 2^12 instructions (16 us at the default -icount shift)
// let a hart that spins on a lock held by another get the lock back
// quickly; the switch costs a Run call, RunDue and a poll.
const Quantum = 1 << 12

// ErrDeadlock is returned when every hart waits for an interrupt that
// nothing can raise any more: no timer armed and no input possible.
var ErrDeadlock = errors.New("machine: the hart waits (WFI) with no timer armed and no input possible")

// Run executes the guest until it powers off, fails, passes or fails a
// tohost test, or Stop is called. It then runs the AtExit hooks. The
// returned error is for host problems (including ErrDeadlock); guest
// outcomes are in Exit.
//
// Run keeps its goroutine on one thread and excludes that thread from
// the real-time priority the oto sink gives gemu's other threads
// (package rtsched): the guest may spin, and a spinning thread at
// real-time priority would starve the host.
func (m *Machine) Run() (ex Exit, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer rtsched.ExcludeThread()()
	g := m.gdb() // nil unless ListenGDB was called
	defer func() {
		if g != nil {
			g.exited(ex)
		}
		if ferr := m.finish(); ferr != nil && err == nil {
			err = ferr
		}
	}()
	clk := m.Clock
	det := clk.Deterministic()
	shift := clk.Shift()
	batch := uint64(MaxBatch)
	if len(m.Harts) > 1 {
		batch = Quantum
	}
	next := 0 // the hart whose turn it is
	var sleeper *time.Timer
	for {
		if m.stopReq.Load() {
			return Exit{Code: 0, Reason: "quit"}, nil
		}
		if g != nil && g.pending() {
			if ex, done := g.pause(); done {
				return ex, nil
			}
			continue
		}
		max := batch
		if det {
			// Run exactly up to the next timer so it fires at a
			// repeatable instruction count.
			if t, ok := clk.Next(); ok {
				if d := t - clk.Now(); d <= 0 {
					max = 0
				} else if n := uint64((d + 1<<shift - 1) >> shift); n < max {
					max = n
				}
			}
		}
		// The next hart in turn that can run (all idle: h is nil).
		var h *cpu.Hart
		for i := range m.Harts {
			c := m.Harts[(next+i)%len(m.Harts)]
			if !c.Idle() {
				h = c
				next = (next + i + 1) % len(m.Harts)
				break
			}
		}
		if g != nil && g.step != nil {
			h = g.step // gdb steps one hart; the others wait
		}
		switch {
		case max == 0 || h == nil:
		case g != nil:
			g.run(h, max) // breakpoints and single steps
		default:
			h.Run(max)
		}
		clk.RunDue()
		m.poll()

		if m.action.set {
			a := m.action
			m.action = pendingAction{}
			switch a.kind {
			case syscon.ActionPowerOff:
				if a.code == 0 {
					return Exit{Code: 0, Reason: "power off"}, nil
				}
				return Exit{Code: a.code, Reason: fmt.Sprintf("power off with failure code %d", a.code)}, nil
			case syscon.ActionReset:
				if m.Config.NoReboot {
					return Exit{Code: 0, Reason: "reset (with -no-reboot)"}, nil
				}
				m.tracef("boot", "guest reset")
				m.reset()
				next = 0
				continue
			}
		}
		if m.tohost != 0 {
			if ex, done := m.checkToHost(); done {
				return ex, nil
			}
		}
		if m.allIdle() {
			if err := m.idle(&sleeper); err != nil {
				return Exit{Code: 1, Reason: err.Error()}, err
			}
		}
	}
}

// allIdle reports whether every hart waits in WFI with nothing to wake it.
func (m *Machine) allIdle() bool {
	for _, h := range m.Harts {
		if !h.Idle() {
			return false
		}
	}
	return true
}

// checkToHost applies the riscv-tests convention: the test writes
// (n << 1) | 1 to tohost, n = 0 meaning pass and n > 0 "test n failed".
func (m *Machine) checkToHost() (Exit, bool) {
	off := m.tohost - RAMBase
	v := binary.LittleEndian.Uint64(m.Bus.RAM[off:])
	if v == 0 || v&1 == 0 {
		// Even values are HTIF syscall pointers (proxy kernel); not
		// supported, ignored.
		return Exit{}, false
	}
	n := v >> 1
	if n == 0 {
		return Exit{Code: 0, Reason: "tohost: pass"}, true
	}
	code := int(min(n, 255))
	return Exit{Code: code, Reason: fmt.Sprintf("tohost: test %d failed", n)}, true
}

// idle is called when every hart sleeps in WFI. Deterministic mode jumps
// virtual time to the next timer (with IcountSleep, after waiting as long
// on the host, or less if host input comes first); real-time mode sleeps
// until it, or until host input or Stop wakes it.
func (m *Machine) idle(sleeper **time.Timer) error {
	clk := m.Clock
	next, ok := clk.Next()
	if ok && clk.Deterministic() {
		if m.Config.IcountSleep {
			start, now := time.Now(), clk.Now()
			m.waitHost(sleeper, time.Duration(next-now))
			next = min(next, now+int64(time.Since(start)))
		}
		clk.Skip(next)
		clk.RunDue()
		m.poll()
		return nil
	}
	if !ok && m.inputClosed.Load() && m.UART.In.Len() == 0 && m.hostInputs.Load() == 0 {
		return ErrDeadlock
	}
	d := time.Duration(-1) // no timer: wait for input only
	if ok {
		if d = time.Duration(next - clk.Now()); d <= 0 {
			clk.RunDue()
			return nil
		}
	}
	m.waitHost(sleeper, d)
	clk.RunDue()
	m.poll()
	return nil
}

// waitHost blocks for d (forever if d < 0) or until host input or Stop
// wakes the machine.
func (m *Machine) waitHost(sleeper **time.Timer, d time.Duration) {
	var tc <-chan time.Time
	if d >= 0 {
		if *sleeper == nil {
			*sleeper = time.NewTimer(d)
		} else {
			(*sleeper).Reset(d)
		}
		tc = (*sleeper).C
		defer (*sleeper).Stop()
	}
	select {
	case <-tc:
	case <-m.UART.In.C:
	case <-m.wake:
	}
}

// poll takes host input into the devices and flushes console output.
func (m *Machine) poll() {
	m.UART.Poll()
	for _, fn := range m.pollers {
		fn()
	}
	m.UART.Flush()
}
