package cpu

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The expected expansions were produced by GNU as (riscv64-unknown-elf,
// Debian) assembling each compressed instruction and its 32-bit equivalent.
func TestExpandC(t *testing.T) {
	tests := []struct {
		name string
		c    uint32
		w    uint32
	}{
		{"c.addi4spn", 0x1fe0, 0x3fc10413},
		{"c.fld", 0x3d64, 0x0f853487},
		{"c.lw", 0x5e6c, 0x07c62583},
		{"c.ld", 0x7f74, 0x0f873683},
		{"c.fsd", 0xa41c, 0x00f43427},
		{"c.sw", 0xc124, 0x04952023},
		{"c.sd", 0xe24c, 0x08b63023},
		{"c.nop", 0x0001, 0x00000013},
		{"c.addi", 0x1281, 0xfe028293},
		{"c.addiw", 0x237d, 0x01f3031b},
		{"c.li", 0x53fd, 0xfff00393},
		{"c.addi16sp-", 0x7101, 0xe0010113},
		{"c.addi16sp+", 0x617d, 0x1f010113},
		{"c.lui+", 0x64fd, 0x0001f4b7},
		{"c.lui-", 0x7501, 0xfffe0537},
		{"c.srli", 0x907d, 0x03f45413},
		{"c.srai", 0x8485, 0x4014d493},
		{"c.andi", 0x996d, 0xffb57513},
		{"c.sub", 0x8c05, 0x40940433},
		{"c.xor", 0x8d2d, 0x00b54533},
		{"c.or", 0x8e55, 0x00d66633},
		{"c.and", 0x8f7d, 0x00f77733},
		{"c.subw", 0x9c1d, 0x40f4043b},
		{"c.addw", 0x9ca9, 0x00a484bb},
		{"c.j+", 0xaffd, 0x7fe0006f},
		{"c.j-", 0xb001, 0x801ff06f},
		{"c.beqz", 0xcc7d, 0x0e040f63},
		{"c.bnez", 0xf081, 0xf00490e3},
		{"c.slli", 0x1ffe, 0x03ff9f93},
		{"c.fldsp", 0x30fe, 0x1f813087},
		{"c.lwsp", 0x517e, 0x0fc12103},
		{"c.ldsp", 0x71fe, 0x1f813183},
		{"c.jr", 0x8282, 0x00028067},
		{"c.mv", 0x831e, 0x00700333},
		{"c.ebreak", 0x9002, 0x00100073},
		{"c.jalr", 0x9402, 0x000400e7},
		{"c.add", 0x94aa, 0x00a484b3},
		{"c.fsdsp", 0xbfae, 0x1eb13c27},
		{"c.swsp", 0xdfb2, 0x0ec12e23},
		{"c.sdsp", 0xffb6, 0x1ed13c23},
	}
	for _, tc := range tests {
		w, ok := expandC(tc.c)
		if !ok || w != tc.w {
			t.Errorf("%s %#04x: got %#08x ok=%v, want %#08x", tc.name, tc.c, w, ok, tc.w)
		}
	}
}

func TestExpandCReserved(t *testing.T) {
	for _, c := range []uint32{
		0x0000, // all zeros: illegal
		0x0004, // c.addi4spn with nzuimm=0
		0x8000, // quadrant 0 funct3=100: reserved
		0x2001, // c.addiw x0
		0x6101, // c.addi16sp with 0
		0x6281, // c.lui x5, 0
		0x8002, // c.jr x0
		0x4002, // c.lwsp x0
		0x6002, // c.ldsp x0
		0x9c41, // c.subw funct2=10 reserved (bit12=1, 6:5=10)
	} {
		if w, ok := expandC(c); ok {
			t.Errorf("%#04x expanded to %#08x, want reserved", c, w)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		w    uint32
		want dinst
	}{
		{addi(5, 6, -1), dinst{op: opADDI, rd: 5, rs1: 6, rs2: 31, len: 4, imm: -1}},
		{addi(0, 0, 0), dinst{op: opADDI, rd: zeroSink, len: 4}},
		{lui(1, 0xfffff000), dinst{op: opLUI, rd: 1, rs1: 31, rs2: 31, len: 4, imm: -4096}},
		{beq(1, 2, -4), dinst{op: opBEQ, rd: 29, rs1: 1, rs2: 2, len: 4, imm: -4}},
		{jal(1, 2048), dinst{op: opJAL, rd: 1, rs2: 1, len: 4, imm: 2048}},
		{sd(3, 4, -8), dinst{op: opSD, rd: 24, rs1: 4, rs2: 3, len: 4, imm: -8}},
		{srai(7, 8, 63), dinst{op: opSRAI, rd: 7, rs1: 8, rs2: 31, len: 4, imm: 63}},
		{0xffffffff, dinst{op: opIllegal, rd: 31, rs1: 31, rs2: 31, len: 4}},
		{csrrw(0, 0x300, 1), dinst{op: opCSR, rd: zeroSink, rs1: 1, len: 4, fn: 1, imm: 0x300}},
		{csrrsi(2, 0x344, 5), dinst{op: opCSR, rd: 2, rs1: 5, rs2: 4, len: 4, fn: 6, imm: 0x344}},
		{lrw(1, 2), dinst{op: opAMO, rd: 1, rs1: 2, len: 4, fn: amoLR, aux: 4}},
		{amoaddd(0, 2, 3), dinst{op: opAMO, rd: zeroSink, rs1: 2, rs2: 3, len: 4, fn: amoADD, aux: 8}},
		{amo(0x1c, 3, 1, 2, 3), dinst{op: opAMO, rd: 1, rs1: 2, rs2: 3, len: 4, fn: amoMAXU, aux: 8}},
		{amo(0x02, 3, 1, 2, 3), dinst{op: opIllegal, rd: 1, rs1: 2, rs2: 3, len: 4, aux: 8}}, // LR with rs2 != 0
		// FP: rd stays as encoded (an f register), the rm field goes to aux.
		{fld(0, 2, -16), dinst{op: opFP, rs1: 2, rs2: 16, len: 4, fn: fpLoad | fpD, aux: 3, imm: -16}},
		{fsw(3, 2, 8), dinst{op: opFP, rd: 8, rs1: 2, rs2: 3, len: 4, fn: fpStore, aux: 2, imm: 8}},
		{fma(0x4b, 1, 1, 2, 3, 4, rdn), dinst{op: opFP, rd: 1, rs1: 2, rs2: 3, rs3: 4, len: 4, fn: fpNMSUB | fpD, aux: rdn}},
		{faddS(1, 2, 3, dyn), dinst{op: opFP, rd: 1, rs1: 2, rs2: 3, len: 4, fn: fpADD, aux: dyn}},
		{faddS(1, 2, 3, 5), dinst{op: opIllegal, rd: 1, rs1: 2, rs2: 3, len: 4}},     // reserved rm
		{fpR(0x02, 1, 2, 3, 0), dinst{op: opIllegal, rd: 1, rs1: 2, rs2: 3, len: 4}}, // fmt H
		{fcvtWD(5, 6, rtz), dinst{op: opFP, rd: 5, rs1: 6, len: 4, fn: fpCVTIF | fpD, aux: rtz}},
		{fpR(0x20, 1, 2, 1, rne), dinst{op: opFP, rd: 1, rs1: 2, rs2: 1, len: 4, fn: fpCVTFF, aux: rne}}, // FCVT.S.D
		{fpR(0x20, 1, 2, 0, rne), dinst{op: opIllegal, rd: 1, rs1: 2, len: 4}},                           // FCVT.S.S
		{fpR(0x10, 1, 2, 3, 3), dinst{op: opIllegal, rd: 1, rs1: 2, rs2: 3, len: 4}},                     // FSGNJ funct3 3
	}
	for _, tc := range tests {
		var d dinst
		decode(tc.w, &d)
		tc.want.raw = tc.w
		if diff := cmp.Diff(tc.want, d, cmp.AllowUnexported(dinst{})); diff != "" {
			t.Errorf("decode(%#08x) -want +got:\n%s", tc.w, diff)
		}
	}
}
