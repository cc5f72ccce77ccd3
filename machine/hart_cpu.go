package machine

import (
	"gemu/bus"
	"gemu/clock"
	"gemu/cpu"
)

func init() {
	newHart = func(b *bus.Bus, clk *clock.Clock, id uint64) Hart { return cpu.New(b, clk, id) }
}

// The mip bits the devices drive must be the hart's.
var _ = [1]struct{}{}[mipMSIP^cpu.MipMSIP|mipMTIP^cpu.MipMTIP|mipSEIP^cpu.MipSEIP|mipMEIP^cpu.MipMEIP]
