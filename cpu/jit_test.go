//go:build amd64

package cpu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"testing"

	"gemu/bus"
	"gemu/clock"
	"gemu/cpu/x64"
)

// The differential harness of the translator: random RV64GC programs run
// on two harts, one translating and one interpreting, and the translating
// one's architectural state is compared with the interpreter's after every
// block it runs (jitAfterBlock) and at the end of every Run call, whose
// budgets are random so that icount deadlines fall inside blocks.

const (
	diffCode = ramBase          // the random program, two pages
	diffData = ramBase + 0x8000 // what x10 and x11 point into
	diffRAM  = 64 << 10
)

// With paged, the hart runs in S mode under Sv39: RAM page i is mapped at
// virtual page diffVA/4096+i, and code page 0 once more at diffAlias, so
// the same translated bytes run at two virtual pcs (AUIPC, JAL and branch
// targets differ). Every exception is delegated to S mode and stvec is the
// program's start, so the hart never leaves paging.
const (
	diffVA    = 0x40000000
	diffAlias = diffVA + 16<<12
	diffPT    = ramBase + 0xc000 // root, L1 and L0 tables
)

func diffHart(t testing.TB, jit bool, prog []byte, paged bool) *Hart {
	b := bus.New(ramBase, diffRAM)
	clk := clock.NewDeterministic(0, nil)
	c := NewCluster(b, clk)
	if !c.SetJIT(jit) {
		t.Fatal("SetJIT failed")
	}
	if jit && diffTinyCode {
		code, err := x64.NewCode(16 << 10)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { code.Free() })
		c.jit.code = code // fills up often: every block dropped each time
	}
	h := c.NewHart(0)
	clk.SetCounter(h.Instret)
	h.Reset(diffCode)
	openPMP(h)
	if err := b.WriteDMA(diffCode, prog); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 0x4000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b.WriteDMA(diffData, data)
	va := func(pa uint64) uint64 { return pa }
	if paged {
		va = func(pa uint64) uint64 { return pa - ramBase + diffVA }
		pte := func(pa uint64, flags uint64) []byte {
			return binary.LittleEndian.AppendUint64(nil, pa>>12<<10|flags)
		}
		leaf := uint64(pteV | pteR | pteW | pteX | pteA | pteD)
		b.WriteDMA(diffPT+1*8, pte(diffPT+0x1000, pteV))    // root[1]: 1 GiB at diffVA
		b.WriteDMA(diffPT+0x1000, pte(diffPT+0x2000, pteV)) // L1[0]
		for i := uint64(0); i < diffRAM>>12; i++ {
			b.WriteDMA(diffPT+0x2000+8*i, pte(ramBase+i<<12, leaf))
		}
		b.WriteDMA(diffPT+0x2000+8*16, pte(ramBase, leaf)) // the alias
		h.csr.satp = satpSv39<<60 | diffPT>>12
		h.csr.medeleg = medelegMask
		h.csr.stvec = va(diffCode)
		h.pc = va(diffCode)
		h.priv = PrivS
		h.flushTLB()
	}
	h.x[10] = va(diffData + 0x100)
	h.x[11] = va(diffData + 0x2000)
	h.x[12] = va(diffCode + 0x40)   // stores through x12 modify the program
	h.x[13] = va(diffCode + 0x80)   // JALR targets
	h.x[14] = va(diffCode + 0x1010) // on the second page
	if paged && len(prog) > 0x100 && prog[0]&1 != 0 {
		h.x[13] = diffAlias + 0x80 // code page 0 at its second address
	}
	h.csr.mtvec = diffCode // traps restart the program
	h.csr.mstatus |= 1 << mstatusFSShift
	return h
}

// randProg returns n random instructions, most of them RV64IM that the
// translator handles, some it leaves to the interpreter.
func randProg(r *rand.Rand, n int) []byte {
	var out []byte
	w32 := func(w uint32) { out = binary.LittleEndian.AppendUint32(out, w) }
	reg := func() int { return []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15}[r.Intn(11)] }
	src := func() int { return r.Intn(16) }
	imm := func() int64 {
		switch r.Intn(4) {
		case 0:
			return int64(r.Intn(64)) - 32
		case 1:
			return -2048
		}
		return int64(r.Intn(4096)) - 2048
	}
	for len(out) < 4*n {
		switch k := r.Intn(100); {
		case k < 30:
			ops := []func(int, int, int) uint32{add, sub, sll, slt, sltu, xor, srl, sra, or, and,
				addw, subw, sllw, srlw, sraw, mul, mulh, mulhsu, mulhu, div, divu, rem, remu,
				mulw, divw, divuw, remw, remuw}
			w32(ops[r.Intn(len(ops))](reg(), src(), src()))
		case k < 45:
			ops := []func(int, int, int64) uint32{addi, slti, sltiu, xori, ori, andi, addiw}
			w32(ops[r.Intn(len(ops))](reg(), src(), imm()))
		case k < 50:
			ops := []func(int, int, int64) uint32{slli, srli, srai}
			w32(ops[r.Intn(3)](reg(), src(), int64(r.Intn(64))))
			ops = []func(int, int, int64) uint32{slliw, srliw, sraiw}
			w32(ops[r.Intn(3)](reg(), src(), int64(r.Intn(32))))
		case k < 53:
			w32(lui(reg(), int64(r.Uint32())))
			w32(auipc(reg(), int64(r.Uint32())))
		case k < 68:
			ops := []func(int, int, int64) uint32{lb, lh, lw, ld, lbu, lhu, lwu}
			size := []int64{1, 2, 4, 8, 1, 2, 4}
			i := r.Intn(len(ops))
			off := int64(r.Intn(256)) &^ (size[i] - 1)
			if r.Intn(10) == 0 {
				off |= 1 // misaligned: the slow path
			}
			base := 10 + r.Intn(2)
			if r.Intn(20) == 0 {
				base = 12
			}
			w32(ops[i](reg(), base, off))
		case k < 80:
			ops := []func(int, int, int64) uint32{sb, sh, sw, sd}
			i := r.Intn(4)
			off := int64(r.Intn(256)) &^ (1<<i - 1)
			if r.Intn(10) == 0 {
				off |= 1
			}
			base := 10 + r.Intn(2)
			if r.Intn(30) == 0 {
				base = 12 // self-modifying
			}
			w32(ops[i](src(), base, off))
		case k < 88:
			ops := []func(int, int, int64) uint32{beq, bne, blt, bge, bltu, bgeu}
			off := int64(r.Intn(48)-16) * 4
			if off == 0 {
				off = 8
			}
			w32(ops[r.Intn(6)](src(), src(), off))
		case k < 89:
			w32(jal(reg(), int64(r.Intn(32)-8)*4+4))
		case k < 90:
			w32(jalr(reg(), 13+r.Intn(2), int64(r.Intn(16))*4))
		case k < 92:
			// FP loads and stores; the CSR writes turn FS off and on.
			base := 10 + r.Intn(2)
			switch r.Intn(10) {
			case 6, 7, 8, 9:
				w32(fpInst(r)) // FP arithmetic (jit_fp_test.go)
			case 0:
				w32(fld(r.Intn(32), base, int64(r.Intn(32))*8))
			case 1:
				w32(flw(r.Intn(32), base, int64(r.Intn(64))*4+int64(r.Intn(2))))
			case 2:
				w32(fsd(r.Intn(32), base, int64(r.Intn(32))*8))
			case 3:
				w32(fsw(r.Intn(32), base, int64(r.Intn(64))*4))
			case 4:
				w32(csrrc(0, csrSstatus, src()))
			default:
				w32(csrrs(0, csrSstatus, src()))
			}
		case k < 94:
			// A random compressed instruction (some illegal).
			c := uint16(r.Uint32())
			if c&3 == 3 {
				c &^= 1
			}
			out = binary.LittleEndian.AppendUint16(out, c)
			out = binary.LittleEndian.AppendUint16(out, uint16(r.Uint32())&^3|1) // c.addi-like filler
		case k < 95:
			w32(csrrs(reg(), []uint32{csrInstret, csrCycle, csrMinstret, csrMcycle, csrTime}[r.Intn(5)], 0))
		case k < 96:
			w32([]uint32{ecall, ebreak, fenceI, nop, 0x0ff0000f}[r.Intn(5)])
		case k < 98:
			w32(r.Uint32())
		default:
			// LR and SC apart, so that plain stores come between, and
			// AMOs (on the data, now and then on the code).
			switch base := []int{10, 11, 11, 12}[r.Intn(4)]; r.Intn(4) {
			case 0:
				w32(lrd(reg(), 11))
			case 1:
				w32(scd(reg(), 11, src()))
			default:
				f5 := []uint32{0x00, 0x01, 0x04, 0x0c, 0x08, 0x10, 0x14, 0x18, 0x1c}[r.Intn(9)]
				w32(amo(f5, uint32(2+r.Intn(2)), reg(), base, src()))
			}
		}
	}
	return out
}

func diffState(a, b *Hart) string {
	if a.pc != b.pc || a.steps != b.steps {
		return fmt.Sprintf("pc %#x steps %d, interpreter pc %#x steps %d", a.pc, a.steps, b.pc, b.steps)
	}
	for i := 0; i < 32; i++ {
		if a.x[i] != b.x[i] {
			return fmt.Sprintf("x%d = %#x, interpreter %#x", i, a.x[i], b.x[i])
		}
	}
	if a.f != b.f {
		return "f registers differ"
	}
	if a.csr.fflags != b.csr.fflags || a.csr.frm != b.csr.frm {
		return fmt.Sprintf("fflags %#x frm %d, interpreter fflags %#x frm %d", a.csr.fflags, a.csr.frm, b.csr.fflags, b.csr.frm)
	}
	if a.priv != b.priv || a.csr.mcause != b.csr.mcause || a.csr.mepc != b.csr.mepc ||
		a.csr.mtval != b.csr.mtval || a.csr.mstatus != b.csr.mstatus || a.csr.instretAdj != b.csr.instretAdj ||
		a.csr.scause != b.csr.scause || a.csr.sepc != b.csr.sepc || a.csr.stval != b.csr.stval {
		return fmt.Sprintf("CSRs differ: mcause %d/%d mepc %#x/%#x mtval %#x/%#x", a.csr.mcause, b.csr.mcause,
			a.csr.mepc, b.csr.mepc, a.csr.mtval, b.csr.mtval)
	}
	if a.resOff != b.resOff {
		return fmt.Sprintf("reservation %#x, interpreter %#x", a.resOff, b.resOff)
	}
	return ""
}

func TestJITDifferential(t *testing.T) {
	t.Run("every block", func(t *testing.T) {
		jitNoChain = true
		defer func() { jitNoChain = false }()
		testDifferential(t, false)
	})
	t.Run("chained", func(t *testing.T) { testDifferential(t, false) })
	t.Run("Sv39", func(t *testing.T) { testDifferential(t, true) })
	t.Run("tiny code region", func(t *testing.T) {
		diffTinyCode = true
		defer func() { diffTinyCode = false }()
		testDifferential(t, true)
	})
}

var diffTinyCode bool

func testDifferential(t *testing.T, paged bool) {
	progs := 300
	if testing.Short() {
		progs = 60
	}
	fail, total := runDifferential(t, paged, progs)
	if fail != "" {
		t.Fatal(fail)
	}
	if jitNoChain && total < progs*100 {
		t.Errorf("only %d translated blocks ran", total)
	}
	t.Logf("%d programs, %d translated blocks compared", progs, total)
}

// TestJITDifferentialFails is the harness's mutation check: with the
// translator's deliberate bug (JITFault) on, it must find a difference.
func TestJITDifferentialFails(t *testing.T) {
	JITFault = true
	defer func() { JITFault = false }()
	fail, _ := runDifferential(t, false, 20)
	if fail == "" {
		t.Fatal("the differential test passed a translator that gets ADDI wrong")
	}
	t.Logf("as it should: %s", fail)
}

// runDifferential runs progs random programs and returns the first
// difference ("" if none) and the number of blocks compared.
func runDifferential(t *testing.T, paged bool, progs int) (string, int) {
	total := 0
	for seed := 0; seed < progs; seed++ {
		r := rand.New(rand.NewSource(int64(seed)))
		prog := randProg(r, 1+r.Intn(1500)) // up to 2 pages
		j := diffHart(t, true, prog, paged)
		ref := diffHart(t, false, prog, paged)
		blocks := 0
		var fail string
		jitAfterBlock = func(h *Hart) {
			if h != j || fail != "" {
				return
			}
			blocks++
			ref.Run(h.steps - ref.steps)
			if d := diffState(h, ref); d != "" {
				fail = fmt.Sprintf("after block %d: %s", blocks, d)
			}
		}
		for j.steps < 20000 && fail == "" {
			n := uint64(1 + r.Intn(300))
			if r.Intn(4) == 0 {
				n = uint64(1 + r.Intn(8))
			}
			got := j.Run(n)
			ref.Run(j.steps - ref.steps)
			if got != n {
				fail = fmt.Sprintf("Run(%d) = %d", n, got)
			} else if d := diffState(j, ref); d != "" {
				fail = "after Run: " + d
			} else if !bytes.Equal(j.ram, ref.ram) {
				fail = "RAM differs"
			}
		}
		jitAfterBlock = nil
		if fail == "" && paged && j.priv != PrivS {
			fail = "left S mode"
		}
		if fail != "" {
			return fmt.Sprintf("seed %d: %s", seed, fail), total
		}
		total += blocks
	}
	return "", total
}

// fpLoop is a floating-point loop: loads, a fused multiply-add and a store
// between integer bookkeeping (7 instructions per iteration), the kind of
// code whose FP instructions the translator leaves to the interpreter.
func fpLoop() []uint32 {
	return []uint32{
		auipc(10, 0x10000), // a0 = data (pc + 64 KiB: 0x80010000, in RAM)
		lui(11, 0x10000),   // a1 = counter (large)
		// loop:
		fld(1, 10, 0),
		fld(2, 10, 8),
		fma(0x43, 1, 3, 1, 2, 3, 0), // fmadd.d f3 = f1*f2+f3
		fsd(3, 10, 16),
		addi(11, 11, -1),
		bne(11, 0, -5*4),
		jal(0, 0),
	}
}

func BenchmarkFPLoop(b *testing.B) {
	for _, jit := range []bool{false, true} {
		b.Run(fmt.Sprintf("jit=%v", jit), func(b *testing.B) {
			h := testHart(b)
			h.cl.SetJIT(jit)
			h.csr.mstatus |= 1 << mstatusFSShift
			h.loadWords(ramBase, fpLoop()...)
			benchLoop(b, h)
		})
	}
}

// TestJITFPOff: with FS Off an FP load or store is illegal, translated or
// not.
func TestJITFPOff(t *testing.T) {
	le := func(ws ...uint32) []byte {
		var b []byte
		for _, w := range ws {
			b = binary.LittleEndian.AppendUint32(b, w)
		}
		return b
	}
	for _, in := range []uint32{fld(1, 10, 0), flw(1, 10, 4), fsd(1, 10, 8), fsw(1, 10, 12)} {
		// The integer load and store fill the TLBs, so that the FP
		// access would hit them.
		prog := le(lui(5, 0x6000), ld(8, 10, 0), sd(8, 10, 64), csrrc(0, csrSstatus, 5),
			addi(6, 6, 1), in, addi(7, 7, 1), jal(0, 0))
		j := diffHart(t, true, prog, false)
		j.csr.mtvec = diffCode + 7*4 // the jal
		ref := diffHart(t, false, prog, false)
		ref.csr.mtvec = j.csr.mtvec
		j.Run(20)
		ref.Run(20)
		if d := diffState(j, ref); d != "" {
			t.Errorf("%#x: %s", in, d)
		}
		if j.csr.mcause != excIllegal || j.x[7] != 0 {
			t.Errorf("%#x: mcause %d, x7 %d: not illegal", in, j.csr.mcause, j.x[7])
		}
	}
}

// TestJITCodeDMA: a device writing into translated code (and a debugger
// writing through the bus) is seen at the next block, as by the
// interpreter.
func TestJITCodeDMA(t *testing.T) {
	le := func(ws ...uint32) []byte {
		var b []byte
		for _, w := range ws {
			b = binary.LittleEndian.AppendUint32(b, w)
		}
		return b
	}
	prog := le(addi(5, 5, 1), addi(6, 6, 2), jal(0, -8))
	j := diffHart(t, true, prog, false)
	ref := diffHart(t, false, prog, false)
	for i, w := range []uint32{addi(6, 6, 3), xori(6, 6, 0x55), nop} {
		j.Run(1000)
		ref.Run(1000)
		if d := diffState(j, ref); d != "" {
			t.Fatalf("round %d: %s", i, d)
		}
		for _, h := range []*Hart{j, ref} {
			if err := h.bus.WriteDMA(diffCode+4, le(w)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if j.x[6] == 0 || j.x[6] == 2*j.x[5] {
		t.Errorf("x6 = %d: the rewritten instruction never ran", j.x[6])
	}
}

// TestJITTwoHarts runs the random programs on two harts of one cluster,
// in turns of random length as machine.Run does with -smp, translating
// against interpreting: both harts store to, and take reservations on, the
// same data, and both may rewrite the shared code.
func TestJITTwoHarts(t *testing.T) {
	progs := 100
	if testing.Short() {
		progs = 20
	}
	mk := func(jit bool, prog []byte) []*Hart {
		h0 := diffHart(t, jit, prog, false)
		h1 := h0.cl.NewHart(1)
		h0.cl.clk.SetCounter(func() uint64 { return h0.steps + h1.steps })
		h1.Reset(diffCode)
		openPMP(h1)
		h1.x = h0.x
		h1.x[15] = 1
		h1.csr.mtvec = h0.csr.mtvec
		h1.csr.mstatus = h0.csr.mstatus
		return []*Hart{h0, h1}
	}
	for seed := 0; seed < progs; seed++ {
		r := rand.New(rand.NewSource(int64(1000 + seed)))
		prog := randProg(r, 1+r.Intn(1500))
		j, ref := mk(true, prog), mk(false, prog)
		for turn := 0; turn < 200; turn++ {
			i := turn & 1
			n := uint64(1 + r.Intn(200))
			if got := j[i].Run(n); got != n {
				t.Fatalf("seed %d turn %d: Run(%d) = %d", seed, turn, n, got)
			}
			ref[i].Run(n)
			for k := range j {
				if d := diffState(j[k], ref[k]); d != "" {
					t.Fatalf("seed %d turn %d hart %d: %s", seed, turn, k, d)
				}
			}
			if !bytes.Equal(j[0].ram, ref[0].ram) {
				t.Fatalf("seed %d turn %d: RAM differs", seed, turn)
			}
		}
	}
}

// TestJITPreemptible: a guest spinning in translated code under a huge
// budget still returns to Go every jitSlice instructions, where the
// goroutine can be preempted (a stop-the-world of the runtime waits for
// it otherwise).
func TestJITPreemptible(t *testing.T) {
	h := diffHart(t, true, binary.LittleEndian.AppendUint32(nil, jal(0, 0)), false)
	last, longest := h.steps, uint64(0)
	jitAfterBlock = func(h *Hart) {
		longest = max(longest, h.steps-last)
		last = h.steps
	}
	defer func() { jitAfterBlock = nil }()
	const n = 20 * jitSlice
	if got := h.Run(n); got != n {
		t.Errorf("Run = %d", got)
	}
	if longest > jitSlice+jitMaxBlock {
		t.Errorf("%d instructions in one go", longest)
	}
}
