/* pmp_walk: PMP checks the implicit accesses of page-table walks (privileged
 * spec 3.7.1: they are checked with the privilege S, and a walk that PMP
 * denies raises an access fault of the original access type, with the
 * virtual address in mtval). A second-level table sits in a page that an
 * entry denies to S: a load, a store, an AMO and a fetch through it fault
 * with causes 5, 7, 7 and 1 (the AMO in pmp_walk_gemu.S); so does an
 * M-mode load with MPRV and MPP = S.
 * Once the entry allows reads the walk succeeds. */
#include "test.h"
#include "vm.h"

#define NAPOT 0x18
#define R 1
#define VA 0x40000000

#define EXPECT(n, cause, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_CAUSE(n, cause); \
	TRAPINFO(TI_TVAL); \
	li t2, VA; \
	bne a4, t2, fail

TEST_BEGIN
	/* entry 15: all memory RWX (pmpcfg2 bits 63:56); entry 0: the l1
	 * table's page, no permissions for S and U */
	li t0, -1
	csrw pmpaddr15, t0
	li t0, (0x1f << 56)
	csrw pmpcfg2, t0
	la t0, l1
	srli t0, t0, 2
	ori t0, t0, (4096 / 8 - 1)
	csrw pmpaddr0, t0
	li t0, NAPOT
	csrw pmpcfg0, t0

	/* Sv39: code and data by an identity gigapage (S, RWX); VA -> l1 ->
	 * l0 -> page */
	PTE_PA(root, 2, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	PTE_SYM(root, 1, l1, PTE_V)
	PTE_SYM(l1, 0, l0, PTE_V)
	PTE_SYM(l0, 0, page, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
	la t0, page
	li t1, 0x1234
	sd t1, 0(t0)
	li t1, 0x00008067 /* ret */
	sw t1, 8(t0)
	SATP_SET(SATP_SV39, root)
	li s1, VA

	/* M mode with MPRV and MPP = S: the walk is checked as S */
	li t0, MSTATUS_MPP
	csrc mstatus, t0
	li t0, (1 << 11) | MSTATUS_MPRV
	csrs mstatus, t0
	EXPECT_TRAP(2f)
	li TESTNUM, 2
	ld a4, 0(s1)
	j fail
2:	li t0, MSTATUS_MPRV
	csrc mstatus, t0
	CHECK_CAUSE(2, CAUSE_LOAD_ACCESS)
	TRAPINFO(TI_TVAL)
	bne a4, s1, fail

	GOTO_S(s_mode)
s_mode:
	EXPECT(3, CAUSE_LOAD_ACCESS, ld a4, 0(s1))
	EXPECT(4, CAUSE_STORE_ACCESS, sd zero, 0(s1))
#ifdef WALK_AMO
	/* an AMO (and SC) whose walk fails: a store/AMO access fault
	 * (pmp_walk_gemu.S; QEMU 7.2 raises a load access fault) */
	EXPECT(5, CAUSE_STORE_ACCESS, amoadd.d a4, zero, (s1))
	EXPECT(11, CAUSE_STORE_ACCESS, sc.d a4, zero, (s1))
	EXPECT(12, CAUSE_LOAD_ACCESS, lr.d a4, (s1))
#endif
	/* fetch: the fault is at the target, mepc = mtval = VA */
	EXPECT_TRAP(2f)
	li TESTNUM, 6
	addi t0, s1, 8
	jalr t0
	j fail
2:	CHECK_CAUSE(6, CAUSE_FETCH_ACCESS)
	TRAPINFO(TI_TVAL)
	addi t2, s1, 8
	bne a4, t2, fail
	TRAPINFO(TI_EPC)
	bne a4, t2, fail

	/* let S read the table: the walk succeeds */
	TO_M
	li t0, NAPOT | R
	csrw pmpcfg0, t0
	sfence.vma
	GOTO_S(s_mode2)
s_mode2:
	TEST_CASE(7, 0x1234, ld a4, 0(s1))
	li t0, 0x5678
	sd t0, 0(s1)
	TEST_CASE(8, 0x5678, ld a4, 0(s1))
	TEST_CASE(9, 0x5678, li t0, 1; amoadd.d a4, t0, (s1))
	TEST_CASE(10, 0x5679, ld a4, 0(s1))
	TO_M
	csrwi satp, 0
	sfence.vma
TEST_END

	.data
	.balign 4096
root:	.fill 512, 8, 0
l1:	.fill 512, 8, 0
l0:	.fill 512, 8, 0
page:	.fill 512, 8, 0
