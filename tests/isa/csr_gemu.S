/* csr_gemu: CSRRS/CSRRC with rs1 != x0 always write the CSR, even when the
 * register holds zero, so on a read-only CSR they raise illegal instruction
 * (unprivileged spec 9.1, privileged spec 2.1).
 * mepc[0] and sepc[0] are always zero (privileged spec 3.1.14, IALIGN = 16).
 * qemu: skip QEMU 7.2 decides by the value (write mask != 0) and does not trap; it keeps mepc[0] */
#include "test.h"

TEST_BEGIN
	li a1, 0
	EXPECT_TRAP(2f)
	li TESTNUM, 1
1:	csrrs a4, mvendorid, a1
	j fail
2:	CHECK_TRAP_EPC(2, CAUSE_ILLEGAL, 1b)
	EXPECT_TRAP(2f)
	li TESTNUM, 3
1:	csrrc a4, cycle, a1
	j fail
2:	CHECK_TRAP_EPC(4, CAUSE_ILLEGAL, 1b)
	/* rs1 = x0 does not write: no trap */
	TEST_CASE(5, 0, csrrs a4, mvendorid, x0; csrrc a4, cycle, x0; li a4, 0)
	TEST_CASE(6, 0x80001234, li a1, 0x80001235; csrw mepc, a1; csrr a4, mepc)
	TEST_CASE(7, 0x80001230, li a1, 0x80001231; csrw sepc, a1; csrr a4, sepc)
TEST_END
