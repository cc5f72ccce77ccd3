/* rv64i: every RV64I instruction (unprivileged spec ch. 2 and 5):
 * register/immediate ALU ops, W forms and their sign extension, shifts by
 * register (only low 6/5 bits count), LUI/AUIPC, jumps, branches, loads and
 * stores of every width with sign/zero extension, x0 as destination,
 * FENCE and FENCE.I over self-modifying code. */
#include "test.h"

TEST_BEGIN

	/* add/sub and overflow wrap */
	TEST_RR(1, add, 0x00000003, 1, 2)
	TEST_RR(2, add, 0x0000000000000000, -1, 1)
	TEST_RR(3, add, 0x8000000000000000, 0x7fffffffffffffff, 1)
	TEST_RR(4, sub, 0xffffffffffffffff, 1, 2)
	TEST_RR(5, sub, 0x7fffffffffffffff, 0x8000000000000000, 1)
	TEST_RI(6, addi, 0x0000000000000800 - 1, 0, 0x7ff)
	TEST_RI(7, addi, 0xfffffffffffff800, 0, -0x800)
	TEST_RI(8, addi, 0x7fffffffffffffff, 0x8000000000000000, -1)
	/* logic */
	TEST_RR(9, and, 0x0f000f00, 0xff00ff00, 0x0f0f0f0f)
	TEST_RR(10, or, 0xff0fff0f, 0xff00ff00, 0x0f0f0f0f)
	TEST_RR(11, xor, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f)
	TEST_RI(12, andi, 0xff00ff00, 0xff00ff00, -1)
	TEST_RI(13, andi, 0x00000700, 0xff00ff00, 0x70f)
	TEST_RI(14, ori, 0xffffffffffffff0f, 0xff00ff00, -0xf1)
	TEST_RI(15, xori, 0xffffffff00ff000f, 0xff00ff0f, -1 ^ 0xff)
	/* set-less-than, signed and unsigned */
	TEST_RR(16, slt, 1, -1, 0)
	TEST_RR(17, slt, 0, 0, -1)
	TEST_RR(18, sltu, 0, -1, 0)
	TEST_RR(19, sltu, 1, 0, -1)
	TEST_RI(20, slti, 1, 0x8000000000000000, 0)
	TEST_RI(21, slti, 0, 0x7ff, 0x7ff)
	TEST_RI(22, sltiu, 1, 5, -1)     /* imm sign-extends, then unsigned */
	TEST_RI(23, sltiu, 0, -1, -1)
	/* shifts: only the low 6 bits of rs2 count (RV64) */
	TEST_RR(24, sll, 0x8000000000000000, 1, 63)
	TEST_RR(25, sll, 0x0000000000000002, 1, 65)
	TEST_RR(26, srl, 0x0000000000000001, 0x8000000000000000, 63)
	TEST_RR(27, srl, 0x4000000000000000, 0x8000000000000000, 0xffffffffffffffc1)
	TEST_RR(28, sra, 0xffffffffffffffff, 0x8000000000000000, 63)
	TEST_RR(29, sra, 0xc000000000000000, 0x8000000000000000, 1)
	TEST_RI(30, slli, 0x8000000000000000, 1, 63)
	TEST_RI(31, srli, 0x00000000ffffffff, -1, 32)
	TEST_RI(32, srai, 0xffffffff80000000, 0x8000000000000000, 32)
	/* W forms: 32-bit result sign-extended to 64 */
	TEST_RR(33, addw, 0xffffffff80000000, 0x7fffffff, 1)
	TEST_RR(34, addw, 0x0000000000000000, 0xffffffff, 1)
	TEST_RR(35, subw, 0x000000007fffffff, 0x80000000, 1)
	TEST_RR(36, subw, 0xffffffffffffffff, 0x1234500000000, 1)
	TEST_RI(37, addiw, 0xffffffff80000000, 0x7fffffff, 1)
	TEST_RI(38, addiw, 0x0000000000000005, 0xabcdef0000000006, -1)
	TEST_RR(39, sllw, 0xffffffff80000000, 1, 31)
	TEST_RR(40, sllw, 0x0000000000000002, 1, 33) /* low 5 bits */
	TEST_RR(41, srlw, 0x0000000000000001, 0xffffffff80000000, 31)
	TEST_RR(42, srlw, 0x000000007fffffff, 0xffffffffffffffff, 1)
	TEST_RR(43, sraw, 0xffffffffffffffff, 0x0000000080000000, 31)
	TEST_RR(44, sraw, 0x0000000000000001, 0xffffffff00000002, 33)
	TEST_RI(45, slliw, 0xffffffff80000000, 0x1, 31)
	TEST_RI(46, srliw, 0x0000000000ffffff, 0x12ffffffff, 8)
	TEST_RI(47, sraiw, 0xfffffffffff00000, 0x80000000, 11)
	TEST_RI(48, sraiw, 0x0000000000000000, 0x7fffffff, 31)
	/* x0 as destination, and as source */
	TEST_RR_ZERODEST(49, add, 5, 7)
	TEST_RR_SRC1_EQ_DEST(50, sub, 2, 7, 5)
	TEST_CASE(51, 7, li a1, 7; add a4, x0, a1)
	/* LUI, AUIPC */
	TEST_CASE(52, 0xffffffff80000000, lui a4, 0x80000)
	TEST_CASE(53, 0x000000007ffff000, lui a4, 0x7ffff)
	TEST_CASE(54, 0, la a1, 1f; 1: auipc a4, 0; sub a4, a4, a1)
	TEST_CASE(55, 0x1000, la a1, 1f; 1: auipc a4, 1; sub a4, a4, a1)

	/* JAL/JALR: link = pc+4, JALR clears bit 0 of the target */
	TEST_CASE(56, 0, la a1, 2f; 1: jal a4, 3f; 2: j fail; 3: sub a4, a4, a1)
	TEST_CASE(57, 0, la a1, 2f; addi a1, a1, 1; 1: jalr a5, a1, 0; j fail; 2: la a2, 1b; addi a2, a2, 4; sub a4, a5, a2)
	TEST_CASE(58, 0, la a1, 2f; addi a1, a1, -8; jalr a5, a1, 8; j fail; 2: mv a4, x0)
	/* jalr with rd == rs1: target computed from the old value */
	TEST_CASE(59, 0, la a5, 2f; jalr a5, a5, 0; j fail; 2: mv a4, x0)

	/* branches: taken and not taken, signed and unsigned */
#define BR_TAKEN(n, br, v1, v2) \
	TEST_CASE(n, 1, li a1, v1; li a2, v2; li a4, 0; br a1, a2, 1f; j 2f; 1: li a4, 1; 2:)
	BR_TAKEN(60, beq, 5, 5)
	BR_TAKEN(61, bne, 5, 6)
	BR_TAKEN(62, blt, -1, 0)
	BR_TAKEN(63, bge, 0, -1)
	BR_TAKEN(64, bge, -7, -7)
	BR_TAKEN(65, bltu, 0, -1)
	BR_TAKEN(66, bgeu, -1, 0)
	BR_TAKEN(67, bgeu, 3, 3)
#define BR_NOT(n, br, v1, v2) \
	TEST_CASE(n, 0, li a1, v1; li a2, v2; li a4, 0; br a1, a2, 1f; j 2f; 1: li a4, 1; 2:)
	BR_NOT(68, beq, 5, 6)
	BR_NOT(69, bne, 5, 5)
	BR_NOT(70, blt, 0, -1)
	BR_NOT(71, bge, -1, 0)
	BR_NOT(72, bltu, -1, 0)
	BR_NOT(73, bgeu, 0, -1)
	/* backward branch */
	TEST_CASE(74, 3, li a4, 0; li a1, 3; 1: addi a4, a4, 1; bne a4, a1, 1b)

	/* loads: sign and zero extension of every width */
	la s0, ldata
	TEST_CASE(75, 0xffffffffffffff81, lb a4, 0(s0))
	TEST_CASE(76, 0x0000000000000081, lbu a4, 0(s0))
	TEST_CASE(77, 0xffffffffffff8281, lh a4, 0(s0))
	TEST_CASE(78, 0x0000000000008281, lhu a4, 0(s0))
	TEST_CASE(79, 0xffffffff84838281, lw a4, 0(s0))
	TEST_CASE(80, 0x0000000084838281, lwu a4, 0(s0))
	TEST_CASE(81, 0x8887868584838281, ld a4, 0(s0))
	TEST_CASE(82, 0x0000000000000012, lb a4, 8(s0))
	TEST_CASE(83, 0x0000000000003412, lh a4, 8(s0))
	TEST_CASE(84, 0x0000000078563412, lw a4, 8(s0))
	TEST_CASE(85, 0xffffffffffffff88, lb a4, 15(s0)) /* 0x88 at +15 */
	TEST_CASE(86, 0xffffffff84838281, addi s1, s0, 16; lw a4, -16(s1))
	/* stores of every width, read back as a doubleword */
	la s0, sdata
	TEST_CASE(87, 0x00000000000000aa, sd x0, 0(s0); li a1, 0x12345678aa; sb a1, 0(s0); ld a4, 0(s0))
	TEST_CASE(88, 0x00000000bbbb00aa, li a1, 0xbbbb; sh a1, 2(s0); ld a4, 0(s0))
	TEST_CASE(89, 0xdeadbeefbbbb00aa, li a1, 0x11deadbeef; sw a1, 4(s0); ld a4, 0(s0))
	TEST_CASE(90, 0x0123456789abcdef, li a1, 0x0123456789abcdef; sd a1, 0(s0); ld a4, 0(s0))
	TEST_CASE(91, 0x0123456789abcdef, addi s1, s0, 2047; sd a1, -2047(s1); ld a4, 0(s0))
	/* load to x0 is discarded */
	TEST_CASE(92, 0, ld x0, 0(s0); mv a4, x0)

	/* FENCE, FENCE.TSO and FENCE.I: patch an instruction, fence.i, run it */
	TEST_CASE(93, 0, fence; fence rw, rw; fence.tso; fence iorw, iorw; li a4, 0)
	la s0, smc
	li a1, 0x02a00713   /* addi a4, x0, 42 */
	sw a1, 0(s0)
	fence.i
	TEST_CASE(94, 42, li a4, 0; jalr ra, s0, 0)
	li a1, 0x00700713   /* addi a4, x0, 7 */
	sw a1, 0(s0)
	fence.i
	TEST_CASE(95, 7, li a4, 0; jalr ra, s0, 0)

	/* NOP forms and hint encodings (writes to x0) do nothing */
	TEST_CASE(96, 9, li a4, 9; nop; addi x0, x0, 5; lui x0, 1; slli x0, a4, 3)

TEST_END

	.data
	.balign 16
ldata:	.byte 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88
	.byte 0x12, 0x34, 0x56, 0x78, 0x11, 0x22, 0x33, 0x88
sdata:	.dword 0, 0
	/* self-modifying code target, executable (no PMP/paging in M) */
	.balign 4
smc:	.word 0x00000013  /* nop, patched */
	.word 0x00008067  /* ret */
