/* vm: Sv39 address translation (privileged spec 4.3, 4.4): 4 KiB pages,
 * 2 MiB megapages and 1 GiB gigapages, misaligned superpages, invalid and
 * reserved (W without R) PTEs, a non-leaf PTE at level 0, non-canonical
 * addresses; page-fault causes with stval/mtval = the virtual address and
 * delegation to S; accessed/dirty bits set by the hart; U pages and SUM,
 * S fetch from U pages, U access to S pages; MXR on execute-only pages;
 * MPRV translating M-mode loads/stores; SFENCE.VMA after a PTE change; satp
 * WARL (an unsupported mode leaves satp unchanged). */
#include "test.h"
#include "vm.h"

#define VA_RW   0x40000000  /* 4K: vmpage0, RW A D */
#define VA_RO   0x40001000  /* 4K: vmpage0, R, A = 0 */
#define VA_AD   0x40002000  /* 4K: vmpage1, RW, A = D = 0 */
#define VA_USR  0x40003000  /* 4K: vmpage0, RW U A D */
#define VA_XO   0x40004000  /* 4K: vmpage0, X only */
#define VA_INV  0x40005000  /* V = 0 */
#define VA_WO   0x40006000  /* W without R: reserved */
#define VA_CODE 0x40007000  /* vmcode page, RX */
#define VA_NX   0x40008000  /* vmcode page, R only */
#define VA_UCODE 0x40009000 /* vmucode page, U RX */
#define VA_MEGA 0x40200000  /* 2M megapage -> 0x80000000, R */
#define VA_BADMEGA 0x40400000 /* megapage with PPN[0] != 0 */
#define VA_L0PTR 0x40600000 /* level-0 PTE that is a pointer */
#define VA_GIGA 0xc0000000  /* 1G gigapage -> 0x80000000, R */
#define VA_BADGIGA 0x100000000 /* gigapage with PPN[1] != 0 */

#define EXPECT(n, cause, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_CAUSE(n, cause)
#define EXPECT_TVAL(n, cause, va, insn...) \
	EXPECT(n, cause, insn); \
	TEST_CASE(n + 1, va, TRAPINFO(TI_TVAL))

TEST_BEGIN
	/* data: vmpage0 = 0x1111..., vmpage1 = 0x2222... at offset 8 */
	la s0, vmpage0
	li a1, 0x1111111111111111
	sd a1, 8(s0)
	la s0, vmpage1
	li a1, 0x2222222222222222
	sd a1, 8(s0)

	PTE_PA(l2, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_PA(l2, 3, 0x80000000, PTE_V | PTE_R | PTE_A)
	PTE_PA(l2, 4, 0x80200000, PTE_V | PTE_R | PTE_A)
	PTE_SYM(l2, 1, l1, PTE_V)
	PTE_SYM(l1, 0, l0, PTE_V)
	PTE_PA(l1, 1, 0x80000000, PTE_V | PTE_R | PTE_A)
	PTE_PA(l1, 2, 0x80001000, PTE_V | PTE_R | PTE_A)
	PTE_SYM(l1, 3, l0b, PTE_V)
	PTE_SYM(l0b, 0, l0, PTE_V)
	PTE_SYM(l0, 0, vmpage0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	PTE_SYM(l0, 1, vmpage0, PTE_V | PTE_R)
	PTE_SYM(l0, 2, vmpage1, PTE_V | PTE_R | PTE_W)
	PTE_SYM(l0, 3, vmpage0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)
	PTE_SYM(l0, 4, vmpage0, PTE_V | PTE_X | PTE_A)
	PTE_SYM(l0, 6, vmpage0, PTE_V | PTE_W | PTE_A | PTE_D)
	PTE_SYM(l0, 7, vmcode, PTE_V | PTE_R | PTE_X | PTE_A)
	PTE_SYM(l0, 8, vmcode, PTE_V | PTE_R | PTE_A)
	PTE_SYM(l0, 9, vmucode, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)

	/* satp WARL: Sv39 sticks, reserved mode 11 is ignored */
	SATP_SET(SATP_SV39, l2)
	csrr s1, satp
	TEST_CASE(1, 8, srli a4, s1, 60)
	TEST_CASE(2, 1, li t0, 11 << 60; csrw satp, t0; csrr a4, satp; sub a4, a4, s1; seqz a4, a4)
	TEST_CASE(3, 1, li t0, 1 << 60; csrw satp, t0; csrr a4, satp; sub a4, a4, s1; seqz a4, a4)

	GOTO_S(s_main)
s_main:
	/* translation at each level */
	TEST_CASE(4, 0x1111111111111111, li a1, VA_RW; ld a4, 8(a1))
	TEST_CASE(5, 0x2222222222222222, la a1, vmpage1; li a2, VA_MEGA - 0x80000000; add a1, a1, a2; ld a4, 8(a1))
	TEST_CASE(6, 0x1111111111111111, la a1, vmpage0; li a2, VA_GIGA - 0x80000000; add a1, a1, a2; ld a4, 8(a1))
	TEST_CASE(7, 0x3333, li a1, VA_RW; li a2, 0x3333; sd a2, 16(a1); la a1, vmpage0; ld a4, 16(a1))
	TEST_CASE(8, 0x77, li a1, VA_CODE; jalr ra, a1, 0)

	/* hardware A/D updates */
	TEST_CASE(9, 0, PTE_GET(l0, 1, PTE_A | PTE_D))
	TEST_CASE(10, 0x1111111111111111, li a1, VA_RO; ld a4, 8(a1))
	TEST_CASE(11, PTE_A, PTE_GET(l0, 1, PTE_A | PTE_D))
	TEST_CASE(12, 0x2222222222222222, li a1, VA_AD; ld a4, 8(a1))
	TEST_CASE(13, PTE_A, PTE_GET(l0, 2, PTE_A | PTE_D))
	TEST_CASE(14, 0x55, li a1, VA_AD; li a2, 0x55; sd a2, 0(a1); ld a4, 0(a1))
	TEST_CASE(15, PTE_A | PTE_D, PTE_GET(l0, 2, PTE_A | PTE_D))

	/* page faults, taken in M (not delegated): cause and mtval = VA */
	EXPECT_TVAL(16, CAUSE_STORE_PAGE, VA_RO + 8, li a1, VA_RO; sd a1, 8(a1))
	TEST_CASE(18, PTE_A, PTE_GET(l0, 1, PTE_A | PTE_D))  /* no D on fault */
	EXPECT_TVAL(19, CAUSE_LOAD_PAGE, VA_INV, li a1, VA_INV; ld a4, 0(a1))
	EXPECT_TVAL(21, CAUSE_STORE_PAGE, VA_INV + 4, li a1, VA_INV; sw a4, 4(a1))
	EXPECT_TVAL(23, CAUSE_LOAD_PAGE, VA_WO, li a1, VA_WO; ld a4, 0(a1))
	EXPECT_TVAL(25, CAUSE_STORE_PAGE, VA_WO, li a1, VA_WO; sd a4, 0(a1))
	EXPECT_TVAL(27, CAUSE_STORE_PAGE, VA_GIGA + 0x1000, li a1, VA_GIGA + 0x1000; sd a4, 0(a1))
	EXPECT_TVAL(29, CAUSE_LOAD_PAGE, VA_BADMEGA + 8, li a1, VA_BADMEGA; ld a4, 8(a1))
	EXPECT_TVAL(31, CAUSE_LOAD_PAGE, VA_BADGIGA, li a1, VA_BADGIGA; ld a4, 0(a1))
	EXPECT_TVAL(33, CAUSE_LOAD_PAGE, VA_L0PTR, li a1, VA_L0PTR; ld a4, 0(a1))
	/* non-canonical: bit 39 set, bit 38 clear */
	EXPECT_TVAL(35, CAUSE_LOAD_PAGE, 0x0000008000000000, li a1, 0x0000008000000000; ld a4, 0(a1))
	EXPECT_TVAL(37, CAUSE_STORE_PAGE, 0xffffff0000000000, li a1, 0xffffff0000000000; sd a4, 0(a1))
	/* fetch from a page without X: epc = tval = the target */
	EXPECT_TVAL(39, CAUSE_FETCH_PAGE, VA_NX, li a1, VA_NX; jalr ra, a1, 0)
	TEST_CASE(41, VA_NX, TRAPINFO(TI_EPC))
	EXPECT_TVAL(42, CAUSE_FETCH_PAGE, VA_INV + 0x10, li a1, VA_INV; jalr ra, a1, 0x10)

	/* U pages from S: SUM = 0 faults, SUM = 1 allows loads and stores,
	 * never fetches */
	EXPECT_TVAL(44, CAUSE_LOAD_PAGE, VA_USR + 8, li a1, VA_USR; ld a4, 8(a1))
	EXPECT_TVAL(46, CAUSE_STORE_PAGE, VA_USR + 8, li a1, VA_USR; sd a4, 8(a1))
	li t0, MSTATUS_SUM
	csrs sstatus, t0
	TEST_CASE(48, 0x1111111111111111, li a1, VA_USR; ld a4, 8(a1))
	TEST_CASE(49, 0x4444, li a1, VA_USR; li a2, 0x4444; sd a2, 24(a1); ld a4, 24(a1))
	EXPECT_TVAL(50, CAUSE_FETCH_PAGE, VA_UCODE, li a1, VA_UCODE; jalr ra, a1, 0)
	li t0, MSTATUS_SUM
	csrc sstatus, t0

	/* MXR: execute-only page readable only with MXR */
	EXPECT_TVAL(52, CAUSE_LOAD_PAGE, VA_XO + 8, li a1, VA_XO; ld a4, 8(a1))
	li t0, MSTATUS_MXR
	csrs sstatus, t0
	TEST_CASE(54, 0x1111111111111111, li a1, VA_XO; ld a4, 8(a1))
	EXPECT_TVAL(55, CAUSE_STORE_PAGE, VA_XO + 8, li a1, VA_XO; sd a4, 8(a1))
	li t0, MSTATUS_MXR
	csrc sstatus, t0

	/* SFENCE.VMA after remapping VA_RW to vmpage1 */
	PTE_SYM(l0, 0, vmpage1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	sfence.vma
	TEST_CASE(57, 0x2222222222222222, li a1, VA_RW; ld a4, 8(a1))
	PTE_SYM(l0, 0, vmpage0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
	li a1, VA_RW
	sfence.vma a1, x0
	TEST_CASE(58, 0x1111111111111111, li a1, VA_RW; ld a4, 8(a1))

	/* delegated page faults: S handler, stval = VA */
	TO_M
	li t0, (1 << CAUSE_FETCH_PAGE) | (1 << CAUSE_LOAD_PAGE) | (1 << CAUSE_STORE_PAGE)
	csrw medeleg, t0
	GOTO_S(1f)
1:	EXPECT_TVAL(59, CAUSE_LOAD_PAGE, VA_INV + 8, li a1, VA_INV; ld a4, 8(a1))
	CHECK_MODE(61, 1)
	EXPECT_TVAL(62, CAUSE_STORE_PAGE, VA_RO, li a1, VA_RO; sd a4, 0(a1))
	CHECK_MODE(64, 1)
	EXPECT_TVAL(65, CAUSE_FETCH_PAGE, VA_NX, li a1, VA_NX; jalr ra, a1, 0)
	CHECK_MODE(67, 1)
	TO_M
	csrwi medeleg, 0

	/* U mode: runs code on its U page, reads its U data; faults on S
	 * pages; returns to M through EXPECT_TRAP_M */
	EXPECT_TRAP_M(2f)
	li TESTNUM, 68
	li a1, VA_USR
	li a4, 0
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, VA_UCODE
	csrw mepc, t0
	mret
2:	CHECK_CAUSE(69, CAUSE_ECALL_U)
	TEST_CASE(70, 0x1111111111111111, mv a4, a5)
	/* U load of an S page */
	EXPECT_TRAP_M(2f)
	li TESTNUM, 71
	li a1, VA_RW
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, VA_UCODE
	csrw mepc, t0
	mret
2:	CHECK_CAUSE(72, CAUSE_LOAD_PAGE)
	TEST_CASE(73, VA_RW + 8, TRAPINFO(TI_TVAL))
	/* U fetch of an S page */
	EXPECT_TRAP_M(2f)
	li TESTNUM, 74
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, VA_CODE
	csrw mepc, t0
	mret
2:	CHECK_CAUSE(75, CAUSE_FETCH_PAGE)
	TEST_CASE(76, VA_CODE, TRAPINFO(TI_TVAL))

	/* MPRV: M-mode loads/stores translated as MPP = S */
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, (1 << 11) | MSTATUS_MPRV
	csrs mstatus, t0
	TEST_CASE(77, 0x1111111111111111, li a1, VA_RW; ld a4, 8(a1))
	/* a fault under MPRV traps to M; the handler's MRET back to M keeps
	 * MPRV and sets MPP = U, so clear MPRV before touching memory */
	EXPECT_TRAP(2f)
	li TESTNUM, 78
	li a1, VA_INV
	ld a4, 0(a1)
	j fail
2:	csrr s1, mstatus
	li t0, MSTATUS_MPRV
	csrc mstatus, t0
	CHECK_TRAP(79, CAUSE_LOAD_PAGE, VA_INV)
	CHECK_MODE(80, 3)
	TEST_CASE(81, MSTATUS_MPRV, li t0, MSTATUS_MPRV | MSTATUS_MPP; and a4, s1, t0)
	csrwi satp, 0
TEST_END

	/* code pages mapped at VA_CODE / VA_NX and (U) VA_UCODE */
	.text
	.balign 4096
vmcode:
	li a4, 0x77
	ret
	.balign 4096
vmucode:
	ld a5, 8(a1)
	ecall
	.balign 4096

	.data
	.balign 4096
l2:	.fill 512, 8, 0
l1:	.fill 512, 8, 0
l0:	.fill 512, 8, 0
l0b:	.fill 512, 8, 0
vmpage0: .fill 512, 8, 0
vmpage1: .fill 512, 8, 0
