/* trap: synchronous exception causes and mtval/mepc values (privileged
 * spec 3.1.15-3.1.17, table 3.6): ECALL from M/S/U, EBREAK, illegal
 * instructions (mtval = the instruction word), load/store/fetch access
 * faults on unmapped physical addresses (mtval = the address), misaligned
 * loads and stores that complete without trapping (integer and FP, within
 * and across doublewords and pages), vectored mtvec (exceptions go to the
 * base), and the mstatus stack on trap entry (MPP, MPIE, MIE). */
#include "test.h"

/* Expect a trap from insn at local label 1; test n checks cause, epc. */
#define EXPECT(n, cause, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_TRAP_EPC(n, cause, 1b)
/* and test n+1 checks mtval == v */
#define EXPECT_TVAL(n, cause, v, insn...) \
	EXPECT(n, cause, insn); \
	TEST_CASE(n + 1, v, TRAPINFO(TI_TVAL))
/* mtval == the instruction word at 1b */
#define EXPECT_ILLEGAL(n, insn...) \
	EXPECT(n, CAUSE_ILLEGAL, insn); \
	li TESTNUM, n + 1; \
	la t0, 1b; \
	lwu t2, 0(t0); \
	TRAPINFO(TI_TVAL); \
	bne a4, t2, fail

TEST_BEGIN
	/* ECALL / EBREAK from M */
	EXPECT_TVAL(1, CAUSE_ECALL_M, 0, ecall)
	EXPECT(3, CAUSE_BREAKPOINT, ebreak)
	/* breakpoint mtval is 0 or the pc */
	TEST_CASE(4, 1, TRAPINFO(TI_TVAL); la a1, 1b; seqz a2, a4; sub a4, a4, a1; seqz a4, a4; or a4, a4, a2)
	/* trap entry from M: MPP = M, MPIE = old MIE (1), MIE = 0 */
	csrsi mstatus, MSTATUS_MIE
	EXPECT(5, CAUSE_ECALL_M, ecall)
	TEST_CASE(6, MSTATUS_MPP | MSTATUS_MPIE, TRAPINFO(TI_STATUS); li a1, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE; and a4, a4, a1)
	csrci mstatus, MSTATUS_MIE

	/* illegal instructions: mtval = the word */
	EXPECT_ILLEGAL(7, .word 0xfe000033)   /* OP with funct7 = 0x7f */
	EXPECT_ILLEGAL(9, .word 0x00007003)   /* LOAD funct3 = 7 */
	EXPECT_ILLEGAL(11, .word 0x00005053)  /* fadd.s with rm = 5 */
	EXPECT_ILLEGAL(13, .word 0xffffffff)  /* all ones */
	EXPECT_ILLEGAL(15, .word 0x0000307f)  /* reserved 64-bit-prefix */
	EXPECT_ILLEGAL(17, .word 0x40001033)  /* sll with funct7 = 0x20 */
	EXPECT_ILLEGAL(19, .word 0x0200201b)  /* OP-IMM-32 funct3 = 2 */
	EXPECT_ILLEGAL(21, .word 0x00003023 | (4 << 12)) /* STORE funct3 = 4 */
	EXPECT_ILLEGAL(23, .word 0x0000f00f)  /* MISC-MEM funct3 = 7 */
	EXPECT_ILLEGAL(25, .word 0x00300073)  /* SYSTEM PRIV funct12 = 3 */
	/* dynamic rounding with an invalid frm */
	csrwi frm, 5
	EXPECT_ILLEGAL(27, fadd.s fa0, fa1, fa2)
	csrwi frm, 7
	EXPECT_ILLEGAL(29, fmul.d fa0, fa1, fa2)
	csrwi frm, 0

	/* access faults: nothing is mapped at physical 0x0..0xff */
	li s0, 0x8
	EXPECT_TVAL(31, CAUSE_LOAD_ACCESS, 0x8, ld a4, 0(s0))
	EXPECT_TVAL(33, CAUSE_STORE_ACCESS, 0x8, sd a4, 0(s0))
	/* an AMO access fault is a store/AMO fault (7): amo_gemu.S */
	EXPECT_TVAL(37, CAUSE_LOAD_ACCESS, 0xc, lw a4, 4(s0))
	/* fetch access fault: mepc = mtval = the target, ra = link */
	EXPECT_TRAP(2f)
	li TESTNUM, 39
1:	jalr ra, s0, 0
	j fail
2:	TEST_CASE(39, CAUSE_FETCH_ACCESS, TRAPINFO(TI_CAUSE))
	TEST_CASE(40, 0x8, TRAPINFO(TI_EPC))
	TEST_CASE(41, 0x8, TRAPINFO(TI_TVAL))
	TEST_CASE(42, 0, la a1, 1b; addi a1, a1, 4; sub a4, ra, a1)

	/* misaligned loads and stores complete (no trap) */
	la s0, mis
	li a1, 0x0807060504030201
	sd a1, 0(s0)
	li a1, 0x100f0e0d0c0b0a09
	sd a1, 8(s0)
	TEST_CASE(43, 0x0908070605040302, ld a4, 1(s0))
	TEST_CASE(44, 0x0f0e0d0c0b0a0908, ld a4, 7(s0))
	TEST_CASE(45, 0x0000000006050403, lwu a4, 2(s0))
	TEST_CASE(46, 0x000000000a090807, lw a4, 6(s0))
	TEST_CASE(47, 0x0000000000000908, lh a4, 7(s0))
	TEST_CASE(48, 0x0000000000000302, lhu a4, 1(s0))
	TEST_CASE(49, 0xaabbccddeeff1122, li a1, 0xaabbccddeeff1122; sd a1, 3(s0); ld a4, 3(s0))
	TEST_CASE(50, 0xff112203, ld a4, 0(s0); srli a4, a4, 16; slli a4, a4, 32; srli a4, a4, 32)
	TEST_CASE(51, 0xffffffffdeadbeef, li a1, 0xdeadbeef; sw a1, 5(s0); lw a4, 5(s0))
	TEST_CASE(52, 0x000000000000cafe, li a1, 0xcafe; sh a1, 9(s0); lhu a4, 9(s0))
	/* FP misaligned */
	TEST_CASE(53, 0x0123456789abcdef, li a1, 0x0123456789abcdef; sd a1, 1(s0); fld fa0, 1(s0); fsd fa0, 3(s0); ld a4, 3(s0))
	TEST_CASE(54, 0x89abcdef, flw fa0, 3(s0); fsw fa0, 9(s0); lwu a4, 9(s0))
	/* across a page boundary */
	la s1, mis_page_end
	TEST_CASE(55, 0x1122334455667788, li a1, 0x1122334455667788; sd a1, -3(s1); ld a4, -3(s1))
	TEST_CASE(56, 0x0000000044556677, lwu a4, -2(s1))

	/* ECALL from S and U */
	GOTO_S(1f)
1:	EXPECT(57, CAUSE_ECALL_S, ecall)
	/* from S: MPP = S */
	TEST_CASE(58, 1 << 11, TRAPINFO(TI_STATUS); li a1, MSTATUS_MPP; and a4, a4, a1)
	TO_M
	GOTO_U(1f)
1:	EXPECT(59, CAUSE_ECALL_U, ecall)
	TEST_CASE(60, 0, TRAPINFO(TI_STATUS); li a1, MSTATUS_MPP; and a4, a4, a1)
	EXPECT_ILLEGAL(61, mret)
	EXPECT_ILLEGAL(63, sret)
	TO_M

	/* vectored mtvec: synchronous exceptions still go to the base */
	la t0, vectors
	ori t0, t0, 1
	csrw mtvec, t0
	li s11, 0
	EXPECT(65, CAUSE_ECALL_M, ecall)
	TEST_CASE(66, 0x100, mv a4, s11)
	TEST_CASE(67, 1, csrr a4, mtvec; andi a4, a4, 3)
	la t0, trap_m
	csrw mtvec, t0
TEST_END

	/* vector table: entry 0 (exceptions) marks s11 and goes on */
	.text
	.balign 256
	.option push
	.option norvc  /* 4-byte entries */
vectors:
	j vec_exc
	.rept 15
	j trap_m
	.endr
vec_exc:
	li s11, 0x100
	j trap_m
	.option pop

	.data
	.balign 16
mis:	.dword 0, 0, 0
	.balign 4096
	.skip 4096 - 16
	.dword 0, 0
mis_page_end:
	.dword 0, 0
