/* vm_gemu: satp is WARL and gemu implements Sv39 and Sv48 only: writing
 * mode Sv57 (10) leaves satp unchanged (privileged spec 4.1.11), which is
 * how Linux probes the largest supported mode.
 * qemu: skip QEMU 7.2 implements Sv57, so the write sticks there */
#include "test.h"
#include "vm.h"

TEST_BEGIN
	SATP_SET(SATP_SV39, root)
	csrr s1, satp
	TEST_CASE(1, 1, li t0, SATP_SV57; la t1, root; srli t1, t1, 12; or t0, t0, t1; csrw satp, t0; csrr a4, satp; sub a4, a4, s1; seqz a4, a4)
	/* Sv48 is accepted */
	TEST_CASE(2, 9, li t0, SATP_SV48; la t1, root; srli t1, t1, 12; or t0, t0, t1; csrw satp, t0; csrr a4, satp; srli a4, a4, 60)
	csrwi satp, 0
TEST_END

	.data
	.balign 4096
root:	.fill 512, 8, 0
