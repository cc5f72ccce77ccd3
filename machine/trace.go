package machine

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"gemu/bus"
	"gemu/cpu"
	"gemu/debug/tracer"
)

// qemuLogItems are the -d items gemu implements, with QEMU 7.2's help
// texts and in its order (util/log.c qemu_log_items). Their lines carry no
// time stamp, as QEMU's do not.
var qemuLogItems = []struct{ name, help string }{
	{"in_asm", "show target assembly code for each compiled TB"},
	{"int", "show interrupts/exceptions in short format"},
	{"exec", "show trace before each executed TB (lots of logs)"},
	{"cpu", "show CPU registers before entering a TB (lots of logs)"},
	{"fpu", "include FPU registers in the 'cpu' logging"},
	{"mmu", "log MMU-related activities"},
	{"unimp", "log unimplemented functionality"},
	{"guest_errors", "log when the guest OS does something invalid (eg accessing a\nnon-existent register)"},
	{"nochain", "do not chain compiled TBs so that \"exec\" and \"cpu\" show\ncomplete traces"},
}

// qemuOnly are QEMU -d items about its TCG code generator or user-mode
// emulation: accepted, and nothing to log in gemu.
var qemuOnly = []string{"out_asm", "op", "op_opt", "op_ind", "pcall", "cpu_reset", "page", "plugin", "strace", "tid"}

// traceCategories are gemu's per-device trace events (-d trace:PATTERN,
// -trace PATTERN, or plainly -d NAME), in the order -d trace:help lists
// them. Their lines carry the virtual time.
var traceCategories = []struct{ name, help string }{
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
	for _, c := range qemuLogItems {
		fmt.Fprintf(&b, "%-15s %s\n", c.name, c.help)
	}
	b.WriteString("trace:PATTERN   enable trace events\n")
	b.WriteString("\nUse \"-d trace:help\" to get a list of trace events.\n\n")
	return b.String()
}

// TraceEventsHelp is what -d trace:help and -trace help print: gemu's
// trace events, one a line, each with what it logs.
func TraceEventsHelp() string {
	var b strings.Builder
	for _, c := range traceCategories {
		fmt.Fprintf(&b, "%-15s %s\n", c.name, c.help)
	}
	return b.String()
}

// expandTrace turns one -d item into the categories it enables:
// trace:PATTERN (a glob over the trace events, QEMU's -trace syntax), "all",
// a QEMU item or a trace event name.
func expandTrace(c string) ([]string, error) {
	if p, ok := strings.CutPrefix(c, "trace:"); ok {
		p = strings.TrimPrefix(p, "enable=")
		var out []string
		for _, k := range traceCategories {
			if ok, err := path.Match(p, k.name); err != nil {
				return nil, fmt.Errorf("-d %s: %v", c, err)
			} else if ok {
				out = append(out, k.name)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("-d %s: no trace event matches (try -d trace:help)", c)
		}
		return out, nil
	}
	if c == "all" {
		return []string{"all"}, nil
	}
	for _, k := range qemuLogItems {
		if k.name == c {
			return []string{c}, nil
		}
	}
	for _, k := range qemuOnly {
		if k == c {
			return nil, nil
		}
	}
	for _, k := range traceCategories {
		if k.name == c {
			return []string{c}, nil
		}
	}
	return nil, fmt.Errorf("-d %s: unknown log item (try -d help and -d trace:help)", c)
}

func (m *Machine) setTrace(cats []string, out io.Writer) error {
	m.traces = map[string]bool{}
	for _, c := range cats {
		list, err := expandTrace(c)
		if err != nil {
			return err
		}
		for _, k := range list {
			m.traces[k] = true
		}
	}
	if out == nil {
		out = os.Stderr
	}
	m.traceOut = out
	return nil
}

// isQEMUItem reports whether cat is one of QEMU's -d items (no time stamp).
func isQEMUItem(cat string) bool {
	for _, k := range qemuLogItems {
		if k.name == cat {
			return true
		}
	}
	return false
}

// Tracer returns a printf-style function that logs to the -D file when
// category cat is enabled, and nil otherwise, so devices test
// `if trace != nil` and pay nothing when tracing is off. Lines of QEMU's
// items (int, guest_errors, unimp, ...) are plain, as QEMU prints them;
// lines of gemu's trace events start with the virtual time.
//
// "all" enables the trace events and int, guest_errors and unimp, but not
// the per-instruction items (in_asm, exec, cpu, mmu), which slow the
// emulation down and must be named.
func (m *Machine) Tracer(cat string) func(format string, args ...any) {
	perInsn := cat == "in_asm" || cat == "exec" || cat == "cpu" || cat == "fpu" || cat == "mmu"
	if !m.traces[cat] && (!m.traces["all"] || perInsn) {
		return nil
	}
	if isQEMUItem(cat) {
		return func(format string, args ...any) {
			fmt.Fprintf(m.traceOut, format+"\n", args...)
		}
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

// GuestError returns the guest_errors hook devices take (nil when -d
// guest_errors is off). Each report is one sentence naming the register
// and the rule broken; with an instruction ring buffer (Config.ITrace) it
// also prints the last instructions, which usually show the driver code
// that made the access.
func (m *Machine) GuestError(dev string) bus.TraceFunc {
	tr := m.Tracer("guest_errors")
	if tr == nil && m.Config.ITrace == 0 {
		return nil
	}
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if tr != nil {
			tr("%s: %s", dev, msg)
		}
		m.DumpITrace(fmt.Sprintf("device error: %s: %s", dev, msg))
	}
}

// Unimp returns the unimp hook devices take: functionality of the real
// hardware (or of QEMU's model) that gemu does not emulate.
func (m *Machine) Unimp(dev string) bus.TraceFunc {
	return bus.TraceFunc(m.Tracer("unimp")).Prefix("%s: ", dev)
}

// DumpITrace prints the instruction ring buffer (Config.ITrace) with the
// reason, to the -D log; it does nothing without one. Call it on the
// emulation goroutine (devices, the panic-string watch); other goroutines
// use RequestITraceDump.
func (m *Machine) DumpITrace(reason string) {
	m.itrace.Dump(m.traceOut, reason)
}

// setupTracer builds the instruction tracer of -d in_asm/exec/cpu/mmu,
// -itrace and -ftrace and attaches it to the harts; nothing is attached
// when none of them is on.
func (m *Machine) setupTracer() error {
	cfg := m.Config
	opt := tracer.Options{
		InAsm:  m.Tracer("in_asm") != nil,
		Exec:   m.Tracer("exec") != nil,
		CPU:    m.Tracer("cpu") != nil,
		FPU:    m.Tracer("fpu") != nil,
		MMU:    m.Tracer("mmu") != nil,
		Ring:   cfg.ITrace,
		Ftrace: cfg.Ftrace,
		Out:    m.traceOut,
	}
	if opt.InAsm || opt.Exec || opt.Ftrace || opt.Ring > 0 {
		opt.Syms = &m.syms
		if cfg.Kernel != "" && isELF(cfg.Kernel) {
			if err := m.syms.Load(cfg.Kernel); err != nil {
				return err
			}
		}
		for _, f := range cfg.Symbols {
			if err := m.syms.Load(f); err != nil {
				return err
			}
		}
	}
	t := tracer.New(opt)
	if !t.Enabled() {
		return nil
	}
	if opt.Ring > 0 {
		m.itrace = t
		m.OnPoll(m.pollITraceDump)
	}
	for i, h := range m.Harts {
		t.Attach(h, i)
		if opt.Ring > 0 {
			prev := h.TrapHook
			h.TrapHook = func(tr cpu.Trap) {
				if prev != nil {
					prev(tr)
				}
				t.Trap(tr)
			}
		}
	}
	return nil
}

// isELF reports whether the file starts with the ELF magic.
func isELF(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && string(b[:]) == "\x7fELF"
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

// panicWatch passes console output on and calls fn each time the output
// contains s (-itrace-panic STRING), even split across writes.
type panicWatch struct {
	w    io.Writer
	s    []byte
	tail []byte // the last len(s)-1 bytes seen
	fn   func()
}

func (p *panicWatch) Write(b []byte) (int, error) {
	buf := append(p.tail, b...)
	for i := 0; ; {
		j := bytes.Index(buf[i:], p.s)
		if j < 0 {
			break
		}
		p.fn()
		i += j + len(p.s)
	}
	if k := len(p.s) - 1; len(buf) > k {
		buf = buf[len(buf)-k:]
	}
	p.tail = append(p.tail[:0], buf...)
	return p.w.Write(b)
}
