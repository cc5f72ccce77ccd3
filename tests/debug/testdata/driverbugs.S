# A small M-mode guest with two driver mistakes -d guest_errors reports
# (tests/debug TestUARTPCIGuestErrors): a UART driver that programs the
# divisor and forgets to clear LCR.DLAB, so its "hi" goes to the divisor
# latch, and a PCI driver that enables a device in slot 3, where there is
# none. Then it powers off.
	.section .text
	.globl _start
_start:
	li	t0, 0x10000000		# UART
	li	t1, 0x80
	sb	t1, 3(t0)		# LCR.DLAB = 1
	li	t1, 3
	sb	t1, 0(t0)		# DLL = 3 (38400 baud)
	sb	zero, 1(t0)		# DLM = 0
	# forgot: sb 3, 3(t0) to clear DLAB and set 8N1
	li	t1, 'h'
	sb	t1, 0(t0)		# meant THR, writes DLL
	li	t1, 'i'
	sb	t1, 0(t0)
	li	t0, 0x30000000 + (3 << 15)	# ECAM 00:03.0
	li	t1, 7
	sh	t1, 4(t0)		# Command = IO|MEM|BUSMASTER
	li	t0, 0x100000		# sifive_test: power off
	li	t1, 0x5555
	sw	t1, 0(t0)
1:	j	1b
