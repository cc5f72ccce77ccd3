/* vm48: Sv48 address translation (privileged spec 4.5): four-level walk to
 * a 4 KiB page, 1 GiB gigapage, 512 GiB terapage, a misaligned terapage,
 * addresses valid in Sv48 but beyond Sv39, non-canonical addresses (bits
 * 63:48 must equal bit 47), A/D updates, and satp mode 9 read back. */
#include "test.h"
#include "vm.h"

#define VA_4K   0x40000000      /* l3[0] -> l2[1] -> l1[0] -> l0[0] */
#define VA_4K_AD 0x40001000     /* same page, A = D = 0 */
#define VA_TERA 0x8000000000    /* l3[1]: terapage -> PA 0 */
#define VA_BADTERA 0x10000000000 /* l3[2]: terapage with PPN != 0 mod 512G */
#define VA_HIGH 0xffff800000000000 /* l3[256], invalid */

#define EXPECT_TVAL(n, cause, va, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_TRAP(n, cause, va)

TEST_BEGIN
	la s0, vmpage0
	li a1, 0x4848484848484848
	sd a1, 8(s0)

	PTE_SYM(l3, 0, l2, PTE_V)
	PTE_PA(l3, 1, 0, PTE_V | PTE_R | PTE_A)
	/* misaligned as a terapage in Sv48; an identity gigapage when the
	 * same table is the Sv39 root (second part) */
	PTE_PA(l3, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_PA(l2, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_SYM(l2, 1, l1, PTE_V)
	PTE_SYM(l1, 0, l0, PTE_V)
	PTE_SYM(l0, 0, vmpage0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	PTE_SYM(l0, 1, vmpage0, PTE_V | PTE_R | PTE_W)

	SATP_SET(SATP_SV48, l3)
	TEST_CASE(1, 9, csrr a4, satp; srli a4, a4, 60)
	GOTO_S(1f)
1:	TEST_CASE(2, 0x4848484848484848, li a1, VA_4K; ld a4, 8(a1))
	TEST_CASE(3, 0x4848484848484848, la a1, vmpage0; li a2, VA_TERA; add a1, a1, a2; ld a4, 8(a1))
	/* A/D */
	TEST_CASE(4, 0, PTE_GET(l0, 1, PTE_A | PTE_D))
	TEST_CASE(5, 0x4848484848484848, li a1, VA_4K_AD; ld a4, 8(a1))
	TEST_CASE(6, PTE_A, PTE_GET(l0, 1, PTE_A | PTE_D))
	TEST_CASE(7, 9, li a1, VA_4K_AD; li a2, 9; sd a2, 16(a1); ld a4, 16(a1))
	TEST_CASE(8, PTE_A | PTE_D, PTE_GET(l0, 1, PTE_A | PTE_D))
	/* terapage is read-only */
	EXPECT_TVAL(9, CAUSE_STORE_PAGE, VA_TERA + 0x80000000, li a1, VA_TERA + 0x80000000; sd a4, 0(a1))
	EXPECT_TVAL(10, CAUSE_LOAD_PAGE, VA_BADTERA + 0x18, li a1, VA_BADTERA; ld a4, 0x18(a1))
	EXPECT_TVAL(11, CAUSE_LOAD_PAGE, VA_HIGH, li a1, VA_HIGH; ld a4, 0(a1))
	/* non-canonical: bit 47 set, bits 63:48 clear */
	EXPECT_TVAL(12, CAUSE_LOAD_PAGE, 0x0000800000000000, li a1, 0x0000800000000000; ld a4, 0(a1))
	EXPECT_TVAL(13, CAUSE_FETCH_PAGE, 0x0001000000000000, li a1, 0x0001000000000000; jalr a1)
	TO_M

	/* the same tables as Sv39 see only l3 as the root: VA_TERA is
	 * non-canonical in Sv39 */
	SATP_SET(SATP_SV39, l3)
	GOTO_S(1f)
1:	EXPECT_TVAL(14, CAUSE_LOAD_PAGE, VA_TERA, li a1, VA_TERA; ld a4, 0(a1))
	TO_M
	csrwi satp, 0
TEST_END

	.data
	.balign 4096
l3:	.fill 512, 8, 0
l2:	.fill 512, 8, 0
l1:	.fill 512, 8, 0
l0:	.fill 512, 8, 0
vmpage0: .fill 512, 8, 0
