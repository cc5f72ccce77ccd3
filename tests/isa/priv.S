/* priv: privilege transitions and their traps (privileged spec 3.1.6.1,
 * 3.1.6.5, 3.1.8, 3.3.2, 3.3.3, 4.1): MRET and SRET update the xIE/xPIE/xPP
 * stack (xPP becomes the least privileged mode, MRET to S or U clears
 * MPRV), MRET/SRET from lower modes and with TSR, TVM (satp, SFENCE.VMA),
 * TW (WFI), trap delegation with medeleg (exceptions from S/U go to S, never
 * from M), scause/stval/sepc/sstatus.SPP/SPIE on S-mode trap entry. */
#include "test.h"

#define EXPECT(n, cause, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_TRAP_EPC(n, cause, 1b)

TEST_BEGIN
	/* MRET: MIE = MPIE, MPIE = 1, MPP = U. Round trip M -> S -> M:
	 * with MPIE = 1 the S code runs with MIE = 1 and the ecall saves it
	 * in MPIE; TO_M's MRET then yields MIE = MPIE = 1, MPP = U. */
	li t0, MSTATUS_MPIE
	csrs mstatus, t0
	GOTO_S(1f)
1:	TO_M
	TEST_CASE(1, MSTATUS_MIE | MSTATUS_MPIE, csrr a1, mstatus; li a2, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP; and a4, a1, a2)
	/* with MPIE = 0: MIE ends 0, MPIE 1 */
	li t0, MSTATUS_MPIE | MSTATUS_MIE
	csrc mstatus, t0
	GOTO_S(1f)
1:	TO_M
	TEST_CASE(2, MSTATUS_MPIE, csrr a1, mstatus; li a2, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP; and a4, a1, a2)
	csrci mstatus, MSTATUS_MIE
	/* MRET to S clears MPRV: priv_gemu.S */
	/* MRET to M keeps MPRV */
	li t0, MSTATUS_MPRV
	csrs mstatus, t0
	la t0, 1f
	csrw mepc, t0
	li t0, MSTATUS_MPP
	csrs mstatus, t0
	mret
1:	TEST_CASE(4, MSTATUS_MPRV, csrr a1, mstatus; li a2, MSTATUS_MPRV; and a4, a1, a2)
	li t0, MSTATUS_MPRV
	csrc mstatus, t0

	/* SRET from S to U: SIE = SPIE, SPIE = 1, SPP = U; U cannot read
	 * sstatus (proves U mode) */
	GOTO_S(s1)
s1:	li t0, MSTATUS_SPP | MSTATUS_SIE
	csrc sstatus, t0
	li t0, MSTATUS_SPIE
	csrs sstatus, t0
	la t0, u1
	csrw sepc, t0
	sret
u1:	EXPECT(5, CAUSE_ILLEGAL, csrr a4, sstatus)
	TO_M
	TEST_CASE(6, MSTATUS_SIE | MSTATUS_SPIE, csrr a1, mstatus; li a2, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP; and a4, a1, a2)
	csrci mstatus, MSTATUS_SIE
	/* SRET in M works too (returns to SPP) */
	li t0, MSTATUS_SPP
	csrs mstatus, t0
	la t0, 1f
	csrw sepc, t0
	sret
1:	EXPECT(7, CAUSE_ILLEGAL, csrr a4, mstatus)   /* now in S */
	TO_M

	/* MRET from S and U, SRET from U: illegal */
	GOTO_S(1f)
1:	EXPECT(8, CAUSE_ILLEGAL, mret)
	TO_M
	GOTO_U(1f)
1:	EXPECT(9, CAUSE_ILLEGAL, mret)
	EXPECT(10, CAUSE_ILLEGAL, sret)
	TO_M

	/* TSR: SRET in S traps; in M it does not */
	li t0, MSTATUS_TSR
	csrs mstatus, t0
	GOTO_S(1f)
1:	EXPECT(11, CAUSE_ILLEGAL, sret)
	TO_M
	li t0, MSTATUS_SPP
	csrs mstatus, t0
	la t0, 1f
	csrw sepc, t0
	sret
1:	TO_M
	li t0, MSTATUS_TSR
	csrc mstatus, t0

	/* TVM: satp and SFENCE.VMA in S trap; M is not affected */
	li t0, MSTATUS_TVM
	csrs mstatus, t0
	TEST_CASE(12, 0, csrr a4, satp; sfence.vma)
	GOTO_S(1f)
1:	EXPECT(13, CAUSE_ILLEGAL, csrr a4, satp)
	EXPECT(14, CAUSE_ILLEGAL, csrw satp, x0)
	EXPECT(15, CAUSE_ILLEGAL, sfence.vma)
	EXPECT(16, CAUSE_ILLEGAL, sfence.vma a0, a1)
	TO_M
	li t0, MSTATUS_TVM
	csrc mstatus, t0
	GOTO_S(1f)
1:	TEST_CASE(17, 0, csrr a4, satp; sfence.vma)
	TO_M

	/* TW: WFI in S traps. (Without TW, WFI in S with an interrupt
	 * pending returns: irq.S.) */
	li t0, MSTATUS_TW
	csrs mstatus, t0
	GOTO_S(1f)
1:	EXPECT(18, CAUSE_ILLEGAL, wfi)
	TEST_CASE(19, 0x10500073, TRAPINFO(TI_TVAL))
	TO_M
	li t0, MSTATUS_TW
	csrc mstatus, t0

	/* medeleg: illegal instruction and ecall from U delegated to S */
	li t0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_ECALL_U) | (1 << CAUSE_BREAKPOINT)
	csrw medeleg, t0
	/* in M: never delegated */
	EXPECT(20, CAUSE_ILLEGAL, .word 0xfe000033)
	CHECK_MODE(21, 3)
	GOTO_S(s2)
s2:	/* from S: to S, with stval = word, SPP = S, SPIE = SIE */
	csrsi sstatus, MSTATUS_SIE
	EXPECT(22, CAUSE_ILLEGAL, .word 0xfe000033)
	CHECK_MODE(23, 1)
	TEST_CASE(24, 0xfe000033, TRAPINFO(TI_TVAL))
	TEST_CASE(25, MSTATUS_SPP | MSTATUS_SPIE, TRAPINFO(TI_STATUS); li a1, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE; and a4, a4, a1)
	EXPECT(26, CAUSE_BREAKPOINT, ebreak)
	CHECK_MODE(27, 1)
	/* ecall from S is not delegated: M */
	EXPECT(28, CAUSE_ECALL_S, ecall)
	CHECK_MODE(29, 3)
	/* go to U through SRET */
	li t0, MSTATUS_SPP
	csrc sstatus, t0
	la t0, u2
	csrw sepc, t0
	sret
u2:	EXPECT(30, CAUSE_ECALL_U, ecall)
	CHECK_MODE(31, 1)
	TEST_CASE(32, 0, TRAPINFO(TI_STATUS); li a1, MSTATUS_SPP; and a4, a4, a1)
	EXPECT(33, CAUSE_ILLEGAL, csrr a4, sstatus)
	CHECK_MODE(34, 1)
	/* load access fault not delegated: M */
	li s0, 0x8
	EXPECT(35, CAUSE_LOAD_ACCESS, ld a4, 0(s0))
	CHECK_MODE(36, 3)
	/* pass from U: the exit ecall is delegated to S, whose handler
	 * forwards it to M */
TEST_END
