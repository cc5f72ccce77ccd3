/* fp_nanbox: NaN-boxing of single-precision values in 64-bit f registers
 * (unprivileged spec 12.2): every S result (FLW, FMV.W.X, arithmetic,
 * FCVT.S.*) sets bits 63:32; an S operand that is not properly boxed reads
 * as the canonical NaN (arithmetic, sign injection, FCLASS, compares,
 * FCVT.D.S), while FMV.X.W and FSW move bits 31:0 without checking. */
#include "test.h"

/* fa0 = the raw 64-bit value v */
#define LOADD(v) li a1, v; fmv.d.x fa0, a1

TEST_BEGIN
	la s0, data
	/* boxing of every way to produce an S value */
	TEST_CASE(1, 0xffffffff3f800000, flw fa0, 0(s0); fmv.x.d a4, fa0)
	TEST_CASE(2, 0xffffffff12345678, li a1, 0x12345678; fmv.w.x fa0, a1; fmv.x.d a4, fa0)
	TEST_CASE(3, 0xffffffff40000000, flw fa0, 0(s0); fadd.s fa0, fa0, fa0; fmv.x.d a4, fa0)
	TEST_CASE(4, 0xffffffff3fc00000, fld fa1, 8(s0); fcvt.s.d fa0, fa1; fmv.x.d a4, fa0)
	TEST_CASE(5, 0xffffffff40400000, li a1, 3; fcvt.s.l fa0, a1; fmv.x.d a4, fa0)
	TEST_CASE(6, 0xffffffffbf800000, flw fa0, 0(s0); fneg.s fa0, fa0; fmv.x.d a4, fa0)
	TEST_CASE(7, 0xffffffff3f800000, flw fa0, 0(s0); fmin.s fa0, fa0, fa0; fmv.x.d a4, fa0)
	TEST_CASE(8, 0xffffffff7fc00000, flw fa0, 0(s0); fsqrt.s fa0, fa0; fsub.s fa0, fa0, fa0; fdiv.s fa0, fa0, fa0; fmv.x.d a4, fa0)
	csrwi fflags, 0

	/* unboxed operands read as the canonical NaN */
	TEST_CASE(9, 0xffffffff7fc00000, LOADD(0x000000003f800000); fadd.s fa0, fa0, fa0; fmv.x.d a4, fa0)
	TEST_CASE(10, 0, frflags a4)  /* canonical NaN is quiet: no NV */
	TEST_CASE(11, 0xffffffff7fc00000, LOADD(0xfffffffe3f800000); fmul.s fa0, fa0, fa0; fmv.x.d a4, fa0)
	TEST_CASE(12, 0xffffffff7fc00000, LOADD(0x3ff0000000000000); flw fa1, 0(s0); fsgnj.s fa0, fa0, fa1; fmv.x.d a4, fa0)
	TEST_CASE(13, 0xffffffffffc00000, LOADD(0x3ff0000000000000); flw fa1, 0(s0); fsgnjn.s fa0, fa0, fa1; fmv.x.d a4, fa0)
	/* an unboxed sign source also counts as the canonical NaN (+) */
	TEST_CASE(14, 0xffffffff3f800000, flw fa1, 4(s0); LOADD(0x00000000bf800000); fsgnj.s fa0, fa1, fa0; fmv.x.d a4, fa0)
	TEST_CASE(15, 1 << 9, LOADD(0x0000000000000000); fclass.s a4, fa0)
	TEST_CASE(16, 0, LOADD(0x000000003f800000); flw fa1, 0(s0); feq.s a4, fa0, fa1)
	TEST_CASE(17, 0, frflags a4)
	TEST_CASE(18, 0, LOADD(0x000000003f800000); flt.s a4, fa0, fa0)
	TEST_CASE(19, FLAG_NV, fsflags a4, x0)
	TEST_CASE(20, 0x7ff8000000000000, LOADD(0x000000003f800000); fcvt.d.s fa0, fa0; fmv.x.d a4, fa0)
	TEST_CASE(21, 0x7fffffff, LOADD(0x000000003f800000); fcvt.w.s a4, fa0)
	TEST_CASE(22, FLAG_NV, fsflags a4, x0)
	TEST_CASE(23, 0xffffffff7fc00000, LOADD(0x000000003f800000); flw fa1, 0(s0); fmadd.s fa0, fa1, fa1, fa0; fmv.x.d a4, fa0)

	/* FMV.X.W and FSW take bits 31:0 as they are */
	TEST_CASE(24, 0x000000003f800000, LOADD(0x123456783f800000); fmv.x.w a4, fa0)
	TEST_CASE(25, 0xffffffffbf800000, LOADD(0x00000000bf800000); fmv.x.w a4, fa0)
	TEST_CASE(26, 0x000000003f800000, LOADD(0x000000003f800000); fsw fa0, 16(s0); lwu a4, 16(s0))
	/* D operations see the whole register */
	TEST_CASE(27, 0xffffffff3f800000, flw fa0, 0(s0); fsgnj.d fa0, fa0, fa0; fmv.x.d a4, fa0)
	TEST_CASE(28, 1 << 9, flw fa0, 0(s0); fclass.d a4, fa0)  /* 0xffffffff... is a D qNaN */
TEST_END

	.data
	.balign 8
data:	.word 0x3f800000, 0xbf800000   /* 1.0f, -1.0f */
	.dword 0x3ff8000000000000      /* 1.5 */
	.dword 0
