package machine

// Remote debugging with gdb (QEMU's -s, -S and -gdb): the machine side of
// gdbstub. The stub's network goroutine only sets an atomic flag and
// wakes the machine; Run looks at it at batch boundaries and, when gdb wants
// the machine stopped, calls pause, which serves gdb on the emulation
// goroutine with the clock paused. Each hart is a gdb thread (1..n, as in
// QEMU); every hart's turn goes through gdbState.run, so breakpoints are
// checked here, before each instruction of any hart, by running the harts
// one instruction at a time while any is set, and a hit stops the whole
// machine (all-stop) naming that hart. Watchpoints are cpu.DebugWatch on
// every hart: the data accesses take the slow path of the Sdtrig load and
// store triggers, and one that touches a watched byte ends Run before the
// instruction. A single step runs only the hart gdb steps. Guest memory is
// never patched and the cpu's hot loop is untouched. BenchmarkGDBRun
// measures the cost of a breakpoint: about 40 MIPS against 230 without
// (when none is set the guest runs in plain batches at full speed).

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"gemu/cpu"
	"gemu/gdbstub"
)

// gdbCSRs are the CSRs of the target description gdb gets: those package cpu
// implements (privileged spec 2.2, tables 2.2-2.5), apart from fflags, frm
// and fcsr, which gdbstub describes with the FP registers.
var gdbCSRs = []gdbstub.CSR{
	{Name: "cycle", Num: 0xc00}, {Name: "time", Num: 0xc01},
	{Name: "instret", Num: 0xc02}, {Name: "sstatus", Num: 0x100},
	{Name: "sie", Num: 0x104}, {Name: "stvec", Num: 0x105},
	{Name: "scounteren", Num: 0x106}, {Name: "senvcfg", Num: 0x10a},
	{Name: "sscratch", Num: 0x140}, {Name: "sepc", Num: 0x141},
	{Name: "scause", Num: 0x142}, {Name: "stval", Num: 0x143}, {Name: "sip", Num: 0x144},
	{Name: "stimecmp", Num: 0x14d}, {Name: "satp", Num: 0x180},
	{Name: "mvendorid", Num: 0xf11}, {Name: "marchid", Num: 0xf12},
	{Name: "mimpid", Num: 0xf13}, {Name: "mhartid", Num: 0xf14},
	{Name: "mstatus", Num: 0x300}, {Name: "misa", Num: 0x301},
	{Name: "medeleg", Num: 0x302}, {Name: "mideleg", Num: 0x303},
	{Name: "mie", Num: 0x304}, {Name: "mtvec", Num: 0x305},
	{Name: "mcounteren", Num: 0x306}, {Name: "menvcfg", Num: 0x30a},
	{Name: "mscratch", Num: 0x340}, {Name: "mepc", Num: 0x341},
	{Name: "mcause", Num: 0x342}, {Name: "mtval", Num: 0x343}, {Name: "mip", Num: 0x344},
	{Name: "pmpcfg0", Num: 0x3a0}, {Name: "pmpaddr0", Num: 0x3b0},
	{Name: "mcycle", Num: 0xb00}, {Name: "minstret", Num: 0xb02},
}

// DefaultGDBPort is the port of -s (QEMU: "-gdb tcp::1234").
const DefaultGDBPort = "1234"

// gdbState is the debugger's view of one machine; it is gdbstub.Target and
// gdbstub.Threads: hart i is gdb's thread i+1, as in QEMU.
type gdbState struct {
	m    *Machine
	h    *cpu.Hart // the hart gdb selected (Hg): registers and memory
	stub *gdbstub.Stub

	start      bool            // -S: stop before the first instruction
	step       *cpu.Hart       // gdb asked for one instruction of this hart
	stop       *gdbstub.Stop   // why the last batch ended early
	stopHart   *cpu.Hart       // the hart of the last stop
	resumed    bool            // resumeHart's next instruction is the one gdb resumed at
	resumeHart *cpu.Hart       // the hart that stopped last
	resumePC   uint64          // where gdb resumed it
	bps        []gdbBreakpoint // execution breakpoints (few: a slice beats a map)
	watches    []gdbWatch      // watchpoints (every hart has them as cpu.DebugWatch)

	inputDone func()
}

type gdbBreakpoint struct {
	addr uint64
	kind gdbstub.BreakKind
}

// gdbWatch is a watchpoint: gdb's watch (Z2), rwatch (Z3) or awatch (Z4)
// over n bytes at the virtual address addr. Every hart checks it as a
// cpu.DebugWatch on its data accesses (the slow path of Sdtrig load/store
// triggers, invisible to the guest) and stops before the access, as QEMU's
// RISC-V watchpoints do for gdb.
type gdbWatch struct {
	kind gdbstub.BreakKind
	addr uint64
	n    uint64
}

func (w gdbWatch) debugWatch() cpu.DebugWatch {
	return cpu.DebugWatch{Addr: w.addr, Len: w.n,
		Load:  w.kind == gdbstub.WatchRead || w.kind == gdbstub.WatchAccess,
		Store: w.kind == gdbstub.WatchWrite || w.kind == gdbstub.WatchAccess}
}

// GDBAddr turns a -gdb argument into a host:port to listen on, "" for
// "none". It accepts QEMU's tcp chardev forms: tcp::PORT, tcp:HOST:PORT and
// tcp:[V6ADDR]:PORT, with QEMU's socket options (server, wait=off, nowait,
// nodelay, ipv4, ipv6) accepted and ignored. An empty host means the
// loopback address: unlike QEMU, which listens on every interface, gemu
// exposes a debugger that can rewrite guest memory only to this host unless
// a host such as 0.0.0.0 is named.
func GDBAddr(spec string) (string, error) {
	if spec == "none" {
		return "", nil
	}
	dev, opts, _ := strings.Cut(spec, ",")
	rest, ok := strings.CutPrefix(dev, "tcp:")
	if !ok {
		return "", errors.New("only tcp::PORT and tcp:HOST:PORT are supported")
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil || port == "" {
		return "", errors.New("want tcp::PORT or tcp:HOST:PORT")
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if opts != "" {
		for _, o := range strings.Split(opts, ",") {
			k, _, _ := strings.Cut(o, "=")
			switch k {
			case "server", "wait", "nowait", "nodelay", "ipv4", "ipv6":
			default:
				return "", fmt.Errorf("unsupported option %q", o)
			}
		}
	}
	return net.JoinHostPort(host, port), nil
}

// ListenGDB starts a GDB remote stub on spec (a -gdb argument, see GDBAddr)
// and returns the address it listens on. With wait (-S) the hart does not
// run until gdb connects and continues. Call it after New, before Run. While
// the stub exists a guest waiting in WFI with nothing armed is not a
// deadlock: gdb may still stop it.
func (m *Machine) ListenGDB(spec string, wait bool) (net.Addr, error) {
	h := m.Hart
	if m.gdbStub != nil {
		return nil, errors.New("machine: only one GDB stub")
	}
	addr, err := GDBAddr(spec)
	if err != nil {
		return nil, fmt.Errorf("-gdb %s: %w", spec, err)
	}
	if addr == "" {
		if wait {
			return nil, errors.New("-S needs a GDB stub (-s or -gdb tcp::PORT): gemu has no monitor to continue from")
		}
		return nil, nil
	}
	g := &gdbState{m: m, h: h, stopHart: h, start: wait}
	if g.stub, err = gdbstub.Listen(addr, m.Wake, gdbCSRs); err != nil {
		return nil, err
	}
	g.inputDone = m.AddHostInput()
	m.gdbStub = g
	m.AtExit(func() error {
		g.inputDone()
		return g.stub.Close()
	})
	return g.stub.Addr(), nil
}

func (m *Machine) gdb() *gdbState {
	return m.gdbStub
}

// pending reports whether Run must stop for gdb before the next batch.
func (g *gdbState) pending() bool {
	return g.stop != nil || g.start || g.stub.Interrupted()
}

// pause stops the machine for gdb: virtual time stands still and the
// emulation goroutine serves gdb until it resumes. done is true when gdb
// killed the machine.
func (g *gdbState) pause() (ex Exit, done bool) {
	why := gdbstub.Stop{Kind: gdbstub.StopInterrupt, Thread: g.thread(g.stopHart)}
	switch {
	case g.stop != nil:
		why = *g.stop
	case g.start:
		why = gdbstub.Stop{Kind: gdbstub.StopAttach, Thread: 1}
	}
	g.stop, g.start = nil, false
	m := g.m
	m.UART.Flush()
	m.Clock.Pause()
	r := g.stub.Serve(g, why, m.wake, m.stopReq.Load)
	m.Clock.Resume()
	switch r.Action {
	case gdbstub.Kill:
		return Exit{Code: 0, Reason: "killed by gdb"}, true
	case gdbstub.Step:
		g.step = g.hart(r.Thread)
		g.stopHart = g.step
	}
	g.resumed, g.resumeHart, g.resumePC = true, g.stopHart, g.stopHart.PC()
	return Exit{}, false
}

// run executes up to max instructions of hart h for Run: one for a gdb
// single step, one at a time with a breakpoint check before each while any
// breakpoint is set, else a plain batch (which a watchpoint hit ends). Every
// hart runs through here, so a breakpoint or watchpoint hit on any hart
// stops the machine and names that hart.
func (g *gdbState) run(h *cpu.Hart, max uint64) {
	skip := g.resumed && h == g.resumeHart
	if h == g.resumeHart {
		g.resumed = false
	}
	if g.step != nil {
		g.step = nil
		h.Step()
		g.stopAt(h, gdbstub.Stop{Kind: gdbstub.StopStep})
		g.watchHit(h)
		return
	}
	if len(g.bps) == 0 {
		h.Run(max) // stops by itself at a watchpoint
		g.watchHit(h)
		return
	}
	for n := uint64(0); n < max; n++ {
		// An interrupt is entered first, so a breakpoint on the first
		// instruction of its handler is seen.
		for i := 0; i < 4 && h.TakeInterrupt(); i++ {
		}
		pc := h.PC()
		for _, b := range g.bps {
			if b.addr != pc || (n == 0 && skip && pc == g.resumePC) {
				continue
			}
			// gdb resumes from a breakpoint by stepping over it itself;
			// the skip above only covers a resume gdb did not step.
			kind := gdbstub.StopBreak
			if b.kind == gdbstub.BreakHardware {
				kind = gdbstub.StopHWBreak
			}
			g.stopAt(h, gdbstub.Stop{Kind: kind})
			return
		}
		if h.Run(1) == 0 || g.m.action.set || g.watchHit(h) {
			return // waiting in WFI, the guest powered off or reset, or a watchpoint
		}
	}
}

// stopAt records why as the stop of hart h.
func (g *gdbState) stopAt(h *cpu.Hart, why gdbstub.Stop) {
	why.Thread = g.thread(h)
	g.stop, g.stopHart = &why, h
}

// thread returns gdb's thread id of h (QEMU: cpu_index + 1).
func (g *gdbState) thread(h *cpu.Hart) int {
	for i, o := range g.m.Harts {
		if o == h {
			return i + 1
		}
	}
	return 1
}

// hart returns the hart of thread id (1..n), or the selected one.
func (g *gdbState) hart(id int) *cpu.Hart {
	if id >= 1 && id <= len(g.m.Harts) {
		return g.m.Harts[id-1]
	}
	return g.h
}

// Threads implements gdbstub.Threads.
func (g *gdbState) Threads() int { return len(g.m.Harts) }

// SelectThread implements gdbstub.Threads.
func (g *gdbState) SelectThread(id int) { g.h = g.hart(id) }

// ThreadInfo implements gdbstub.Threads with QEMU's text (gdbstub.c,
// handle_query_thread_extra: "CPU#%d [%s]", "halted " for a CPU waiting for
// an interrupt).
func (g *gdbState) ThreadInfo(id int) string {
	state := "running"
	if g.hart(id).Idle() {
		state = "halted "
	}
	return fmt.Sprintf("CPU#%d [%s]", id-1, state)
}

// watchHit reports a watchpoint that stopped hart h (before its access)
// as the stop of h.
func (g *gdbState) watchHit(h *cpu.Hart) bool {
	dw, addr, ok := h.DebugWatchHit()
	if !ok {
		return false
	}
	kind := gdbstub.WatchAccess
	for _, w := range g.watches {
		if w.debugWatch() == dw {
			kind = w.kind
			break
		}
	}
	// gdb wants the watched address, not the start of a wider access.
	addr = max(addr, dw.Addr)
	g.stopAt(h, gdbstub.Stop{Kind: gdbstub.StopWatch, Type: kind, Addr: addr})
	return true
}

// exited tells a waiting gdb how the guest ended.
func (g *gdbState) exited(ex Exit) {
	g.stub.Exit(ex.Code)
}

// ReadRegister implements gdbstub.Target.
func (g *gdbState) ReadRegister(n int) (uint64, bool) {
	h := g.h
	switch {
	case n >= gdbstub.RegX0 && n < gdbstub.RegX0+32:
		return h.X(n - gdbstub.RegX0), true
	case n == gdbstub.RegPC:
		return h.PC(), true
	case n >= gdbstub.RegF0 && n < gdbstub.RegF0+32:
		return h.F(n - gdbstub.RegF0), true
	case n >= gdbstub.RegCSR && n < gdbstub.RegCSR+4096:
		return h.ReadCSR(uint32(n - gdbstub.RegCSR))
	case n == gdbstub.RegPriv:
		return uint64(h.Priv()), true
	}
	return 0, false
}

// WriteRegister implements gdbstub.Target.
func (g *gdbState) WriteRegister(n int, v uint64) bool {
	h := g.h
	switch {
	case n >= gdbstub.RegX0 && n < gdbstub.RegX0+32:
		h.SetX(n-gdbstub.RegX0, v)
		return true
	case n == gdbstub.RegPC:
		h.SetPC(v)
		return true
	case n >= gdbstub.RegF0 && n < gdbstub.RegF0+32:
		h.SetF(n-gdbstub.RegF0, v)
		return true
	case n >= gdbstub.RegCSR && n < gdbstub.RegCSR+4096:
		return h.WriteCSR(uint32(n-gdbstub.RegCSR), v)
	case n == gdbstub.RegPriv:
		if v != cpu.PrivU && v != cpu.PrivS && v != cpu.PrivM {
			return false
		}
		h.SetPriv(uint8(v))
		return true
	}
	return false
}

// physical returns the longest readable run of at most n bytes of physical
// memory at pa: RAM, or the boot ROM (read-only). Device registers are never
// read for gdb: a read may have side effects (a UART receive pops a byte).
func (g *gdbState) physical(pa uint64, n int, write bool) []byte {
	b := g.m.Bus
	if pa >= b.RAMBase && pa-b.RAMBase < uint64(len(b.RAM)) {
		off := pa - b.RAMBase
		return b.RAM[off : off+min(uint64(n), uint64(len(b.RAM))-off)]
	}
	if !write && pa >= MROMBase && pa-MROMBase < MROMSize {
		off := pa - MROMBase
		return g.m.rom.data[off : off+min(uint64(n), MROMSize-off)]
	}
	return nil
}

// ReadMemory implements gdbstub.Target: virtual addresses as the selected
// hart sees them now (cpu.Hart.DebugTranslate), page by page.
func (g *gdbState) ReadMemory(addr uint64, p []byte) int {
	return g.read(g.h, addr, p)
}

// read is ReadMemory through the address space of hart h.
func (g *gdbState) read(h *cpu.Hart, addr uint64, p []byte) int {
	n := 0
	for n < len(p) {
		va := addr + uint64(n)
		if va < addr {
			break // wrapped around the address space
		}
		chunk := min(len(p)-n, int(4096-va&0xfff))
		pa, ok := h.DebugTranslate(va)
		if !ok {
			break
		}
		src := g.physical(pa, chunk, false)
		if len(src) == 0 {
			break
		}
		n += copy(p[n:], src)
		if len(src) < chunk {
			break
		}
	}
	return n
}

// WriteMemory implements gdbstub.Target: all of p lands in RAM or nothing
// is written. Writes go through the bus's DMA path so decoded instructions
// under them are dropped.
func (g *gdbState) WriteMemory(addr uint64, p []byte) bool {
	type piece struct{ pa, off, n uint64 }
	var pieces []piece
	for n := 0; n < len(p); {
		va := addr + uint64(n)
		if va < addr {
			return false
		}
		chunk := min(len(p)-n, int(4096-va&0xfff))
		pa, ok := g.h.DebugTranslate(va)
		if !ok || !g.m.Bus.InRAM(pa, uint64(chunk)) {
			return false
		}
		pieces = append(pieces, piece{pa, uint64(n), uint64(chunk)})
		n += chunk
	}
	for _, pc := range pieces {
		if err := g.m.Bus.WriteDMA(pc.pa, p[pc.off:pc.off+pc.n]); err != nil {
			return false // cannot happen: checked above
		}
	}
	return true
}

// Breakpoint implements gdbstub.Target: execution breakpoints (Z0, Z1) are
// compared with the pc before each instruction; watchpoints (Z2 write, Z3
// read, Z4 access) are checked by every hart on its data accesses
// (cpu.DebugWatch), which stop before the access.
func (g *gdbState) Breakpoint(kind gdbstub.BreakKind, addr, length uint64, insert bool) error {
	switch kind {
	case gdbstub.BreakSoftware, gdbstub.BreakHardware:
	case gdbstub.WatchWrite, gdbstub.WatchRead, gdbstub.WatchAccess:
		return g.watch(kind, addr, length, insert)
	default:
		return gdbstub.ErrUnsupported
	}
	for i, b := range g.bps {
		if b.addr == addr && b.kind == kind {
			if !insert {
				g.bps = append(g.bps[:i], g.bps[i+1:]...)
			}
			return nil
		}
	}
	if insert {
		g.bps = append(g.bps, gdbBreakpoint{addr, kind})
	}
	return nil
}

func (g *gdbState) watch(kind gdbstub.BreakKind, addr, length uint64, insert bool) error {
	if length == 0 || length > 8 {
		return errors.New("machine: watchpoints cover 1 to 8 bytes")
	}
	w := gdbWatch{kind, addr, length}
	found := -1
	for i, o := range g.watches {
		if o == w {
			found = i
		}
	}
	switch {
	case insert && found < 0:
		g.watches = append(g.watches, w)
	case !insert && found >= 0:
		g.watches = append(g.watches[:found], g.watches[found+1:]...)
	default:
		return nil
	}
	ws := make([]cpu.DebugWatch, len(g.watches))
	for i, w := range g.watches {
		ws[i] = w.debugWatch()
	}
	for _, h := range g.m.Harts {
		h.SetDebugWatches(ws)
	}
	return nil
}
