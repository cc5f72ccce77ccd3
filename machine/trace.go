package machine

import (
	"fmt"
	"gemu/cpu"
	"io"
	"os"
	"strings"
)

// traceCategories are the -d categories, in the order -d help lists them.
var traceCategories = []struct{ name, help string }{
	{"int", "show interrupts/exceptions in short format (one line per trap)"},
	{"boot", "image loading, device tree, boot ROM, resets"},
	{"uart", "ns16550a register accesses"},
	{"clint", "CLINT register accesses"},
	{"plic", "PLIC register accesses, line changes, claims"},
	{"rtc", "goldfish RTC register accesses"},
	{"syscon", "sifive,test finisher writes"},
	{"pci", "PCI configuration-space writes"},
	{"virtio", "virtio-mmio register accesses, queue errors, virtio-sound requests and I/O"},
	{"ac97", "AC97 register accesses, descriptors, interrupts and DMA errors"},
	{"ivshmem", "ivshmem register accesses, doorbells, server protocol and audio ring state"},
}

// TraceHelp is what -d help prints, in the layout of QEMU's
// (util/log.c qemu_print_log_usage).
func TraceHelp() string {
	var b strings.Builder
	b.WriteString("Log items (comma separated):\n")
	for _, c := range traceCategories {
		fmt.Fprintf(&b, "%-15s %s\n", c.name, c.help)
	}
	fmt.Fprintf(&b, "%-15s %s\n", "all", "every item above")
	return b.String()
}

func (m *Machine) setTrace(cats []string, out io.Writer) error {
	m.traces = map[string]bool{}
	for _, c := range cats {
		known := c == "all"
		for _, k := range traceCategories {
			known = known || k.name == c
		}
		if !known {
			return fmt.Errorf("-d %s: unknown trace category (try -d help)", c)
		}
		m.traces[c] = true
	}
	if out == nil {
		out = os.Stderr
	}
	m.traceOut = out
	return nil
}

// Tracer returns a printf-style function that logs to the -D file with a
// virtual-time stamp when category cat is enabled, and nil otherwise, so
// devices test `if trace != nil` and pay nothing when tracing is off.
func (m *Machine) Tracer(cat string) func(format string, args ...any) {
	if !m.traces[cat] && !m.traces["all"] {
		return nil
	}
	return func(format string, args ...any) {
		var now int64
		if m.Clock != nil {
			now = m.Clock.Now()
		}
		fmt.Fprintf(m.traceOut, "[%d.%09d] %s\n", now/1e9, now%1e9, fmt.Sprintf(format, args...))
	}
}

func (m *Machine) tracef(cat, format string, args ...any) {
	if t := m.Tracer(cat); t != nil {
		t(format, args...)
	}
}

var privNames = []string{"U", "S", "H", "M"}

// trapLine is one -d int line: QEMU's riscv_cpu_do_interrupt log line
// (target/riscv/cpu_helper.c: hart, async, cause, epc, tval, desc) plus the
// privilege change.
func trapLine(t cpu.Trap) string {
	async := 0
	if t.Interrupt {
		async = 1
	}
	return fmt.Sprintf("riscv_cpu_do_interrupt: hart:%d, async:%d, cause:%016x, epc:0x%016x, tval:0x%016x, desc=%s, priv:%s->%s",
		t.Hart, async, t.Cause, t.EPC, t.Tval, t.Name(), privName(t.From), privName(t.To))
}

func privName(p uint8) string {
	if int(p) < len(privNames) {
		return privNames[p]
	}
	return fmt.Sprint(p)
}
