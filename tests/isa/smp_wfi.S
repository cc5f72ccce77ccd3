/* smp_wfi: a hart sleeping in WFI is woken by another hart (privileged
 * spec 3.3.3: WFI resumes when an enabled interrupt becomes pending, even
 * with mstatus.MIE clear). Hart 0 sleeps; hart 1 first sleeps on its own
 * timer (so for a while every hart waits in WFI and the machine must move
 * time on to the timer), then writes a flag and hart 0's msip. Hart 0 must
 * wake with MSIP pending and see the flag written before the IPI.
 * smp: 2 */
#define TEST_SECONDARY secondary
#include "test.h"

#define MIP_MSIP (1 << 3)
#define MIP_MTIP (1 << 7)

TEST_BEGIN
	csrsi mie, MIP_MSIP
	csrci mstatus, MSTATUS_MIE
	la s1, go
	li t0, 1
	sw t0, 0(s1)
	li TESTNUM, 1
1:	wfi
	csrr t0, mip
	andi t0, t0, MIP_MSIP
	beqz t0, 1b
	/* woken by hart 1's IPI, after its flag */
	TEST_CASE(2, 0x5a, la t0, flag; lw a4, 0(t0))
	/* and only after its timer fired */
	TEST_CASE(3, 1, la t0, timed; lw a4, 0(t0))
	li t0, CLINT_MSIP
	sw zero, 0(t0)
	TEST_CASE(4, 0, csrr a4, mip; andi a4, a4, MIP_MSIP)

	/* again, the other way round: hart 1 sleeps, we wake it, it answers */
	la t0, round2
	li t1, 1
	sw t1, 0(t0)
	/* give hart 1 time to go to sleep (a few quanta) */
	li t0, 20000
1:	addi t0, t0, -1
	bnez t0, 1b
	li t0, CLINT_MSIP + 4
	li t1, 1
	sw t1, 0(t0)
	li TESTNUM, 5
1:	wfi
	csrr t0, mip
	andi t0, t0, MIP_MSIP
	beqz t0, 1b
	TEST_CASE(6, 2, la t0, flag2; lw a4, 0(t0))
	li t0, CLINT_MSIP
	sw zero, 0(t0)
TEST_END

secondary:
	li t0, 1
	bne a0, t0, park
	la s1, go
1:	lw t0, 0(s1)
	beqz t0, 1b
	/* sleep on our own timer, 2 ms ahead (10 MHz mtime) */
	li t0, CLINT_MTIME
	ld t1, 0(t0)
	li t2, 20000
	add t1, t1, t2
	li t0, CLINT_MTIMECMP + 8
	sd t1, 0(t0)
	li t0, MIP_MTIP
	csrs mie, t0
1:	wfi
	csrr t0, mip
	andi t0, t0, MIP_MTIP
	beqz t0, 1b
	li t0, MIP_MTIP
	csrc mie, t0
	la t0, timed
	li t1, 1
	sw t1, 0(t0)
	la t0, flag
	li t1, 0x5a
	sw t1, 0(t0)
flagged: /* tests/gdb: a watchpoint on flag stops here */
	fence w, w
	li t0, CLINT_MSIP
	li t1, 1
	sw t1, 0(t0)

	/* round 2: sleep until hart 0's IPI */
	la s1, round2
1:	lw t0, 0(s1)
	beqz t0, 1b
	csrsi mie, MIP_MSIP
1:	wfi
	csrr t0, mip
	andi t0, t0, MIP_MSIP
	beqz t0, 1b
	li t0, CLINT_MSIP + 4
	sw zero, 0(t0)
	la t0, flag2
	li t1, 2
	sw t1, 0(t0)
	fence w, w
	li t0, CLINT_MSIP
	li t1, 1
	sw t1, 0(t0)
	csrwi mie, 0
	j park

	.data
	.balign 8
go:	.word 0
round2:	.word 0
flag:	.word 0
flag2:	.word 0
timed:	.word 0
