package isa

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gemu/tests/rig"
)

// Differential test (nemu style): random straight-line programs of RV64GC
// instructions run on gemu and on QEMU, and every architectural register,
// fcsr and a checksum of the memory they wrote must come out identical.
// Seeds are fixed, so a failure is reproducible; GEMU_DIFF_DIR=dir keeps
// the generated programs for a closer look and GEMU_DIFF_N=n runs seeds
// 1..n instead of the default 16.

const (
	diffPrograms = 16
	diffLength   = 3000
)

// Registers: x0 zero, x2 sp, x3 gp (test number), x4 tp (buffer base),
// x5 t0 (address scratch) are reserved; the rest are fair game.
var diffXRegs = func() []string {
	var r []string
	r = append(r, "x1")
	for i := 6; i < 32; i++ {
		r = append(r, fmt.Sprintf("x%d", i))
	}
	return r
}()

var interesting64 = []uint64{
	0, 1, 2, 3, 0xffffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000,
	0x80000000, 0x7fffffff, 0xffffffff, 0xffffffff80000000, 0x100000000,
	0xfffffffffffff800, 0x7ff, 0x55555555aaaaaaaa, 0x0123456789abcdef,
}

var interestingF32 = []uint32{
	0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x40490fdb, 0x7f800000,
	0xff800000, 0x7fc00000, 0x7f800001, 0xffc00001, 0x00000001, 0x807fffff,
	0x00800000, 0x7f7fffff, 0x4f000000, 0xcf000000, 0x5f000000, 0x3effffff,
	0x3f000000, 0x4b000001,
}

var interestingF64 = []uint64{
	0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000,
	0x400921fb54442d18, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
	0x7ff0000000000001, 0x0000000000000001, 0x800fffffffffffff, 0x0010000000000000,
	0x7fefffffffffffff, 0x41e0000000000000, 0xc1e0000000000000, 0x43e0000000000000,
	0x3fe0000000000000, 0x4330000000000001, 0x41efffffffe00000,
}

type gen struct {
	r       *rand.Rand
	b       strings.Builder
	dst     string // register the last instruction wrote ("" if none)
	fpflags bool   // the last instruction may raise FP exception flags
}

func (g *gen) line(format string, args ...any) {
	fmt.Fprintf(&g.b, "\t"+format+"\n", args...)
}

func (g *gen) xreg() string { return diffXRegs[g.r.Intn(len(diffXRegs))] }
func (g *gen) freg() string { return fmt.Sprintf("f%d", g.r.Intn(32)) }

// xdst and fdst pick a destination and remember it, so that the value can
// be logged right after the instruction.
func (g *gen) xdst() string { g.dst = g.xreg(); return g.dst }
func (g *gen) fdst() string { g.dst = g.freg(); return g.dst }

func (g *gen) val64() uint64 {
	if g.r.Intn(3) == 0 {
		return g.r.Uint64()
	}
	v := interesting64[g.r.Intn(len(interesting64))]
	if g.r.Intn(4) == 0 {
		v += uint64(g.r.Intn(5)) - 2
	}
	return v
}

func (g *gen) fval() uint64 {
	switch g.r.Intn(5) {
	case 0: // boxed single
		return 0xffffffff00000000 | uint64(interestingF32[g.r.Intn(len(interestingF32))])
	case 1: // random boxed single
		return 0xffffffff00000000 | uint64(g.r.Uint32())
	case 2: // unboxed junk
		return g.r.Uint64()
	case 3:
		return interestingF64[g.r.Intn(len(interestingF64))]
	default: // random double of moderate exponent
		return uint64(g.r.Intn(2))<<63 | uint64(0x3c0+g.r.Intn(0x80))<<52 | g.r.Uint64()&(1<<52-1)
	}
}

var (
	rOps = []string{"add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
		"addw", "subw", "sllw", "srlw", "sraw", "mul", "mulh", "mulhsu", "mulhu", "div",
		"divu", "rem", "remu", "mulw", "divw", "divuw", "remw", "remuw"}
	iOps     = []string{"addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"}
	shOps    = []string{"slli", "srli", "srai"}
	shwOps   = []string{"slliw", "srliw", "sraiw"}
	loads    = []string{"lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"}
	stores   = []string{"sb", "sh", "sw", "sd"}
	amoOps   = []string{"amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu"}
	branches = []string{"beq", "bne", "blt", "bge", "bltu", "bgeu"}
	rms      = []string{"rne", "rtz", "rdn", "rup", "rmm", "dyn"}
	fp2      = []string{"fadd", "fsub", "fmul", "fdiv"}
	fpNoRM   = []string{"fmin", "fmax", "fsgnj", "fsgnjn", "fsgnjx"}
	fp3      = []string{"fmadd", "fmsub", "fnmadd", "fnmsub"}
	fcmp     = []string{"feq", "flt", "fle"}
	cvtInt   = []string{"w", "wu", "l", "lu"}
)

func (g *gen) insn() {
	r := g.r
	g.dst, g.fpflags = "", false
	prec := []string{"s", "d"}[r.Intn(2)]
	switch k := r.Intn(100); {
	case k < 25:
		g.line("%s %s, %s, %s", rOps[r.Intn(len(rOps))], g.xdst(), g.xreg(), g.xreg())
	case k < 35:
		g.line("%s %s, %s, %d", iOps[r.Intn(len(iOps))], g.xdst(), g.xreg(), r.Intn(4096)-2048)
	case k < 40:
		if r.Intn(2) == 0 {
			g.line("%s %s, %s, %d", shOps[r.Intn(3)], g.xdst(), g.xreg(), r.Intn(64))
		} else {
			g.line("%s %s, %s, %d", shwOps[r.Intn(3)], g.xdst(), g.xreg(), r.Intn(32))
		}
	case k < 42:
		g.line("lui %s, %d", g.xdst(), r.Intn(1<<20))
	case k < 48:
		g.line("andi t0, %s, 1023", g.xreg())
		g.line("add t0, t0, tp")
		g.line("%s %s, 0(t0)", loads[r.Intn(len(loads))], g.xdst())
	case k < 54:
		g.line("andi t0, %s, 1023", g.xreg())
		g.line("add t0, t0, tp")
		g.line("%s %s, 0(t0)", stores[r.Intn(len(stores))], g.xreg())
	case k < 58:
		w := []string{"w", "d"}[r.Intn(2)]
		mask := map[string]int{"w": 1020, "d": 1016}[w]
		g.line("andi t0, %s, %d", g.xreg(), mask)
		g.line("add t0, t0, tp")
		g.line("%s.%s %s, %s, (t0)", amoOps[r.Intn(len(amoOps))], w, g.xdst(), g.xreg())
	case k < 59:
		w := []string{"w", "d"}[r.Intn(2)]
		g.line("andi t0, %s, 1016", g.xreg())
		g.line("add t0, t0, tp")
		g.line("lr.%s %s, (t0)", w, g.xreg())
		g.line("sc.%s %s, %s, (t0)", w, g.xdst(), g.xreg())
	case k < 63:
		g.line("%s %s, %s, 1f", branches[r.Intn(len(branches))], g.xreg(), g.xreg())
		g.line("%s %s, %s, %s", rOps[r.Intn(10)], g.xdst(), g.xreg(), g.xreg())
		g.b.WriteString("1:\n")
	case k < 72:
		g.fpflags = true
		g.line("%s.%s %s, %s, %s, %s", fp2[r.Intn(len(fp2))], prec, g.fdst(), g.freg(), g.freg(), rms[r.Intn(len(rms))])
	case k < 74:
		g.fpflags = true
		g.line("fsqrt.%s %s, %s, %s", prec, g.fdst(), g.freg(), rms[r.Intn(len(rms))])
	case k < 78:
		g.fpflags = true
		g.line("%s.%s %s, %s, %s", fpNoRM[r.Intn(len(fpNoRM))], prec, g.fdst(), g.freg(), g.freg())
	case k < 82:
		g.fpflags = true
		g.line("%s.%s %s, %s, %s, %s, %s", fp3[r.Intn(len(fp3))], prec, g.fdst(), g.freg(), g.freg(), g.freg(), rms[r.Intn(len(rms))])
	case k < 84:
		g.fpflags = true
		g.line("%s.%s %s, %s, %s", fcmp[r.Intn(len(fcmp))], prec, g.xdst(), g.freg(), g.freg())
	case k < 85:
		g.line("fclass.%s %s, %s", prec, g.xdst(), g.freg())
	case k < 88:
		g.fpflags = true
		g.line("fcvt.%s.%s %s, %s, %s", cvtInt[r.Intn(4)], prec, g.xdst(), g.freg(), rms[r.Intn(len(rms))])
	case k < 90:
		src := cvtInt[r.Intn(4)]
		if prec == "d" && (src == "w" || src == "wu") { // exact: no rounding mode
			g.line("fcvt.d.%s %s, %s", src, g.fdst(), g.xreg())
		} else {
			g.fpflags = true
			g.line("fcvt.%s.%s %s, %s, %s", prec, src, g.fdst(), g.xreg(), rms[r.Intn(len(rms))])
		}
	case k < 91:
		if prec == "s" {
			g.fpflags = true
			g.line("fcvt.s.d %s, %s, %s", g.fdst(), g.freg(), rms[r.Intn(len(rms))])
		} else {
			g.fpflags = true
			g.line("fcvt.d.s %s, %s", g.fdst(), g.freg())
		}
	case k < 93:
		switch r.Intn(4) {
		case 0:
			g.line("fmv.x.w %s, %s", g.xdst(), g.freg())
		case 1:
			g.line("fmv.w.x %s, %s", g.fdst(), g.xreg())
		case 2:
			g.line("fmv.x.d %s, %s", g.xdst(), g.freg())
		default:
			g.line("fmv.d.x %s, %s", g.fdst(), g.xreg())
		}
	case k < 96:
		g.line("andi t0, %s, 1016", g.xreg())
		g.line("add t0, t0, tp")
		op := map[bool][]string{true: {"flw", "fsw"}, false: {"fld", "fsd"}}[prec == "s"][r.Intn(2)]
		if op[1] == 'l' {
			g.line("%s %s, 0(t0)", op, g.fdst())
		} else {
			g.line("%s %s, 0(t0)", op, g.freg())
		}
	case k < 97:
		g.line("fsrmi %d", r.Intn(5))
	default:
		// compressed forms the assembler will pick for these registers
		cr := []string{"x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15"}
		a, b := cr[r.Intn(8)], cr[r.Intn(8)]
		g.dst = a
		switch r.Intn(6) {
		case 0:
			g.line("c.addw %s, %s", a, b)
		case 1:
			g.line("c.subw %s, %s", a, b)
		case 2:
			g.line("c.srai %s, %d", a, 1+r.Intn(63))
		case 3:
			g.line("c.andi %s, %d", a, r.Intn(64)-32)
		case 4:
			g.line("c.addiw %s, %d", a, r.Intn(64)-32)
		default:
			g.line("c.slli %s, %d", a, 1+r.Intn(63))
		}
	}
}

// diffProgram returns the assembly source for one seed.
func diffProgram(seed int64) string {
	g := &gen{r: rand.New(rand.NewSource(seed))}
	g.b.WriteString("/* generated by diff_test.go, seed " + fmt.Sprint(seed) + " */\n#include \"test.h\"\nTEST_BEGIN\n")
	g.line("la tp, diffbuf")
	for i := 0; i < 1032; i += 8 {
		g.line("li t0, 0x%x", g.val64())
		g.line("sd t0, %d(tp)", i)
	}
	for _, x := range diffXRegs {
		g.line("li %s, 0x%x", x, g.val64())
	}
	for i := 0; i < 32; i++ {
		g.line("li t0, 0x%x", g.fval())
		g.line("fmv.d.x f%d, t0", i)
	}
	g.line("fsrmi %d", g.r.Intn(5))
	g.line("fsflags x0")
	// gp walks a log of intermediate results: most written registers and
	// the fflags of every FP operation (then cleared), so that a wrong
	// value is seen even if later instructions wash it out.
	g.line("la gp, difflog")
	for i := 0; i < diffLength; i++ {
		if i%200 == 199 { // fresh values against convergence to 0 / NaN
			for k := 0; k < 4; k++ {
				g.line("li %s, 0x%x", g.xreg(), g.val64())
				g.line("li t0, 0x%x", g.fval())
				g.line("fmv.d.x %s, t0", g.freg())
			}
		}
		g.insn()
		if g.dst != "" && g.r.Intn(3) != 0 {
			if g.dst[0] == 'f' {
				g.line("fsd %s, 0(gp)", g.dst)
			} else {
				g.line("sd %s, 0(gp)", g.dst)
			}
			g.line("addi gp, gp, 8")
		}
		if g.fpflags {
			g.line("frflags t0")
			g.line("sd t0, 0(gp)")
			g.line("addi gp, gp, 8")
			g.line("fsflags x0")
		}
	}
	g.line("la t0, difflog")
	g.line("sub t0, gp, t0")
	g.line("la t1, difflogend")
	g.line("sd t0, 0(t1)")
	// dump: x registers, f registers, fcsr, buffer checksum
	g.line("la gp, diffdump")
	for i, x := range append([]string{"x1", "x4", "x5"}, diffXRegs[1:]...) {
		g.line("sd %s, %d(gp)", x, 8*i)
	}
	for i := 0; i < 32; i++ {
		g.line("fsd f%d, %d(gp)", i, 8*(32+i))
	}
	g.line("frcsr t0")
	g.line("sd t0, %d(gp)", 8*64)
	g.line("li t1, 0")
	g.line("li t2, 1032")
	g.line("mv t3, tp")
	g.b.WriteString("1:\n")
	g.line("ld t4, 0(t3)")
	g.line("slli t5, t1, 7")
	g.line("srli t1, t1, 57")
	g.line("or t1, t1, t5")
	g.line("xor t1, t1, t4")
	g.line("addi t3, t3, 8")
	g.line("addi t2, t2, -8")
	g.line("bnez t2, 1b")
	g.line("la t3, difflog")
	g.line("la t2, difflogend")
	g.line("ld t2, 0(t2)")
	g.line("beqz t2, 4f")
	g.b.WriteString("3:\n")
	g.line("ld t4, 0(t3)")
	g.line("slli t5, t1, 7")
	g.line("srli t1, t1, 57")
	g.line("or t1, t1, t5")
	g.line("xor t1, t1, t4")
	g.line("addi t3, t3, 8")
	g.line("addi t2, t2, -8")
	g.line("bnez t2, 3b")
	g.b.WriteString("4:\n")
	g.line("sd t1, %d(gp)", 8*65)
	g.line("li s0, 0")
	g.b.WriteString("2:\n")
	g.line("la gp, diffdump")
	g.line("add s1, gp, s0")
	g.line("ld a0, 0(s1)")
	g.line("call uart_hex")
	g.line("la a0, str_nl")
	g.line("call uart_puts")
	g.line("addi s0, s0, 8")
	g.line("li s1, %d", 8*66)
	g.line("blt s0, s1, 2b")
	g.line("li gp, 1")
	g.b.WriteString("TEST_END\n\t.data\n\t.balign 8\ndiffbuf: .skip 1040\ndiffdump: .skip 8*66\ndifflogend: .dword 0\n")
	fmt.Fprintf(&g.b, "\t.bss\n\t.balign 8\ndifflog: .skip %d\n", 8*2*diffLength+64)
	return g.b.String()
}

// TestDiffQEMU runs the random programs on both emulators and compares the
// dumps line by line.
func TestDiffQEMU(t *testing.T) {
	build(t) // toolchain check and the handwritten tests compile
	qemu := rig.Need(t, rig.QEMU)
	bin := gemu(t)
	dir := os.Getenv("GEMU_DIFF_DIR") // keep the programs there, for debugging
	if dir == "" {
		dir = t.TempDir()
	}
	n := int64(diffPrograms)
	if v, err := strconv.Atoi(os.Getenv("GEMU_DIFF_N")); err == nil && v > 0 {
		n = int64(v) // more programs for a bug hunt
	}
	for seed := int64(1); seed <= n; seed++ {
		seed := seed
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			t.Parallel()
			src := filepath.Join(dir, fmt.Sprintf("diff%d.S", seed))
			elf := strings.TrimSuffix(src, ".S") + ".elf"
			if err := os.WriteFile(src, []byte(diffProgram(seed)), 0o644); err != nil {
				t.Fatal(err)
			}
			assemble(t, src, elf)
			ref := output(t, qemu, "-machine", "virt", "-bios", "none", "-kernel", elf, "-nographic", "-monitor", "none", "-serial", "stdio")
			got := output(t, bin, "-machine", "virt", "-bios", "none", "-kernel", elf, "-nographic")
			if ref != got {
				t.Errorf("gemu and QEMU disagree (program %s):\n%s", src, diffDump(ref, got))
			}
		})
	}
}

func output(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out := rig.ExecOK(t, bin, args...)
	// keep the dump and the PASS line; drop emulator chatter
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if len(l) == 16 || l == "PASS" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// diffDump names the registers whose values differ.
func diffDump(ref, got string) string {
	names := []string{"x1", "x4", "x5"}
	names = append(names, diffXRegs[1:]...)
	for i := 0; i < 32; i++ {
		names = append(names, fmt.Sprintf("f%d", i))
	}
	names = append(names, "fcsr", "memsum+log")
	r, g := strings.Split(ref, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(r) || i < len(g); i++ {
		var rv, gv string
		if i < len(r) {
			rv = r[i]
		}
		if i < len(g) {
			gv = g[i]
		}
		if rv != gv {
			name := "?"
			if i < len(names) {
				name = names[i]
			}
			fmt.Fprintf(&b, "  %-6s qemu %s gemu %s\n", name, rv, gv)
		}
	}
	return b.String()
}
