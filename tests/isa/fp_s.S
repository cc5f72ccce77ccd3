/* fp_s: every RV64F instruction (unprivileged spec ch. 11) with exact
 * results and fflags: arithmetic incl. fused multiply-add (one rounding),
 * sqrt, min/max (-0 < +0, NaN handling, sNaN raises NV), sign injection,
 * moves, compares (FEQ quiet, FLT/FLE signalling), FCLASS for all ten
 * classes, conversions to and from 32/64-bit signed and unsigned integers
 * incl. out-of-range and NaN inputs (table 11.4), canonical NaN results,
 * and FLW/FSW. */
#include "test.h"

TEST_BEGIN
	/* arithmetic */
	TEST_FP_OP2_S(1, fadd.s, 0, 3.5, 2.5, 1.0)
	TEST_FP_OP2_S(2, fadd.s, FLAG_NX, 1.0, 1.0, 0f:30800000)  /* + 2^-30 */
	TEST_FP_OP2_S(3, fadd.s, FLAG_NV, cNaNf, Inff, nInff)
	TEST_FP_OP2_S(4, fsub.s, 0, -1.5, 1.0, 2.5)
	TEST_FP_OP2_S(5, fsub.s, 0, 0.0, 1.0, 1.0)                 /* +0 in RNE */
	TEST_FP_OP2_S(6, fsub.s, FLAG_NV, cNaNf, Inff, Inff)
	TEST_FP_OP2_S(7, fmul.s, 0, -6.0, 3.0, -2.0)
	TEST_FP_OP2_S(8, fmul.s, FLAG_NV, cNaNf, Inff, 0.0)
	TEST_FP_OP2_S(9, fmul.s, FLAG_OF | FLAG_NX, Inff, 0f:7f7fffff, 2.0)
	TEST_FP_OP2_S(10, fmul.s, 0, 0f:00400000, 0f:00800000, 0.5)  /* exact subnormal: no UF */
	TEST_FP_OP2_S(11, fmul.s, FLAG_UF | FLAG_NX, 0f:00400000, 0f:00800001, 0.5)
	/* tininess is detected after rounding: rounds up to the smallest
	 * normal, so NX only */
	TEST_FP_OP2_S(12, fmul.s, FLAG_NX, 0f:00800000, 0f:3f7ffffe, 0f:00800001)
	TEST_FP_OP2_S(13, fdiv.s, 0, 2.5, 5.0, 2.0)
	TEST_FP_OP2_S(14, fdiv.s, FLAG_NX, 0f:3eaaaaab, 1.0, 3.0)
	TEST_FP_OP2_S(15, fdiv.s, FLAG_DZ, nInff, -1.0, 0.0)
	TEST_FP_OP2_S(16, fdiv.s, FLAG_NV, cNaNf, 0.0, 0.0)
	TEST_FP_OP2_S(17, fdiv.s, 0, 0.0, 1.0, Inff)
	TEST_FP_OP1_S(18, fsqrt.s, 0, 2.0, 4.0)
	TEST_FP_OP1_S(19, fsqrt.s, FLAG_NX, 0f:3fb504f3, 2.0)
	TEST_FP_OP1_S(20, fsqrt.s, FLAG_NV, cNaNf, -1.0)
	TEST_FP_OP1_S(21, fsqrt.s, 0, nZerof, nZerof)
	TEST_FP_OP1_S(22, fsqrt.s, 0, Inff, Inff)
	/* NaN operands: quiet NaNs propagate as the canonical NaN, no flag;
	 * signalling NaNs raise NV */
	TEST_FP_OP2_S(23, fadd.s, 0, cNaNf, 0f:7fc12345, 1.0)
	TEST_FP_OP2_S(24, fadd.s, FLAG_NV, cNaNf, sNaNf, 1.0)
	TEST_FP_OP2_S(25, fmul.s, 0, cNaNf, 0f:ffc00000, 1.0)

	/* fused multiply-add: a single rounding */
	TEST_FP_OP3_S(26, fmadd.s, 0, 5.0, 1.0, 2.0, 3.0)
	TEST_FP_OP3_S(27, fmadd.s, 0, 0f:28800000, 0f:3f800001, 0f:3f800001, 0f:bf800002) /* 2^-46 */
	TEST_FP_OP3_S(28, fmsub.s, 0, 0f:28800000, 0f:3f800001, 0f:3f800001, 0f:3f800002)
	TEST_FP_OP3_S(29, fmsub.s, 0, -1.0, 1.0, 2.0, 3.0)
	TEST_FP_OP3_S(30, fnmadd.s, 0, -5.0, 1.0, 2.0, 3.0)
	TEST_FP_OP3_S(31, fnmsub.s, 0, 1.0, 1.0, 2.0, 3.0)
	TEST_FP_OP3_S(32, fnmadd.s, 0, 0f:a8800000, 0f:3f800001, 0f:3f800001, 0f:bf800002)
	TEST_FP_OP3_S(33, fmadd.s, FLAG_NV, cNaNf, Inff, 0.0, 1.0)
	TEST_FP_OP3_S(34, fmadd.s, FLAG_NV, cNaNf, Inff, 1.0, nInff)
	TEST_FP_OP3_S(35, fmadd.s, FLAG_NV, cNaNf, Inff, 0.0, qNaNf) /* inf*0 + qNaN: NV */
	TEST_FP_OP3_S(36, fmadd.s, 0, cNaNf, 1.0, 2.0, qNaNf)
	/* x*y + (-x*y) = +0 in RNE */
	TEST_FP_OP3_S(37, fmadd.s, 0, 0.0, 2.0, 3.0, -6.0)

	/* min/max */
	TEST_FP_OP2_S(38, fmin.s, 0, 1.0, 1.0, 2.0)
	TEST_FP_OP2_S(39, fmax.s, 0, 2.0, 1.0, 2.0)
	TEST_FP_OP2_S(40, fmin.s, 0, nZerof, 0.0, nZerof)
	TEST_FP_OP2_S(41, fmax.s, 0, 0.0, nZerof, 0.0)
	TEST_FP_OP2_S(42, fmin.s, 0, -1.0, qNaNf, -1.0)
	TEST_FP_OP2_S(43, fmax.s, FLAG_NV, -1.0, sNaNf, -1.0)
	TEST_FP_OP2_S(44, fmin.s, 0, cNaNf, qNaNf, 0f:7fc11111)
	TEST_FP_OP2_S(45, fmax.s, FLAG_NV, cNaNf, sNaNf, qNaNf)
	TEST_FP_OP2_S(46, fmin.s, 0, nInff, nInff, Inff)

	/* sign injection (no flags, no canonicalization of NaN payloads) */
	TEST_FP_OP2_S(47, fsgnj.s, 0, -1.5, 1.5, -0.0)
	TEST_FP_OP2_S(48, fsgnj.s, 0, 1.5, -1.5, 2.0)
	TEST_FP_OP2_S(49, fsgnjn.s, 0, 1.5, 1.5, -3.0)
	TEST_FP_OP2_S(50, fsgnjn.s, 0, -1.5, 1.5, 3.0)
	TEST_FP_OP2_S(51, fsgnjx.s, 0, -1.5, -1.5, 3.0)
	TEST_FP_OP2_S(52, fsgnjx.s, 0, 1.5, -1.5, -3.0)
	TEST_FP_OP2_S(53, fsgnjn.s, 0, 0f:ff812345, 0f:7f812345, 0f:7f812345) /* fneg of sNaN */
	TEST_FP_S(54, 0, 0f:7f812345, 0f:ff812345, 0.0, 0.0, fabs.s fa3, fa0)
	TEST_FP_S(55, 0, -2.0, -2.0, 0.0, 0.0, fmv.s fa3, fa0)

	/* compares */
	TEST_FP_INT_S(56, 0, 1, 1.0, 1.0, feq.s a4, fa0, fa1)
	TEST_FP_INT_S(57, 0, 1, 0.0, nZerof, feq.s a4, fa0, fa1)
	TEST_FP_INT_S(58, 0, 0, qNaNf, 1.0, feq.s a4, fa0, fa1)
	TEST_FP_INT_S(59, FLAG_NV, 0, sNaNf, 1.0, feq.s a4, fa0, fa1)
	TEST_FP_INT_S(60, 0, 1, -1.0, 1.0, flt.s a4, fa0, fa1)
	TEST_FP_INT_S(61, 0, 0, nZerof, 0.0, flt.s a4, fa0, fa1)
	TEST_FP_INT_S(62, FLAG_NV, 0, qNaNf, 1.0, flt.s a4, fa0, fa1)
	TEST_FP_INT_S(63, 0, 1, nZerof, 0.0, fle.s a4, fa0, fa1)
	TEST_FP_INT_S(64, FLAG_NV, 0, 1.0, qNaNf, fle.s a4, fa0, fa1)
	TEST_FP_INT_S(65, 0, 0, 2.0, 1.0, fle.s a4, fa0, fa1)

	/* fclass: one bit per class */
	TEST_FP_INT_S(66, 0, 1 << 0, nInff, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(67, 0, 1 << 1, -1.0, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(68, 0, 1 << 2, 0f:807fffff, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(69, 0, 1 << 3, nZerof, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(70, 0, 1 << 4, 0.0, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(71, 0, 1 << 5, 0f:00000001, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(72, 0, 1 << 6, 1.0, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(73, 0, 1 << 7, Inff, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(74, 0, 1 << 8, sNaNf, 0.0, fclass.s a4, fa0)
	TEST_FP_INT_S(75, 0, 1 << 9, qNaNf, 0.0, fclass.s a4, fa0)

	/* float -> integer (default rounding RNE unless given) */
	TEST_FP_INT_S(76, 0, -7, -7.0, 0.0, fcvt.w.s a4, fa0)
	TEST_FP_INT_S(77, FLAG_NX, 2, 2.5, 0.0, fcvt.w.s a4, fa0)
	TEST_FP_INT_S(78, FLAG_NX, -3, -2.5, 0.0, fcvt.w.s a4, fa0, rmm)
	TEST_FP_INT_S(79, FLAG_NX, 0, -0.9, 0.0, fcvt.w.s a4, fa0, rtz)
	TEST_FP_INT_S(80, FLAG_NV, 0x7fffffff, 3e9, 0.0, fcvt.w.s a4, fa0)
	TEST_FP_INT_S(81, FLAG_NV, 0xffffffff80000000, -3e9, 0.0, fcvt.w.s a4, fa0)
	TEST_FP_INT_S(82, FLAG_NV, 0x7fffffff, qNaNf, 0.0, fcvt.w.s a4, fa0)
	TEST_FP_INT_S(83, FLAG_NV, 0x7fffffff, Inff, 0.0, fcvt.w.s a4, fa0)
	TEST_FP_INT_S(84, 0, 0xffffffff80000000, -2147483648.0, 0.0, fcvt.w.s a4, fa0)
	TEST_FP_INT_S(85, FLAG_NV, 0xffffffffffffffff, 4294967295.0, 0.0, fcvt.wu.s a4, fa0, rtz) /* the literal rounds to 2^32: out of range */
	TEST_FP_INT_S(86, 0, 0x0000000000000003, 3.0, 0.0, fcvt.wu.s a4, fa0)
	TEST_FP_INT_S(87, 0, 0xffffffff80000000, 2147483648.0, 0.0, fcvt.wu.s a4, fa0) /* sign-extended */
	TEST_FP_INT_S(88, FLAG_NV, 0, -1.0, 0.0, fcvt.wu.s a4, fa0)
	TEST_FP_INT_S(89, FLAG_NX, 0, -0.5, 0.0, fcvt.wu.s a4, fa0, rtz)
	TEST_FP_INT_S(90, FLAG_NV, 0xffffffffffffffff, qNaNf, 0.0, fcvt.wu.s a4, fa0)
	TEST_FP_INT_S(91, FLAG_NV, 0, nInff, 0.0, fcvt.wu.s a4, fa0)
	TEST_FP_INT_S(92, 0, 0x0000010000000000, 0f:53800000, 0.0, fcvt.l.s a4, fa0)  /* 2^40 */
	TEST_FP_INT_S(93, FLAG_NV, 0x7fffffffffffffff, 0f:5f000000, 0.0, fcvt.l.s a4, fa0) /* 2^63 */
	TEST_FP_INT_S(94, 0, 0x8000000000000000, 0f:df000000, 0.0, fcvt.l.s a4, fa0)
	TEST_FP_INT_S(95, FLAG_NV, 0x8000000000000000, nInff, 0.0, fcvt.l.s a4, fa0)
	TEST_FP_INT_S(96, FLAG_NV, 0x7fffffffffffffff, sNaNf, 0.0, fcvt.l.s a4, fa0)
	TEST_FP_INT_S(97, 0, 0x8000000000000000, 0f:5f000000, 0.0, fcvt.lu.s a4, fa0)
	TEST_FP_INT_S(98, FLAG_NV, 0xffffffffffffffff, 0f:5f800000, 0.0, fcvt.lu.s a4, fa0) /* 2^64 */
	TEST_FP_INT_S(99, FLAG_NV, 0, -1.0, 0.0, fcvt.lu.s a4, fa0)
	TEST_FP_INT_S(100, FLAG_NV, 0xffffffffffffffff, qNaNf, 0.0, fcvt.lu.s a4, fa0)
	TEST_FP_INT_S(101, FLAG_NX, 1, 1.5, 0.0, fcvt.lu.s a4, fa0, rdn)

	/* integer -> float */
	TEST_INT_FP_S(102, 0, 0xbf800000, -1, fcvt.s.w fa3, a1)
	TEST_INT_FP_S(103, 0, 0x40a00000, 0xffffffff00000005, fcvt.s.w fa3, a1) /* low 32 bits */
	TEST_INT_FP_S(104, FLAG_NX, 0x4f000000, 0x7fffffff, fcvt.s.w fa3, a1)
	TEST_INT_FP_S(105, FLAG_NX, 0x4effffff, 0x7fffffff, fcvt.s.w fa3, a1, rtz)
	TEST_INT_FP_S(106, FLAG_NX, 0x4f800000, 0xffffffff, fcvt.s.wu fa3, a1)
	TEST_INT_FP_S(107, 0, 0x00000000, 0, fcvt.s.wu fa3, a1)
	TEST_INT_FP_S(108, 0, 0xdf000000, 0x8000000000000000, fcvt.s.l fa3, a1)
	TEST_INT_FP_S(109, FLAG_NX, 0x5f800000, -1, fcvt.s.lu fa3, a1)
	TEST_INT_FP_S(110, FLAG_NX, 0x5f7fffff, -1, fcvt.s.lu fa3, a1, rtz)
	TEST_INT_FP_S(111, 0, 0x4b800000, 0x1000000, fcvt.s.l fa3, a1)
	TEST_INT_FP_S(112, FLAG_NX, 0x4b800000, 0x1000001, fcvt.s.l fa3, a1)     /* tie to even */
	TEST_INT_FP_S(113, FLAG_NX, 0x4b800002, 0x1000003, fcvt.s.l fa3, a1)     /* tie to even (up) */

	/* moves: raw bits both ways, no canonicalization */
	TEST_INT_FP_S(114, 0, 0x7f812345, 0x7f812345, fmv.w.x fa3, a1)
	TEST_CASE(115, 0xffffffff80000001, li a1, 0x80000001; fmv.w.x fa3, a1; fmv.x.w a4, fa3)  /* sign-extended */
	TEST_CASE(116, 0x000000003f800000, li a1, 0x123456783f800000; fmv.w.x fa3, a1; fmv.x.w a4, fa3)

	/* FLW/FSW move bits unchanged (sNaN stays signalling) */
	la s0, fdata
	TEST_CASE(117, 0x7f800001, flw fa3, 0(s0); fsw fa3, 4(s0); lwu a4, 4(s0))
	TEST_CASE(118, 0, csrr a4, fflags)
TEST_END

	.data
	.balign 8
fdata:	.word 0x7f800001, 0
