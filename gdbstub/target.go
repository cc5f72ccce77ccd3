package gdbstub

import (
	"errors"
	"fmt"
	"strings"
)

// Register numbers of the protocol (the regnum attributes of the target
// description, used by p, P, g and G). They follow GDB's own numbering for
// RISC-V so that gdb's default and ours agree: x0..x31, pc, f0..f31, then
// CSR n at RegCSR+n, and the virtual "priv" register after the CSR space.
const (
	RegX0   = 0
	RegPC   = 32
	RegF0   = 33
	RegCSR  = 65
	RegPriv = RegCSR + 4096
)

// BreakKind is the type field of a Z/z packet (E.12 "Z packets").
type BreakKind uint8

const (
	BreakSoftware BreakKind = 0 // Z0: stop before executing addr
	BreakHardware BreakKind = 1 // Z1: the same, reported as hwbreak
	WatchWrite    BreakKind = 2 // Z2
	WatchRead     BreakKind = 3 // Z3
	WatchAccess   BreakKind = 4 // Z4
)

// ErrUnsupported from Target.Breakpoint makes the stub answer with an empty
// packet ("not supported"), so gdb falls back (to software watchpoints, for
// example).
var ErrUnsupported = errors.New("gdbstub: not supported")

// Target is the debugged hart and its memory. The stub calls it only from
// inside Serve, on the goroutine that called Serve (the emulation
// goroutine, while the machine is stopped).
type Target interface {
	// ReadRegister returns register n (numbers as above); ok is false for a
	// register that cannot be read now (gdb shows <unavailable>).
	ReadRegister(n int) (v uint64, ok bool)
	// WriteRegister sets register n; false if it does not exist or is
	// read-only.
	WriteRegister(n int, v uint64) bool
	// ReadMemory fills p from virtual address addr, as the hart sees it
	// now, and returns how many bytes it read before the first unreadable
	// one.
	ReadMemory(addr uint64, p []byte) int
	// WriteMemory writes p at virtual address addr; it writes nothing and
	// returns false unless every byte is writable.
	WriteMemory(addr uint64, p []byte) bool
	// Breakpoint inserts or removes a breakpoint or watchpoint of length
	// bytes at addr (for breakpoints, length is the instruction size gdb
	// expects there: 2 or 4).
	Breakpoint(kind BreakKind, addr, length uint64, insert bool) error
}

// Threads is implemented by a Target with several harts. gdb sees hart i
// as thread i+1, as QEMU's gdbstub numbers its CPUs (cpu_index + 1, and
// pid 1 with multiprocess off), so `info threads` lists the harts, a stop
// names the hart that stopped, and `thread N` picks whose registers and
// memory gdb reads. A Target without it is one thread, 1.
type Threads interface {
	// Threads returns how many threads (harts) there are: 1..n.
	Threads() int
	// SelectThread makes thread id (1..n) the one ReadRegister,
	// WriteRegister, ReadMemory and WriteMemory refer to.
	SelectThread(id int)
	// ThreadInfo is the text of `info threads` for thread id (QEMU:
	// "CPU#0 [running]" or "CPU#0 [halted ]").
	ThreadInfo(id int) string
}

// StopKind is why the target stopped.
type StopKind uint8

const (
	StopAttach    StopKind = iota // start-up (-S) or gdb attached to a running guest
	StopInterrupt                 // Ctrl-C from gdb
	StopStep                      // a single step finished
	StopBreak                     // a software breakpoint (Z0)
	StopHWBreak                   // a hardware breakpoint (Z1)
	StopWatch                     // a watchpoint; Addr is the data address
)

// Stop describes a stop for the stop reply (E.3 "Stop Reply Packets").
type Stop struct {
	Kind StopKind
	Addr uint64    // StopWatch: the watched address that triggered
	Type BreakKind // StopWatch: WatchWrite, WatchRead or WatchAccess
	// Thread is the thread that stopped (1..n); 0 means the one gdb
	// selected last. gdb switches to it, and so does the stub.
	Thread int
}

// Action is what gdb asked the target to do when it resumes.
type Action uint8

const (
	Continue Action = iota // run until a breakpoint, Ctrl-C or the end
	Step                   // execute one instruction, then stop (StopStep)
	Detach                 // gdb detached or disconnected: run on, freely
	Kill                   // gdb killed the target: end the emulation
	Quit                   // Serve's quit function reported true
)

// Resume is the result of Serve.
type Resume struct {
	Action Action
	// Thread is the thread to step (Step): the one a vCont s action names,
	// else the one of Hc, else the one gdb selected with Hg. In all-stop
	// mode the others stay stopped while it steps.
	Thread int
}

// The signals of stop replies (GDB's own numbering, include/gdb/signals.def).
const (
	sigINT  = 2
	sigTRAP = 5
)

// regInfo is one register of the target description.
type regInfo struct {
	name  string
	num   int
	bits  int
	typ   string // "" for int
	group string
}

var xNames = [32]string{
	"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
	"fp", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
	"a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
	"s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
}

var fNames = [32]string{
	"ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7",
	"fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
	"fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
	"fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
}

// CSR is a control and status register the target has, for the target
// description: gdb shows it as Name and reads it as register RegCSR+Num.
// fflags, frm and fcsr are always described, with the FP registers.
type CSR struct {
	Name string
	Num  int
}

// description is the target's registers, in the order of the XML, with an
// index by number and the XML itself.
type description struct {
	regs  []regInfo
	byNum map[int]*regInfo
	xml   []byte
}

// describe builds the description of an RV64 hart with the F and D
// registers and the given CSRs.
func describe(csrs []CSR) *description {
	var regs []regInfo
	for i, n := range xNames {
		t := "int"
		switch i {
		case 1:
			t = "code_ptr"
		case 2, 3, 4, 8:
			t = "data_ptr"
		}
		regs = append(regs, regInfo{name: n, num: RegX0 + i, bits: 64, typ: t, group: "cpu"})
	}
	regs = append(regs, regInfo{name: "pc", num: RegPC, bits: 64, typ: "code_ptr", group: "cpu"})
	for i, n := range fNames {
		regs = append(regs, regInfo{name: n, num: RegF0 + i, bits: 64, typ: "fpreg64", group: "fpu"})
	}
	for i, n := range []string{"fflags", "frm", "fcsr"} {
		regs = append(regs, regInfo{name: n, num: RegCSR + 1 + i, bits: 32, typ: "int", group: "fpu"})
	}
	for _, c := range csrs {
		if c.Num < 1 || c.Num > 3 { // the FP CSRs are described above
			regs = append(regs, regInfo{name: c.Name, num: RegCSR + c.Num, bits: 64, typ: "int", group: "csr"})
		}
	}
	regs = append(regs, regInfo{name: "priv", num: RegPriv, bits: 64, typ: "int", group: "virtual"})
	d := &description{regs: regs, byNum: map[int]*regInfo{}}
	for i := range regs {
		d.byNum[regs[i].num] = &regs[i]
	}
	d.xml = d.buildXML()
	return d
}

// width returns the size in bytes of register n, or false if the target
// has no such register.
func (d *description) width(n int) (int, bool) {
	r := d.byNum[n]
	if r == nil {
		return 0, false
	}
	return r.bits / 8, true
}

// gRegs is how many registers the g packet carries: x0..x31 and pc; gdb
// reads the rest with p.
const gRegs = 33

// buildXML writes the target description (GDB manual, appendix G
// "Target Descriptions", and G.5.8 "RISC-V Features": org.gnu.gdb.riscv.cpu,
// .fpu, .csr and .virtual).
func (d *description) buildXML() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n")
	b.WriteString(`<!DOCTYPE target SYSTEM "gdb-target.dtd">` + "\n")
	b.WriteString("<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n")
	group := ""
	for _, r := range d.regs {
		if r.group != group {
			if group != "" {
				b.WriteString("</feature>\n")
			}
			group = r.group
			fmt.Fprintf(&b, "<feature name=\"org.gnu.gdb.riscv.%s\">\n", group)
			if group == "fpu" {
				// An FP register holds a NaN-boxed single or a double.
				b.WriteString("<union id=\"fpreg64\">\n" +
					"  <field name=\"float\" type=\"ieee_single\"/>\n" +
					"  <field name=\"double\" type=\"ieee_double\"/>\n</union>\n")
			}
		}
		fmt.Fprintf(&b, "<reg name=\"%s\" bitsize=\"%d\" regnum=\"%d\" type=\"%s\"", r.name, r.bits, r.num, r.typ)
		switch r.group {
		case "fpu":
			b.WriteString(` group="float"`)
		case "csr", "virtual":
			b.WriteString(` group="system"`)
		}
		b.WriteString("/>\n")
	}
	b.WriteString("</feature>\n</target>\n")
	return []byte(b.String())
}
