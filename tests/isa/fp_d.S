/* fp_d: every RV64D instruction (unprivileged spec ch. 12) with exact
 * results and fflags: arithmetic, fused multiply-add, sqrt, min/max, sign
 * injection, compares, FCLASS.D, conversions to/from integers and between
 * S and D (FCVT.S.D rounds and may overflow/underflow; FCVT.D.S is exact
 * and quiets NaNs to the canonical NaN), FMV.X.D/FMV.D.X, FLD/FSD. */
#include "test.h"

TEST_BEGIN
	TEST_FP_OP2_D(1, fadd.d, 0, 3.5, 2.5, 1.0)
	TEST_FP_OP2_D(2, fadd.d, FLAG_NX, 1.0, 1.0, 0d:3c90000000000000)   /* + 2^-54 */
	TEST_FP_OP2_D(3, fadd.d, FLAG_NV, cNaN, Inf, nInf)
	TEST_FP_OP2_D(4, fsub.d, 0, -1.5, 1.0, 2.5)
	TEST_FP_OP2_D(5, fmul.d, 0, -6.0, 3.0, -2.0)
	TEST_FP_OP2_D(6, fmul.d, FLAG_OF | FLAG_NX, Inf, 0d:7fefffffffffffff, 2.0)
	TEST_FP_OP2_D(7, fmul.d, FLAG_UF | FLAG_NX, 0d:0008000000000000, 0d:0010000000000001, 0.5)
	TEST_FP_OP2_D(8, fmul.d, 0, 0d:0008000000000000, 0d:0010000000000000, 0.5)
	TEST_FP_OP2_D(9, fmul.d, FLAG_NV, cNaN, 0.0, nInf)
	TEST_FP_OP2_D(10, fdiv.d, FLAG_NX, 0d:3fd5555555555555, 1.0, 3.0)
	TEST_FP_OP2_D(11, fdiv.d, FLAG_DZ, Inf, 1.0, 0.0)
	TEST_FP_OP2_D(12, fdiv.d, FLAG_NV, cNaN, Inf, Inf)
	TEST_FP_OP1_D(13, fsqrt.d, FLAG_NX, 0d:3ff6a09e667f3bcd, 2.0)
	TEST_FP_OP1_D(14, fsqrt.d, 0, 3.0, 9.0)
	TEST_FP_OP1_D(15, fsqrt.d, FLAG_NV, cNaN, -4.0)
	TEST_FP_OP2_D(16, fadd.d, FLAG_NV, cNaN, sNaN, 1.0)
	TEST_FP_OP2_D(17, fadd.d, 0, cNaN, 0d:7ff8000000001234, 1.0)

	/* FMA: (1 + 2^-52)^2 - (1 + 2^-51) = 2^-104 exactly */
	TEST_FP_OP3_D(18, fmadd.d, 0, 0d:3970000000000000, 0d:3ff0000000000001, 0d:3ff0000000000001, 0d:bff0000000000002)
	TEST_FP_OP3_D(19, fmsub.d, 0, 0d:3970000000000000, 0d:3ff0000000000001, 0d:3ff0000000000001, 0d:3ff0000000000002)
	TEST_FP_OP3_D(20, fnmadd.d, 0, -5.0, 1.0, 2.0, 3.0)
	TEST_FP_OP3_D(21, fnmsub.d, 0, 1.0, 1.0, 2.0, 3.0)
	TEST_FP_OP3_D(22, fmadd.d, FLAG_NV, cNaN, 0.0, Inf, 2.0)

	TEST_FP_OP2_D(23, fmin.d, 0, nZero, 0.0, nZero)
	TEST_FP_OP2_D(24, fmax.d, 0, 0.0, nZero, 0.0)
	TEST_FP_OP2_D(25, fmin.d, 0, 3.0, qNaN, 3.0)
	TEST_FP_OP2_D(26, fmax.d, FLAG_NV, 3.0, 3.0, sNaN)
	TEST_FP_OP2_D(27, fmax.d, 0, cNaN, qNaN, qNaN)
	TEST_FP_OP2_D(28, fsgnj.d, 0, -2.0, 2.0, -1.0)
	TEST_FP_OP2_D(29, fsgnjn.d, 0, 2.0, 2.0, -1.0)
	TEST_FP_OP2_D(30, fsgnjx.d, 0, 2.0, -2.0, -1.0)
	TEST_FP_OP2_D(31, fsgnjn.d, 0, 0d:fff0000000000001, sNaN, sNaN)

	TEST_FP_INT_D(32, 0, 1, 1.0, 1.0, feq.d a4, fa0, fa1)
	TEST_FP_INT_D(33, FLAG_NV, 0, sNaN, 1.0, feq.d a4, fa0, fa1)
	TEST_FP_INT_D(34, 0, 0, qNaN, qNaN, feq.d a4, fa0, fa1)
	TEST_FP_INT_D(35, 0, 1, -1.0, 1.0, flt.d a4, fa0, fa1)
	TEST_FP_INT_D(36, FLAG_NV, 0, qNaN, 1.0, flt.d a4, fa0, fa1)
	TEST_FP_INT_D(37, 0, 1, 1.0, 1.0, fle.d a4, fa0, fa1)
	TEST_FP_INT_D(38, FLAG_NV, 0, 1.0, qNaN, fle.d a4, fa0, fa1)

	TEST_FP_INT_D(39, 0, 1 << 0, nInf, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(40, 0, 1 << 1, -3.0, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(41, 0, 1 << 2, 0d:800fffffffffffff, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(42, 0, 1 << 3, nZero, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(43, 0, 1 << 4, 0.0, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(44, 0, 1 << 5, 0d:0000000000000001, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(45, 0, 1 << 6, 3.0, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(46, 0, 1 << 7, Inf, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(47, 0, 1 << 8, sNaN, 0.0, fclass.d a4, fa0)
	TEST_FP_INT_D(48, 0, 1 << 9, qNaN, 0.0, fclass.d a4, fa0)

	TEST_FP_INT_D(49, FLAG_NX, 2, 2.5, 0.0, fcvt.w.d a4, fa0)
	TEST_FP_INT_D(50, FLAG_NX, 3, 2.5, 0.0, fcvt.w.d a4, fa0, rup)
	TEST_FP_INT_D(51, FLAG_NV, 0x7fffffff, 2147483648.0, 0.0, fcvt.w.d a4, fa0)
	TEST_FP_INT_D(52, FLAG_NX, 0x7fffffff, 2147483647.5, 0.0, fcvt.w.d a4, fa0, rtz)
	TEST_FP_INT_D(53, FLAG_NV, 0xffffffff80000000, nInf, 0.0, fcvt.w.d a4, fa0)
	TEST_FP_INT_D(54, 0, 0xffffffffffffffff, 4294967295.0, 0.0, fcvt.wu.d a4, fa0)
	TEST_FP_INT_D(55, FLAG_NV, 0xffffffffffffffff, 4294967296.0, 0.0, fcvt.wu.d a4, fa0)
	TEST_FP_INT_D(56, FLAG_NV, 0, -3.0, 0.0, fcvt.wu.d a4, fa0)
	TEST_FP_INT_D(57, 0, 0x7ffffffffffffc00, 0d:43dfffffffffffff, 0.0, fcvt.l.d a4, fa0)
	TEST_FP_INT_D(58, FLAG_NV, 0x7fffffffffffffff, 0d:43e0000000000000, 0.0, fcvt.l.d a4, fa0)
	TEST_FP_INT_D(59, FLAG_NV, 0x7fffffffffffffff, qNaN, 0.0, fcvt.l.d a4, fa0)
	TEST_FP_INT_D(60, 0, 0xfffffffffffff800, 0d:43efffffffffffff, 0.0, fcvt.lu.d a4, fa0)
	TEST_FP_INT_D(61, FLAG_NV, 0xffffffffffffffff, Inf, 0.0, fcvt.lu.d a4, fa0)
	TEST_FP_INT_D(62, FLAG_NX, 0, -0.25, 0.0, fcvt.lu.d a4, fa0)

	TEST_INT_FP_D(63, 0, 0xc000000000000000, -2, fcvt.d.w fa3, a1)
	TEST_INT_FP_D(64, 0, 0x41efffffffe00000, 0xffffffff, fcvt.d.wu fa3, a1)
	TEST_INT_FP_D(65, 0, 0xc3e0000000000000, 0x8000000000000000, fcvt.d.l fa3, a1)
	TEST_INT_FP_D(66, FLAG_NX, 0x43f0000000000000, -1, fcvt.d.lu fa3, a1)
	TEST_INT_FP_D(67, FLAG_NX, 0x43efffffffffffff, -1, fcvt.d.lu fa3, a1, rtz)
	TEST_INT_FP_D(68, FLAG_NX, 0x4340000000000000, 0x20000000000001, fcvt.d.l fa3, a1) /* tie to even */
	TEST_INT_FP_D(69, 0, 0x3ff0000000000000, 0x7fffffff00000001, fcvt.d.w fa3, a1)   /* low 32 bits */

	/* S <-> D */
	TEST_FP_S(70, 0, 1.5, 0.0, 0.0, 0.0, la a0, d_1_5; fld fa0, 0(a0); fcvt.s.d fa3, fa0)
	TEST_FP_S(71, FLAG_NX, 0f:3eaaaaab, 0.0, 0.0, 0.0, la a0, d_third; fld fa0, 0(a0); fcvt.s.d fa3, fa0)
	TEST_FP_S(72, FLAG_NX, 0f:3eaaaaaa, 0.0, 0.0, 0.0, la a0, d_third; fld fa0, 0(a0); fcvt.s.d fa3, fa0, rtz)
	TEST_FP_S(73, FLAG_OF | FLAG_NX, Inff, 0.0, 0.0, 0.0, la a0, d_big; fld fa0, 0(a0); fcvt.s.d fa3, fa0)
	TEST_FP_S(74, FLAG_UF | FLAG_NX, 0f:00000000, 0.0, 0.0, 0.0, la a0, d_tiny; fld fa0, 0(a0); fcvt.s.d fa3, fa0)
	TEST_FP_S(75, FLAG_NV, cNaNf, 0.0, 0.0, 0.0, la a0, d_snan; fld fa0, 0(a0); fcvt.s.d fa3, fa0)
	TEST_FP_S(76, 0, cNaNf, 0.0, 0.0, 0.0, la a0, d_qnan_payload; fld fa0, 0(a0); fcvt.s.d fa3, fa0)
	TEST_FP_D(77, 0, 0d:3fd5555560000000, 0.0, 0.0, 0.0, la a0, f_third; flw fa0, 0(a0); fcvt.d.s fa3, fa0)
	TEST_FP_D(78, FLAG_NV, cNaN, 0.0, 0.0, 0.0, la a0, f_snan; flw fa0, 0(a0); fcvt.d.s fa3, fa0)
	TEST_FP_D(79, 0, 0d:36a0000000000000, 0.0, 0.0, 0.0, la a0, f_min_sub; flw fa0, 0(a0); fcvt.d.s fa3, fa0) /* 2^-149 */

	TEST_INT_FP_D(80, 0, 0x7ff0000000000001, 0x7ff0000000000001, fmv.d.x fa3, a1)
	TEST_CASE(81, 0x8000000000000001, li a1, 0x8000000000000001; fmv.d.x fa3, a1; fmv.x.d a4, fa3)
	la s0, ddata
	TEST_CASE(82, 0x7ff0000000000001, fld fa3, 0(s0); fsd fa3, 8(s0); ld a4, 8(s0))
	TEST_CASE(83, 0, csrr a4, fflags)
TEST_END

	.data
	.balign 8
ddata:	.dword 0x7ff0000000000001, 0
d_1_5:	.double 1.5
d_third: .dword 0x3fd5555555555555
d_big:	.dword 0x47f0000000000000   /* 2^128 */
d_tiny:	.dword 0x3690000000000000   /* 2^-150: half the smallest subnormal, tie -> 0 */
d_snan:	.dword 0x7ff0000000000001
d_qnan_payload: .dword 0x7ff8000012345678
f_snan:	.word 0x7f800001
f_third: .word 0x3eaaaaab
f_min_sub: .word 0x00000001
