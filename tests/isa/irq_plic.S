/* irq_plic: external interrupts through the PLIC (privileged spec 3.1.9,
 * RISC-V PLIC spec): the UART's THR-empty interrupt (source 10) routed to
 * hart 0's M context (0) raises mip.MEIP and traps with cause 11; claim
 * returns the source and complete re-arms it; a threshold at or above the
 * source's priority masks it; routed to the S context (1) with mideleg it
 * raises SEIP and traps to S with cause 9; a disabled source never
 * interrupts. Also S-mode WFI (TW = 0) waking on a timer, and a vectored
 * stvec (cause c at base + 4c). */
#include "test.h"

#define PLIC 0x0c000000
#define PLIC_PRIO(src) (PLIC + 4 * (src))
#define PLIC_PENDING (PLIC + 0x1000)
#define PLIC_ENABLE(ctx) (PLIC + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx) (PLIC + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx) (PLIC + 0x200004 + 0x1000 * (ctx))
#define UART_IRQ 10
#define UART_IER (UART0 + 1)
#define MIP_SSIP (1 << 1)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)
#define MIP_SEIP (1 << 9)
#define MIP_MEIP (1 << 11)

#define W32(addr, v) li t0, addr; li t1, v; sw t1, 0(t0)
#define W8(addr, v) li t0, addr; li t1, v; sb t1, 0(t0)
#define SPIN \
	li t0, CLINT_MTIME; \
	ld t3, 0(t0); \
	li t4, 10000000; \
	add t3, t3, t4; \
1:	ld t4, 0(t0); \
	bltu t4, t3, 1b; \
	j fail

TEST_BEGIN
	W8(UART_IER, 0)
	W32(PLIC_PRIO(UART_IRQ), 1)
	W32(PLIC_ENABLE(0), 1 << UART_IRQ)
	W32(PLIC_ENABLE(1), 0)
	W32(PLIC_THRESHOLD(0), 0)
	W32(PLIC_THRESHOLD(1), 0)
	li t0, MIP_MEIP
	csrw mie, t0

	/* THR empty + ETBEI: the UART raises its line; MEIP follows */
	W8(UART_IER, 2)
	li TESTNUM, 1
	li t0, CLINT_MTIME
	ld t3, 0(t0)
	li t4, 10000000
	add t3, t3, t4
1:	csrr a4, mip
	andi a4, a4, 0
	li t1, MIP_MEIP
	csrr a4, mip
	and a4, a4, t1
	bnez a4, 2f
	ld t4, 0(t0)
	bltu t4, t3, 1b
	j fail
2:	TEST_CASE(2, 1 << UART_IRQ, li t0, PLIC_PENDING; lw a4, 0(t0); andi a4, a4, 1 << UART_IRQ)
	EXPECT_TRAP(2f)
	li TESTNUM, 3
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(4, IRQ | IRQ_M_EXT)
	/* claim, silence the UART, complete */
	TEST_CASE(5, UART_IRQ, li t0, PLIC_CLAIM(0); lw a4, 0(t0))
	W8(UART_IER, 0)
	W32(PLIC_CLAIM(0), UART_IRQ)
	TEST_CASE(6, 0, csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)
	TEST_CASE(7, 0, li t0, PLIC_CLAIM(0); lw a4, 0(t0))   /* nothing pending */

	/* threshold >= priority masks the source (that the masked request
	 * stays pending until claimed: plic_latch.S) */
	W32(PLIC_THRESHOLD(0), 1)
	EXPECT_TRAP(fail)
	csrsi mstatus, MSTATUS_MIE
	W8(UART_IER, 2)
	TEST_CASE(8, 0, li t0, 20000; 1: addi t0, t0, -1; bnez t0, 1b; csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)
	csrci mstatus, MSTATUS_MIE
	/* with the threshold back at 0 the (still asserted) source
	 * interrupts */
	W32(PLIC_THRESHOLD(0), 0)
	TEST_CASE(9, MIP_MEIP, csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)
	TEST_CASE(10, UART_IRQ, li t0, PLIC_CLAIM(0); lw a4, 0(t0))
	W8(UART_IER, 0)
	W32(PLIC_CLAIM(0), UART_IRQ)
	TEST_CASE(11, 0, csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)

	/* a disabled source does not reach the hart */
	W32(PLIC_ENABLE(0), 0)
	EXPECT_TRAP(fail)
	csrsi mstatus, MSTATUS_MIE
	W8(UART_IER, 2)
	TEST_CASE(12, 0, li t0, 20000; 1: addi t0, t0, -1; bnez t0, 1b; csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)
	csrci mstatus, MSTATUS_MIE
	W8(UART_IER, 0)
	/* drop whatever request may still be latched: enable, claim,
	 * complete, disable (interrupts are off) */
	W32(PLIC_ENABLE(0), 1 << UART_IRQ)
	li t0, PLIC_CLAIM(0)
	lw t1, 0(t0)
	beqz t1, 1f
	sw t1, 0(t0)
1:	W32(PLIC_ENABLE(0), 0)
	TEST_CASE(13, 0, csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)

	/* S context: SEIP, delegated, S handler */
	W32(PLIC_ENABLE(1), 1 << UART_IRQ)
	li t0, MIP_SEIP
	csrw mideleg, t0
	csrw mie, t0
	csrsi mstatus, MSTATUS_SIE
	EXPECT_TRAP(2f)
	li TESTNUM, 20
	GOTO_S(1f)
1:	W8(UART_IER, 2)
	SPIN
2:	CHECK_CAUSE(21, IRQ | IRQ_S_EXT)
	CHECK_MODE(22, 1)
	TEST_CASE(23, UART_IRQ, li t0, PLIC_CLAIM(1); lw a4, 0(t0))
	W8(UART_IER, 0)
	W32(PLIC_CLAIM(1), UART_IRQ)
	TEST_CASE(24, 0, csrr a4, sip; li t1, MIP_SEIP; and a4, a4, t1)
	TO_M
	csrwi mideleg, 0
	csrwi mie, 0
	W32(PLIC_ENABLE(1), 0)

	/* S-mode WFI with TW = 0 waits for the (delegated) S timer */
	li t0, (1 << 63)
	csrs menvcfg, t0        /* Sstc */
	csrwi mcounteren, 2
	li t0, MIP_STIP
	csrw mideleg, t0
	csrw mie, t0
	li t0, -1
	csrw 0x14d, t0
	csrci mstatus, MSTATUS_SIE
	GOTO_S(1f)
1:	rdtime t1
	li t2, 1000
	add t1, t1, t2
	csrw 0x14d, t1
	TEST_CASE(25, MIP_STIP, wfi; csrr a4, sip; andi a4, a4, MIP_STIP)
	li t0, -1
	csrw 0x14d, t0
	/* vectored stvec: STI (cause 5) enters base + 20 */
	la t0, svectors
	ori t0, t0, 1
	csrw stvec, t0
	li s11, 0
	EXPECT_TRAP(2f)
	li TESTNUM, 26
	rdtime t1
	addi t1, t1, 100
	csrw 0x14d, t1
	csrsi sstatus, MSTATUS_SIE
	SPIN
2:	CHECK_CAUSE(27, IRQ | IRQ_S_TIMER)
	TEST_CASE(28, 5, mv a4, s11)
	li t0, -1
	csrw 0x14d, t0
	la t0, trap_s
	csrw stvec, t0
	TO_M
	csrwi mideleg, 0
	csrwi mie, 0
TEST_END

	.text
	.balign 256
	.option push
	.option norvc
svectors:
	.rept 5
	j trap_s
	.endr
	j svec5
	.rept 10
	j trap_s
	.endr
svec5:	li s11, 5
	j trap_s
	.option pop
