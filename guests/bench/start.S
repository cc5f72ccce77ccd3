/* start.S: entry, M-mode trap handler and the M->S->M switch for the
 * bench guest. */
	.file "start.S"
	.section .text.init, "ax", @progbits
	.globl _start
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	bnez	a0, secondary
	la	sp, __stack_top
	la	t0, trap
	csrw	mtvec, t0
	/* FS = Initial; PMP entry 0 = everything RWX so S can run */
	li	t0, 1 << 13
	csrs	mstatus, t0
	li	t0, -1
	csrw	pmpaddr0, t0
	li	t0, 0x1f
	csrw	pmpcfg0, t0
	/* S may read cycle, time, instret */
	li	t0, 7
	csrw	mcounteren, t0
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	call	main
	call	poweroff
park:
	wfi
	j	park

/* Harts other than 0 (a0 = hartid): 8 KiB of stack each below hart 0's
 * (harts 1..7), then secondary_main(hartid) in bench.c. */
secondary:
	li	t0, 8
	bgeu	a0, t0, park
	la	t0, trap
	csrw	mtvec, t0
	li	t0, 1 << 13
	csrs	mstatus, t0
	la	sp, __stack_top
	slli	t0, a0, 13
	sub	sp, sp, t0
	call	secondary_main
	j	park

/* run_in_s(fn, arg): call fn(arg) in S mode (satp as set by the caller);
 * fn must end with ecall. Returns to the caller in M mode. */
	.text
	.globl run_in_s
run_in_s:
	la	t0, saved
	sd	ra, 0(t0)
	sd	sp, 8(t0)
	sd	s0, 16(t0)
	sd	s1, 24(t0)
	sd	s2, 32(t0)
	sd	s3, 40(t0)
	sd	s4, 48(t0)
	sd	s5, 56(t0)
	sd	s6, 64(t0)
	sd	s7, 72(t0)
	sd	s8, 80(t0)
	sd	s9, 88(t0)
	sd	s10, 96(t0)
	sd	s11, 104(t0)
	li	t0, 3 << 11
	csrc	mstatus, t0
	li	t0, 1 << 11
	csrs	mstatus, t0
	csrw	mepc, a0
	mv	a0, a1
	la	ra, s_fell_off
	mret
s_fell_off:
	ecall

	.balign 4
trap:
	csrr	t0, mcause
	li	t1, 9           /* ecall from S: back to run_in_s's caller */
	bne	t0, t1, bad
	la	t0, saved
	ld	ra, 0(t0)
	ld	sp, 8(t0)
	ld	s0, 16(t0)
	ld	s1, 24(t0)
	ld	s2, 32(t0)
	ld	s3, 40(t0)
	ld	s4, 48(t0)
	ld	s5, 56(t0)
	ld	s6, 64(t0)
	ld	s7, 72(t0)
	ld	s8, 80(t0)
	ld	s9, 88(t0)
	ld	s10, 96(t0)
	ld	s11, 104(t0)
	li	t0, 3 << 11
	csrs	mstatus, t0     /* MPP = M */
	csrw	mepc, ra
	mret
bad:
	csrr	a0, mcause
	csrr	a1, mepc
	csrr	a2, mtval
	la	sp, __stack_top
	call	bad_trap

	.bss
	.balign 8
saved:	.skip 8 * 14
