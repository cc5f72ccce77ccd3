package cpu

import (
	"encoding/binary"
	"testing"

	"gemu/bus"
	"gemu/clock"
)

// A tiny assembler for tests: each function returns one instruction word.

const ramBase = 0x80000000

func iType(opc, f3 uint32, rd, rs1 int, imm int64) uint32 {
	return encI(opc, uint32(rd), f3, uint32(rs1), int32(imm)&0xfff)
}
func rType(opc, f3, f7 uint32, rd, rs1, rs2 int) uint32 {
	return encR(opc, uint32(rd), f3, uint32(rs1), uint32(rs2), f7)
}

func addi(rd, rs1 int, imm int64) uint32  { return iType(0x13, 0, rd, rs1, imm) }
func slti(rd, rs1 int, imm int64) uint32  { return iType(0x13, 2, rd, rs1, imm) }
func sltiu(rd, rs1 int, imm int64) uint32 { return iType(0x13, 3, rd, rs1, imm) }
func xori(rd, rs1 int, imm int64) uint32  { return iType(0x13, 4, rd, rs1, imm) }
func ori(rd, rs1 int, imm int64) uint32   { return iType(0x13, 6, rd, rs1, imm) }
func andi(rd, rs1 int, imm int64) uint32  { return iType(0x13, 7, rd, rs1, imm) }
func slli(rd, rs1 int, sh int64) uint32   { return iType(0x13, 1, rd, rs1, sh) }
func srli(rd, rs1 int, sh int64) uint32   { return iType(0x13, 5, rd, rs1, sh) }
func srai(rd, rs1 int, sh int64) uint32   { return iType(0x13, 5, rd, rs1, sh|0x400) }
func addiw(rd, rs1 int, imm int64) uint32 { return iType(0x1b, 0, rd, rs1, imm) }
func slliw(rd, rs1 int, sh int64) uint32  { return iType(0x1b, 1, rd, rs1, sh) }
func srliw(rd, rs1 int, sh int64) uint32  { return iType(0x1b, 5, rd, rs1, sh) }
func sraiw(rd, rs1 int, sh int64) uint32  { return iType(0x1b, 5, rd, rs1, sh|0x400) }
func jalr(rd, rs1 int, imm int64) uint32  { return iType(0x67, 0, rd, rs1, imm) }
func lb(rd, rs1 int, imm int64) uint32    { return iType(0x03, 0, rd, rs1, imm) }
func lh(rd, rs1 int, imm int64) uint32    { return iType(0x03, 1, rd, rs1, imm) }
func lw(rd, rs1 int, imm int64) uint32    { return iType(0x03, 2, rd, rs1, imm) }
func ld(rd, rs1 int, imm int64) uint32    { return iType(0x03, 3, rd, rs1, imm) }
func lbu(rd, rs1 int, imm int64) uint32   { return iType(0x03, 4, rd, rs1, imm) }
func lhu(rd, rs1 int, imm int64) uint32   { return iType(0x03, 5, rd, rs1, imm) }
func lwu(rd, rs1 int, imm int64) uint32   { return iType(0x03, 6, rd, rs1, imm) }
func flw(rd, rs1 int, imm int64) uint32   { return iType(0x07, 2, rd, rs1, imm) }
func fld(rd, rs1 int, imm int64) uint32   { return iType(0x07, 3, rd, rs1, imm) }

func sType(f3 uint32, rs2, rs1 int, imm int64) uint32 {
	return encS(0x23, f3, uint32(rs1), uint32(rs2), int32(imm))
}
func sb(rs2, rs1 int, imm int64) uint32  { return sType(0, rs2, rs1, imm) }
func sh(rs2, rs1 int, imm int64) uint32  { return sType(1, rs2, rs1, imm) }
func sw(rs2, rs1 int, imm int64) uint32  { return sType(2, rs2, rs1, imm) }
func sd(rs2, rs1 int, imm int64) uint32  { return sType(3, rs2, rs1, imm) }
func fsw(rs2, rs1 int, imm int64) uint32 { return encS(0x27, 2, uint32(rs1), uint32(rs2), int32(imm)) }
func fsd(rs2, rs1 int, imm int64) uint32 { return encS(0x27, 3, uint32(rs1), uint32(rs2), int32(imm)) }

func add(rd, rs1, rs2 int) uint32    { return rType(0x33, 0, 0, rd, rs1, rs2) }
func sub(rd, rs1, rs2 int) uint32    { return rType(0x33, 0, 0x20, rd, rs1, rs2) }
func sll(rd, rs1, rs2 int) uint32    { return rType(0x33, 1, 0, rd, rs1, rs2) }
func slt(rd, rs1, rs2 int) uint32    { return rType(0x33, 2, 0, rd, rs1, rs2) }
func sltu(rd, rs1, rs2 int) uint32   { return rType(0x33, 3, 0, rd, rs1, rs2) }
func xor(rd, rs1, rs2 int) uint32    { return rType(0x33, 4, 0, rd, rs1, rs2) }
func srl(rd, rs1, rs2 int) uint32    { return rType(0x33, 5, 0, rd, rs1, rs2) }
func sra(rd, rs1, rs2 int) uint32    { return rType(0x33, 5, 0x20, rd, rs1, rs2) }
func or(rd, rs1, rs2 int) uint32     { return rType(0x33, 6, 0, rd, rs1, rs2) }
func and(rd, rs1, rs2 int) uint32    { return rType(0x33, 7, 0, rd, rs1, rs2) }
func addw(rd, rs1, rs2 int) uint32   { return rType(0x3b, 0, 0, rd, rs1, rs2) }
func subw(rd, rs1, rs2 int) uint32   { return rType(0x3b, 0, 0x20, rd, rs1, rs2) }
func sllw(rd, rs1, rs2 int) uint32   { return rType(0x3b, 1, 0, rd, rs1, rs2) }
func srlw(rd, rs1, rs2 int) uint32   { return rType(0x3b, 5, 0, rd, rs1, rs2) }
func sraw(rd, rs1, rs2 int) uint32   { return rType(0x3b, 5, 0x20, rd, rs1, rs2) }
func mul(rd, rs1, rs2 int) uint32    { return rType(0x33, 0, 1, rd, rs1, rs2) }
func mulh(rd, rs1, rs2 int) uint32   { return rType(0x33, 1, 1, rd, rs1, rs2) }
func mulhsu(rd, rs1, rs2 int) uint32 { return rType(0x33, 2, 1, rd, rs1, rs2) }
func mulhu(rd, rs1, rs2 int) uint32  { return rType(0x33, 3, 1, rd, rs1, rs2) }
func div(rd, rs1, rs2 int) uint32    { return rType(0x33, 4, 1, rd, rs1, rs2) }
func divu(rd, rs1, rs2 int) uint32   { return rType(0x33, 5, 1, rd, rs1, rs2) }
func rem(rd, rs1, rs2 int) uint32    { return rType(0x33, 6, 1, rd, rs1, rs2) }
func remu(rd, rs1, rs2 int) uint32   { return rType(0x33, 7, 1, rd, rs1, rs2) }
func mulw(rd, rs1, rs2 int) uint32   { return rType(0x3b, 0, 1, rd, rs1, rs2) }
func divw(rd, rs1, rs2 int) uint32   { return rType(0x3b, 4, 1, rd, rs1, rs2) }
func divuw(rd, rs1, rs2 int) uint32  { return rType(0x3b, 5, 1, rd, rs1, rs2) }
func remw(rd, rs1, rs2 int) uint32   { return rType(0x3b, 6, 1, rd, rs1, rs2) }
func remuw(rd, rs1, rs2 int) uint32  { return rType(0x3b, 7, 1, rd, rs1, rs2) }

func amo(f5 uint32, f3 uint32, rd, rs1, rs2 int) uint32 {
	return rType(0x2f, f3, f5<<2, rd, rs1, rs2)
}
func lrw(rd, rs1 int) uint32          { return amo(0x02, 2, rd, rs1, 0) }
func lrd(rd, rs1 int) uint32          { return amo(0x02, 3, rd, rs1, 0) }
func scw(rd, rs1, rs2 int) uint32     { return amo(0x03, 2, rd, rs1, rs2) }
func scd(rd, rs1, rs2 int) uint32     { return amo(0x03, 3, rd, rs1, rs2) }
func amoaddd(rd, rs1, rs2 int) uint32 { return amo(0x00, 3, rd, rs1, rs2) }

func lui(rd int, imm int64) uint32   { return uint32(imm)&^0xfff | uint32(rd)<<7 | 0x37 }
func auipc(rd int, imm int64) uint32 { return uint32(imm)&^0xfff | uint32(rd)<<7 | 0x17 }
func jal(rd int, off int64) uint32   { return encJ(uint32(rd), int32(off)) }
func branch(f3 uint32, rs1, rs2 int, off int64) uint32 {
	return encB(f3, uint32(rs1), uint32(rs2), int32(off))
}
func beq(rs1, rs2 int, off int64) uint32  { return branch(0, rs1, rs2, off) }
func bne(rs1, rs2 int, off int64) uint32  { return branch(1, rs1, rs2, off) }
func blt(rs1, rs2 int, off int64) uint32  { return branch(4, rs1, rs2, off) }
func bge(rs1, rs2 int, off int64) uint32  { return branch(5, rs1, rs2, off) }
func bltu(rs1, rs2 int, off int64) uint32 { return branch(6, rs1, rs2, off) }
func bgeu(rs1, rs2 int, off int64) uint32 { return branch(7, rs1, rs2, off) }

func csrrw(rd int, csr uint32, rs1 int) uint32 { return iType(0x73, 1, rd, rs1, int64(csr)) }
func csrrs(rd int, csr uint32, rs1 int) uint32 { return iType(0x73, 2, rd, rs1, int64(csr)) }
func csrrc(rd int, csr uint32, rs1 int) uint32 { return iType(0x73, 3, rd, rs1, int64(csr)) }
func csrrsi(rd int, csr uint32, u int) uint32  { return iType(0x73, 6, rd, u, int64(csr)) }

const (
	ecall     = 0x00000073
	ebreak    = 0x00100073
	mretW     = 0x30200073
	sretW     = 0x10200073
	wfiW      = 0x10500073
	fenceI    = 0x0000100f
	nop       = 0x00000013
	sfenceVMA = 0x12000073
)

// testHart is a hart on a 4 MiB RAM with a deterministic clock.
func testHart(t testing.TB) *Hart {
	t.Helper()
	b := bus.New(ramBase, 4<<20)
	clk := clock.NewDeterministic(0, nil)
	h := New(b, clk, 0)
	clk.SetCounter(h.Instret)
	h.Reset(ramBase)
	openPMP(h)
	return h
}

// loadWords writes words at physical address pa, through DMA so that the
// decoded-instruction cache sees the change.
func (h *Hart) loadWords(pa uint64, words ...uint32) {
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	if err := h.bus.WriteDMA(pa, b); err != nil {
		panic(err)
	}
}

// runProg loads a program at RAM base and runs n instructions.
func runProg(t testing.TB, n uint64, words ...uint32) *Hart {
	t.Helper()
	h := testHart(t)
	h.loadWords(ramBase, words...)
	h.Run(n)
	return h
}

// openPMP gives S and U mode all of memory through PMP entry 0 (NAPOT over
// the whole address space, RWX), as firmware does before it leaves M mode:
// with PMP entries implemented, S and U may otherwise access nothing.
func openPMP(h *Hart) {
	h.csr.pmpaddr[0] = 1<<54 - 1
	h.csr.pmpcfg[0] = pmpNAPO | pmpR | pmpW | pmpX
	h.pmpUpdate()
}
