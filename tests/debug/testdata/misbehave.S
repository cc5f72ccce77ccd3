# A small M-mode guest that does, once each, what the debugging tools
# report (tests/debug): a write to the PLIC's read-only pending bits, a
# write where the CLINT has no register, a write to mtime, a function
# call, an illegal instruction, a trap loop (an ecall whose handler
# returns to it four times), a panic message on the UART, then power off.
	.section .text
	.globl _start
_start:
	la	sp, stack_top
	la	t0, handler
	csrw	mtvec, t0
	li	s1, 0			# ecalls seen
	li	t0, 0x0c001000		# PLIC pending word 0
	li	t1, 1
	sw	t1, 0(t0)
	li	t0, 0x0200c000		# CLINT: nothing here
	sw	t1, 0(t0)
	li	t0, 0x0200bff8		# CLINT mtime
	sd	zero, 0(t0)
	call	work
	.word	0			# illegal (two c.unimp)
after_illegal:
	ecall
after_ecall:
	la	a0, panic_msg
	call	puts
	li	t0, 0x100000		# sifive_test: power off
	li	t1, 0x5555
	sw	t1, 0(t0)
1:	j	1b

	.globl work
	.type work, @function
work:
	addi	a0, zero, 41
	addi	a0, a0, 1
	ret
	.size work, .-work

	.globl puts
	.type puts, @function
puts:
	li	t0, 0x10000000
1:	lbu	t1, 0(a0)
	beqz	t1, 2f
	sb	t1, 0(t0)
	addi	a0, a0, 1
	j	1b
2:	ret
	.size puts, .-puts

	.align 2
	.globl handler
	.type handler, @function
handler:
	csrr	t2, mcause
	li	t3, 11			# ecall from M
	bne	t2, t3, skip
	addi	s1, s1, 1
	li	t3, 4
	blt	s1, t3, back		# return to the ecall: a trap loop
skip:
	csrr	t2, mepc		# illegal instruction: skip the 2 bytes
	addi	t2, t2, 2
	csrr	t3, mcause
	li	t4, 2
	beq	t3, t4, 1f
	addi	t2, t2, 2		# ecall: 4 bytes
1:	csrw	mepc, t2
back:	mret
	.size handler, .-handler

	.section .rodata
panic_msg:
	.asciz	"Kernel PANIC: it went wrong\n"

	.section .bss
	.align 4
	.space 1024
stack_top:
