/* priv_gemu: an xRET that returns to a mode other than M clears
 * mstatus.MPRV (privileged spec 1.12, 3.1.6.1 and 3.3.2).
 * qemu: skip QEMU 7.2 leaves MPRV set on MRET/SRET to S or U */
#include "test.h"

TEST_BEGIN
	/* MRET to S */
	li t0, MSTATUS_MPRV
	csrs mstatus, t0
	GOTO_S(1f)
1:	TO_M
	TEST_CASE(1, 0, csrr a1, mstatus; li a2, MSTATUS_MPRV; and a4, a1, a2)
	/* MRET to U */
	li t0, MSTATUS_MPRV
	csrs mstatus, t0
	GOTO_U(1f)
1:	TO_M
	TEST_CASE(2, 0, csrr a1, mstatus; li a2, MSTATUS_MPRV; and a4, a1, a2)
	/* SRET (executed in M) to S */
	li t0, MSTATUS_MPRV | MSTATUS_SPP
	csrs mstatus, t0
	la t0, 1f
	csrw sepc, t0
	sret
1:	TO_M
	TEST_CASE(3, 0, csrr a1, mstatus; li a2, MSTATUS_MPRV; and a4, a1, a2)
TEST_END
