/* csr: Zicsr semantics and access rules (unprivileged spec ch. 9,
 * privileged spec 2.1-2.3): CSRRW/S/C and the immediate forms, rs1 = x0 /
 * uimm = 0 reads without writing (no trap on read-only CSRs), writes to
 * read-only CSRs and unimplemented CSR numbers raising illegal instruction
 * with the instruction word in mtval, privilege checks from S and U,
 * counter enables (mcounteren/scounteren) for cycle/time/instret, the
 * sstatus and sie/sip views, misa, mepc alignment, fcsr/frm/fflags aliasing,
 * and counters that count. */
#include "test.h"

/* Expect illegal instruction from one CSR instruction; mtval = its word. */
#define CSR_ILLEGAL(n, insn...) \
	EXPECT_TRAP(2f); \
	li TESTNUM, n; \
1:	insn; \
	j fail; \
2:	CHECK_TRAP_EPC(n, CAUSE_ILLEGAL, 1b); \
	li TESTNUM, n; \
	la t0, 1b; \
	lwu t2, 0(t0); \
	TRAPINFO(TI_TVAL); \
	bne a4, t2, fail

TEST_BEGIN
	/* read-modify-write semantics on mscratch */
	TEST_CASE(1, 0x1234, li a1, 0x1234; csrw mscratch, a1; csrr a4, mscratch)
	TEST_CASE(2, 0x1234, li a1, 0x5678; csrrw a4, mscratch, a1)
	TEST_CASE(3, 0x5678, csrr a4, mscratch)
	TEST_CASE(4, 0x5678, li a1, 0x0f; csrrs a4, mscratch, a1)
	TEST_CASE(5, 0x567f, csrr a4, mscratch)
	TEST_CASE(6, 0x567f, li a1, 0x70; csrrc a4, mscratch, a1)
	TEST_CASE(7, 0x560f, csrr a4, mscratch)
	TEST_CASE(8, 0x560f, csrrwi a4, mscratch, 31)
	TEST_CASE(9, 31, csrr a4, mscratch)
	TEST_CASE(10, 31, csrrci a4, mscratch, 0x15)
	TEST_CASE(11, 10, csrr a4, mscratch)
	TEST_CASE(12, 10, csrrsi a4, mscratch, 0x10)
	TEST_CASE(13, 26, csrr a4, mscratch)
	TEST_CASE(14, -1, li a1, -1; csrw mscratch, a1; csrr a4, mscratch)
	/* rd = rs1: the old value is returned, the new one comes from rs1 */
	TEST_CASE(15, -1, li a4, 7; csrrw a4, mscratch, a4)
	TEST_CASE(16, 7, csrr a4, mscratch)
	/* the trap handlers use mscratch/sscratch: restore */
	la t0, trapinfo
	csrw mscratch, t0

	/* read-only CSRs: reads (rs1 = x0, uimm = 0) never trap */
	TEST_CASE(17, 0, csrr a4, mhartid)
	TEST_CASE(18, 0, csrrs a4, mvendorid, x0; li a4, 0)
	TEST_CASE(19, 0, csrrc a4, marchid, x0; li a4, 0)
	TEST_CASE(20, 0, csrrsi a4, mimpid, 0; li a4, 0)
	TEST_CASE(21, 0, csrrci a4, cycle, 0; li a4, 0)
	/* ... writes do, even of zero (rs1 != x0 holding 0: csr_gemu.S) */
	CSR_ILLEGAL(22, csrw mhartid, x0)
	CSR_ILLEGAL(23, csrrw a4, mvendorid, x0)
	CSR_ILLEGAL(24, csrrwi a4, marchid, 0)
	CSR_ILLEGAL(25, csrrsi a4, cycle, 1)
	CSR_ILLEGAL(26, csrrw a4, instret, x0)
	CSR_ILLEGAL(27, csrrc a4, time, sp)
	/* unimplemented CSR numbers */
	CSR_ILLEGAL(28, csrr a4, 0x7c0)
	CSR_ILLEGAL(29, csrw 0x5c0, a1)
	CSR_ILLEGAL(30, csrr a4, 0x8ff)
	CSR_ILLEGAL(31, csrr a4, 0xfff)

	/* misa: RV64 (MXL = 2) with I M A F D C S U */
#define MISA_BITS ((2 << 62) | (1 << ('I' - 'A')) | (1 << ('M' - 'A')) | (1 << ('A' - 'A')) | \
	(1 << ('F' - 'A')) | (1 << ('D' - 'A')) | (1 << ('C' - 'A')) | (1 << ('S' - 'A')) | (1 << ('U' - 'A')))
	TEST_CASE(32, MISA_BITS, csrr a1, misa; li a2, MISA_BITS; and a4, a1, a2)
	/* mstatus.UXL = SXL = 2 (64-bit) */
	TEST_CASE(33, 0xa, csrr a1, mstatus; srli a4, a1, 32; andi a4, a4, 0xf)
	/* mepc[0] is always zero: csr_gemu.S */
	TEST_CASE(35, 0x80001232, li a1, 0x80001232; csrw sepc, a1; csrr a4, sepc)

	/* sstatus is a view of mstatus: SIE, SPIE, SPP, SUM, MXR, FS */
	csrwi mstatus, 0
	TEST_CASE(36, MSTATUS_SIE, csrsi sstatus, MSTATUS_SIE; csrr a1, mstatus; andi a4, a1, MSTATUS_SIE)
	TEST_CASE(37, MSTATUS_SUM, li a1, MSTATUS_SUM; csrs mstatus, a1; csrr a1, sstatus; li a2, MSTATUS_SUM; and a4, a1, a2)
	/* sstatus hides M-only fields: MIE, MPIE, MPP, MPRV, TVM, TW, TSR */
	TEST_CASE(38, 0, li a1, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR; csrs mstatus, a1; csrr a4, sstatus; and a4, a4, a1)
	/* writing sstatus leaves them alone */
	TEST_CASE(39, MSTATUS_MPP | MSTATUS_TW, csrw sstatus, x0; li a1, MSTATUS_MPP | MSTATUS_TW; csrr a4, mstatus; and a4, a4, a1)
	csrwi mstatus, 0
	li t0, (1 << 13)
	csrs mstatus, t0

	/* sie/sip are the delegated part of mie/mip */
	csrwi mie, 0
	li a1, 0x222
	csrw mideleg, a1
	TEST_CASE(40, 0x222, li a1, -1; csrw sie, a1; csrr a4, mie)
	TEST_CASE(41, 0x222, csrr a4, sie)
	TEST_CASE(42, 0x002, csrwi mideleg, 2; csrr a4, sie)
	TEST_CASE(43, 0x000, csrwi mideleg, 0; csrr a4, sie)
	/* mip.SSIP written from M shows in sip when delegated */
	csrwi mie, 0
	TEST_CASE(44, 2, csrwi mideleg, 2; csrsi mip, 2; csrr a4, sip)
	TEST_CASE(45, 0, csrci sip, 2; csrr a4, mip; andi a4, a4, 2)
	csrwi mideleg, 0

	/* fcsr = frm << 5 | fflags; reserved bits read zero */
	TEST_CASE(46, 0xff, li a1, 0xfff; csrw fcsr, a1; csrr a4, fcsr)
	TEST_CASE(47, 7, csrr a4, frm)
	TEST_CASE(48, 0x1f, csrr a4, fflags)
	TEST_CASE(49, 0x25, csrwi frm, 1; csrwi fflags, 5; csrr a4, fcsr)
	TEST_CASE(50, 0x1, csrwi fcsr, 0; fsrmi a4, 2; csrr a4, frm; srli a4, a4, 1)
	csrwi fcsr, 0

	/* counters count; instret and cycle are writable through m* */
	TEST_CASE(51, 1, rdinstret a1; nop; nop; rdinstret a2; sltu a4, a1, a2)
	TEST_CASE(52, 1, rdcycle a1; nop; nop; rdcycle a2; sltu a4, a1, a2)
	TEST_CASE(53, 1, rdtime a1; li a3, 2000; 1: addi a3, a3, -1; bnez a3, 1b; rdtime a2; sltu a4, a1, a2)
	TEST_CASE(54, 1, li a1, 1 << 40; csrw minstret, a1; rdinstret a2; sltu a4, a2, a1; xori a4, a4, 1)
	TEST_CASE(55, 1, li a1, 1 << 40; csrw mcycle, a1; rdcycle a2; sltu a4, a2, a1; xori a4, a4, 1)

	/* privilege: S cannot touch M CSRs, U cannot touch S CSRs */
	li a1, 1 << CAUSE_ILLEGAL
	csrw medeleg, x0
	GOTO_S(s_mode)
s_mode:
	TEST_CASE(56, 0x1234, csrr s1, sscratch; li a1, 0x1234; csrw sscratch, a1; csrr a4, sscratch; csrw sscratch, s1)
	CSR_ILLEGAL(57, csrr a4, mstatus)
	CSR_ILLEGAL(58, csrr a4, mscratch)
	CSR_ILLEGAL(59, csrr a4, mhartid)
	CSR_ILLEGAL(60, csrw mie, x0)
	TO_M
	GOTO_U(u_mode)
u_mode:
	CSR_ILLEGAL(61, csrr a4, sstatus)
	CSR_ILLEGAL(62, csrr a4, sscratch)
	CSR_ILLEGAL(63, csrr a4, mstatus)
	CSR_ILLEGAL(64, csrr a4, satp)
	TO_M

	/* counter enables: cycle = bit 0, time = bit 1, instret = bit 2 */
	csrwi mcounteren, 0
	csrwi scounteren, 0
	GOTO_S(s_cnt0)
s_cnt0:
	CSR_ILLEGAL(65, rdcycle a4)
	CSR_ILLEGAL(66, rdtime a4)
	CSR_ILLEGAL(67, rdinstret a4)
	TO_M
	csrwi mcounteren, 7
	GOTO_S(s_cnt1)
s_cnt1:
	TEST_CASE(68, 0, rdcycle a4; rdtime a4; rdinstret a4; li a4, 0)
	TO_M
	GOTO_U(u_cnt0)
u_cnt0:
	/* U needs both mcounteren and scounteren */
	CSR_ILLEGAL(69, rdcycle a4)
	CSR_ILLEGAL(70, rdtime a4)
	CSR_ILLEGAL(71, rdinstret a4)
	TO_M
	csrwi scounteren, 2
	GOTO_U(u_cnt1)
u_cnt1:
	TEST_CASE(72, 1, rdtime a4; snez a4, a4)
	CSR_ILLEGAL(73, rdcycle a4)
	TO_M
	csrwi mcounteren, 5
	csrwi scounteren, 7
	GOTO_U(u_cnt2)
u_cnt2:
	CSR_ILLEGAL(74, rdtime a4)
	TEST_CASE(75, 0, rdcycle a4; rdinstret a4; li a4, 0)
	TO_M
	TEST_CASE(76, 5, csrr a4, mcounteren)
	TEST_CASE(77, 7, csrr a4, scounteren)

	/* every CSR that OpenSBI and Linux touch can be read in M */
	TEST_CASE(78, 0, csrr a4, mstatus; csrr a4, misa; csrr a4, medeleg; csrr a4, mideleg; csrr a4, mie; \
		csrr a4, mtvec; csrr a4, mcounteren; csrr a4, menvcfg; csrr a4, mscratch; csrr a4, mepc; \
		csrr a4, mcause; csrr a4, mtval; csrr a4, mip; csrr a4, mvendorid; csrr a4, marchid; \
		csrr a4, mimpid; csrr a4, sstatus; csrr a4, sie; csrr a4, stvec; csrr a4, scounteren; \
		csrr a4, senvcfg; csrr a4, sscratch; csrr a4, sepc; csrr a4, scause; csrr a4, stval; \
		csrr a4, sip; csrr a4, satp; csrr a4, cycle; csrr a4, time; csrr a4, instret; \
		csrr a4, mcycle; csrr a4, minstret; csrr a4, fcsr; li a4, 0)
	/* mconfigptr (1.12) is read-only zero here */
	TEST_CASE(79, 0, csrr a4, 0xf15)
	/* PMP registers read back what was written (entry 0 stays the
	 * all-memory NAPOT entry, which has priority) */
	TEST_CASE(80, 0x12345, li a1, 0x12345; csrw pmpaddr1, a1; csrr a4, pmpaddr1)
	TEST_CASE(81, 0x3fff0000, li a1, 0x3fff0000; csrw pmpaddr15, a1; csrr a4, pmpaddr15)
	TEST_CASE(82, 0x0b1f, li a1, 0x0b1f; csrw pmpcfg0, a1; csrr a4, pmpcfg0)
	csrwi pmpcfg2, 0
	TEST_CASE(83, 0, csrr a4, pmpcfg2)
	li a1, 0x1f
	csrw pmpcfg0, a1
	/* RV64 has no odd pmpcfg registers */
	CSR_ILLEGAL(84, csrr a4, pmpcfg1)
	CSR_ILLEGAL(85, csrr a4, pmpcfg3)
	/* S cannot read PMP registers */
	GOTO_S(1f)
1:	CSR_ILLEGAL(86, csrr a4, pmpaddr0)
	CSR_ILLEGAL(87, csrr a4, pmpcfg0)
	CSR_ILLEGAL(88, csrr a4, menvcfg)
	TEST_CASE(89, 0, csrr a4, senvcfg; li a4, 0)
	TO_M
TEST_END
