/* amo_gemu: AMO faults are store/AMO faults (privileged spec table 3.6):
 * a misaligned AMO or SC raises Store/AMO address misaligned (6) with tval =
 * the address, and an AMO to an unmapped address a Store/AMO access fault
 * (7).
 * qemu: skip QEMU 7.2 reports AMO faults as load faults (4, 5) and lets a misaligned SC fail without trapping */
#include "test.h"

TEST_BEGIN
	la s0, data
	addi s1, s0, 4
	li a2, 1
	EXPECT_TRAP(1f)
	amoadd.d a4, a2, (s1)
	j fail
1:	CHECK_CAUSE(1, CAUSE_MISALIGNED_STORE)
	TEST_CASE(2, 0, TRAPINFO(TI_TVAL); sub a4, a4, s1)
	addi s1, s0, 1
	EXPECT_TRAP(1f)
	amoswap.w a4, a2, (s1)
	j fail
1:	CHECK_CAUSE(3, CAUSE_MISALIGNED_STORE)
	EXPECT_TRAP(1f)
	sc.w a4, a2, (s1)
	j fail
1:	CHECK_CAUSE(4, CAUSE_MISALIGNED_STORE)
	EXPECT_TRAP(1f)
	lr.w a4, (s1)
	j fail
1:	CHECK_CAUSE(5, CAUSE_MISALIGNED_LOAD)
	TEST_CASE(6, 0, ld a4, 0(s0))
	li s1, 0x8
	EXPECT_TRAP(1f)
	li TESTNUM, 7
	amoadd.d a4, a2, (s1)
	j fail
1:	CHECK_TRAP(8, CAUSE_STORE_ACCESS, 0x8)
	EXPECT_TRAP(1f)
	li TESTNUM, 9
	amoswap.w a4, a2, (s1)
	j fail
1:	CHECK_TRAP(10, CAUSE_STORE_ACCESS, 0x8)
	EXPECT_TRAP(1f)
	li TESTNUM, 11
	lr.d a4, (s1)
	j fail
1:	CHECK_TRAP(12, CAUSE_LOAD_ACCESS, 0x8)
TEST_END

	.data
	.balign 16
data:	.dword 0, 0
