/* fp_fs: mstatus.FS and SD (privileged spec 3.1.6.6): with FS = Off every
 * F/D instruction and every access to fcsr/frm/fflags raises illegal
 * instruction (mtval = the word); writing an f register or fcsr from
 * Initial or Clean sets FS = Dirty and SD = 1; SD reads 0 when FS (and XS)
 * are not Dirty; sstatus shows the same FS and SD. */
#include "test.h"

#define SET_FS(v) li t0, MSTATUS_FS; csrc mstatus, t0; li t0, (v) << 13; csrs mstatus, t0
#define GET_FS csrr a4, mstatus; srli a4, a4, 13; andi a4, a4, 3
#define GET_SD csrr a4, mstatus; srli a4, a4, 63
#define FS_ILLEGAL(n, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_TRAP_EPC(n, CAUSE_ILLEGAL, 1b); \
	li TESTNUM, n; \
	la t0, 1b; \
	lhu t2, 0(t0); \
	andi t1, t2, 3; \
	li t3, 3; \
	bne t1, t3, 3f; \
	lwu t2, 0(t0); \
3:	TRAPINFO(TI_TVAL); \
	bne a4, t2, fail

TEST_BEGIN
	la s0, data
	SET_FS(0)
	TEST_CASE(1, 0, GET_FS)
	TEST_CASE(2, 0, GET_SD)
	FS_ILLEGAL(3, flw fa0, 0(s0))
	FS_ILLEGAL(4, fld fa0, 0(s0))
	FS_ILLEGAL(5, fsw fa0, 0(s0))
	FS_ILLEGAL(6, fadd.s fa0, fa1, fa2)
	FS_ILLEGAL(7, fmadd.d fa0, fa1, fa2, fa3)
	FS_ILLEGAL(8, fmv.x.w a4, fa0)
	FS_ILLEGAL(9, fmv.d.x fa0, a4)
	FS_ILLEGAL(10, fcvt.s.w fa0, a4)
	FS_ILLEGAL(11, feq.d a4, fa0, fa1)
	FS_ILLEGAL(12, csrr a4, fcsr)
	FS_ILLEGAL(13, csrwi fflags, 1)
	FS_ILLEGAL(14, frrm a4)
	FS_ILLEGAL(15, c.fld fa0, 0(s0))
	FS_ILLEGAL(16, c.fsdsp fa0, 0(sp))
	FS_ILLEGAL(17, fclass.s a4, fa0)
	TEST_CASE(18, 0, GET_FS)

	/* Initial -> Dirty on an f-register write; SD follows */
	SET_FS(1)
	TEST_CASE(19, 0, GET_SD)
	TEST_CASE(20, 3, li a1, 1; fmv.w.x fa0, a1; GET_FS)
	TEST_CASE(21, 1, GET_SD)
	TEST_CASE(22, 1, csrr a4, sstatus; srli a4, a4, 63)
	TEST_CASE(23, 3, csrr a4, sstatus; srli a4, a4, 13; andi a4, a4, 3)
	/* Clean -> Dirty: fcsr write, FP load, arithmetic, conversion */
	SET_FS(2)
	TEST_CASE(24, 0, GET_SD)
	TEST_CASE(25, 3, csrwi fflags, 0; GET_FS)
	SET_FS(2)
	TEST_CASE(26, 3, fsrmi 0; GET_FS)
	SET_FS(2)
	TEST_CASE(27, 3, flw fa0, 0(s0); GET_FS)
	SET_FS(2)
	TEST_CASE(28, 3, fadd.d fa0, fa1, fa1; GET_FS)
	SET_FS(2)
	TEST_CASE(29, 3, li a1, 7; fcvt.d.l fa0, a1; GET_FS)
	SET_FS(2)
	TEST_CASE(30, 3, c.fld fa0, 0(s0); GET_FS)
	/* S mode writes FS through sstatus */
	SET_FS(0)
	GOTO_S(1f)
1:	FS_ILLEGAL(31, fmv.w.x fa0, a1)
	li t0, 1 << 13
	csrs sstatus, t0
	TEST_CASE(32, 3, fmv.w.x fa0, a1; csrr a4, sstatus; srli a4, a4, 13; andi a4, a4, 3)
	TO_M
	TEST_CASE(33, 3, GET_FS)
	SET_FS(1)
	csrwi fcsr, 0
TEST_END

	.data
	.balign 8
data:	.dword 0x3ff0000000000000
