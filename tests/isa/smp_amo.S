/* smp_amo: AMOs are atomic across harts (unprivileged spec 8.4). Every
 * hart adds 1 to shared counters ITER times with amoadd.d and amoadd.w,
 * sets its bit in a mask with amoor.w, offers its id to amomax.d and
 * amominu.w, and increments a plain (non-atomic) counter inside a spinlock
 * taken with amoswap.w.aq and released with amoswap.w.rl. Every total must
 * be exact.
 * smp: 4 */
#define TEST_SECONDARY work
#include "test.h"

#define NHARTS 4
#define ITER 4000

TEST_BEGIN
	call work_body
	la t0, done
	li TESTNUM, 1
1:	lw a4, 0(t0)
	li t2, NHARTS - 1
	bne a4, t2, 1b
	la s1, vars
	TEST_CASE(2, NHARTS * ITER, ld a4, 0(s1))
	TEST_CASE(3, NHARTS * ITER * 2, lw a4, 8(s1))
	TEST_CASE(4, (1 << NHARTS) - 1, lw a4, 16(s1))
	TEST_CASE(5, NHARTS - 1, ld a4, 24(s1))
	TEST_CASE(6, 0, lwu a4, 32(s1))
	TEST_CASE(7, NHARTS * ITER, ld a4, 40(s1))
	TEST_CASE(8, 0, lw a4, 48(s1)) /* lock free again */
	/* amoswap returned every value exactly once: the sum of all
	 * old values of the ticket counter (amoadd.d returns) is n(n-1)/2 */
	TEST_CASE(9, (NHARTS * ITER) * (NHARTS * ITER - 1) / 2, ld a4, 56(s1))
TEST_END

work:
	call work_body
	la t0, done
	li t1, 1
	amoadd.w zero, t1, (t0)
	j park

/* One hart's share; a0 = mhartid. */
work_body:
	csrr a0, mhartid
	la s1, vars
	li s2, ITER
	li s3, 1
	li s4, 2
	li s5, 0
	addi s6, s1, 8
1:	amoadd.d zero, s3, (s1)
	amoadd.w zero, s4, (s6)
	/* ticket: old values summed into our own sum, added at the end */
	addi t0, s1, 64
	amoadd.d t1, s3, (t0)
	add s5, s5, t1
	/* spinlock around a plain read-modify-write */
	addi t0, s1, 48
2:	amoswap.w.aq t1, s3, (t0)
	bnez t1, 2b
	ld t1, 40(s1)
	addi t1, t1, 1
	sd t1, 40(s1)
	amoswap.w.rl zero, zero, (t0)
	addi s2, s2, -1
	bnez s2, 1b
	/* once per hart */
	li t0, 1
	sll t0, t0, a0
	addi t1, s1, 16
	amoor.w zero, t0, (t1)
	addi t1, s1, 24
	amomax.d zero, a0, (t1)
	addi t1, s1, 32
	amominu.w zero, a0, (t1)
	addi t1, s1, 56
	amoadd.d zero, s5, (t1)
	ret

	.data
	.balign 64
vars:	.dword 0      /* 0: amoadd.d counter */
	.word 0, 0    /* 8: amoadd.w counter */
	.word 0, 0    /* 16: amoor.w mask */
	.dword 0      /* 24: amomax.d of ids */
	.word -1, 0   /* 32: amominu.w of ids */
	.dword 0      /* 40: plain counter under the lock */
	.word 0, 0    /* 48: lock */
	.dword 0      /* 56: sum of ticket values */
	.dword 0      /* 64: ticket counter */
	.balign 64
done:	.word 0
