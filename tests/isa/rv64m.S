/* rv64m: every RV64M instruction (unprivileged spec ch. 7), incl. the
 * table 7.1 edge cases: division by zero and signed overflow, and the W
 * forms using only the low 32 bits of the operands and sign-extending. */
#include "test.h"

TEST_BEGIN

	TEST_RR(1, mul, 15, 3, 5)
	TEST_RR(2, mul, 1, -1, -1)
	TEST_RR(3, mul, 0xfffffffffffffffe, 0x7fffffffffffffff, 2)
	TEST_RR(4, mul, 0x0000000000000000, 0x8000000000000000, 2)
	TEST_RR(5, mulh, 0, -1, -1)
	TEST_RR(6, mulh, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000)
	TEST_RR(7, mulh, 0xffffffffffffffff, -1, 1)
	TEST_RR(8, mulh, 0xffffffffffffffff, 2, 0x8000000000000000)
	TEST_RR(9, mulhu, 0xfffffffffffffffe, -1, -1)
	TEST_RR(10, mulhu, 1, 2, 0x8000000000000000)
	TEST_RR(11, mulhu, 0, 0x12345, 0x6789)
	TEST_RR(12, mulhsu, 0xffffffffffffffff, -1, -1)
	TEST_RR(13, mulhsu, 1, 2, 0x8000000000000000)
	TEST_RR(14, mulhsu, 0xffffffffffffffff, 0x8000000000000000, 2)
	TEST_RR(15, mulw, 0xfffffffffffffffe, 0x7fffffff, 2)
	TEST_RR(16, mulw, 15, 0x100000003, 0x100000005)
	TEST_RR(17, mulw, 0xffffffff80000000, 0x10000, 0x8000)

	/* division rounds toward zero; remainder has the dividend's sign */
	TEST_RR(18, div, 3, 7, 2)
	TEST_RR(19, div, -3, -7, 2)
	TEST_RR(20, div, -3, 7, -2)
	TEST_RR(21, div, 3, -7, -2)
	TEST_RR(22, rem, 1, 7, 2)
	TEST_RR(23, rem, -1, -7, 2)
	TEST_RR(24, rem, 1, 7, -2)
	TEST_RR(25, rem, -1, -7, -2)
	TEST_RR(26, divu, 0x7fffffffffffffff, -1, 2)
	TEST_RR(27, remu, 1, -1, 2)
	/* divide by zero: quotient all ones, remainder = dividend */
	TEST_RR(28, div, -1, 42, 0)
	TEST_RR(29, divu, -1, 42, 0)
	TEST_RR(30, rem, 42, 42, 0)
	TEST_RR(31, remu, -42, -42, 0)
	/* signed overflow: -2^63 / -1 = -2^63, remainder 0 */
	TEST_RR(32, div, 0x8000000000000000, 0x8000000000000000, -1)
	TEST_RR(33, rem, 0, 0x8000000000000000, -1)

	/* W forms */
	TEST_RR(34, divw, -3, -7, 2)
	TEST_RR(35, divw, 0xffffffff80000000, 0x80000000, -1) /* overflow */
	TEST_RR(36, remw, 0, 0x80000000, -1)
	TEST_RR(37, divw, -1, 0x123456789, 0)                 /* by zero */
	TEST_RR(38, remw, 0x23456789, 0x123456789, 0)
	TEST_RR(39, remw, 0xffffffff80000000, 0x80000000, 0x100000000) /* divisor low 32 = 0 */
	TEST_RR(40, divuw, -1, 0x5, 0)
	TEST_RR(41, remuw, 0xffffffff80000000, 0x80000000, 0)
	TEST_RR(42, divuw, 8, 0x100000010, 0x100000002)
	TEST_RR(43, divuw, 0xffffffffffffffff, 0xffffffff, 1) /* result sign-extended */
	TEST_RR(44, divuw, 0x7fffffff, 0xfffffffe, 2)
	TEST_RR(45, remuw, 1, 0xffffffff, 2)
	TEST_RR(46, remw, -1, -7, 2)
	TEST_RR(47, divw, 3, 0xfffffffe00000007, 2)           /* upper bits ignored */

TEST_END
