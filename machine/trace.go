package machine

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

var traceHelp = map[string]string{
	"uart":   "ns16550a register accesses",
	"clint":  "CLINT register accesses",
	"plic":   "PLIC register accesses, line changes, claims",
	"rtc":    "goldfish RTC register accesses",
	"syscon": "sifive,test finisher writes",
	"boot":   "image loading, device tree, boot ROM, resets",
}

// RegisterTrace declares a -d category (from init()).
func RegisterTrace(name, help string) { traceHelp[name] = help }

// TraceHelp returns one line per category, sorted, for `-d help`.
func TraceHelp() string {
	var names []string
	for n := range traceHelp {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%-10s %s\n", n, traceHelp[n])
	}
	fmt.Fprintf(&b, "%-10s %s\n", "all", "every category above")
	return b.String()
}

func (m *Machine) setTrace(cats []string, out io.Writer) error {
	m.traces = map[string]bool{}
	for _, c := range cats {
		if _, ok := traceHelp[c]; !ok && c != "all" {
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
