/* amo_misaligned: a misaligned AMO or SC raises Store/AMO address
 * misaligned (cause 6, privileged spec table 3.6) with tval = the address.
 * qemu: skip QEMU 7.2 reports cause 4 for misaligned AMOs and lets a misaligned SC fail without trapping */
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
TEST_END

	.data
	.balign 16
data:	.dword 0, 0
