/* ram_end: accesses at the end of RAM (the default 128 MiB, so RAM ends at
 * 0x88000000 on both gemu and QEMU): the last doubleword works; a
 * misaligned access straddling the end and any access past it raise an
 * access fault whose mtval is the first address outside RAM (privileged
 * spec 3.1.16: the portion of the access that faulted); fetching past the
 * end is an instruction access fault. */
#include "test.h"
#define EXPECT(n, cause, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_CAUSE(n, cause)
TEST_BEGIN
	/* straddling the end of RAM (128 MiB) */
	li s1, 0x88000000
	TEST_CASE(4, 0, sd zero, -8(s1); ld a4, -8(s1))
	EXPECT(5, CAUSE_LOAD_ACCESS, ld a4, -4(s1))
	TEST_CASE(6, 0x88000000, TRAPINFO(TI_TVAL))
	EXPECT(7, CAUSE_STORE_ACCESS, sd a4, -2(s1))
	TEST_CASE(8, 0x88000000, TRAPINFO(TI_TVAL))
	EXPECT(9, CAUSE_LOAD_ACCESS, ld a4, 0(s1))
	TEST_CASE(10, 0x88000000, TRAPINFO(TI_TVAL))
	/* fetch from just past RAM */
	EXPECT(11, CAUSE_FETCH_ACCESS, jalr ra, s1, 0)
TEST_END
