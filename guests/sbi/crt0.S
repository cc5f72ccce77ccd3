/* crt0 for S-mode payloads: OpenSBI enters with a0 = hartid, a1 = DTB. */
	.file "crt0.S"
	.section .text.init, "ax", @progbits
	.globl _start
_start:
	la	sp, __stack_top
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	call	main
1:	wfi
	j	1b
