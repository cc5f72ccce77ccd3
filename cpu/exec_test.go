package cpu

import (
	"math"
	"testing"
)

const minI64 = uint64(1) << 63

func TestALU(t *testing.T) {
	neg := func(v int64) uint64 { return uint64(v) }
	tests := []struct {
		name string
		a, b uint64
		w    uint32
		want uint64
	}{
		{"addi", 5, 0, addi(3, 1, -7), neg(-2)},
		{"slti", neg(-5), 0, slti(3, 1, -4), 1},
		{"sltiu", 3, 0, sltiu(3, 1, -1), 1}, // imm sign-extended then unsigned
		{"xori", 0xff, 0, xori(3, 1, -1), ^uint64(0xff)},
		{"ori", 0xf0, 0, ori(3, 1, 0xf), 0xff},
		{"andi", 0xff, 0, andi(3, 1, 0x0f), 0x0f},
		{"slli63", 1, 0, slli(3, 1, 63), minI64},
		{"srli", minI64, 0, srli(3, 1, 63), 1},
		{"srai", minI64, 0, srai(3, 1, 63), ^uint64(0)},
		{"add", 1, 2, add(3, 1, 2), 3},
		{"sub", 1, 2, sub(3, 1, 2), ^uint64(0)},
		{"sll", 1, 65, sll(3, 1, 2), 2}, // shift amount mod 64
		{"slt", neg(-1), 0, slt(3, 1, 2), 1},
		{"sltu", neg(-1), 0, sltu(3, 1, 2), 0},
		{"xor", 6, 3, xor(3, 1, 2), 5},
		{"srl", minI64, 64 + 4, srl(3, 1, 2), minI64 >> 4},
		{"sra", minI64, 4, sra(3, 1, 2), 0xf800000000000000},
		{"or", 6, 3, or(3, 1, 2), 7},
		{"and", 6, 3, and(3, 1, 2), 2},
		{"addiw wraps", 0x7fffffff, 0, addiw(3, 1, 1), neg(math.MinInt32)},
		{"slliw", 1, 0, slliw(3, 1, 31), neg(math.MinInt32)},
		{"srliw", 0xffffffff80000000, 0, srliw(3, 1, 31), 1},
		{"sraiw", 0x80000000, 0, sraiw(3, 1, 4), 0xfffffffff8000000},
		{"addw", 0xffffffff, 1, addw(3, 1, 2), 0},
		{"subw", 0, 1, subw(3, 1, 2), ^uint64(0)},
		{"sllw", 1, 33, sllw(3, 1, 2), 2},
		{"srlw", 0x80000000, 31, srlw(3, 1, 2), 1},
		{"sraw", 0x80000000, 31, sraw(3, 1, 2), ^uint64(0)},
		{"mul", neg(-3), 7, mul(3, 1, 2), neg(-21)},
		{"mulh", neg(-1), neg(-1), mulh(3, 1, 2), 0},
		{"mulh big", minI64, minI64, mulh(3, 1, 2), 1 << 62},
		{"mulhsu", neg(-1), ^uint64(0), mulhsu(3, 1, 2), ^uint64(0)},
		{"mulhu", ^uint64(0), ^uint64(0), mulhu(3, 1, 2), ^uint64(0) - 1},
		{"div", neg(-7), 2, div(3, 1, 2), neg(-3)},
		{"div by 0", 7, 0, div(3, 1, 2), ^uint64(0)},
		{"div overflow", minI64, neg(-1), div(3, 1, 2), minI64},
		{"divu by 0", 7, 0, divu(3, 1, 2), ^uint64(0)},
		{"rem", neg(-7), 2, rem(3, 1, 2), neg(-1)},
		{"rem by 0", 7, 0, rem(3, 1, 2), 7},
		{"rem overflow", minI64, neg(-1), rem(3, 1, 2), 0},
		{"remu by 0", 7, 0, remu(3, 1, 2), 7},
		{"mulw", 0x10000, 0x10000, mulw(3, 1, 2), 0},
		{"divw overflow", 0x80000000, 0xffffffff, divw(3, 1, 2), neg(math.MinInt32)},
		{"divw by 0", 5, 0, divw(3, 1, 2), ^uint64(0)},
		{"divuw", 0xffffffff, 1, divuw(3, 1, 2), ^uint64(0)},
		{"remw by 0", 0x80000000, 0, remw(3, 1, 2), neg(math.MinInt32)},
		{"remw overflow", 0x80000000, 0xffffffff, remw(3, 1, 2), 0},
		{"remuw", 0xffffffff, 0x10, remuw(3, 1, 2), 0xf},
		{"lui", 0, 0, lui(3, 0x80000000), 0xffffffff80000000},
		{"auipc", 0, 0, auipc(3, 0x1000), ramBase + 0x1000},
		{"jal link", 0, 0, jal(3, 8), ramBase + 4},
		{"jalr link", 0, 0, jalr(3, 1, 0), ramBase + 4},
	}
	for _, tc := range tests {
		h := testHart(t)
		h.loadWords(ramBase, tc.w)
		h.SetX(1, tc.a)
		h.SetX(2, tc.b)
		h.Run(1)
		if got := h.X(3); got != tc.want {
			t.Errorf("%s: x3 = %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

func TestX0StaysZero(t *testing.T) {
	h := runProg(t, 3, addi(0, 0, 5), lui(0, 0x1000), add(1, 0, 0))
	if h.X(0) != 0 || h.X(1) != 0 {
		t.Fatalf("x0 = %d, x1 = %d", h.X(0), h.X(1))
	}
}

func TestBranches(t *testing.T) {
	neg1 := ^uint64(0)
	tests := []struct {
		name  string
		w     uint32
		a, b  uint64
		taken bool
	}{
		{"beq", beq(1, 2, 16), 4, 4, true},
		{"beq not", beq(1, 2, 16), 4, 5, false},
		{"bne", bne(1, 2, 16), 4, 5, true},
		{"blt signed", blt(1, 2, 16), neg1, 0, true},
		{"bltu unsigned", bltu(1, 2, 16), neg1, 0, false},
		{"bge equal", bge(1, 2, 16), 3, 3, true},
		{"bgeu", bgeu(1, 2, 16), neg1, 0, true},
		{"backwards", bne(1, 2, -4), 1, 0, true},
	}
	for _, tc := range tests {
		h := testHart(t)
		h.loadWords(ramBase+4, tc.w)
		h.SetPC(ramBase + 4)
		h.SetX(1, tc.a)
		h.SetX(2, tc.b)
		h.Run(1)
		want := uint64(ramBase + 8)
		if tc.taken {
			want = uint64(int64(ramBase+4) + int64(immB(tc.w)))
		}
		if h.PC() != want {
			t.Errorf("%s: pc = %#x, want %#x", tc.name, h.PC(), want)
		}
	}
}

func TestJALRClearsBit0(t *testing.T) {
	h := testHart(t)
	h.loadWords(ramBase, jalr(1, 1, 3))
	h.SetX(1, ramBase+0x100)
	h.Run(1)
	if h.PC() != ramBase+0x102 || h.X(1) != ramBase+4 {
		t.Fatalf("pc = %#x, ra = %#x", h.PC(), h.X(1))
	}
}

func TestLoadsStores(t *testing.T) {
	const data = ramBase + 0x1000
	tests := []struct {
		name string
		off  int64 // byte offset from data
		st   func(rs2, rs1 int, imm int64) uint32
		ld   func(rd, rs1 int, imm int64) uint32
		val  uint64
		want uint64
	}{
		{"sd/ld", 0, sd, ld, 0x1122334455667788, 0x1122334455667788},
		{"sw/lw sign", 8, sw, lw, 0x80000001, 0xffffffff80000001},
		{"sw/lwu", 8, sw, lwu, 0x80000001, 0x80000001},
		{"sh/lh", 16, sh, lh, 0x8001, 0xffffffffffff8001},
		{"sh/lhu", 16, sh, lhu, 0x8001, 0x8001},
		{"sb/lb", 20, sb, lb, 0x80, 0xffffffffffffff80},
		{"sb/lbu", 20, sb, lbu, 0x1ff, 0xff},
		{"misaligned ld", 3, sd, ld, 0x0102030405060708, 0x0102030405060708},
		{"misaligned lw", 1, sw, lw, 0x7fff0001, 0x7fff0001},
		{"misaligned lh", 7, sh, lhu, 0xbeef, 0xbeef},
		{"page-crossing ld", 0xffd, sd, ld, 0xa1a2a3a4a5a6a7a8, 0xa1a2a3a4a5a6a7a8},
		{"negative offset", -8, sd, ld, 42, 42},
	}
	for _, tc := range tests {
		h := testHart(t)
		h.loadWords(ramBase, tc.st(2, 1, 0), tc.ld(3, 1, 0))
		h.SetX(1, uint64(int64(data)+tc.off))
		h.SetX(2, tc.val)
		if n := h.Run(2); n != 2 || h.csr.mcause != 0 {
			t.Fatalf("%s: ran %d, mcause %d", tc.name, n, h.csr.mcause)
		}
		if got := h.X(3); got != tc.want {
			t.Errorf("%s: got %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

func TestAccessFault(t *testing.T) {
	tests := []struct {
		name  string
		w     uint32
		cause uint64
		steps uint64
	}{
		{"load", ld(3, 1, 0), excLoadAccess, 1},
		{"store", sd(3, 1, 0), excStoreAccess, 1},
		{"fetch", jalr(0, 1, 0), excInstrAccess, 2},
	}
	for _, tc := range tests {
		h := testHart(t)
		h.csr.mtvec = ramBase + 0x400
		h.loadWords(ramBase, tc.w)
		h.SetX(1, 0x4000_0000) // nothing mapped there
		h.Run(tc.steps)
		if h.csr.mcause != tc.cause || h.csr.mtval != 0x4000_0000 || h.PC() != ramBase+0x400 {
			t.Errorf("%s: mcause %d mtval %#x pc %#x", tc.name, h.csr.mcause, h.csr.mtval, h.PC())
		}
	}
}

func TestIllegalInstructionTval(t *testing.T) {
	for _, w := range []uint32{0xffffffff, 0x00000000, 0x0000_8000, csrrw(1, 0x7c0, 0)} {
		h := testHart(t)
		h.csr.mtvec = ramBase + 0x400
		h.loadWords(ramBase, w)
		h.Run(1)
		want := uint64(w)
		if w&3 != 3 {
			want = uint64(w & 0xffff)
		}
		if h.csr.mcause != excIllegal || h.csr.mtval != want || h.csr.mepc != ramBase {
			t.Errorf("%#08x: mcause %d mtval %#x mepc %#x", w, h.csr.mcause, h.csr.mtval, h.csr.mepc)
		}
	}
}

func TestSelfModifyingCode(t *testing.T) {
	// The program overwrites its own next instruction (addi x5,x0,1) with
	// addi x5,x0,2 and must execute the new one, without FENCE.I.
	h := testHart(t)
	newInsn := addi(5, 0, 2)
	h.loadWords(ramBase,
		lui(6, int64(newInsn)&^0xfff),
		addi(6, 6, int64(newInsn&0xfff)),
		auipc(7, 0),
		sw(6, 7, 8),
		addi(5, 0, 1),
	)
	// Decode the old instruction first so the cache holds it.
	h.Run(5)
	if h.X(5) != 2 {
		t.Fatalf("x5 = %d, want 2 (stale decoded instruction)", h.X(5))
	}

	// Same through DMA: rewrite and re-run.
	h2 := testHart(t)
	h2.loadWords(ramBase, addi(5, 0, 1), jal(0, -4))
	h2.Run(4)
	if err := h2.bus.Write32(ramBase, addi(5, 0, 7)); err != nil {
		t.Fatal(err)
	}
	h2.Run(2)
	if h2.X(5) != 7 {
		t.Fatalf("after DMA, x5 = %d, want 7", h2.X(5))
	}
}
