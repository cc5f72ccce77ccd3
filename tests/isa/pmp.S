/* pmp: physical memory protection (privileged spec 3.7): NAPOT, NA4 and
 * TOR regions, R/W/X for S and U, M mode unchecked unless the entry is
 * locked, the lowest-numbered matching entry wins, an access that matches
 * only part of an entry fails, S/U accesses that match no entry fail,
 * locked entries ignore writes to their pmpcfg and pmpaddr, and the access
 * faults carry the address in mtval. The all-memory entry of test.h moves
 * to entry 15 so that entries 0..3 take priority over it. */
#include "test.h"

#define NAPOT 0x18
#define NA4 0x10
#define TOR 0x08
#define LOCK 0x80
#define R 1
#define W 2
#define X 4

#define EXPECT(n, cause, addr, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_TRAP_EPC(n, cause, 1b); \
	TRAPINFO(TI_TVAL); \
	bne a4, addr, fail

TEST_BEGIN
	/* entry 15: all memory RWX (pmpcfg2 bits 63:56); entry 0 off */
	li t0, -1
	csrw pmpaddr15, t0
	li t0, 0x1f << 56
	csrw pmpcfg2, t0
	csrw pmpcfg0, zero

	la s1, page1	/* NAPOT 4 KiB, read-only */
	la s2, word1	/* NA4, no access */
	la s3, page2	/* TOR [page2, page2 + 4 KiB), read/write, no execute */
	srli t0, s1, 2
	addi t0, t0, (4096 >> 3) - 1
	csrw pmpaddr0, t0
	srli t0, s2, 2
	csrw pmpaddr1, t0
	srli t0, s3, 2
	csrw pmpaddr2, t0
	li t0, 4096
	add t0, s3, t0
	srli t0, t0, 2
	csrw pmpaddr3, t0
	li t0, (NAPOT | R) | (NA4) << 8 | 0 << 16 | (TOR | R | W) << 24
	csrw pmpcfg0, t0
	TEST_CASE(1, (NAPOT | R) | (NA4) << 8 | (TOR | R | W) << 24, csrr a4, pmpcfg0)

	/* M mode: unlocked entries do not apply */
	lw a4, 0(s2)
	sw a4, 0(s1)

	GOTO_S(s_mode)
s_mode:
	/* read-only NAPOT page: loads work, stores and AMOs fault */
	lw a4, 8(s1)
	addi s4, s1, 16
	EXPECT(2, CAUSE_STORE_ACCESS, s4, sw zero, 16(s1))
	EXPECT(3, CAUSE_STORE_ACCESS, s1, amoadd.w a4, zero, (s1))
	/* NA4 word without permissions, inside a region entry 15 allows:
	 * the lower entry wins */
	EXPECT(4, CAUSE_LOAD_ACCESS, s2, lw a4, 0(s2))
	addi s4, s2, 4
	lw a4, 4(s2)	/* the next word is not covered */
	/* an 8-byte load over the NA4 word and the next matches entry 1
	 * only in part: it fails */
	EXPECT(5, CAUSE_LOAD_ACCESS, s2, ld a4, 0(s2))
	/* TOR region: read/write but no execute */
	sd zero, 0(s3)
	ld a4, 0(s3)
	/* (the fault is at the target: mepc = mtval = page2) */
	EXPECT_TRAP(2f)
	li TESTNUM, 6
	jalr zero, 0(s3)
2:	CHECK_CAUSE(6, CAUSE_FETCH_ACCESS)
	TRAPINFO(TI_EPC)
	bne a4, s3, fail
	TRAPINFO(TI_TVAL)
	bne a4, s3, fail
	TO_M

	/* U mode follows the same entries */
	GOTO_U(u_mode)
u_mode:
	EXPECT(7, CAUSE_LOAD_ACCESS, s2, lw a4, 0(s2))
	addi s4, s1, 24
	EXPECT(8, CAUSE_STORE_ACCESS, s4, sd zero, 24(s1))
	TO_M

	/* without entry 15, S matches nothing and fails, even fetching */
	li t0, 0x1f << 56
	csrc pmpcfg2, t0
	la s4, s_nothing
	EXPECT_TRAP_M(2f)	/* resume in M: S can fetch nothing now */
	li TESTNUM, 9
	GOTO_S(s_nothing)
s_nothing:
	j fail
2:	CHECK_TRAP_EPC(9, CAUSE_FETCH_ACCESS, s_nothing)
	TRAPINFO(TI_TVAL)
	bne a4, s4, fail
	li t0, 0x1f << 56
	csrs pmpcfg2, t0

	/* a locked entry applies to M mode and ignores writes */
	la s5, word2
	srli t0, s5, 2
	csrw pmpaddr4, t0
	li t0, (LOCK | NA4 | R) << 32
	csrs pmpcfg0, t0
	lw a4, 0(s5)
	EXPECT(10, CAUSE_STORE_ACCESS, s5, sw zero, 0(s5))
	li t0, (0xff) << 32
	csrc pmpcfg0, t0
	TEST_CASE(11, LOCK | NA4 | R, csrr a4, pmpcfg0; srli a4, a4, 32; andi a4, a4, 0xff)
	csrw pmpaddr4, zero
	TEST_CASE(12, 0, csrr a4, pmpaddr4; srli t0, s5, 2; sub a4, a4, t0)
TEST_END

	.data
	.balign 4096
page1:	.space 4096
page2:	.space 4096
word1:	.word 0, 0
word2:	.word 0
