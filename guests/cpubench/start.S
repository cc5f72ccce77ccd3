# Entry points at fixed offsets: 0 runs crc_main, 4 runs sort_main.
# The stack is at the top of the 64 KiB image window (see bench.ld).
	.section .text.start
	.option norvc
	.globl _start
_start:
	j crc_entry
	j sort_entry
crc_entry:
	la sp, stack_top
	call crc_main
sort_entry:
	la sp, stack_top
	call sort_main
