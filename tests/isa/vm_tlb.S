/* vm_tlb: permission changes that take effect without SFENCE.VMA
 * (privileged spec 3.1.6.3: SUM, MXR, MPRV/MPP are read on every access),
 * so a TLB that caches translations must re-check them: SUM 1 -> 0 and
 * MXR 1 -> 0 revoke access at once; a U page that U just used stays closed
 * to S without SUM; an S page that S just used stays closed to U; under
 * MPRV, changing MPP from S to U changes the effective privilege. And
 * an SFENCE.VMA executed in S also drops what U had cached. */
#include "test.h"
#include "vm.h"

#define VA_S   0x40000000  /* S page, RW */
#define VA_U   0x40001000  /* U page, RW */
#define VA_XO  0x40002000  /* S page, execute-only */

#define EXPECT(n, cause, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_CAUSE(n, cause)

TEST_BEGIN
	la s0, page
	li a1, 0x7777
	sd a1, 0(s0)
	PTE_PA(l2, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_SYM(l2, 1, l1, PTE_V)
	PTE_SYM(l1, 0, l0, PTE_V)
	PTE_SYM(l0, 0, page, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	PTE_SYM(l0, 1, page, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)
	PTE_SYM(l0, 2, page, PTE_V | PTE_X | PTE_A)
	PTE_SYM(l0, 3, ucode, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)
	SATP_SET(SATP_SV39, l2)

	GOTO_S(1f)
1:	li s1, VA_U
	li s2, VA_XO
	li s3, VA_S
	/* SUM 1 -> 0 */
	li t0, MSTATUS_SUM
	csrs sstatus, t0
	TEST_CASE(1, 0x7777, ld a4, 0(s1))
	TEST_CASE(2, 0x7777, ld a4, 0(s1))
	li t0, MSTATUS_SUM
	csrc sstatus, t0
	EXPECT(3, CAUSE_LOAD_PAGE, ld a4, 0(s1))
	EXPECT(4, CAUSE_STORE_PAGE, sd a4, 0(s1))
	/* MXR 1 -> 0 */
	li t0, MSTATUS_MXR
	csrs sstatus, t0
	TEST_CASE(5, 0x7777, ld a4, 0(s2))
	li t0, MSTATUS_MXR
	csrc sstatus, t0
	EXPECT(6, CAUSE_LOAD_PAGE, ld a4, 0(s2))
	/* S touches its page, then U tries it */
	TEST_CASE(7, 0x7777, ld a4, 0(s3))
	TO_M
	EXPECT_TRAP_M(2f)
	li TESTNUM, 8
	li a1, VA_S
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, 0x40003000      /* ucode: ld a5, 0(a1); ecall */
	csrw mepc, t0
	mret
2:	CHECK_CAUSE(9, CAUSE_LOAD_PAGE)
	/* U uses its page, then S without SUM tries it */
	EXPECT_TRAP_M(2f)
	li TESTNUM, 10
	li a1, VA_U
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, 0x40003000
	csrw mepc, t0
	mret
2:	CHECK_CAUSE(11, CAUSE_ECALL_U)
	TEST_CASE(12, 0x7777, mv a4, a5)
	GOTO_S(1f)
1:	EXPECT(13, CAUSE_LOAD_PAGE, li s1, VA_U; ld a4, 0(s1))
	TO_M
	/* MPRV: MPP = S reads the S page; MPP = U must not */
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, (1 << 11) | MSTATUS_MPRV
	csrs mstatus, t0
	li s3, VA_S
	TEST_CASE(14, 0x7777, ld a4, 0(s3))
	EXPECT_TRAP(2f)            /* while trapinfo is still reachable */
	li TESTNUM, 15
	li t0, MSTATUS_MPP
	csrc mstatus, t0           /* MPP = U, MPRV still 1 */
	ld a4, 0(s3)
	j fail
2:	li t0, MSTATUS_MPRV
	csrc mstatus, t0
	CHECK_CAUSE(16, CAUSE_LOAD_PAGE)
	/* SFENCE.VMA in S flushes what U cached: U reads VA_U, the PTE is
	 * pointed at page2, S fences that address, U reads again */
	EXPECT_TRAP_M(2f)
	li TESTNUM, 17
	li a1, VA_U
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, 0x40003000
	csrw mepc, t0
	mret
2:	TEST_CASE(18, 0x7777, mv a4, a5)
	la s0, page2
	li a1, 0x8888
	sd a1, 0(s0)
	PTE_SYM(l0, 1, page2, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)
	GOTO_S(1f)
1:	li a1, VA_U
	sfence.vma a1, x0
	TO_M
	EXPECT_TRAP_M(2f)
	li TESTNUM, 19
	li a1, VA_U
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, 0x40003000
	csrw mepc, t0
	mret
2:	TEST_CASE(20, 0x8888, mv a4, a5)
	csrwi satp, 0
TEST_END

	.text
	.balign 4096
ucode:	ld a5, 0(a1)
	ecall
	.balign 4096

	.data
	.balign 4096
l2:	.fill 512, 8, 0
l1:	.fill 512, 8, 0
l0:	.fill 512, 8, 0
page:	.fill 512, 8, 0
page2:	.fill 512, 8, 0
