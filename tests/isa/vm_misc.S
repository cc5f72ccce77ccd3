/* vm_misc: more Sv39 corner cases: the hart sets A and D in superpage
 * leaves (gigapage and megapage PTEs), and a misaligned load or store that
 * crosses from a mapped page into an unmapped or read-only one takes a page
 * fault whose tval is the address of the part that faulted (privileged
 * spec 3.1.16) while nothing of a faulting load reaches its register. */
#include "test.h"
#include "vm.h"

#define VA_GIGA 0xc0000000   /* gigapage -> 0x80000000, RW, A = D = 0 */
#define VA_MEGA 0x40200000   /* megapage -> 0x80000000, RW, A = 1, D = 0 */
#define VA_PAGE 0x40000000   /* 4K: page0 RW; next page unmapped */
#define VA_PAGE2 0x40002000  /* 4K: page0 RW; next page (0x40003000) read-only */

#define EXPECT(n, cause, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_CAUSE(n, cause)

TEST_BEGIN
	PTE_PA(l2, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_PA(l2, 3, 0x80000000, PTE_V | PTE_R | PTE_W)
	PTE_SYM(l2, 1, l1, PTE_V)
	PTE_PA(l1, 1, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_A)
	PTE_SYM(l1, 0, l0, PTE_V)
	PTE_SYM(l0, 0, page0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	PTE_SYM(l0, 2, page0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	PTE_SYM(l0, 3, page1, PTE_V | PTE_R | PTE_A)
	la s0, page0
	li a1, 0x1122334455667788
	li t0, 4088
	add t0, t0, s0
	sd a1, 0(t0)
	SATP_SET(SATP_SV39, l2)
	GOTO_S(1f)
1:
	/* gigapage: A on the load, D on the store */
	TEST_CASE(1, 0, PTE_GET(l2, 3, PTE_A | PTE_D))
	TEST_CASE(2, 0x1122334455667788, la a1, page0; li a2, VA_GIGA - 0x80000000 + 4096; add a1, a1, a2; ld a4, -8(a1))
	TEST_CASE(3, PTE_A, PTE_GET(l2, 3, PTE_A | PTE_D))
	TEST_CASE(4, 7, la a1, page0; li a2, VA_GIGA - 0x80000000; add a1, a1, a2; li a3, 7; sd a3, 0(a1); ld a4, 0(a1))
	TEST_CASE(5, PTE_A | PTE_D, PTE_GET(l2, 3, PTE_A | PTE_D))
	/* megapage: D on the store */
	TEST_CASE(6, PTE_A, PTE_GET(l1, 1, PTE_A | PTE_D))
	TEST_CASE(7, 9, la a1, page0; li a2, VA_MEGA - 0x80000000; add a1, a1, a2; li a3, 9; sd a3, 8(a1); ld a4, 8(a1))
	TEST_CASE(8, PTE_A | PTE_D, PTE_GET(l1, 1, PTE_A | PTE_D))

	/* misaligned within the mapped page: fine */
	TEST_CASE(9, 0x2233445566778800, li a1, VA_PAGE + 4096; ld a4, -9(a1))
	/* crossing into the unmapped page */
	li s1, 0x5a5a
	EXPECT_TRAP(2f)
	li TESTNUM, 10
	li a1, VA_PAGE + 4096
	mv a4, s1
	ld a4, -4(a1)
	j fail
2:	mv s2, a4
	CHECK_CAUSE(10, CAUSE_LOAD_PAGE)
	TEST_CASE(11, 0x5a5a, mv a4, s2)   /* a4 not written by the faulting load */
	TEST_CASE(12, VA_PAGE + 4096, TRAPINFO(TI_TVAL))
	EXPECT(13, CAUSE_STORE_PAGE, li a1, VA_PAGE + 4096; sw a4, -2(a1))
	TEST_CASE(14, VA_PAGE + 4096, TRAPINFO(TI_TVAL))
	/* crossing into the read-only page: store faults, load works */
	EXPECT(15, CAUSE_STORE_PAGE, li a1, VA_PAGE2 + 4096; sd a4, -6(a1))
	TEST_CASE(16, VA_PAGE2 + 4096, TRAPINFO(TI_TVAL))
	TEST_CASE(17, 0x0000112233445566, li a1, VA_PAGE2 + 4096; ld a4, -6(a1))
	TO_M
	csrwi satp, 0
TEST_END

	.data
	.balign 4096
l2:	.fill 512, 8, 0
l1:	.fill 512, 8, 0
l0:	.fill 512, 8, 0
page0:	.fill 512, 8, 0
page1:	.fill 512, 8, 0
