/* irq_gemu: interrupt priority across privilege levels (privileged spec
 * 3.1.9: MEI > MSI > MTI > SEI > SSI > STI): with MTIP and SSIP both
 * pending and enabled (SSI not delegated), MTI is taken first.
 * qemu: skip QEMU 7.2 takes the lowest-numbered pending interrupt first (SSI before MTI) */
#include "test.h"

#define MIP_SSIP (1 << 1)
#define MIP_MTIP (1 << 7)

TEST_BEGIN
	li t0, CLINT_MTIMECMP
	sd zero, 0(t0)
	li t0, MIP_MTIP | MIP_SSIP
	csrw mie, t0
	csrsi mip, MIP_SSIP
	EXPECT_TRAP(2f)
	li TESTNUM, 1
	csrsi mstatus, MSTATUS_MIE
	li t0, CLINT_MTIME
	ld t3, 0(t0)
	li t4, 10000000
	add t3, t3, t4
1:	ld t4, 0(t0)
	bltu t4, t3, 1b
	j fail
2:	CHECK_CAUSE(2, IRQ | IRQ_M_TIMER)
	li t0, CLINT_MTIMECMP
	li t1, -1
	sd t1, 0(t0)
	EXPECT_TRAP(2f)
	li TESTNUM, 3
	csrsi mstatus, MSTATUS_MIE
	nop
	nop
	j fail
2:	CHECK_CAUSE(4, IRQ | IRQ_S_SOFT)
	csrci mip, MIP_SSIP
	csrwi mie, 0
TEST_END
