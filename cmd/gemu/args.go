package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gemu/cpu"
	"gemu/devices/audio"
	"gemu/machine"
	"gemu/qemuopt"
)

// options is the parsed command line.
type options struct {
	cfg       machine.Config
	dumpDTB   string
	serial    string // "mon:stdio" (default), "stdio", "none", "null"
	mux       bool   // Ctrl-A escapes active on the console
	traceFile string
	help      string // non-empty: print this and exit 0
	gdb       string // -gdb argument ("" none; -s means tcp::1234)
	gdbWait   bool   // -S: wait for gdb's continue before the first instruction
}

// flagSpec describes one qemu-style flag: whether it takes an argument.
var flagSpec = map[string]bool{
	"machine": true, "M": true, "m": true, "bios": true, "kernel": true,
	"initrd": true, "append": true, "nographic": false, "serial": true,
	"monitor": true, "display": true, "device": true, "audiodev": true,
	"object": true, "chardev": true, "drive": true, "global": true,
	"blockdev": true, "snapshot": false,
	"icount": true, "smp": true, "d": true,
	"D": true, "no-reboot": false, "rtc": true, "h": false, "help": false,
	"version": false, "cpu": true, "accel": true,
	"no-user-config": false, "nodefaults": false, "name": true,
	"s": false, "S": false, "gdb": true, "trace": true,
	// gemu's own debugging flags (docs/debugging.md).
	"itrace": true, "itrace-panic": true, "ftrace": false, "symbols": true,
}

const usage = `usage: gemu [options]
Emulates QEMU's RISC-V virt board (RV64GC harts). Options follow qemu-system-riscv64:
  -machine virt[,dumpdtb=FILE]   the board (only virt); dumpdtb writes the device tree and exits
  -m [size=]SIZE                 RAM (default 128M; 512M, 1G, or plain MiB)
  -bios FILE|none|default        firmware (default: Debian's OpenSBI fw_dynamic.bin)
  -kernel FILE                   ELF (own addresses) or raw Image (at 0x80200000 after firmware)
  -initrd FILE                   initial ramdisk
  -append STRING                 kernel command line
  -nographic                     console on stdin/stdout (always the case; Ctrl-A x quits)
  -serial mon:stdio|stdio|none   where the UART goes
  -device NAME[,k=v...]          add a device (-device help lists them, -device NAME,help their options)
  -audiodev DRIVER,id=ID[,...]   host audio backend (-audiodev help lists the drivers)
  -object memory-backend-...     shared memory for ivshmem
  -chardev socket,id=ID,path=P   ivshmem-server connection for ivshmem-doorbell
  -drive file=F,if=none,id=ID[,format=raw,readonly=on,snapshot=on,cache=M]  disk image
  -blockdev driver=raw|file,...  disk image, QEMU's newer syntax (drive= names node-name)
  -snapshot                      writes to disk images stay in memory
  -global DRIVER.PROP=VALUE      e.g. virtio-mmio.force-legacy=false (modern virtio-mmio)
  -icount shift=N|auto[,sleep=on] deterministic clock: 2^N ns per instruction (auto: N=2)
  -smp [cpus=]N[,cores=,threads=] harts (1 to 8; default 1)
  -rtc base=utc|DATE             RTC start (DATE: 2006-06-17T16:01:21)
  -no-reboot                     exit when the guest resets
  -accel tcg[,jit=on|off]        jit=off: interpret; the default translates guest code
                                 to host code on amd64 hosts (GEMU_JIT=0: interpret)
  -d CAT[,CAT...]                trace categories (-d help lists them; -d int: traps)
  -D FILE                        trace output file
  -trace [enable=]PATTERN        gemu's per-device trace events (-trace help lists them)
  -itrace N                      keep the last N instructions; print them on an illegal
                                 instruction, a trap loop, a guest error or Ctrl-A t
  -itrace-panic STRING           also print them when the console prints STRING
  -ftrace                        log function calls and returns (ELF symbols) to -D
  -symbols FILE                  more ELF symbols for -ftrace and -d in_asm,exec
  -gdb tcp::PORT|tcp:HOST:PORT   GDB remote stub (empty host: localhost only)
  -s                             same as -gdb tcp::1234
  -S                             do not start the hart until gdb continues
With no -kernel and no -bios, gemu runs its embedded demo guest.
`

// parseArgs turns os.Args[1:] into options. Errors name the flag.
func parseArgs(args []string) (*options, error) {
	o := &options{serial: "mon:stdio", mux: true}
	cfg := &o.cfg
	serialSet, nodefaults := false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			return nil, fmt.Errorf("%s: unexpected argument (options start with -)", a)
		}
		name := strings.TrimLeft(a, "-") // QEMU accepts -flag and --flag
		takesArg, ok := flagSpec[name]
		if !ok {
			return nil, fmt.Errorf("%s: invalid option", a)
		}
		var val string
		if takesArg {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%s: requires an argument", a)
			}
			i++
			val = args[i]
		}
		if name == "M" {
			name = "machine"
		}
		if _, ok := qemuopt.Flags["-"+name]; ok {
			// QemuOpts and keyval options: their errors name the
			// option already.
			q, err := qemuopt.ParseFlag("-"+name, val)
			if err == nil {
				err = o.option(name, q)
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		var err error
		switch name {
		case "h", "help":
			o.help = usage
		case "version":
			o.help = "gemu: RISC-V virt board emulator (QEMU-compatible command line)\n"
		case "bios":
			cfg.BIOS = val
		case "kernel":
			cfg.Kernel = val
		case "initrd":
			cfg.Initrd = val
		case "append":
			cfg.Append = val
		case "nographic":
			// The console is always on stdio; QEMU's -nographic also
			// multiplexes the monitor there, hence the Ctrl-A escapes.
			o.mux = true
		case "serial":
			serialSet = true
			switch val {
			case "mon:stdio":
				o.serial, o.mux = val, true
			case "stdio":
				o.serial, o.mux = val, false
			case "none", "null":
				o.serial = val
			default:
				err = errors.New("only mon:stdio, stdio, none and null are supported")
			}
		case "monitor", "display":
			if val != "none" {
				err = errors.New(`only "none" is supported`)
			}
		case "cpu":
			switch val {
			case "help", "?":
				o.help = "Available CPUs:\n  max\n  rv64\n"
			case "rv64", "max":
			default:
				err = errors.New("only rv64 is supported (max means rv64 too)")
			}
		case "accel":
			switch val {
			case "help", "?":
				o.help = "Accelerators supported in QEMU binary:\ntcg\n"
			case "tcg,help", "tcg,?":
				o.help = accelHelp()
			default:
				cfg.Engine, err = accelJIT(val)
			}
		case "d":
			if val == "help" || val == "?" {
				o.help = machine.TraceHelp()
				break
			}
			if val == "trace:help" || val == "trace:?" {
				o.help = machine.TraceEventsHelp()
				break
			}
			for _, c := range strings.Split(val, ",") {
				if c != "" {
					cfg.Trace = append(cfg.Trace, c)
				}
			}
		case "D":
			o.traceFile = val
		case "trace":
			// QEMU's -trace [enable=]PATTERN[,file=F]: gemu's events.
			p, file, _ := strings.Cut(strings.TrimPrefix(val, "enable="), ",file=")
			if p == "help" || p == "?" {
				o.help = machine.TraceEventsHelp()
				break
			}
			cfg.Trace = append(cfg.Trace, "trace:"+p)
			if file != "" {
				o.traceFile = file
			}
		case "itrace":
			var n uint64
			if n, err = qemuopt.ParseUint(val); err == nil && (n == 0 || n > 1<<20) {
				err = errors.New("want 1 to 1048576 instructions")
			}
			cfg.ITrace = int(n)
		case "itrace-panic":
			cfg.PanicString = val
		case "ftrace":
			cfg.Ftrace = true
		case "symbols":
			cfg.Symbols = append(cfg.Symbols, val)
		case "no-reboot":
			cfg.NoReboot = true
		case "s":
			o.gdb = "tcp::" + machine.DefaultGDBPort
		case "gdb":
			if _, err = machine.GDBAddr(val); err == nil {
				o.gdb = val
			}
		case "S":
			o.gdbWait = true
		case "no-user-config", "name":
			// No configuration files are read; the name is cosmetic.
		case "nodefaults":
			nodefaults = true
		case "snapshot":
			cfg.Snapshot = true
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", a, val, err)
		}
	}
	if nodefaults && !serialSet {
		o.serial = "none" // QEMU: no default serial port either
	}
	if cfg.PanicString != "" && cfg.ITrace == 0 {
		cfg.ITrace = 64 // a panic string asks for the ring buffer
	}
	if o.gdbWait && (o.gdb == "" || o.gdb == "none") {
		return nil, errors.New("-S: needs -s or -gdb tcp::PORT (gemu has no monitor to continue from)")
	}
	return o, nil
}

// option takes one QemuOpts or keyval option (name without the dash).
func (o *options) option(name string, q *qemuopt.Opts) error {
	cfg := &o.cfg
	switch name {
	case "machine":
		return o.machine(q)
	case "m":
		return o.memory(q)
	case "smp":
		return o.smp(q)
	case "icount":
		return o.icount(q)
	case "rtc":
		return o.rtc(q)
	case "device":
		if q.Help {
			if d, ok := q.Get("driver"); ok {
				h, err := machine.DevicePropsHelp(d)
				o.help = h
				return err
			}
			o.help = machine.DeviceHelp()
			return nil
		}
		if q.String("driver", "") == "" {
			return q.Errorf("no device name (-device help lists them)")
		}
		cfg.Devices = append(cfg.Devices, q)
	case "audiodev":
		if q.Help {
			o.help = audiodevHelp(q.String("driver", ""))
			return nil
		}
		if _, err := audio.ParseOpts(q.Clone()); err != nil {
			return q.Errorf("%s", strings.TrimPrefix(err.Error(), "audiodev: "))
		}
		cfg.Audiodevs = append(cfg.Audiodevs, q)
	case "object":
		if q.Help {
			o.help = "List of user creatable objects:\n  memory-backend-file\n  memory-backend-memfd\n  memory-backend-ram\n"
			return nil
		}
		cfg.Objects = append(cfg.Objects, q)
	case "chardev":
		if q.Help {
			o.help = "Available chardev backend types:\n  socket\n"
			return nil
		}
		cfg.Chardevs = append(cfg.Chardevs, q)
	case "drive":
		cfg.Drives = append(cfg.Drives, q)
	case "global":
		cfg.Globals = append(cfg.Globals, q)
	case "blockdev":
		cfg.Blockdevs = append(cfg.Blockdevs, q)
	}
	return nil
}

// accelJIT reads "-accel tcg[,jit=on|off]": gemu's one accelerator is its
// own TCG-like engine, the translator of cpu/jit_amd64.go where the host
// has one and the interpreter otherwise; jit=on and jit=off choose (a gemu
// property QEMU does not have). Without jit=, GEMU_JIT=0 in the environment
// selects the interpreter (cpu.DefaultJIT).
func accelJIT(val string) (machine.Engine, error) {
	parts := strings.Split(val, ",")
	if parts[0] != "tcg" {
		return 0, errors.New("only tcg is supported")
	}
	e := machine.EngineDefault
	for _, p := range parts[1:] {
		switch p {
		case "jit=on":
			e = machine.EngineJIT
		case "jit=off":
			e = machine.EngineInterp
		default:
			return 0, fmt.Errorf("unknown property %q (only jit=on|off)", p)
		}
	}
	if e == machine.EngineJIT && !cpu.JITSupported {
		return 0, errors.New("jit=on: no translator for this host architecture")
	}
	return e, nil
}

// accelHelp is -accel tcg,help: QEMU lists the accelerator's properties
// (tcg-accel options), gemu has one of its own.
func accelHelp() string {
	def := "off: no translator for this host; the interpreter runs"
	if cpu.JITSupported {
		def = "on; off interprets, as GEMU_JIT=0 does"
	}
	return "tcg-accel options:\n  jit=<bool>             - translate guest code to host code (default " + def + ")\n"
}

// machineOpts are the -machine properties gemu takes, for -machine
// virt,help and for checking.
var machineOpts = [][3]string{
	{"accel", "str", "accelerator: tcg (the only one)"},
	{"dumpdtb", "str", "write the device tree to this file and exit"},
}

func (o *options) machine(q *qemuopt.Opts) error {
	typ := q.String("type", "virt") // gemu's only machine is its default
	if q.Help && !q.Has("type") || typ == "help" || typ == "?" {
		// QEMU's machine_help_func layout.
		o.help = fmt.Sprintf("Supported machines are:\n%-20s %s\n", "virt", "RISC-V VirtIO board")
		return nil
	}
	if typ != "virt" {
		return q.Errorf("unknown machine %q (only virt; -machine help lists them)", typ)
	}
	if q.Help {
		var b strings.Builder
		b.WriteString("virt options:\n")
		for _, p := range machineOpts {
			fmt.Fprintf(&b, "%-24s - %s\n", "  "+p[0]+"=<"+p[1]+">", p[2])
		}
		o.help = b.String()
		return nil
	}
	known := []string{"type"}
	for _, p := range machineOpts {
		known = append(known, p[0])
	}
	if err := q.Check(known...); err != nil {
		return err
	}
	if a := q.String("accel", "tcg"); a != "tcg" {
		return q.Errorf("accel=%s: only tcg", a)
	}
	o.dumpDTB = q.String("dumpdtb", "")
	return nil
}

// memory reads -m [size=]SIZE: a plain number is MiB, as QEMU's
// qemu_strtosz_MiB takes it (softmmu/vl.c parse_memory_options). slots=
// and maxmem= describe memory hotplug, which the board does not have.
func (o *options) memory(q *qemuopt.Opts) error {
	if err := q.Check("size", "slots", "maxmem"); err != nil {
		return err
	}
	if q.Has("slots") || q.Has("maxmem") {
		return q.Errorf("slots= and maxmem= (memory hotplug) are not supported: give only the size")
	}
	v, ok := q.Get("size")
	if !ok {
		return q.Errorf("missing size")
	}
	n, err := qemuopt.ParseSize(v, 'M')
	if err != nil {
		return q.Errorf("%v", err)
	}
	if n == 0 {
		return q.Errorf("size 0: the board needs RAM")
	}
	o.cfg.RAMSize = n
	return nil
}

// smp reads -smp [cpus=]N[,sockets=,dies=,clusters=,cores=,threads=,maxcpus=]
// the way QEMU 7.2's machine_parse_smp_config (hw/core/machine-smp.c) does
// for virt: missing members are computed preferring cores over sockets,
// dies and clusters must be 1, the product of the hierarchy must equal
// maxcpus, and maxcpus must be at least cpus. The board gets cpus harts.
// gemu has one socket (QEMU gives each socket its own CLINT and PLIC) and
// at most machine.MaxHarts harts.
func (o *options) smp(q *qemuopt.Opts) error {
	keys := []string{"cpus", "sockets", "dies", "clusters", "cores", "threads", "maxcpus"}
	if err := q.Check(keys...); err != nil {
		return err
	}
	v := map[string]uint64{}
	for _, k := range keys {
		n, err := q.Uint(k, 0)
		if err != nil {
			return err
		}
		v[k] = n
	}
	cpus, sockets, cores, threads, maxcpus := v["cpus"], v["sockets"], v["cores"], v["threads"], v["maxcpus"]
	for _, k := range []string{"dies", "clusters"} {
		if v[k] > 1 {
			return q.Errorf("%s not supported by this machine's CPU topology", k)
		}
	}
	if cpus == 0 && maxcpus == 0 {
		sockets, cores, threads = max(sockets, 1), max(cores, 1), max(threads, 1)
	} else {
		if maxcpus == 0 {
			maxcpus = cpus
		}
		switch {
		case cores == 0: // prefer cores over sockets (QEMU 6.2 and later)
			sockets, threads = max(sockets, 1), max(threads, 1)
			cores = maxcpus / (sockets * threads)
		case sockets == 0:
			threads = max(threads, 1)
			sockets = maxcpus / (cores * threads)
		case threads == 0:
			threads = maxcpus / (sockets * cores)
		}
	}
	total := sockets * cores * threads
	if maxcpus == 0 {
		maxcpus = total
	}
	if cpus == 0 {
		cpus = maxcpus
	}
	if total != maxcpus {
		return q.Errorf("Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (%d) * cores (%d) * threads (%d) != maxcpus (%d)",
			sockets, cores, threads, maxcpus)
	}
	if maxcpus < cpus {
		return q.Errorf("Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (%d) * cores (%d) * threads (%d) == maxcpus (%d) < smp_cpus (%d)",
			sockets, cores, threads, maxcpus, cpus)
	}
	if sockets > 1 {
		return q.Errorf("sockets=%d: gemu emulates one socket (QEMU gives each its own CLINT and PLIC); use cores= or threads=", sockets)
	}
	if cpus > machine.MaxHarts {
		return q.Errorf("%d CPUs: gemu emulates at most %d harts", cpus, machine.MaxHarts)
	}
	o.cfg.Harts = int(cpus)
	return nil
}

// icount reads "-icount [shift=]N|auto[,sleep=on|off][,align=off]". Unlike
// QEMU, sleep defaults to off: idle time passes instantly, which keeps test
// runs fast; sleep=on waits on the host for it, so an interactive guest's
// clock keeps pace with the wall. align is accepted and ignored.
func (o *options) icount(q *qemuopt.Opts) error {
	if err := q.Check("shift", "sleep", "align"); err != nil {
		return err
	}
	o.cfg.Deterministic = true
	o.cfg.Shift = machine.DefaultShift
	if v := q.String("shift", "auto"); v != "auto" {
		n, err := qemuopt.ParseUint(v)
		if err != nil || n > 10 {
			return q.Errorf("shift %q: want auto or 0..10", v)
		}
		o.cfg.Shift = uint(n)
	}
	var err error
	if o.cfg.IcountSleep, err = q.Bool("sleep", false); err != nil {
		return err
	}
	_, err = q.Bool("align", false)
	return err
}

// rtc reads "-rtc base=utc|localtime|DATE[,clock=host|vm|rt][,driftfix=...]".
func (o *options) rtc(q *qemuopt.Opts) error {
	if err := q.Check("base", "clock", "driftfix"); err != nil {
		return err
	}
	switch v := q.String("base", "utc"); v {
	case "utc", "localtime":
		o.cfg.RTCBase = time.Time{}
	default:
		t, err := time.Parse("2006-01-02T15:04:05", v)
		if err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return q.Errorf("base %q: want utc, localtime or 2006-06-17T16:01:21", v)
			}
		}
		o.cfg.RTCBase = t
	}
	return nil
}

// audiodevHelp is -audiodev help (QEMU's audio_help: "Available audio
// drivers:" and one a line) or, with a driver, its options.
func audiodevHelp(driver string) string {
	var b strings.Builder
	if driver == "" || !slices.Contains(audio.Drivers, driver) {
		b.WriteString("Available audio drivers:\n")
		for _, d := range audio.Drivers {
			b.WriteString(d + "\n")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s options:\n", driver)
	for _, k := range audio.Keys {
		fmt.Fprintf(&b, "%-24s - %s\n", "  "+k.Name+"=<"+k.Type+">", k.Help)
	}
	return b.String()
}
