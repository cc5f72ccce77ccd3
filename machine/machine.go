// Package machine is QEMU's RISC-V `virt` board: the memory map, the basic
// devices (UART, CLINT, PLIC, syscon finisher, goldfish RTC), the device
// tree, the boot ROM, image loading and the run loop.
//
// # Extension point for other devices
//
// Devices that are not part of the basic board live in other files of this
// package (machine/pci.go, machine/audio.go, ...) and plug in from init():
//
//   - RegisterBoard(name, fn) adds code that runs for every machine, after
//     the basic devices exist and before any -device (e.g. the PCIe host,
//     which is always present on virt, or opening every -audiodev). Board
//     functions run in name order.
//   - RegisterDevice(name, fn) makes `-device NAME,k=v,...` work. Each
//     -device argument, in command-line order, is parsed into a DeviceOpt
//     and given to the function registered under NAME (exact, case-sensitive,
//     as in QEMU). An unknown name is a one-line error listing known names.
//
// Both get the *Machine and may use:
//
//   - m.Bus (map MMIO with m.Bus.Map, DMA), m.Clock (timers), m.PLIC
//     (bus.InterruptController for bus.IRQ lines), m.Hart, m.Config (raw
//     Audiodevs, Objects, Chardevs strings and the parsed Devices);
//   - m.AddFDTNode(func(root *fdt.Node)) to add device-tree nodes: the
//     function runs each time the tree is built, after the board's own nodes,
//     so it can find "/soc" with root.Lookup("/soc") and refer to the PLIC by
//     PhandlePLIC; m.NewPhandle() hands out unused phandles (take them when
//     the device is created, not inside the function, which may run more
//     than once);
//   - m.OnReset(fn) to reset device state: at power-on (the end of New) and
//     whenever the guest resets the board;
//   - m.AtExit(fn) to flush and close host resources (WAV files...) when Run
//     returns, or when New fails after fn was registered, in reverse order
//     of registration;
//   - m.SetValue(key, v) / m.Value(key) for per-machine state (instead of
//     global maps keyed by *Machine, which race when tests run machines in
//     parallel);
//   - m.OnPoll(fn), m.Wake() and m.AddHostInput() for devices fed by host
//     goroutines (see their comments);
//   - m.Tracer(category) for -d tracing (nil when off); categories are
//     declared with RegisterTrace from init().
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
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"gemu/bus"
	"gemu/clock"
	"gemu/devices/clint"
	"gemu/devices/plic"
	"gemu/devices/rtc"
	"gemu/devices/syscon"
	"gemu/devices/uart"
	"gemu/machine/fdt"
)

// DefaultRAMSize is QEMU's default -m for virt.
const DefaultRAMSize = 128 << 20

// MaxRAMSize is the largest -m accepted.
const MaxRAMSize = 8 << 30

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

	Devices   []DeviceOpt // -device, in order
	Audiodevs []string    // raw -audiodev arguments
	Objects   []string    // raw -object arguments
	Chardevs  []string    // raw -chardev arguments

	// Deterministic selects the instruction-counting clock (-icount);
	// Shift is its log2(ns per instruction).
	Deterministic bool
	Shift         uint
	// IcountSleep (-icount ...,sleep=on) makes an idle hart in
	// deterministic mode wait on the host for the virtual time it skips,
	// so an interactive guest's clock keeps pace with the wall. Without it
	// (the default here) idle time passes instantly.
	IcountSleep bool

	Trace    []string  // -d categories
	TraceOut io.Writer // -D file; nil means os.Stderr

	Console  io.Writer // UART output; nil discards
	NoReboot bool      // -no-reboot: a guest reset ends the run

	// RTCBase is the goldfish RTC's time at virtual time 0. The zero value
	// means the host's time at start in real-time mode, and a fixed date
	// (2025-01-01 00:00:00 UTC) in deterministic mode, so that
	// deterministic runs repeat exactly.
	RTCBase time.Time
}

// Exit says why Run returned.
type Exit struct {
	Code   int    // the process exit status gemu should use
	Reason string // human-readable, e.g. "power off", "tohost: test 3 failed"
}

// Machine is one virt board with one hart.
type Machine struct {
	Config Config
	Bus    *bus.Bus
	Clock  *clock.Clock
	Hart   Hart
	// PLIC is the interrupt controller device lines connect to:
	// bus.IRQ{C: m.PLIC, N: source}.
	PLIC bus.InterruptController

	UART   *uart.UART
	CLINT  *clint.CLINT
	RTC    *rtc.RTC
	Syscon *syscon.Syscon
	plic   *plic.PLIC

	fdtHooks   []func(root *fdt.Node)
	resetHooks []func()
	exitHooks  []func() error
	phandle    uint32

	images  []image // what to re-load on reset
	rom     *rom
	dtb     []byte
	dtbAddr uint64
	entry   uint64 // where the boot ROM jumps
	tohost  uint64 // address of the tohost symbol, 0 if none
	rngSeed [32]byte

	action      pendingAction // set by the finisher, handled by Run
	stopReq     atomic.Bool
	wake        chan struct{}
	inputClosed atomic.Bool
	hostInputs  atomic.Int64 // open host input sources besides the console
	pollers     []func()
	traceOut    io.Writer
	traces      map[string]bool
	exited      bool
	values      map[any]any
}

type pendingAction struct {
	set  bool
	kind syscon.Action
	code int
}

type image struct {
	addr uint64
	data []byte
}

var (
	devices = map[string]func(m *Machine, opt DeviceOpt) error{}
	boards  = map[string]func(m *Machine) error{}
)

// RegisterDevice makes `-device name,...` create a device with fn. It is
// meant to be called from init(); registering a name twice panics.
func RegisterDevice(name string, fn func(m *Machine, opt DeviceOpt) error) {
	if _, dup := devices[name]; dup {
		panic("machine: device " + name + " registered twice")
	}
	devices[name] = fn
}

// DeviceNames returns the registered -device names, sorted.
func DeviceNames() []string {
	var names []string
	for n := range devices {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RegisterBoard adds fn to the set-up of every machine (see the package
// comment). It is meant to be called from init().
func RegisterBoard(name string, fn func(m *Machine) error) {
	if _, dup := boards[name]; dup {
		panic("machine: board hook " + name + " registered twice")
	}
	boards[name] = fn
}

// AddFDTNode registers fn to add nodes or properties to the device tree.
func (m *Machine) AddFDTNode(fn func(root *fdt.Node)) { m.fdtHooks = append(m.fdtHooks, fn) }

// OnReset registers fn to run when the guest resets the board.
func (m *Machine) OnReset(fn func()) { m.resetHooks = append(m.resetHooks, fn) }

// AtExit registers fn to run when Run returns (last registered, first run).
func (m *Machine) AtExit(fn func() error) { m.exitHooks = append(m.exitHooks, fn) }

// SetValue stores per-machine state for code in other files of this
// package (for example the PCI host or the open audio backends), so that
// they need no global maps keyed by *Machine. Use an unexported key type.
func (m *Machine) SetValue(key, v any) {
	if m.values == nil {
		m.values = map[any]any{}
	}
	m.values[key] = v
}

// Value returns what SetValue stored under key, or nil.
func (m *Machine) Value(key any) any { return m.values[key] }

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
	if cfg.Deterministic && cfg.Shift > 20 {
		return nil, fmt.Errorf("machine: icount shift %d is too large (at most 20)", cfg.Shift)
	}
	m := &Machine{
		Config:  cfg,
		phandle: PhandleFree - 1,
		wake:    make(chan struct{}, 1),
	}
	if err := m.setTrace(cfg.Trace, cfg.TraceOut); err != nil {
		return nil, err
	}
	m.Bus = bus.New(RAMBase, cfg.RAMSize)
	if cfg.Deterministic {
		m.Clock = clock.NewDeterministic(cfg.Shift, nil)
	} else {
		m.Clock = clock.NewRealtime()
	}
	if newHart == nil {
		return nil, errors.New("machine: no hart implementation linked in")
	}
	m.Hart = newHart(m.Bus, m.Clock, 0)
	defer func() {
		if err != nil {
			// Close what board and device code opened (files...).
			_ = m.finish()
		}
	}()
	if cfg.Deterministic {
		m.Clock.SetCounter(m.Hart.Instret)
	}
	if err := m.addBoardDevices(); err != nil {
		return nil, err
	}
	var names []string
	for n := range boards {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := boards[n](m); err != nil {
			return nil, err
		}
	}
	for _, d := range cfg.Devices {
		fn, ok := devices[d.Name]
		if !ok {
			known := DeviceNames()
			if len(known) == 0 {
				return nil, fmt.Errorf("-device %s: unknown device %q (this build has no -device types)", d.Raw, d.Name)
			}
			return nil, fmt.Errorf("-device %s: unknown device %q (known: %s)", d.Raw, d.Name, strings.Join(known, ", "))
		}
		if err := fn(m, d); err != nil {
			return nil, err
		}
	}
	if err := m.load(); err != nil {
		return nil, err
	}
	m.reset()
	return m, nil
}

// addBoardDevices creates and maps the basic devices of virt.
func (m *Machine) addBoardDevices() error {
	h := m.Hart
	m.CLINT = clint.New(m.Clock, []clint.Lines{{
		MSIP: func(l bool) { h.SetPending(mipMSIP, l) },
		MTIP: func(l bool) { h.SetPending(mipMTIP, l) },
	}})
	m.CLINT.Trace = m.Tracer("clint")
	m.plic = plic.New([]func(bool){
		func(l bool) { h.SetPending(mipMEIP, l) }, // context 0: hart 0 M mode
		func(l bool) { h.SetPending(mipSEIP, l) }, // context 1: hart 0 S mode
	})
	m.plic.Trace = m.Tracer("plic")
	m.PLIC = m.plic
	var out io.Writer = io.Discard
	if m.Config.Console != nil {
		out = m.Config.Console
	}
	m.UART = uart.New(m.Clock, out, bus.IRQ{C: m.PLIC, N: UARTIRQ})
	m.UART.Trace = m.Tracer("uart")
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
		{PLICBase, PLICSize, m.plic, "plic"},
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

// finisher is the syscon callback: remember the request and stop the hart
// after the current instruction; Run acts on it.
func (m *Machine) finisher(a syscon.Action, code int) {
	m.action = pendingAction{set: true, kind: a, code: code}
	m.Hart.RequestStop()
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
	m.plic.Reset()
	m.RTC.Reset()
	for _, fn := range m.resetHooks {
		fn()
	}
	m.Hart.Reset(MROMBase)
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
