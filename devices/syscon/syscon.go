// Package syscon models the SiFive test finisher ("sifive,test0") that QEMU's
// virt board maps at 0x100000, which guests (and Linux's syscon-poweroff and
// syscon-reboot drivers) use to end or reset the machine.
//
// A 16- or 32-bit write to offset 0 acts on its low 16 bits:
//
//	0x5555            pass: power off, exit status 0
//	0x3333 | code<<16 fail: power off, exit status code
//	0x7777            reset the machine
//
// Other values are ignored (QEMU logs them as guest errors). Reads return 0.
package syscon

import "gemu/bus"

// Status values written to the finisher.
const (
	Fail  = 0x3333
	Pass  = 0x5555
	Reset = 0x7777
)

// Action is what the guest asked for.
type Action int

const (
	ActionPowerOff Action = iota // Code holds the exit status
	ActionReset
)

// Syscon is the finisher. OnAction is called on the emulation goroutine with
// the requested action; the machine stops the hart from there.
type Syscon struct {
	OnAction func(a Action, code int)
	Trace    bus.TraceFunc
}

// New returns a finisher that calls onAction.
func New(onAction func(a Action, code int)) *Syscon {
	return &Syscon{OnAction: onAction}
}

func (s *Syscon) tracef(format string, args ...any) {
	if s.Trace != nil {
		s.Trace(format, args...)
	}
}

// Read implements bus.Device; the finisher has no readable state.
func (s *Syscon) Read(off uint64, size int) uint64 {
	s.tracef("syscon: read off=%#x size=%d -> 0", off, size)
	return 0
}

// Write implements bus.Device.
func (s *Syscon) Write(off uint64, size int, val uint64) {
	s.tracef("syscon: write off=%#x size=%d val=%#x", off, size, val)
	if off != 0 || size < 2 {
		// QEMU's finisher decodes offset 0 with 16- or 32-bit accesses;
		// OpenSBI's sifive_test driver uses 16-bit writes (code 0).
		return
	}
	if size == 2 {
		val &= 0xffff
	}
	code := int(val>>16) & 0xffff
	switch val & 0xffff {
	case Pass:
		s.act(ActionPowerOff, 0)
	case Fail:
		s.act(ActionPowerOff, code)
	case Reset:
		s.act(ActionReset, 0)
	default:
		s.tracef("syscon: ignored unknown status %#x", val&0xffff)
	}
}

func (s *Syscon) act(a Action, code int) {
	if s.OnAction != nil {
		s.OnAction(a, code)
	}
}
