/* trigger: Sdtrig address-match triggers (debug spec 1.0, 5.5/5.7) as QEMU
 * 7.2 offers them: tselect 0..1, tdata1 type 2 (mcontrol) at reset and
 * read back as written, execute/load/store matches raising a breakpoint
 * exception before the access, in M mode (with tcontrol.mte where tcontrol
 * exists, and MIE set, as riscv-tests' rv64mi breakpoint test does), in S
 * mode, and two triggers at once. Also mcountinhibit: a stopped minstret
 * does not move. */
#include "test.h"

#define MC (2 << 60)
#define M_ (1 << 6)
#define S_ (1 << 4)
#define EXEC (1 << 2)
#define STORE (1 << 1)
#define LOAD (1 << 0)

TEST_BEGIN
	/* tcontrol.mte = 1 if tcontrol exists (QEMU 7.2 has none) */
	EXPECT_TRAP(1f)
	csrsi 0x7a5, 8
1:	csrsi mstatus, MSTATUS_MIE

	TEST_CASE(1, 0, csrw tselect, zero; csrr a4, tselect)
	TEST_CASE(2, 2, csrr a4, tdata1; srli a4, a4, 60)
	TEST_CASE(3, 1, li t0, 1; csrw tselect, t0; csrr a4, tselect)
	csrw tselect, zero

	/* execute */
	la s1, bp1
	csrw tdata2, s1
	li s2, MC | M_ | EXEC
	csrw tdata1, s2
	TEST_CASE(4, 0, csrr a4, tdata1; sub a4, a4, s2)
	EXPECT_TRAP(2f)
	li TESTNUM, 5
bp1:	j fail
2:	CHECK_TRAP_EPC(5, CAUSE_BREAKPOINT, bp1)

	/* load: trap before the load, no trap for a store */
	la s1, data1
	li s2, MC | M_ | LOAD
	csrw tdata1, s2
	csrw tdata2, s1
	li a5, 7
	EXPECT_TRAP(2f)
	li TESTNUM, 6
1:	lw a5, 0(s1)
	j fail
2:	CHECK_TRAP_EPC(6, CAUSE_BREAKPOINT, 1b)
	TEST_CASE(7, 7, mv a4, a5)
	li t0, 5
	sw t0, 0(s1)

	/* store: trap before the store (data1 keeps 5) */
	li s2, MC | M_ | STORE
	csrw tdata1, s2
	EXPECT_TRAP(2f)
	li TESTNUM, 8
1:	sw zero, 0(s1)
	j fail
2:	CHECK_TRAP_EPC(8, CAUSE_BREAKPOINT, 1b)
	TEST_CASE(9, 5, lw a4, 0(s1))

	/* second trigger on data2 loads; the first (store) still fires */
	li t0, 1
	csrw tselect, t0
	la s3, data2
	li s2, MC | M_ | LOAD
	csrw tdata1, s2
	csrw tdata2, s3
	EXPECT_TRAP(2f)
	li TESTNUM, 10
1:	lw a4, 0(s3)
	j fail
2:	CHECK_TRAP_EPC(10, CAUSE_BREAKPOINT, 1b)
	EXPECT_TRAP(2f)
	li TESTNUM, 11
1:	sw zero, 0(s1)
	j fail
2:	CHECK_TRAP_EPC(11, CAUSE_BREAKPOINT, 1b)
	/* disable with type 2 and no enables (QEMU 7.2 mishandles type 0) */
	li t0, MC
	csrw tdata1, t0
	csrw tselect, zero
	csrw tdata1, t0
	csrci mstatus, MSTATUS_MIE

	/* an S-only trigger does not fire in M, does in S */
	li s2, MC | S_ | LOAD
	csrw tdata1, s2
	csrw tdata2, s1
	lw a4, 0(s1)
	GOTO_S(1f)
1:	EXPECT_TRAP(2f)
	li TESTNUM, 12
1:	lw a4, 0(s1)
	j fail
2:	CHECK_TRAP_EPC(12, CAUSE_BREAKPOINT, 1b)
	TO_M
	li t0, MC
	csrw tdata1, t0

	/* mcountinhibit.IR stops minstret */
	csrwi mcountinhibit, 4
	csrr s4, minstret
	nop
	nop
	csrr a4, minstret
	TEST_CASE(13, 0, sub a4, a4, s4)
	csrwi mcountinhibit, 0
	nop
	csrr a4, minstret
	TEST_CASE(14, 1, sltu a4, s4, a4)
TEST_END

	.data
	.balign 8
data1:	.word 0
	.balign 8
data2:	.word 0
