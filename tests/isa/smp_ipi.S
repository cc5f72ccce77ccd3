/* smp_ipi: inter-processor interrupts through the CLINT's msip registers
 * (SiFive CLINT: one 32-bit msip word per hart at 0x2000000 + 4*hartid,
 * bit 0 drives that hart's mip.MSIP; QEMU hw/intc/riscv_aclint.c). Hart 0
 * sends an IPI to each secondary in turn; a secondary sleeps in WFI until
 * its own MSIP is pending, clears its msip word and answers with an IPI
 * back to hart 0, which takes it as a machine software interrupt through
 * trap_m. msip of one hart must not show in another hart's mip.
 * smp: 4 */
#define TEST_SECONDARY secondary
#include "test.h"

#define NHARTS 4
#define MIP_MSIP (1 << 3)

TEST_BEGIN
	/* no IPI pending anywhere at reset */
	TEST_CASE(1, 0, csrr a4, mip; andi a4, a4, MIP_MSIP)
	li s1, CLINT_MSIP
	TEST_CASE(2, 0, lw a4, 4(s1); lw t0, 8(s1); or a4, a4, t0; lw t0, 12(s1); or a4, a4, t0)
	/* our own msip word: reads back, drives only our mip.MSIP (mie = 0) */
	li t0, 1
	sw t0, 0(s1)
	TEST_CASE(3, 1, lw a4, 0(s1))
	TEST_CASE(4, MIP_MSIP, csrr a4, mip; andi a4, a4, MIP_MSIP)
	sw zero, 0(s1)
	TEST_CASE(5, 0, csrr a4, mip; andi a4, a4, MIP_MSIP)

	/* wait until every secondary is ready (sleeping with MSIE set) */
	la s2, ready
	li TESTNUM, 6
1:	lw a4, 0(s2)
	li t2, NHARTS - 1
	bne a4, t2, 1b

	csrsi mie, MIP_MSIP
	li s3, 1 /* hart */
next:
	/* IPI to hart s3: its msip word reads back 1, ours stays 0 */
	slli s4, s3, 2
	add s4, s4, s1
	li t0, 1
	sw t0, 0(s4)
	/* it answers with an IPI to us: taken as interrupt 3 */
	EXPECT_TRAP_M(2f)
	csrsi mstatus, MSTATUS_MIE
	li TESTNUM, 14
1:	wfi
	j 1b
2:	CHECK_CAUSE(7, IRQ | IRQ_M_SOFT)
	/* the secondary counted its wake-up and cleared its own word */
	la t0, woken
	slli t1, s3, 3
	add t0, t0, t1
	TEST_CASE(8, 1, ld a4, 0(t0))
	TEST_CASE(9, 0, lw a4, 0(s4))
	/* our msip is still set (only we clear it) */
	TEST_CASE(10, 1, lw a4, 0(s1))
	sw zero, 0(s1)
	TEST_CASE(11, 0, csrr a4, mip; andi a4, a4, MIP_MSIP)
	addi s3, s3, 1
	li t0, NHARTS
	bltu s3, t0, next

	/* every secondary woke exactly once */
	la t0, woken
	TEST_CASE(12, 3, ld a4, 8(t0); ld t1, 16(t0); add a4, a4, t1; ld t1, 24(t0); add a4, a4, t1)
TEST_END

/* Secondary hart a0: announce, sleep until our MSIP, clear it, record,
 * IPI hart 0, then park. */
secondary:
	mv s0, a0
	csrsi mie, MIP_MSIP
	TEST_CASE(20, 0, csrr a4, mip; andi a4, a4, MIP_MSIP)
	la t0, ready
	li t1, 1
	amoadd.w zero, t1, (t0)
1:	wfi
	csrr t0, mip
	andi t0, t0, MIP_MSIP
	beqz t0, 1b
	li s1, CLINT_MSIP
	slli t0, s0, 2
	add s2, s1, t0
	sw zero, 0(s2)
	TEST_CASE(21, 0, lw a4, 0(s2))
	TEST_CASE(22, 0, csrr a4, mip; andi a4, a4, MIP_MSIP)
	la t0, woken
	slli t1, s0, 3
	add t0, t0, t1
	li t1, 1
	amoadd.d zero, t1, (t0)
	fence
	li t0, 1
	sw t0, 0(s1) /* IPI hart 0 */
	csrwi mie, 0
	j park

	.data
	.balign 8
ready:	.dword 0
woken:	.fill NHARTS, 8, 0
