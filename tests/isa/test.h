/* test.h: shared harness for gemu's ISA and privilege tests.
 *
 * Conventions (riscv-tests style, written for gemu):
 *  - gp (x3) holds the current test number (TESTNUM); a failing check jumps
 *    to `fail`, which reports test gp.
 *  - Results are compared in a4 (got) against t2 (expected); `fail` prints
 *    both on the UART before exiting.
 *  - Exit: `tohost` gets 1 (pass) or (n<<1)|1 (test n failed), and the
 *    sifive,test finisher at 0x100000 gets 0x5555 or (n<<16)|0x3333, so the
 *    same ELF ends on gemu (tohost watch) and on QEMU (finisher).
 *  - Any mode exits through `ecall` with a7 = MAGIC_EXIT, a0 = status, so
 *    pass/fail work from U and S mode too (the S handler forwards it).
 *  - Traps: trap_m (mtvec) and trap_s (stvec) record cause/epc/tval/count/
 *    mode/status in `trapinfo`. A trap is expected only after EXPECT_TRAP(l):
 *    the handler then resumes at l (in the trapped-from mode, MPP/SPP
 *    unchanged). Any other trap fails the test. For interrupts the handler
 *    clears xPIE, so interrupts stay disabled after the return.
 *  - Several harts: a test that runs with -smp N says so in a comment line
 *    "smp: N" (tests/isa/isa_test.go passes -smp N to gemu and QEMU). Hart 0
 *    runs the test body; every other hart parks in WFI unless the test
 *    defines TEST_SECONDARY (before including test.h) as the label where
 *    they start, in M mode with a0 = mhartid, sp on a stack of their own
 *    (SECONDARY_STACK bytes), mtvec = trap_m and mie = 0. A secondary
 *    reports a failure with `fail` like hart 0 (the first exit wins);
 *    only hart 0 passes.
 *  - Clobbered by the macros: t0, t1, t2, a4 (and a7 by EXPECT_TRAP,
 *    a0 by the FP macros); by the trap handlers: nothing but t5/t6 are
 *    touched and they are restored. TO_M needs ecall from the current mode
 *    not to be delegated.
 */
#ifndef GEMU_ISA_TEST_H
#define GEMU_ISA_TEST_H

#define TESTNUM gp
#define MAGIC_EXIT 0x6a6a
#define MAGIC_TO_M 0x6b6b

#define UART0 0x10000000
#define FINISHER 0x100000

/* trapinfo field offsets */
#define TI_T5 0
#define TI_RESUME 8
#define TI_CAUSE 16
#define TI_EPC 24
#define TI_TVAL 32
#define TI_COUNT 40
#define TI_MODE 48
#define TI_STATUS 56
#define TI_TOM 64
#define TI_SIZE 80

#define MSTATUS_SIE (1 << 1)
#define MSTATUS_MIE (1 << 3)
#define MSTATUS_SPIE (1 << 5)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP (1 << 8)
#define MSTATUS_MPP (3 << 11)
#define MSTATUS_FS (3 << 13)
#define MSTATUS_MPRV (1 << 17)
#define MSTATUS_SUM (1 << 18)
#define MSTATUS_MXR (1 << 19)
#define MSTATUS_TVM (1 << 20)
#define MSTATUS_TW (1 << 21)
#define MSTATUS_TSR (1 << 22)

#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_ECALL_U 8
#define CAUSE_ECALL_S 9
#define CAUSE_ECALL_M 11
#define CAUSE_FETCH_PAGE 12
#define CAUSE_LOAD_PAGE 13
#define CAUSE_STORE_PAGE 15
#define IRQ (1 << 63)
#define IRQ_S_SOFT 1
#define IRQ_M_SOFT 3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7
#define IRQ_S_EXT 9
#define IRQ_M_EXT 11

#define CLINT_MSIP 0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME 0x200bff8

#define MAX_HARTS 8
#define SECONDARY_STACK 1024
#ifndef TEST_SECONDARY
#define TEST_SECONDARY park
#endif

/* ---- test bodies ---------------------------------------------------- */

#define TEST_BEGIN                                                        \
	.section .text.init, "ax", @progbits;                            \
	.globl _start;                                                   \
_start:                                                                  \
	j reset_vector;                                                  \
	.text;                                                           \
reset_vector:                                                            \
	csrr a0, mhartid;                                                \
	bnez a0, secondary_entry;                                        \
	li TESTNUM, 0;                                                   \
	la t0, trap_m;                                                   \
	csrw mtvec, t0;                                                  \
	la t0, trap_s;                                                   \
	csrw stvec, t0;                                                  \
	la t0, trapinfo;                                                 \
	csrw mscratch, t0;                                               \
	csrw sscratch, t0;                                               \
	csrwi satp, 0;                                                   \
	csrwi medeleg, 0;                                                \
	csrwi mideleg, 0;                                                \
	csrwi mie, 0;                                                    \
	/* PMP entry 0: NAPOT over the whole address space, RWX, so S and \
	 * U can reach memory (privileged spec 3.7). */                  \
	li t0, -1;                                                       \
	csrw pmpaddr0, t0;                                               \
	li t0, 0x1f;                                                     \
	csrw pmpcfg0, t0;                                                \
	li t0, MSTATUS_FS;                                               \
	csrc mstatus, t0;                                                \
	li t0, (1 << 13);                                                \
	csrs mstatus, t0;                                                \
	csrwi fcsr, 0;                                                   \
	la sp, stack_top;                                                \
	j test_main;                                                     \
test_main:

#define TEST_END                                                          \
	j pass;                                                          \
	TEST_RUNTIME

/* Enter mode S or U at label l, from M. */
#define GOTO_MODE(mpp, l)                                                \
	li t0, MSTATUS_MPP;                                              \
	csrc mstatus, t0;                                                \
	li t0, ((mpp) << 11);                                            \
	csrs mstatus, t0;                                                \
	la t0, l;                                                        \
	csrw mepc, t0;                                                   \
	mret
#define GOTO_S(l) GOTO_MODE(1, l)
#define GOTO_U(l) GOTO_MODE(0, l)
/* Back to M mode (from S or U with ecall not delegated): continue after
 * the ecall in M mode. Clobbers a7. */
#define TO_M                                                             \
	li a7, MAGIC_TO_M;                                               \
	ecall

/* Arm the trap handler: the next trap resumes at label l. Resets the trap
 * count. Clobbers t0, t1 and a7 (so an expected ECALL is not an exit). */
#define EXPECT_TRAP(l)                                                   \
	li a7, 0;                                                        \
	la t1, trapinfo;                                                 \
	la t0, l;                                                        \
	sd t0, TI_RESUME(t1);                                            \
	sd zero, TI_COUNT(t1);                                           \
	sd zero, TI_CAUSE(t1)

/* Like EXPECT_TRAP, but trap_m resumes at l in M mode (sets MPP = M):
 * for interrupts taken from S/U whose source only M can clear. */
#define EXPECT_TRAP_M(l)                                                 \
	EXPECT_TRAP(l);                                                  \
	li t0, 1;                                                        \
	sd t0, TI_TOM(t1)

/* Load a trapinfo field into a4. */
#define TRAPINFO(field)                                                  \
	la a4, trapinfo;                                                 \
	ld a4, field(a4)

/* Check the last trap: test n requires cause c, and tval v. */
#define CHECK_CAUSE(n, c)                                                \
	li TESTNUM, n;                                                   \
	TRAPINFO(TI_CAUSE);                                              \
	li t2, c;                                                        \
	bne a4, t2, fail
#define CHECK_TRAP(n, c, v)                                              \
	CHECK_CAUSE(n, c);                                               \
	TRAPINFO(TI_TVAL);                                               \
	li t2, v;                                                        \
	bne a4, t2, fail
#define CHECK_TRAP_EPC(n, c, epc_label)                                  \
	CHECK_CAUSE(n, c);                                               \
	TRAPINFO(TI_EPC);                                                \
	la t2, epc_label;                                                \
	bne a4, t2, fail
/* Test n: exactly k traps since EXPECT_TRAP. */
#define CHECK_COUNT(n, k)                                                \
	li TESTNUM, n;                                                   \
	TRAPINFO(TI_COUNT);                                              \
	li t2, k;                                                        \
	bne a4, t2, fail
/* Test n: the last trap was taken in mode m (3 = M, 1 = S). */
#define CHECK_MODE(n, m)                                                 \
	li TESTNUM, n;                                                   \
	TRAPINFO(TI_MODE);                                               \
	li t2, m;                                                        \
	bne a4, t2, fail

/* Generic: run code, then require a4 == result. */
#define TEST_CASE(n, result, code...)                                    \
	li TESTNUM, n;                                                   \
	code;                                                            \
	li t2, result;                                                   \
	bne a4, t2, fail

#define TEST_RR(n, inst, result, v1, v2)                                 \
	TEST_CASE(n, result, li a1, v1; li a2, v2; inst a4, a1, a2)
#define TEST_RI(n, inst, result, v1, imm)                                \
	TEST_CASE(n, result, li a1, v1; inst a4, a1, imm)
#define TEST_R(n, inst, result, v1)                                      \
	TEST_CASE(n, result, li a1, v1; inst a4, a1)
/* Same source and destination register. */
#define TEST_RR_SRC1_EQ_DEST(n, inst, result, v1, v2)                    \
	TEST_CASE(n, result, li a4, v1; li a2, v2; inst a4, a4, a2)
/* Destination x0 stays zero. */
#define TEST_RR_ZERODEST(n, inst, v1, v2)                                \
	TEST_CASE(n, 0, li a1, v1; li a2, v2; inst x0, a1, a2; mv a4, x0)

/* ---- floating point ------------------------------------------------- */
/* Raw-bits literals for .float/.double (gas 0f:/0d: syntax). */
#define qNaNf 0f:7fc00000
#define sNaNf 0f:7f800001
#define qNaN 0d:7ff8000000000000
#define sNaN 0d:7ff0000000000001
#define Inff 0f:7f800000
#define nInff 0f:ff800000
#define Inf 0d:7ff0000000000000
#define nInf 0d:fff0000000000000
#define nZerof 0f:80000000
#define nZero 0d:8000000000000000
#define cNaNf 0f:7fc00000        /* canonical NaN (S) */
#define cNaN 0d:7ff8000000000000 /* canonical NaN (D) */
#define FLAG_NX 1
#define FLAG_UF 2
#define FLAG_OF 4
#define FLAG_DZ 8
#define FLAG_NV 16

/* Check fflags == flags (test n) and clear them. */
#define CHECK_FLAGS(flags)                                               \
	fsflags a4, x0;                                                  \
	li t2, flags;                                                    \
	bne a4, t2, fail

/* FP data for test n lives in .data at fpdata_n: up to 3 operands and the
 * expected result. S operands are 4-byte, D 8-byte. */
#define FP_DATA_S(n, a, b, c, r)                                         \
	.pushsection .data;                                              \
	.balign 8;                                                       \
fpdata_##n:                                                              \
	.float a, b, c, r;                                               \
	.popsection
#define FP_DATA_D(n, a, b, c, r)                                         \
	.pushsection .data;                                              \
	.balign 8;                                                       \
fpdata_##n:                                                              \
	.double a, b, c, r;                                              \
	.popsection

/* S ops: load fa0..fa2 from the data, run inst (writes fa3), require the
 * result bits (a4 vs t2) and then fflags to match. inst is last so it may
 * contain commas. */
#define TEST_FP_S(n, flags, r, a, b, c, inst...)                         \
	FP_DATA_S(n, a, b, c, r);                                        \
	li TESTNUM, n;                                                   \
	la a0, fpdata_##n;                                               \
	flw fa0, 0(a0);                                                  \
	flw fa1, 4(a0);                                                  \
	flw fa2, 8(a0);                                                  \
	lwu t2, 12(a0);                                                  \
	fsflags x0;                                                      \
	inst;                                                            \
	fmv.x.w a4, fa3;                                                 \
	slli a4, a4, 32;                                                 \
	srli a4, a4, 32;                                                 \
	bne a4, t2, fail;                                                \
	CHECK_FLAGS(flags)
#define TEST_FP_OP1_S(n, op, flags, r, a)                                \
	TEST_FP_S(n, flags, r, a, 0.0, 0.0, op fa3, fa0)
#define TEST_FP_OP1_S_RM(n, op, rm, flags, r, a)                         \
	TEST_FP_S(n, flags, r, a, 0.0, 0.0, op fa3, fa0, rm)
#define TEST_FP_OP2_S(n, op, flags, r, a, b)                             \
	TEST_FP_S(n, flags, r, a, b, 0.0, op fa3, fa0, fa1)
#define TEST_FP_OP2_S_RM(n, op, rm, flags, r, a, b)                      \
	TEST_FP_S(n, flags, r, a, b, 0.0, op fa3, fa0, fa1, rm)
#define TEST_FP_OP3_S(n, op, flags, r, a, b, c)                          \
	TEST_FP_S(n, flags, r, a, b, c, op fa3, fa0, fa1, fa2)
#define TEST_FP_OP3_S_RM(n, op, rm, flags, r, a, b, c)                   \
	TEST_FP_S(n, flags, r, a, b, c, op fa3, fa0, fa1, fa2, rm)

#define TEST_FP_D(n, flags, r, a, b, c, inst...)                         \
	FP_DATA_D(n, a, b, c, r);                                        \
	li TESTNUM, n;                                                   \
	la a0, fpdata_##n;                                               \
	fld fa0, 0(a0);                                                  \
	fld fa1, 8(a0);                                                  \
	fld fa2, 16(a0);                                                 \
	ld t2, 24(a0);                                                   \
	fsflags x0;                                                      \
	inst;                                                            \
	fmv.x.d a4, fa3;                                                 \
	bne a4, t2, fail;                                                \
	CHECK_FLAGS(flags)
#define TEST_FP_OP1_D(n, op, flags, r, a)                                \
	TEST_FP_D(n, flags, r, a, 0.0, 0.0, op fa3, fa0)
#define TEST_FP_OP1_D_RM(n, op, rm, flags, r, a)                         \
	TEST_FP_D(n, flags, r, a, 0.0, 0.0, op fa3, fa0, rm)
#define TEST_FP_OP2_D(n, op, flags, r, a, b)                             \
	TEST_FP_D(n, flags, r, a, b, 0.0, op fa3, fa0, fa1)
#define TEST_FP_OP2_D_RM(n, op, rm, flags, r, a, b)                      \
	TEST_FP_D(n, flags, r, a, b, 0.0, op fa3, fa0, fa1, rm)
#define TEST_FP_OP3_D(n, op, flags, r, a, b, c)                          \
	TEST_FP_D(n, flags, r, a, b, c, op fa3, fa0, fa1, fa2)
#define TEST_FP_OP3_D_RM(n, op, rm, flags, r, a, b, c)                   \
	TEST_FP_D(n, flags, r, a, b, c, op fa3, fa0, fa1, fa2, rm)

/* FP -> integer register (compares, fclass, fcvt to int): inst writes
 * a4 from fa0/fa1; r is the integer result. */
#define TEST_FP_INT_S(n, flags, r, a, b, inst...)                        \
	FP_DATA_S(n, a, b, 0.0, 0.0);                                    \
	li TESTNUM, n;                                                   \
	la a0, fpdata_##n;                                               \
	flw fa0, 0(a0);                                                  \
	flw fa1, 4(a0);                                                  \
	fsflags x0;                                                      \
	inst;                                                            \
	li t2, r;                                                        \
	bne a4, t2, fail;                                                \
	CHECK_FLAGS(flags)
#define TEST_FP_INT_D(n, flags, r, a, b, inst...)                        \
	FP_DATA_D(n, a, b, 0.0, 0.0);                                    \
	li TESTNUM, n;                                                   \
	la a0, fpdata_##n;                                               \
	fld fa0, 0(a0);                                                  \
	fld fa1, 8(a0);                                                  \
	fsflags x0;                                                      \
	inst;                                                            \
	li t2, r;                                                        \
	bne a4, t2, fail;                                                \
	CHECK_FLAGS(flags)

/* Integer -> FP (fcvt from int, fmv): inst reads a1 = v, writes fa3;
 * r_bits is the raw result (S results compared as 32 bits). */
#define TEST_INT_FP_S(n, flags, r_bits, v, inst...)                      \
	li TESTNUM, n;                                                   \
	li a1, v;                                                        \
	fsflags x0;                                                      \
	inst;                                                            \
	fmv.x.w a4, fa3;                                                 \
	slli a4, a4, 32;                                                 \
	srli a4, a4, 32;                                                 \
	li t2, r_bits;                                                   \
	bne a4, t2, fail;                                                \
	CHECK_FLAGS(flags)
#define TEST_INT_FP_D(n, flags, r_bits, v, inst...)                      \
	li TESTNUM, n;                                                   \
	li a1, v;                                                        \
	fsflags x0;                                                      \
	inst;                                                            \
	fmv.x.d a4, fa3;                                                 \
	li t2, r_bits;                                                   \
	bne a4, t2, fail;                                                \
	CHECK_FLAGS(flags)

/* ---- runtime: exit, UART, trap handlers, data ----------------------- */

#define TEST_RUNTIME                                                     \
pass:                                                                    \
	li a0, 0;                                                        \
	li a7, MAGIC_EXIT;                                               \
	ecall;                                                           \
fail:                                                                    \
	bnez TESTNUM, 1f;                                                \
	li TESTNUM, 255;                                                 \
1:	mv a0, TESTNUM;                                                  \
	li a7, MAGIC_EXIT;                                               \
	ecall;                                                           \
park:                                                                    \
	wfi;                                                             \
	j park;                                                          \
                                                                         \
	/* Harts other than 0 (a0 = mhartid): a stack each, traps to      \
	 * trap_m (any trap they take is unexpected), then TEST_SECONDARY. */\
secondary_entry:                                                         \
	li t0, MAX_HARTS;                                                \
	bgeu a0, t0, park;                                               \
	li TESTNUM, 0;                                                   \
	csrwi mie, 0;                                                    \
	la t0, trap_m;                                                   \
	csrw mtvec, t0;                                                  \
	la t0, trapinfo;                                                 \
	csrw mscratch, t0;                                               \
	la sp, secondary_stacks;                                         \
	addi t0, a0, 1;                                                  \
	slli t0, t0, 10; /* SECONDARY_STACK */                           \
	add sp, sp, t0;                                                  \
	j TEST_SECONDARY;                                                \
                                                                         \
	/* M-mode exit: a0 = 0 pass, else failing test number. Prints     \
	 * PASS or FAIL n got exp on the UART first. */                   \
m_exit:                                                                  \
	li t0, MSTATUS_MPRV;                                             \
	csrc mstatus, t0;                                                \
	csrwi satp, 0;                                                   \
	csrwi mie, 0;                                                    \
	mv s2, a0;                                                       \
	bnez s2, 2f;                                                     \
	la a0, str_pass;                                                 \
	call uart_puts;                                                  \
	li t0, 1;                                                        \
	li t1, 0x5555;                                                   \
	j 3f;                                                            \
2:	mv s3, a4;                                                       \
	mv s4, t2;                                                       \
	la a0, str_fail;                                                 \
	call uart_puts;                                                  \
	mv a0, s2;                                                       \
	call uart_hex;                                                   \
	la a0, str_got;                                                  \
	call uart_puts;                                                  \
	mv a0, s3;                                                       \
	call uart_hex;                                                   \
	la a0, str_exp;                                                  \
	call uart_puts;                                                  \
	mv a0, s4;                                                       \
	call uart_hex;                                                   \
	la a0, str_nl;                                                   \
	call uart_puts;                                                  \
	slli t0, s2, 1;                                                  \
	ori t0, t0, 1;                                                   \
	slli t1, s2, 16;                                                 \
	li t2, 0x3333;                                                   \
	or t1, t1, t2;                                                   \
3:	fence;                                                           \
	la t2, tohost;                                                   \
	sd t0, 0(t2);                                                    \
	li t2, FINISHER;                                                 \
	sw t1, 0(t2);                                                    \
4:	j 4b;                                                            \
                                                                         \
uart_puts:                                                               \
	li t0, UART0;                                                    \
1:	lbu t1, 0(a0);                                                   \
	beqz t1, 3f;                                                     \
2:	lbu t2, 5(t0);                                                   \
	andi t2, t2, 0x20;                                               \
	beqz t2, 2b;                                                     \
	sb t1, 0(t0);                                                    \
	addi a0, a0, 1;                                                  \
	j 1b;                                                            \
3:	ret;                                                             \
                                                                         \
uart_hex:                                                                \
	li t0, UART0;                                                    \
	li t3, 60;                                                       \
1:	srl t1, a0, t3;                                                  \
	andi t1, t1, 15;                                                 \
	addi t1, t1, 48;                                                \
	li t4, 57;                                                      \
	ble t1, t4, 2f;                                                  \
	addi t1, t1, 39;                                     \
2:	lbu t2, 5(t0);                                                   \
	andi t2, t2, 0x20;                                               \
	beqz t2, 2b;                                                     \
	sb t1, 0(t0);                                                    \
	addi t3, t3, -4;                                                 \
	bgez t3, 1b;                                                     \
	ret;                                                             \
                                                                         \
	/* Unexpected trap: print cause, epc, tval and fail. */          \
m_unexpected:                                                            \
	la a0, str_trap;                                                 \
	call uart_puts;                                                  \
	csrr a0, mcause;                                                 \
	call uart_hex;                                                   \
	la a0, str_epc;                                                  \
	call uart_puts;                                                  \
	csrr a0, mepc;                                                   \
	call uart_hex;                                                   \
	la a0, str_tval;                                                 \
	call uart_puts;                                                  \
	csrr a0, mtval;                                                  \
	call uart_hex;                                                   \
	la a0, str_nl;                                                   \
	call uart_puts;                                                  \
	csrr a4, mcause;                                                 \
	li t2, -1;                                                       \
	mv a0, TESTNUM;                                                  \
	bnez a0, m_exit;                                                 \
	li a0, 255;                                                      \
	j m_exit;                                                        \
                                                                         \
	.balign 4;                                                       \
trap_m:                                                                  \
	csrrw t6, mscratch, t6;                                          \
	sd t5, TI_T5(t6);                                                \
	csrr t5, mcause;                                                 \
	bltz t5, 5f;                                                     \
	/* ecall from any mode with a7 = MAGIC_EXIT / MAGIC_TO_M */      \
	addi t5, t5, -CAUSE_ECALL_U;                                     \
	beqz t5, 1f;                                                     \
	addi t5, t5, CAUSE_ECALL_U - CAUSE_ECALL_S;                      \
	beqz t5, 1f;                                                     \
	addi t5, t5, CAUSE_ECALL_S - CAUSE_ECALL_M;                      \
	bnez t5, 5f;                                                     \
1:	li t5, MAGIC_EXIT;                                               \
	beq a7, t5, m_exit;                                              \
	li t5, MAGIC_TO_M;                                               \
	bne a7, t5, 5f;                                                  \
	li t5, MSTATUS_MPP;                                              \
	csrs mstatus, t5;                                                \
	csrr t5, mepc;                                                   \
	addi t5, t5, 4;                                                  \
	csrw mepc, t5;                                                   \
	j 7f;                                                            \
5:	csrr t5, mcause;                                                 \
	sd t5, TI_CAUSE(t6);                                             \
	csrr t5, mepc;                                                   \
	sd t5, TI_EPC(t6);                                               \
	csrr t5, mtval;                                                  \
	sd t5, TI_TVAL(t6);                                              \
	csrr t5, mstatus;                                                \
	sd t5, TI_STATUS(t6);                                            \
	ld t5, TI_COUNT(t6);                                             \
	addi t5, t5, 1;                                                  \
	sd t5, TI_COUNT(t6);                                             \
	li t5, 3;                                                        \
	sd t5, TI_MODE(t6);                                              \
	ld t5, TI_RESUME(t6);                                            \
	beqz t5, m_unexpected;                                           \
	csrw mepc, t5;                                                   \
	sd zero, TI_RESUME(t6);                                          \
	ld t5, TI_TOM(t6);                                               \
	beqz t5, 6f;                                                     \
	sd zero, TI_TOM(t6);                                             \
	li t5, MSTATUS_MPP;                                              \
	csrs mstatus, t5;                                                \
6:	                                                                 \
	csrr t5, mcause;                                                 \
	bgez t5, 7f;                                                     \
	li t5, MSTATUS_MPIE;                                             \
	csrc mstatus, t5;                                                \
7:	ld t5, TI_T5(t6);                                                \
	csrrw t6, mscratch, t6;                                          \
	mret;                                                            \
                                                                         \
	.balign 4;                                                       \
trap_s:                                                                  \
	csrrw t6, sscratch, t6;                                          \
	sd t5, TI_T5(t6);                                                \
	csrr t5, scause;                                                 \
	bltz t5, 5f;                                                     \
	addi t5, t5, -CAUSE_ECALL_U;                                     \
	bnez t5, 5f;                                                     \
	li t5, MAGIC_EXIT;                                               \
	bne a7, t5, 5f;                                                  \
	ecall; /* forward the exit to M */                               \
5:	csrr t5, scause;                                                 \
	sd t5, TI_CAUSE(t6);                                             \
	csrr t5, sepc;                                                   \
	sd t5, TI_EPC(t6);                                               \
	csrr t5, stval;                                                  \
	sd t5, TI_TVAL(t6);                                              \
	csrr t5, sstatus;                                                \
	sd t5, TI_STATUS(t6);                                            \
	ld t5, TI_COUNT(t6);                                             \
	addi t5, t5, 1;                                                  \
	sd t5, TI_COUNT(t6);                                             \
	li t5, 1;                                                        \
	sd t5, TI_MODE(t6);                                              \
	ld t5, TI_RESUME(t6);                                            \
	beqz t5, 6f;                                                     \
	csrw sepc, t5;                                                   \
	sd zero, TI_RESUME(t6);                                          \
	csrr t5, scause;                                                 \
	bgez t5, 7f;                                                     \
	li t5, MSTATUS_SPIE;                                             \
	csrc sstatus, t5;                                                \
7:	ld t5, TI_T5(t6);                                                \
	csrrw t6, sscratch, t6;                                          \
	sret;                                                            \
6:	csrr a4, scause;                                                 \
	csrr t2, sepc;                                                   \
	mv a0, TESTNUM;                                                  \
	bnez a0, 8f;                                                     \
	li a0, 254;                                                      \
8:	li a7, MAGIC_EXIT;                                               \
	ecall;                                                           \
                                                                         \
	.pushsection .rodata;                                            \
str_pass: .asciz "PASS\n";                                               \
str_fail: .asciz "FAIL test ";                                           \
str_got: .asciz " got ";                                                 \
str_exp: .asciz " exp ";                                                 \
str_trap: .asciz "unexpected trap mcause ";                              \
str_epc: .asciz " mepc ";                                                \
str_tval: .asciz " mtval ";                                              \
str_nl: .asciz "\n";                                                     \
	.popsection;                                                     \
	.pushsection .tohost, "aw", @progbits;                           \
	.balign 64;                                                      \
	.globl tohost;                                                   \
tohost: .dword 0;                                                        \
	.balign 64;                                                      \
	.globl fromhost;                                                 \
fromhost: .dword 0;                                                      \
	.popsection;                                                     \
	.pushsection .data;                                              \
	.balign 64;                                                      \
	.globl trapinfo;                                                 \
trapinfo: .fill TI_SIZE / 8, 8, 0;                                       \
	.popsection;                                                     \
	.pushsection .bss;                                               \
	.balign 16;                                                      \
stack_bottom: .skip 4096;                                                \
stack_top:                                                               \
secondary_stacks: .skip MAX_HARTS * SECONDARY_STACK;                     \
	.popsection

#endif
