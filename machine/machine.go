// Package machine is QEMU's RISC-V `virt` board: the memory map, the
// devices, the device tree, the boot ROM, image loading and the run loop.
//
// New builds a board from a Config in one order, written out in New: RAM
// and the bus, the clock, the harts, the -global properties, CLINT, PLIC,
// UART, RTC, syscon, the PCIe host, the virtio-mmio slots, the -audiodev
// backends, the -object memory backends, the -chardev sockets, the -drive
// and -blockdev images (machine/drive.go), and then every -device in
// command-line order through the deviceTypes table (machine/devices.go),
// which maps a QEMU device name to its constructor and properties.
// Config holds options already parsed by package qemuopt; machine only
// interprets them.
//
// Device constructors get the *Machine and use its typed fields (m.Bus,
// m.Clock, m.PLIC for bus.IRQ lines, m.PCI, m.Audiodevs, ...) and three
// lists of hooks, run in the order they were added:
//
//   - m.AddFDTNode(func(root *fdt.Node)) adds device-tree nodes each time
//     the tree is built, after the board's own nodes; m.NewPhandle() hands
//     out unused phandles (take them when the device is created);
//   - m.OnReset(fn) resets device state at power-on (the end of New) and
//     whenever the guest resets the board;
//   - m.AtExit(fn) flushes and closes host resources (WAV files...) when Run
//     returns, or when New fails after fn was added, last added first.
//
// m.OnPoll(fn), m.Wake() and m.AddHostInput() serve devices fed by host
// goroutines (see their comments); m.Tracer(category) gives -d tracing
// (nil when off; categories are the traceCategories table).
//
// Everything runs on the emulation goroutine (the one calling New and Run):
// devices keep their registers without locks and schedule work on m.Clock
// only, never on host timers.
package machine

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	"gemu/bus"
	"gemu/clock"
	"gemu/cpu"
	"gemu/debug/symbols"
	"gemu/debug/tracer"
	"gemu/devices/audio"
	"gemu/devices/clint"
	"gemu/devices/pci"
	"gemu/devices/plic"
	"gemu/devices/rtc"
	"gemu/devices/syscon"
	"gemu/devices/uart"
	"gemu/machine/fdt"
	"gemu/qemuopt"
)

// DefaultRAMSize is QEMU's default -m for virt.
const DefaultRAMSize = 128 << 20

// MaxRAMSize is the largest -m accepted.
const MaxRAMSize = 8 << 30

// MaxHarts is the most harts (-smp) a board may have.
const MaxHarts = 8

// DefaultBIOS is Debian's build of OpenSBI (package opensbi), used when no
// -bios is given, as QEMU uses its bundled OpenSBI.
const DefaultBIOS = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"

// DefaultShift is the deterministic mode's log2(ns per instruction) used for
// `-icount auto`: 2^2 = 4 ns per instruction, i.e. 250 million guest
// instructions per virtual second. That is close to the speed the hart
// really reaches, so a guest's view of time (timer interrupts, audio DMA
// rates, Linux's AC97 clock measurement) matches the wall clock roughly,
// and 4 ns is fine enough that a 48 kHz audio period is thousands of
// instructions. QEMU's `auto` adapts the shift to the host at run time,
// which makes runs unrepeatable; ours is fixed, so runs repeat exactly.
const DefaultShift = 2

// Config is everything the command line decides about a machine.
type Config struct {
	RAMSize uint64 // bytes; 0 means DefaultRAMSize
	Harts   int    // -smp: the number of harts, 1..MaxHarts; 0 means 1

	// BIOS is "" or "default" (DefaultBIOS), "none" (no firmware: the
	// kernel is entered directly in M mode) or a file (raw binary or ELF).
	BIOS string
	// Kernel is a file (ELF, or raw Image); KernelData, when not nil, is
	// used instead of reading Kernel (the embedded demo guest), and Kernel
	// then only names it in messages.
	Kernel     string
	KernelData []byte
	Initrd     string
	Append     string

	// The options QEMU parses with QemuOpts or keyval syntax, parsed
	// (qemuopt.ParseFlag), in command-line order.
	Devices   []*qemuopt.Opts // -device
	Audiodevs []*qemuopt.Opts // -audiodev
	Objects   []*qemuopt.Opts // -object (memory-backend-* only)
	Chardevs  []*qemuopt.Opts // -chardev (socket only, for ivshmem-doorbell)
	Drives    []*qemuopt.Opts // -drive
	Blockdevs []*qemuopt.Opts // -blockdev
	Globals   []*qemuopt.Opts // -global
	// Snapshot is -snapshot: every -drive defaults to snapshot=on.
	Snapshot bool

	// OpenAudiodev, when not nil, opens each -audiodev in place of
	// audio.OpenOptions(opt, clk, os.Stderr): the program's say in what
	// happens when, say, the host has no sound card.
	OpenAudiodev func(opt audio.Options, clk *clock.Clock) (*audio.Audiodev, error)

	// Deterministic selects the instruction-counting clock (-icount);
	// Shift is its log2(ns per instruction).
	Deterministic bool
	Shift         uint
	// IcountSleep (-icount ...,sleep=on) makes an idle hart in
	// deterministic mode wait on the host for the virtual time it skips,
	// so an interactive guest's clock keeps pace with the wall. Without it
	// (the default here) idle time passes instantly.
	IcountSleep bool

	// Engine picks how the harts execute: EngineDefault follows
	// cpu.DefaultJIT (the translator on amd64 hosts unless GEMU_JIT=0, the
	// interpreter elsewhere); -accel tcg,jit=on and jit=off choose.
	Engine Engine

	Trace    []string  // -d categories
	TraceOut io.Writer // -D file; nil means os.Stderr

	// ITrace > 0 keeps a ring buffer of the last ITrace instructions of
	// each hart (-itrace N), printed to the -D log on an illegal
	// instruction, a trap loop, a device's guest error, DumpITrace (the
	// console's Ctrl-A t) and when the console prints PanicString.
	ITrace      int
	PanicString string
	// Ftrace logs function calls and returns (-ftrace), named from the
	// -kernel ELF's symbols and those of the Symbols ELFs (-symbols).
	Ftrace  bool
	Symbols []string

	Console  io.Writer // UART output; nil discards
	NoReboot bool      // -no-reboot: a guest reset ends the run

	// RTCBase is the goldfish RTC's time at virtual time 0. The zero value
	// means the host's time at start in real-time mode, and a fixed date
	// (2025-01-01 00:00:00 UTC) in deterministic mode, so that
	// deterministic runs repeat exactly.
	RTCBase time.Time
}

// Engine is Config.Engine: which execution engine the harts use.
type Engine uint8

const (
	EngineDefault Engine = iota // cpu.DefaultJIT decides
	EngineJIT                   // the translator (cpu/jit_amd64.go)
	EngineInterp                // the interpreter
)

// Exit says why Run returned.
type Exit struct {
	Code   int    // the process exit status gemu should use
	Reason string // human-readable, e.g. "power off", "tohost: test 3 failed"
}

// Machine is one virt board.
type Machine struct {
	Config Config
	Bus    *bus.Bus
	Clock  *clock.Clock
	// Harts are the harts, indexed by hart ID (mhartid); Hart is Harts[0],
	// the one that boots.
	Harts []*cpu.Hart
	Hart  *cpu.Hart

	CLINT *clint.CLINT
	// PLIC is the interrupt controller device lines connect to:
	// bus.IRQ{C: m.PLIC, N: source}.
	PLIC   *plic.PLIC
	UART   *uart.UART
	RTC    *rtc.RTC
	Syscon *syscon.Syscon
	rom    *rom

	PCI       *pci.Host                  // the PCIe host bridge
	virtio    [VirtioCount]*virtioSlot   // the virtio-mmio slots
	Audiodevs map[string]*audio.Audiodev // -audiodev backends by id

	memBackends  map[string]*memBackend   // -object memory-backend-* by id
	drives       map[string]*drive        // -drive by id, -blockdev by node-name
	driveDevices []*qemuopt.Opts          // the -device each -drive if=virtio asks for
	globals      []global                 // -global, checked
	virtioLegacy bool                     // virtio-mmio.force-legacy
	chardevs     map[string]*qemuopt.Opts // -chardev by id
	sounds       int                      // virtio-sound devices so far (voice names)
	mon          *monitor                 // the monitor's commands (monitor.go)
	gdbStub      *gdbState                // ListenGDB's stub, nil without one

	fdtHooks   []func(root *fdt.Node)
	resetHooks []func()
	exitHooks  []func() error
	phandle    uint32

	images  []image // what to re-load on reset
	dtb     []byte
	dtbAddr uint64
	entry   uint64 // where the boot ROM jumps
	tohost  uint64 // address of the tohost symbol, 0 if none

	action      pendingAction // set by the finisher, handled by Run
	stopReq     atomic.Bool
	wake        chan struct{}
	inputClosed atomic.Bool
	hostInputs  atomic.Int64 // open host input sources besides the console
	pollers     []func()
	traceOut    io.Writer
	traces      map[string]bool
	syms        symbols.Table
	itrace      *tracer.Tracer         // the ring buffer's owner, nil without -itrace
	itraceReq   atomic.Pointer[string] // a dump asked for by RequestITraceDump
	exited      bool
}

type pendingAction struct {
	set  bool
	kind syscon.Action
	code int
}

type image struct {
	addr uint64
	data []byte
	name string // for overlap messages (boot.go)
}

// AddFDTNode registers fn to add nodes or properties to the device tree.
func (m *Machine) AddFDTNode(fn func(root *fdt.Node)) { m.fdtHooks = append(m.fdtHooks, fn) }

// OnReset registers fn to run when the guest resets the board.
func (m *Machine) OnReset(fn func()) { m.resetHooks = append(m.resetHooks, fn) }

// AtExit registers fn to run when Run returns (last registered, first run).
func (m *Machine) AtExit(fn func() error) { m.exitHooks = append(m.exitHooks, fn) }

// NewPhandle returns a device-tree phandle no other node uses.
func (m *Machine) NewPhandle() uint32 {
	m.phandle++
	return m.phandle
}

// New builds the board described by cfg, loads the firmware and kernel and
// prepares the boot ROM. The hart starts at the ROM when Run is called.
func New(cfg Config) (_ *Machine, err error) {
	if cfg.RAMSize == 0 {
		cfg.RAMSize = DefaultRAMSize
	}
	// The upper bound keeps RAM below the 64-bit PCIe window at 16 GiB
	// (PCIeHighMMIOBase), which this board does not move.
	if cfg.RAMSize < 16<<20 || cfg.RAMSize > MaxRAMSize || cfg.RAMSize%(1<<12) != 0 {
		return nil, fmt.Errorf("machine: RAM size %d bytes: want a multiple of 4 KiB between 16 MiB and 8 GiB", cfg.RAMSize)
	}
	if cfg.Harts == 0 {
		cfg.Harts = 1
	}
	if cfg.Harts < 0 || cfg.Harts > MaxHarts {
		return nil, fmt.Errorf("machine: %d harts: gemu emulates 1 to %d", cfg.Harts, MaxHarts)
	}
	if cfg.Deterministic && cfg.Shift > 20 {
		return nil, fmt.Errorf("machine: icount shift %d is too large (at most 20)", cfg.Shift)
	}
	// The machine reads options (which records what it read): its own
	// copies, so two machines may be built from one Config at once.
	for _, list := range []*[]*qemuopt.Opts{&cfg.Devices, &cfg.Audiodevs, &cfg.Objects, &cfg.Chardevs,
		&cfg.Drives, &cfg.Blockdevs, &cfg.Globals} {
		*list = slices.Clone(*list)
		for i, o := range *list {
			(*list)[i] = o.Clone()
		}
	}
	m := &Machine{
		Config:  cfg,
		phandle: PhandleFree - 1,
		wake:    make(chan struct{}, 1),
	}
	if err := m.setTrace(cfg.Trace, cfg.TraceOut); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = m.finish() // close what was opened (files, sockets)
		}
	}()

	// The board: RAM and the bus, the clock, the harts, the devices every
	// virt has. (QEMU's virt_machine_init creates the same set.)
	m.Bus = bus.New(RAMBase, cfg.RAMSize)
	if cfg.Deterministic {
		m.Clock = clock.NewDeterministic(cfg.Shift, nil)
	} else {
		m.Clock = clock.NewRealtime()
	}
	m.addHarts(cfg.Harts)
	if err := m.addGlobals(); err != nil { // -global, before the devices they set
		return nil, err
	}
	if err := m.addCoreDevices(); err != nil { // MROM, CLINT, PLIC, UART, RTC, syscon
		return nil, err
	}
	if err := m.addPCIHost(); err != nil {
		return nil, err
	}
	if err := m.addVirtioSlots(); err != nil {
		return nil, err
	}

	// Host back-ends the devices refer to by id.
	if err := m.openAudiodevs(); err != nil {
		return nil, err
	}
	if err := m.addMemoryBackends(); err != nil {
		return nil, err
	}
	if err := m.addChardevs(); err != nil {
		return nil, err
	}
	if err := m.addDrives(); err != nil {
		return nil, err
	}

	// The user's devices, in command-line order, then those of -drive
	// if=virtio (QEMU's drive_new appends them to the -device list).
	for _, d := range append(slices.Clip(m.Config.Devices), m.driveDevices...) {
		if err := m.addDevice(d); err != nil {
			return nil, err
		}
	}

	if err := m.load(); err != nil {
		return nil, err
	}
	if err := m.setupTracer(); err != nil {
		return nil, err
	}
	m.reset()
	return m, nil
}

// addHarts creates n harts, hart i with mhartid i, and wires -d int to
// their trap hooks.
func (m *Machine) addHarts(n int) {
	cluster := cpu.NewCluster(m.Bus, m.Clock)
	switch m.Config.Engine {
	case EngineJIT:
		if !cluster.SetJIT(true) {
			m.tracef("boot", "no translator: the harts interpret")
		}
	case EngineInterp:
		cluster.SetJIT(false)
	}
	for id := range n {
		h := cluster.NewHart(uint64(id))
		if tr := m.Tracer("int"); tr != nil {
			h.TrapHook = func(t cpu.Trap) { tr("%s", trapLine(t)) }
		}
		m.Harts = append(m.Harts, h)
	}
	m.Hart = m.Harts[0]
	if m.Config.Deterministic {
		// Virtual time counts the instructions of every hart, as QEMU's
		// icount counts all that its one TCG thread executes: while one
		// hart runs, the others stand still, so time is their sum.
		if n == 1 {
			m.Clock.SetCounter(m.Hart.Instret)
		} else {
			harts := m.Harts
			m.Clock.SetCounter(func() uint64 {
				var t uint64
				for _, h := range harts {
					t += h.Instret()
				}
				return t
			})
		}
	}
}

// addCoreDevices creates and maps the boot ROM and the devices every virt
// board has: CLINT, PLIC, UART, goldfish RTC and the sifive_test finisher.
func (m *Machine) addCoreDevices() error {
	var lines []clint.Lines
	var contexts []func(bool)
	for _, h := range m.Harts {
		lines = append(lines, clint.Lines{
			MSIP: func(l bool) { h.SetPending(cpu.MipMSIP, l) },
			MTIP: func(l bool) { h.SetPending(cpu.MipMTIP, l) },
		})
		// Two PLIC contexts per hart: M mode, then S mode.
		contexts = append(contexts,
			func(l bool) { h.SetPending(cpu.MipMEIP, l) },
			func(l bool) { h.SetPending(cpu.MipSEIP, l) })
	}
	m.CLINT = clint.New(m.Clock, lines)
	m.CLINT.Trace = m.Tracer("clint")
	m.CLINT.GuestError = m.GuestError("clint")
	m.CLINT.Unimp = m.Unimp("clint")
	m.PLIC = plic.New(contexts)
	m.PLIC.Trace = m.Tracer("plic")
	m.PLIC.GuestError = m.GuestError("plic")
	var out io.Writer = io.Discard
	if m.Config.Console != nil {
		out = m.Config.Console
	}
	if m.Config.PanicString != "" {
		out = &panicWatch{w: out, s: []byte(m.Config.PanicString), fn: func() {
			m.DumpITrace(fmt.Sprintf("the console printed %q", m.Config.PanicString))
		}}
	}
	m.UART = uart.New(m.Clock, out, bus.IRQ{C: m.PLIC, N: UARTIRQ})
	m.UART.Trace = m.Tracer("uart")
	m.UART.GuestError = m.GuestError("uart")
	m.RTC = rtc.New(m.Clock, bus.IRQ{C: m.PLIC, N: RTCIRQ}, m.rtcBase())
	m.RTC.Trace = m.Tracer("rtc")
	m.Syscon = syscon.New(m.finisher)
	m.Syscon.Trace = m.Tracer("syscon")
	m.rom = &rom{}

	for _, r := range []struct {
		base, size uint64
		dev        bus.Device
		name       string
	}{
		{MROMBase, MROMSize, m.rom, "mrom"},
		{TestBase, TestSize, m.Syscon, "test"},
		{RTCBase, RTCSize, m.RTC, "rtc"},
		{CLINTBase, CLINTSize, m.CLINT, "clint"},
		{PLICBase, PLICSize, m.PLIC, "plic"},
		{UARTBase, UARTSize, m.UART, "uart"},
	} {
		if err := m.Bus.Map(r.base, r.size, r.dev, r.name); err != nil {
			return err
		}
	}
	return nil
}

func (m *Machine) rtcBase() int64 {
	switch {
	case !m.Config.RTCBase.IsZero():
		return m.Config.RTCBase.UnixNano()
	case m.Config.Deterministic:
		return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	}
	return time.Now().UnixNano()
}

// finisher is the syscon callback: remember the request and stop the
// running hart after the current instruction; Run acts on it.
func (m *Machine) finisher(a syscon.Action, code int) {
	m.action = pendingAction{set: true, kind: a, code: code}
	for _, h := range m.Harts {
		h.RequestStop()
	}
}

// reset puts the board in its power-on state: images re-loaded, devices
// reset, the hart at the boot ROM.
func (m *Machine) reset() {
	for _, im := range m.images {
		// Cannot fail: every image was checked against RAM when loaded.
		_ = m.Bus.WriteDMA(im.addr, im.data)
	}
	m.UART.Reset()
	m.CLINT.Reset()
	m.PLIC.Reset()
	m.RTC.Reset()
	m.PCI.Reset()
	for _, s := range m.virtio {
		s.t.HardReset()
	}
	for _, fn := range m.resetHooks {
		fn()
	}
	for _, h := range m.Harts {
		h.Reset(MROMBase)
	}
	m.action = pendingAction{}
}

// Stop asks Run to return with the "quit" reason at the next batch
// boundary. It is safe to call from any goroutine (the console's Ctrl-A x).
func (m *Machine) Stop() {
	m.stopReq.Store(true)
	m.poke()
}

func (m *Machine) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// SendInput queues console bytes for the UART. It is safe to call from one
// host goroutine (the console reader); it waits while the queue is full.
func (m *Machine) SendInput(p []byte) { m.UART.In.Push(p) }

// OnPoll registers fn to run on the emulation goroutine after every batch
// of instructions and after every wake-up from idle: the place for a device
// to drain a lock-free queue filled by a host goroutine (a socket, a
// capture thread) and raise its interrupt.
func (m *Machine) OnPoll(fn func()) { m.pollers = append(m.pollers, fn) }

// Wake makes an idle machine (hart in WFI, real-time clock) run its pollers
// at once instead of sleeping until the next timer. Safe from any
// goroutine; host goroutines call it after queueing input for a device.
func (m *Machine) Wake() { m.poke() }

// AddHostInput declares a host input source (besides the console) that may
// still wake the guest, so a hart waiting with no timer armed is not
// reported as deadlocked while it is open. Call the returned function when
// the source is closed for good.
func (m *Machine) AddHostInput() (closed func()) {
	m.hostInputs.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			m.hostInputs.Add(-1)
			m.poke()
		}
	}
}

// TrySendInput queues what fits of p without waiting and returns how many
// bytes were taken (an interactive console drops the rest, as a serial
// line overruns, rather than stop reading its escapes).
func (m *Machine) TrySendInput(p []byte) int { return m.UART.In.TryPush(p) }

// CloseInput tells the machine no more console input will come, so a guest
// waiting forever with no timer armed ends the run instead of hanging.
func (m *Machine) CloseInput() {
	m.inputClosed.Store(true)
	m.poke()
}

// DTB returns the flattened device tree given to the guest.
func (m *Machine) DTB() []byte { return slices.Clone(m.dtb) }

// DTBAddr returns where the device tree sits in RAM.
func (m *Machine) DTBAddr() uint64 { return m.dtbAddr }

// Entry returns where the boot ROM jumps (firmware or kernel entry).
func (m *Machine) Entry() uint64 { return m.entry }

// finish runs the exit hooks once.
func (m *Machine) finish() error {
	if m.exited {
		return nil
	}
	m.exited = true
	if m.UART != nil {
		m.UART.Flush()
	}
	var errs []error
	for i := len(m.exitHooks) - 1; i >= 0; i-- {
		if err := m.exitHooks[i](); err != nil {
			errs = append(errs, err)
		}
	}
	if m.UART != nil && m.UART.Err != nil {
		errs = append(errs, fmt.Errorf("console output: %w", m.UART.Err))
	}
	return errors.Join(errs...)
}
