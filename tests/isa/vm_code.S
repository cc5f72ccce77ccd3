/* vm_code: instruction fetch through translation, where a decoded-
 * instruction cache keyed by physical address and a software TLB must stay
 * coherent (privileged spec 4.2.1 SFENCE.VMA, unprivileged FENCE.I):
 * remapping a code VA to another physical page, switching satp to another
 * root, patching code through a data alias at another VA, and revoking X
 * from a page that already ran. */
#include "test.h"
#include "vm.h"

#define VA_CODE 0x40000000

TEST_BEGIN
	PTE_PA(l2, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_SYM(l2, 1, l1, PTE_V)
	PTE_SYM(l1, 0, l0, PTE_V)
	PTE_SYM(l0, 0, codeA, PTE_V | PTE_R | PTE_X | PTE_A)
	/* second root: same, but VA_CODE -> codeB */
	PTE_PA(r2, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_SYM(r2, 1, r1, PTE_V)
	PTE_SYM(r1, 0, r0, PTE_V)
	PTE_SYM(r0, 0, codeB, PTE_V | PTE_R | PTE_X | PTE_A)
	SATP_SET(SATP_SV39, l2)
	GOTO_S(1f)
1:	li s0, VA_CODE
	TEST_CASE(1, 0xa, li a4, 0; jalr ra, s0, 0)
	TEST_CASE(2, 0xa, li a4, 0; jalr ra, s0, 0)   /* again, from any cache */
	/* remap the VA to codeB */
	PTE_SYM(l0, 0, codeB, PTE_V | PTE_R | PTE_X | PTE_A)
	sfence.vma
	TEST_CASE(3, 0xb, li a4, 0; jalr ra, s0, 0)
	/* back to codeA, flushing just that address */
	PTE_SYM(l0, 0, codeA, PTE_V | PTE_R | PTE_X | PTE_A)
	sfence.vma s0
	TEST_CASE(4, 0xa, li a4, 0; jalr ra, s0, 0)
	/* other root: VA_CODE -> codeB */
	la t0, r2
	srli t0, t0, 12
	li t1, SATP_SV39
	or t0, t0, t1
	csrw satp, t0
	sfence.vma
	TEST_CASE(5, 0xb, li a4, 0; jalr ra, s0, 0)
	SATP_SET(SATP_SV39, l2)
	TEST_CASE(6, 0xa, li a4, 0; jalr ra, s0, 0)
	/* patch codeA through its identity alias (a data write at another
	 * VA), FENCE.I, run through VA_CODE */
	la t0, codeA
	li t1, 0x00c00713          /* addi a4, x0, 12 */
	sw t1, 0(t0)
	fence.i
	TEST_CASE(7, 0xc, li a4, 0; jalr ra, s0, 0)
	/* revoke X: the next fetch faults */
	PTE_SYM(l0, 0, codeA, PTE_V | PTE_R | PTE_A)
	sfence.vma
	EXPECT_TRAP(2f)
	li TESTNUM, 8
	jalr ra, s0, 0
	j fail
2:	CHECK_TRAP(9, CAUSE_FETCH_PAGE, VA_CODE)
	TO_M
	csrwi satp, 0
TEST_END

	.text
	.balign 4096
	.option push
	.option norvc
codeA:	addi a4, x0, 0xa
	ret
	.balign 4096
codeB:	addi a4, x0, 0xb
	ret
	.balign 4096
	.option pop

	.data
	.balign 4096
l2:	.fill 512, 8, 0
l1:	.fill 512, 8, 0
l0:	.fill 512, 8, 0
r2:	.fill 512, 8, 0
r1:	.fill 512, 8, 0
r0:	.fill 512, 8, 0
