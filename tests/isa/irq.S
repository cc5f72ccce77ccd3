/* irq: interrupts (privileged spec 3.1.9, 3.3.3, Sstc 1.0): machine
 * software interrupts through the CLINT msip, machine timer through
 * mtimecmp, read-only MSIP/MTIP in mip, WFI resuming on a pending enabled
 * interrupt even with MIE = 0, priority MSI > MTI and SSI > STI, M
 * interrupts preempting S regardless of mstatus.MIE, delegation of SSI to
 * S with mideleg (not taken in M), Sstc stimecmp raising STI in S, and
 * vectored mtvec (interrupt cause c goes to base + 4c). */
#include "test.h"

#define STIMECMP 0x14d
#define MENVCFG_STCE (1 << 63)
#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)

/* Wait up to 1 s of mtime (read through the CLINT, so it works in any
 * mode) for an interrupt that resumes at 2f; then fail. */
#define SPIN \
	li t0, CLINT_MTIME; \
	ld t3, 0(t0); \
	li t4, 10000000; \
	add t3, t3, t4; \
1:	ld t4, 0(t0); \
	bltu t4, t3, 1b; \
	j fail

#define MSIP(v) li t0, CLINT_MSIP; li t1, v; sw t1, 0(t0)
#define MTIMECMP_IN(ticks) \
	li t0, CLINT_MTIME; ld t1, 0(t0); addi t1, t1, ticks; \
	li t0, CLINT_MTIMECMP; sd t1, 0(t0)
#define MTIMECMP_SET(v) li t0, CLINT_MTIMECMP; li t1, v; sd t1, 0(t0)

TEST_BEGIN
	MTIMECMP_SET(-1)
	/* MSIP shows in mip; mip.MSIP/MTIP are read-only to CSR writes */
	MSIP(1)
	TEST_CASE(1, MIP_MSIP, csrr a4, mip; andi a4, a4, MIP_MSIP)
	MSIP(0)
	TEST_CASE(2, 0, csrr a4, mip; andi a4, a4, MIP_MSIP)
	TEST_CASE(3, 0, li a1, MIP_MSIP | MIP_MTIP; csrs mip, a1; csrr a4, mip; and a4, a4, a1)

	/* machine software interrupt */
	csrwi mie, MIP_MSIP
	EXPECT_TRAP(2f)
	li TESTNUM, 4
	MSIP(1)
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(5, IRQ | IRQ_M_SOFT)
	CHECK_MODE(6, 3)
	/* the handler left MIE = 0 */
	TEST_CASE(7, 0, csrr a4, mstatus; andi a4, a4, MSTATUS_MIE)
	MSIP(0)
	TEST_CASE(8, 0, csrr a4, mip; andi a4, a4, MIP_MSIP)

	/* machine timer */
	li t0, MIP_MTIP
	csrw mie, t0
	EXPECT_TRAP(2f)
	li TESTNUM, 9
	MTIMECMP_IN(200)
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(10, IRQ | IRQ_M_TIMER)
	TEST_CASE(11, MIP_MTIP, csrr a4, mip; andi a4, a4, MIP_MTIP)
	MTIMECMP_SET(-1)
	TEST_CASE(12, 0, csrr a4, mip; andi a4, a4, MIP_MTIP)

	/* WFI with a pending enabled interrupt and MIE = 0: returns, no trap */
	csrwi mie, MIP_MSIP
	EXPECT_TRAP(fail)
	MSIP(1)
	TEST_CASE(13, 0, wfi; TRAPINFO(TI_COUNT))
	MSIP(0)
	/* WFI waking for the timer, then the trap */
	li t0, MIP_MTIP
	csrw mie, t0
	MTIMECMP_IN(100)
	TEST_CASE(14, 0, wfi; TRAPINFO(TI_COUNT))
	MTIMECMP_SET(-1)

	/* priority: MSI before MTI */
	li t0, MIP_MSIP | MIP_MTIP
	csrw mie, t0
	MSIP(1)
	MTIMECMP_SET(0)
	EXPECT_TRAP(2f)
	li TESTNUM, 15
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(16, IRQ | IRQ_M_SOFT)
	MSIP(0)
	EXPECT_TRAP(2f)
	li TESTNUM, 17
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(18, IRQ | IRQ_M_TIMER)
	/* SSI, not delegated: taken in M. (MTI before SSI: irq_gemu.S) */
	MTIMECMP_SET(-1)
	li t0, MIP_MTIP | MIP_SSIP
	csrw mie, t0
	csrsi mip, MIP_SSIP
	EXPECT_TRAP(2f)
	li TESTNUM, 21
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(22, IRQ | IRQ_S_SOFT)
	CHECK_MODE(23, 3)
	/* SSI before STI (STIP written by M: menvcfg.STCE = 0) */
	li t0, MIP_STIP | MIP_SSIP
	csrw mie, t0
	csrs mip, t0
	TEST_CASE(24, MIP_STIP | MIP_SSIP, csrr a4, mip; and a4, a4, t0)
	EXPECT_TRAP(2f)
	li TESTNUM, 25
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(26, IRQ | IRQ_S_SOFT)
	csrci mip, MIP_SSIP
	EXPECT_TRAP(2f)
	li TESTNUM, 27
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(28, IRQ | IRQ_S_TIMER)
	li t0, MIP_STIP
	csrc mip, t0
	csrwi mie, 0

	/* M interrupts preempt S even with mstatus.MIE = 0 */
	csrci mstatus, MSTATUS_MIE
	csrwi mie, MIP_MSIP
	GOTO_S(1f)
1:	EXPECT_TRAP_M(2f)
	li TESTNUM, 29
	MSIP(1)
	SPIN
2:	CHECK_CAUSE(30, IRQ | IRQ_M_SOFT)
	TEST_CASE(31, 1 << 11, TRAPINFO(TI_STATUS); li a1, MSTATUS_MPP; and a4, a4, a1)
	/* we are back in M (EXPECT_TRAP_M) */
	MSIP(0)
	csrwi mie, 0

	/* delegated SSI: not taken in M even with MIE = 1, taken in S */
	csrwi mideleg, MIP_SSIP
	csrwi mie, MIP_SSIP
	csrsi mip, MIP_SSIP
	EXPECT_TRAP(fail)
	csrsi mstatus, MSTATUS_MIE
	TEST_CASE(32, 0, nop; nop; nop; TRAPINFO(TI_COUNT))
	csrci mstatus, MSTATUS_MIE
	csrsi mstatus, MSTATUS_SIE
	EXPECT_TRAP(2f)
	li TESTNUM, 33
	GOTO_S(1f)
1:	SPIN
2:	CHECK_CAUSE(34, IRQ | IRQ_S_SOFT)
	CHECK_MODE(35, 1)
	/* S handler left SIE = 0; clear through sip */
	TEST_CASE(36, MIP_SSIP, csrr a4, sip; andi a4, a4, MIP_SSIP)
	csrci sip, MIP_SSIP
	TEST_CASE(37, 0, csrr a4, sip; andi a4, a4, MIP_SSIP)
	TO_M
	csrwi mideleg, 0
	csrwi mie, 0

	/* Sstc: stimecmp raises STIP; S takes STI when delegated */
	li t0, MENVCFG_STCE
	csrs menvcfg, t0
	csrwi mcounteren, 2
	li t0, MIP_STIP
	csrw mideleg, t0
	csrw mie, t0
	li t1, -1
	csrw STIMECMP, t1
	TEST_CASE(38, 0, csrr a4, mip; andi a4, a4, MIP_STIP)
	/* with STCE, mip.STIP is not writable by M */
	TEST_CASE(39, 0, csrs mip, t0; csrr a4, mip; andi a4, a4, MIP_STIP)
	csrsi mstatus, MSTATUS_SIE
	GOTO_S(1f)
1:	EXPECT_TRAP(2f)
	li TESTNUM, 40
	rdtime t1
	addi t1, t1, 200
	csrw STIMECMP, t1
	SPIN
2:	CHECK_CAUSE(41, IRQ | IRQ_S_TIMER)
	CHECK_MODE(42, 1)
	TEST_CASE(43, MIP_STIP, csrr a4, sip; andi a4, a4, MIP_STIP)
	li t1, -1
	csrw STIMECMP, t1
	TEST_CASE(44, 0, csrr a4, sip; andi a4, a4, MIP_STIP)
	TEST_CASE(45, -1, csrr a4, STIMECMP)
	TO_M
	/* without STCE, stimecmp is illegal from S */
	li t0, MENVCFG_STCE
	csrc menvcfg, t0
	GOTO_S(1f)
1:	EXPECT_TRAP(2f)
	li TESTNUM, 46
	csrr a4, STIMECMP
	j fail
2:	CHECK_CAUSE(47, CAUSE_ILLEGAL)
	TO_M
	csrwi mideleg, 0
	csrwi mie, 0

	/* a pending interrupt is taken right after the CSR write that
	 * enables it (mstatus.MIE or mie): mepc = the next instruction */
	csrci mstatus, MSTATUS_MIE
	MSIP(1)
	csrwi mie, MIP_MSIP
	li s5, 0
	EXPECT_TRAP(2f)
	li TESTNUM, 51
	csrsi mstatus, MSTATUS_MIE
1:	addi s5, s5, 1
	addi s5, s5, 1
	j fail
2:	TEST_CASE(52, 0, mv a4, s5)
	TEST_CASE(53, 0, TRAPINFO(TI_EPC); la t0, 1b; sub a4, a4, t0)
	csrwi mie, 0
	csrsi mstatus, MSTATUS_MIE
	li s5, 0
	EXPECT_TRAP(2f)
	li TESTNUM, 54
	csrwi mie, MIP_MSIP
1:	addi s5, s5, 1
	addi s5, s5, 1
	j fail
2:	TEST_CASE(55, 0, mv a4, s5)
	TEST_CASE(56, 0, TRAPINFO(TI_EPC); la t0, 1b; sub a4, a4, t0)
	MSIP(0)
	csrwi mie, 0

	/* vectored mtvec: MSI (cause 3) enters base + 12 */
	la t0, vectors
	ori t0, t0, 1
	csrw mtvec, t0
	li s11, 0
	csrwi mie, MIP_MSIP
	EXPECT_TRAP(2f)
	li TESTNUM, 48
	MSIP(1)
	csrsi mstatus, MSTATUS_MIE
	SPIN
2:	CHECK_CAUSE(49, IRQ | IRQ_M_SOFT)
	TEST_CASE(50, 3, mv a4, s11)
	MSIP(0)
	la t0, trap_m
	csrw mtvec, t0
	csrwi mie, 0

	/* Sstc: S reaches stimecmp only with mcounteren.TM (and STCE) */
	li t0, MENVCFG_STCE
	csrs menvcfg, t0
	TEST_CASE(57, 1, csrr a4, menvcfg; srli a4, a4, 63)
	csrwi mcounteren, 0
	GOTO_S(1f)
1:	EXPECT_TRAP(2f)
	li TESTNUM, 58
	csrr a4, STIMECMP
	j fail
2:	CHECK_CAUSE(59, CAUSE_ILLEGAL)
	TO_M
	csrwi mcounteren, 2
	GOTO_S(1f)
1:	TEST_CASE(60, -1, csrr a4, STIMECMP)
	TO_M
TEST_END

	.text
	.balign 256
	.option push
	.option norvc  /* 4-byte entries */
vectors:
	j trap_m
	j trap_m
	j trap_m
	j vec3
	.rept 12
	j trap_m
	.endr
vec3:	li s11, 3
	j trap_m
	.option pop
