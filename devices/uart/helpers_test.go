package uart

import "gemu/bus"

func busIRQ(l *line) bus.IRQ { return bus.IRQ{C: l, N: 10} }
