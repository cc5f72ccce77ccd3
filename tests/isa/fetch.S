/* fetch: instruction fetch corner cases a decoded-instruction cache must
 * get right: a 32-bit instruction straddling a page boundary (bare and
 * translated), a fetch page fault on its second half (mepc = start of the
 * instruction, mtval = the faulting portion, privileged spec 3.1.16),
 * rewriting already executed code followed by FENCE.I (also a compressed
 * instruction replaced by half of a 32-bit one), and code reached through
 * two virtual aliases of the same physical page. */
#include "test.h"
#include "vm.h"

TEST_BEGIN
	/* bare: run the straddling instruction */
	TEST_CASE(1, 0x5a5, li a4, 0; call straddle)

	/* self-modifying code: run, patch, FENCE.I, run again */
	la s0, patch
	TEST_CASE(2, 1, li a4, 0; jalr ra, s0, 0)
	li a1, 0x00200713      /* addi a4, x0, 2 */
	sw a1, 0(s0)
	fence.i
	TEST_CASE(3, 2, li a4, 0; jalr ra, s0, 0)
	/* a c.li a4, 3 followed by c.nop replaced in one halfword pair */
	li a1, 0x0001470d      /* c.li a4, 3 ; c.nop */
	sw a1, 0(s0)
	fence.i
	TEST_CASE(4, 3, li a4, 0; jalr ra, s0, 0)
	/* patch in a loop: the cached copy must follow every FENCE.I */
	li s1, 0
	li s2, 10
1:	li a1, 0x00070713      /* addi a4, a4, imm */
	slli a2, s1, 20
	or a1, a1, a2
	sw a1, 0(s0)
	fence.i
	li a4, 100
	jalr ra, s0, 0
	addi t3, s1, 100
	li TESTNUM, 5
	bne a4, t3, fail
	addi s1, s1, 1
	bne s1, s2, 1b

	/* translated: the page of `straddle_page` at VA 0x40000000 and the
	 * next page at 0x40001000; then unmap the second page */
	PTE_PA(l2, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_SYM(l2, 1, l1, PTE_V)
	PTE_SYM(l1, 0, l0, PTE_V)
	PTE_SYM(l0, 0, straddle_page, PTE_V | PTE_R | PTE_X | PTE_A)
	la t0, straddle_page
	li t1, 4096
	add t0, t0, t1
	srli t0, t0, 12
	slli t0, t0, 10
	ori t0, t0, PTE_V | PTE_R | PTE_X | PTE_A
	la t1, l0
	sd t0, 8(t1)
	/* a second alias of both pages at 0x40002000 */
	sd t0, 24(t1)
	la t0, straddle_page
	srli t0, t0, 12
	slli t0, t0, 10
	ori t0, t0, PTE_V | PTE_R | PTE_X | PTE_A
	sd t0, 16(t1)
	SATP_SET(SATP_SV39, l2)
	GOTO_S(1f)
1:	la t0, straddle
	la t1, straddle_page
	sub s3, t0, t1         /* offset of `straddle` in its page */
	li s4, 0x40000000
	add s4, s4, s3
	TEST_CASE(6, 0x5a5, li a4, 0; jalr ra, s4, 0)
	/* through the alias: same code, other VA */
	li s5, 0x40002000
	add s5, s5, s3
	TEST_CASE(7, 0x5a5, li a4, 0; jalr ra, s5, 0)
	/* unmap the second page: fetch page fault on the second half */
	la t1, l0
	sd zero, 8(t1)
	sfence.vma
	EXPECT_TRAP(2f)
	li TESTNUM, 8
	jalr ra, s4, 0
	j fail
2:	CHECK_CAUSE(8, CAUSE_FETCH_PAGE)
	/* mepc = the straddling instruction, mtval = the page boundary */
	TEST_CASE(9, 0x40000ffe, TRAPINFO(TI_EPC))
	TEST_CASE(10, 0x40001000, TRAPINFO(TI_TVAL))
	TO_M
	csrwi satp, 0
TEST_END

	.text
	.balign 4
	.option push
	.option norvc          /* a 4-byte slot, then a 4-byte ret */
patch:	addi a4, x0, 1
	ret
	.option pop

	/* `straddle` starts 10 bytes before the end of a page; its third
	 * instruction (32-bit) starts 2 bytes before the end */
	.balign 4096
straddle_page:
	.skip 4096 - 10
	.option push
	.option norvc
straddle:
	.option rvc
	c.li a4, 0             /* +0, 2 bytes */
	c.nop                  /* +2 */
	c.nop                  /* +4 */
	c.nop                  /* +6 */
	.option norvc
	addi a4, a4, 0x5a5     /* +8: bytes 4094..4097 */
	ret
	.option pop
	.balign 4096

	.data
	.balign 4096
l2:	.fill 512, 8, 0
l1:	.fill 512, 8, 0
l0:	.fill 512, 8, 0
