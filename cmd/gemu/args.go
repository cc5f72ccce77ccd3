package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gemu/machine"
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
	"object": true, "chardev": true, "icount": true, "smp": true, "d": true,
	"D": true, "no-reboot": false, "rtc": true, "h": false, "help": false,
	"version": false, "cpu": true, "accel": true,
	"no-user-config": false, "nodefaults": false, "name": true,
	"s": false, "S": false, "gdb": true,
}

const usage = `usage: gemu [options]
Emulates QEMU's RISC-V virt board (one RV64GC hart). Options follow qemu-system-riscv64:
  -machine virt[,dumpdtb=FILE]   the board (only virt); dumpdtb writes the device tree and exits
  -m SIZE                        RAM (default 128M; 512M, 1G, or plain MiB)
  -bios FILE|none|default        firmware (default: Debian's OpenSBI fw_dynamic.bin)
  -kernel FILE                   ELF (own addresses) or raw Image (at 0x80200000 after firmware)
  -initrd FILE                   initial ramdisk
  -append STRING                 kernel command line
  -nographic                     console on stdin/stdout (always the case; Ctrl-A x quits)
  -serial mon:stdio|stdio|none   where the UART goes
  -device NAME[,k=v...]          add a device (-device help lists them)
  -audiodev DRIVER,id=ID[,...]   host audio backend
  -object, -chardev ...          passed to the devices that use them
  -icount shift=N|auto[,sleep=on] deterministic clock: 2^N ns per instruction (auto: N=2)
  -smp 1                         one hart
  -rtc base=utc|DATE             RTC start (DATE: 2006-06-17T16:01:21)
  -no-reboot                     exit when the guest resets
  -d CAT[,CAT...]                trace categories (-d help lists them)
  -D FILE                        trace output file
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
		var err error
		switch name {
		case "h", "help":
			o.help = usage
		case "version":
			o.help = "gemu: RISC-V virt board emulator (QEMU-compatible command line)\n"
		case "machine", "M":
			err = o.machine(val)
		case "m":
			cfg.RAMSize, err = parseSize(val)
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
			if val != "rv64" && val != "max" {
				err = errors.New("only rv64 is supported")
			}
		case "accel":
			if val != "tcg" {
				err = errors.New("only tcg is supported")
			}
		case "device":
			if val == "help" || val == "?" {
				o.help = "Devices: " + strings.Join(machine.DeviceNames(), ", ") + "\n"
				break
			}
			var d machine.DeviceOpt
			if d, err = machine.ParseDeviceOpt(val); err == nil {
				cfg.Devices = append(cfg.Devices, d)
			}
		case "audiodev":
			cfg.Audiodevs = append(cfg.Audiodevs, val)
		case "object":
			cfg.Objects = append(cfg.Objects, val)
		case "chardev":
			cfg.Chardevs = append(cfg.Chardevs, val)
		case "icount":
			err = o.icount(val)
		case "smp":
			err = parseSMP(val)
		case "d":
			if val == "help" {
				o.help = "Trace categories (-d a,b):\n" + machine.TraceHelp()
				break
			}
			for _, c := range strings.Split(val, ",") {
				if c != "" {
					cfg.Trace = append(cfg.Trace, c)
				}
			}
		case "D":
			o.traceFile = val
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
		case "rtc":
			err = o.rtc(val)
		case "no-user-config", "name":
			// No configuration files are read; the name is cosmetic.
		case "nodefaults":
			nodefaults = true
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", a, val, err)
		}
	}
	if nodefaults && !serialSet {
		o.serial = "none" // QEMU: no default serial port either
	}
	if o.gdbWait && (o.gdb == "" || o.gdb == "none") {
		return nil, errors.New("-S: needs -s or -gdb tcp::PORT (gemu has no monitor to continue from)")
	}
	return o, nil
}

func (o *options) machine(val string) error {
	items := strings.Split(val, ",")
	if items[0] != "virt" && items[0] != "type=virt" {
		return fmt.Errorf("unknown machine %q (only virt)", items[0])
	}
	for _, it := range items[1:] {
		k, v, _ := strings.Cut(it, "=")
		switch k {
		case "dumpdtb":
			o.dumpDTB = v
		case "accel":
			if v != "tcg" {
				return fmt.Errorf("accel=%s: only tcg", v)
			}
		default:
			return fmt.Errorf("unsupported machine option %q", k)
		}
	}
	return nil
}

// parseSize reads QEMU's -m: a number with an optional K/M/G/T suffix
// (binary units), plain numbers meaning MiB, or "size=...".
func parseSize(s string) (uint64, error) {
	s = strings.TrimPrefix(s, "size=")
	if s == "" {
		return 0, errors.New("empty size")
	}
	mult := uint64(1 << 20)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 't', 'T':
		mult = 1 << 40
	case 'b', 'B':
		mult = 1
	default:
		if c := s[len(s)-1]; c < '0' || c > '9' {
			return 0, fmt.Errorf("bad size %q (suffixes: K, M, G, T)", s)
		}
	}
	num := s
	if s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		num = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	if n > (1<<40)/mult {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return n * mult, nil
}

// icount reads "-icount shift=N|auto[,sleep=on|off][,align=off]" or a bare
// N/auto. Unlike QEMU, sleep defaults to off: idle time passes instantly,
// which keeps test runs fast; sleep=on waits on the host for it, so an
// interactive guest's clock keeps pace with the wall. align is accepted
// and ignored.
func (o *options) icount(val string) error {
	o.cfg.Deterministic = true
	o.cfg.Shift = machine.DefaultShift
	for i, it := range strings.Split(val, ",") {
		k, v, hasEq := strings.Cut(it, "=")
		if !hasEq && i == 0 {
			k, v = "shift", it
		}
		switch k {
		case "shift":
			if v == "auto" {
				o.cfg.Shift = machine.DefaultShift
				continue
			}
			n, err := strconv.ParseUint(v, 10, 8)
			if err != nil || n > 10 {
				return fmt.Errorf("shift %q: want auto or 0..10", v)
			}
			o.cfg.Shift = uint(n)
		case "sleep":
			switch v {
			case "on":
				o.cfg.IcountSleep = true
			case "off":
				o.cfg.IcountSleep = false
			default:
				return fmt.Errorf("sleep %q: want on or off", v)
			}
		case "align":
			// Accepted for compatibility; see above.
		default:
			return fmt.Errorf("unknown option %q", k)
		}
	}
	return nil
}

// parseSMP accepts only one hart: "1", "cpus=1", "1,sockets=1,..." etc.
func parseSMP(val string) error {
	for i, it := range strings.Split(val, ",") {
		k, v, hasEq := strings.Cut(it, "=")
		if !hasEq && i == 0 {
			k, v = "cpus", it
		}
		switch k {
		case "cpus", "maxcpus", "sockets", "cores", "threads", "dies", "clusters":
			if v != "1" {
				return errors.New("gemu emulates a single hart: only -smp 1 is supported")
			}
		default:
			return fmt.Errorf("unknown option %q", k)
		}
	}
	return nil
}

// rtc reads "-rtc base=utc|localtime|DATE[,clock=host|vm|rt][,driftfix=...]".
func (o *options) rtc(val string) error {
	for _, it := range strings.Split(val, ",") {
		k, v, _ := strings.Cut(it, "=")
		switch k {
		case "base":
			switch v {
			case "utc", "localtime":
				o.cfg.RTCBase = time.Time{}
			default:
				t, err := time.Parse("2006-01-02T15:04:05", v)
				if err != nil {
					if t, err = time.Parse("2006-01-02", v); err != nil {
						return fmt.Errorf("base %q: want utc, localtime or 2006-06-17T16:01:21", v)
					}
				}
				o.cfg.RTCBase = t
			}
		case "clock", "driftfix":
		default:
			return fmt.Errorf("unknown option %q", k)
		}
	}
	return nil
}
