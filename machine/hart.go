package machine

import (
	"gemu/bus"
	"gemu/clock"
)

// Hart is what the machine needs from a hart; *cpu.Hart implements it.
// Code that needs more (registers for a debugger, say) can type-assert
// m.Hart to *cpu.Hart.
type Hart interface {
	Reset(pc uint64)
	SetX(i int, v uint64)
	X(i int) uint64
	PC() uint64
	Run(max uint64) uint64
	Instret() uint64
	SetPending(mask uint64, level bool)
	Idle() bool
	RequestStop()
}

// newHart creates the hart; hart_cpu.go sets it to cpu.New. Tests may
// replace it.
var newHart func(b *bus.Bus, clk *clock.Clock, id uint64) Hart

// Hardware-driven bits of mip (RISC-V privileged spec 1.12, §3.1.9).
const (
	mipMSIP = 1 << 3
	mipMTIP = 1 << 7
	mipSEIP = 1 << 9
	mipMEIP = 1 << 11
)
