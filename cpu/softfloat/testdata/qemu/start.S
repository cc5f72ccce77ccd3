# Entry: set up a stack, enable the FPU (mstatus.FS = Initial), run main,
# then stop QEMU through the SiFive test device (0x5555 = pass).
	.section .text.start
	.globl _start
_start:
	la	sp, _stack_top
	li	t0, 1 << 13
	csrs	mstatus, t0
	call	main
	li	t0, 0x100000
	li	t1, 0x5555
	sw	t1, 0(t0)
1:	wfi
	j	1b
