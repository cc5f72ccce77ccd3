/* rv64c: every RV64C instruction (unprivileged spec ch. 16), written with
 * explicit c.* mnemonics so the encodings are the compressed ones: stack-
 * pointer-based and register-based loads/stores (integer and double),
 * immediates at their extremes, the CA/CB ALU ops incl. the W forms, jumps
 * and branches with their link value pc+2, C.EBREAK, and reserved encodings
 * raising illegal instruction with the 16-bit word in mtval (privileged
 * spec 3.1.16). */
#include "test.h"

TEST_BEGIN
	.option push
	.option rvc

	/* CIW: c.addi4spn */
	TEST_CASE(1, 1020, c.addi4spn a4, sp, 1020; sub a4, a4, sp)
	TEST_CASE(2, 4, c.addi4spn a4, sp, 4; sub a4, a4, sp)

	/* CL/CS: word and doubleword, sign extension of c.lw */
	la s0, cdata
	TEST_CASE(3, 0xffffffff89abcdef, c.lw a4, 0(s0))
	TEST_CASE(4, 0x0123456789abcdef, c.ld a4, 0(s0))
	TEST_CASE(5, 0x0000000076543210, c.lw a4, 124(s0))
	TEST_CASE(6, 0xfedcba9876543210, c.ld a4, 248(s0))
	TEST_CASE(7, 0x00000000deadbeef, li a5, 0x11deadbeef; c.sw a5, 8(s0); lwu a4, 8(s0))
	TEST_CASE(8, 0x1122334455667788, li a5, 0x1122334455667788; c.sd a5, 16(s0); ld a4, 16(s0))
	/* c.fld / c.fsd */
	TEST_CASE(9, 0x0123456789abcdef, c.fld fa5, 0(s0); c.fsd fa5, 24(s0); ld a4, 24(s0))

	/* CI: c.nop, c.addi, c.addiw, c.li, c.lui, c.addi16sp, c.slli */
	TEST_CASE(10, 5, li a4, 5; c.nop)
	TEST_CASE(11, 36, li a4, 5; c.addi a4, 31)
	TEST_CASE(12, -27, li a4, 5; c.addi a4, -32)
	TEST_CASE(13, 0xffffffff80000000, li a4, 0x7fffffff; c.addiw a4, 1)
	TEST_CASE(14, 0xffffffff80000000, li a4, 0x1280000000; c.addiw a4, 0) /* sext.w */
	TEST_CASE(15, 0x000000007fffffff, li a4, 0x80000000; c.addiw a4, -1)
	TEST_CASE(16, 31, c.li a4, 31)
	TEST_CASE(17, 0xffffffffffffffe0, c.li a4, -32)
	TEST_CASE(18, 0x1000, c.lui a4, 1)
	TEST_CASE(19, 0x1f000, c.lui a4, 0x1f)
	TEST_CASE(20, 0xfffffffffffe0000, c.lui a4, 0xfffe0)  /* nzimm = -32 */
	TEST_CASE(21, 0xfffffffffffff000, c.lui a4, 0xfffff)  /* nzimm = -1 */
	TEST_CASE(22, -512, mv s1, sp; c.addi16sp sp, -512; sub a4, sp, s1; mv sp, s1)
	TEST_CASE(23, 496, mv s1, sp; c.addi16sp sp, 496; sub a4, sp, s1; mv sp, s1)
	TEST_CASE(24, 0x8000000000000000, li a4, 1; c.slli a4, 63)
	TEST_CASE(25, 0x0000000100000000, li t3, 1; c.slli t3, 32; mv a4, t3)  /* any rd */

	/* CB: c.srli, c.srai, c.andi */
	TEST_CASE(26, 1, li a4, 0x8000000000000000; c.srli a4, 63)
	TEST_CASE(27, 0x00000000ffffffff, li a4, -1; c.srli a4, 32)
	TEST_CASE(28, 0xffffffffffffffff, li a4, 0x8000000000000000; c.srai a4, 63)
	TEST_CASE(29, 0x0000000000000001, li a4, 0x4000000000000000; c.srai a4, 62)
	TEST_CASE(30, 0xfffffffffffffff0, li a4, -1; c.andi a4, -16)
	TEST_CASE(31, 0x1f, li a4, -1; c.andi a4, 31)

	/* CA: c.sub/xor/or/and/subw/addw */
	TEST_CASE(32, -3, li a4, 2; li a5, 5; c.sub a4, a5)
	TEST_CASE(33, 0x0ff0, li a4, 0x0f0f; li a5, 0x00ff; c.xor a4, a5)
	TEST_CASE(34, 0x0fff, li a4, 0x0f0f; li a5, 0x00ff; c.or a4, a5)
	TEST_CASE(35, 0x000f, li a4, 0x0f0f; li a5, 0x00ff; c.and a4, a5)
	TEST_CASE(36, 0x000000007fffffff, li a4, 0x80000000; li a5, 1; c.subw a4, a5)
	TEST_CASE(37, 0xffffffff80000000, li a4, 0x7fffffff; li a5, 1; c.addw a4, a5)
	TEST_CASE(38, 0, li a4, 0xffffffff; li a5, 0x100000001; c.addw a4, a5)

	/* CR: c.mv, c.add, c.jr, c.jalr */
	TEST_CASE(39, 77, li t3, 77; c.mv a4, t3)
	TEST_CASE(40, 80, li a4, 3; li t3, 77; c.add a4, t3)
	TEST_CASE(41, 1, la t3, 1f; li a4, 0; c.jr t3; j 2f; 1: li a4, 1; 2:)
	/* c.jalr links pc+2 */
	TEST_CASE(42, 2, la t3, 2f; 1: c.jalr t3; j fail; 2: la t4, 1b; sub a4, ra, t4)
	/* c.jalr with rs1 = ra: target from the old ra */
	TEST_CASE(43, 0, la ra, 2f; c.jalr ra; j fail; 2: li a4, 0)

	/* CJ: c.j and c.jal is RV32-only (RV64 reuses it as c.addiw) */
	TEST_CASE(44, 1, li a4, 0; c.j 1f; j 2f; 1: li a4, 1; 2:)
	TEST_CASE(45, 3, li a4, 0; li a5, 3; 1: c.addi a4, 1; bne a4, a5, 1b)
	/* CB branches */
	TEST_CASE(46, 1, li a4, 0; li a5, 0; c.beqz a5, 1f; j 2f; 1: li a4, 1; 2:)
	TEST_CASE(47, 0, li a4, 0; li a5, 1; c.beqz a5, 1f; j 2f; 1: li a4, 1; 2:)
	TEST_CASE(48, 1, li a4, 0; li a5, -1; c.bnez a5, 1f; j 2f; 1: li a4, 1; 2:)
	TEST_CASE(49, 0, li a4, 0; li a5, 0; c.bnez a5, 1f; j 2f; 1: li a4, 1; 2:)

	/* CSS/CI stack-pointer forms */
	li a5, 0x0123456789abcdef
	TEST_CASE(50, 0x0123456789abcdef, c.sdsp a5, 504(sp); c.ldsp a4, 504(sp))
	TEST_CASE(51, 0xffffffff89abcdef, c.swsp a5, 252(sp); c.lwsp a4, 252(sp))
	TEST_CASE(52, 0x0123456789abcdef, c.sdsp a5, 0(sp); c.fldsp fa4, 0(sp); c.fsdsp fa4, 8(sp); c.ldsp a4, 8(sp))
	TEST_CASE(53, 0x0000000089abcdef, c.swsp a5, 16(sp); lwu a4, 16(sp))

	/* C.EBREAK: breakpoint, epc = its address */
	EXPECT_TRAP(2f)
1:	c.ebreak
	j fail
2:	CHECK_TRAP_EPC(54, CAUSE_BREAKPOINT, 1b)

	/* reserved encodings: illegal instruction, mtval = the 16 bits */
#define C_ILLEGAL(n, bits) \
	EXPECT_TRAP(2f); \
1:	.hword bits; \
	j fail; \
2:	CHECK_TRAP_EPC(n, CAUSE_ILLEGAL, 1b); \
	TEST_CASE(n + 1, bits, TRAPINFO(TI_TVAL))
	C_ILLEGAL(55, 0x0000)  /* all zeros */
	C_ILLEGAL(57, 0x0004)  /* c.addi4spn nzuimm = 0 */
	C_ILLEGAL(59, 0x8002)  /* c.jr x0 */
	C_ILLEGAL(61, 0x4002)  /* c.lwsp x0 */
	C_ILLEGAL(63, 0x6002)  /* c.ldsp x0 */
	C_ILLEGAL(65, 0x2001)  /* c.addiw x0 */
	C_ILLEGAL(67, 0x6101)  /* c.addi16sp nzimm = 0 */
	C_ILLEGAL(69, 0x6701)  /* c.lui a4, nzimm = 0 */
	C_ILLEGAL(71, 0x9c41)  /* reserved CA encoding (funct6 100111, funct2 10) */

	.option pop
TEST_END

	.data
	.balign 8
cdata:	.dword 0x0123456789abcdef, 0, 0, 0
	.fill 11, 8, 0
	.word 0, 0x76543210
	.fill 15, 8, 0
	.dword 0xfedcba9876543210
