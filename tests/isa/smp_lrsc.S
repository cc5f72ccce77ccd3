/* smp_lrsc: LR/SC reservations across harts (unprivileged spec 8.2: an SC
 * fails if a store from another hart to the reservation set can be
 * observed between the LR and the SC). Hart 1 writes the reserved word
 * (a plain store, then an AMO) while hart 0 holds a reservation on it: the
 * SC must fail and write nothing. A store by hart 1 to a neighbouring
 * granule, or by hart 0 itself elsewhere, leaves it intact (QEMU compares
 * the reserved value, gemu tracks the 8-byte granule: both succeed). Then
 * every hart adds to one counter with LR/SC retry loops: the total must be
 * exact.
 * smp: 4 */
#define TEST_SECONDARY secondary
#include "test.h"

#define NHARTS 4
#define ADDS 3000

/* Hart 0: ask hart 1 for command c (a store to cmd, another granule), and
 * wait until it is done. Clobbers t0, t1. */
#define ASK(c)                                                           \
	la t0, cmd;                                                      \
	li t1, c;                                                        \
	sw t1, 0(t0);                                                    \
	li t0, c;                                                        \
	la t1, ack;                                                      \
2:	lw t2, 0(t1);                                                    \
	bne t2, t0, 2b

TEST_BEGIN
	la s1, word
	/* 1: no other hart: own store to another granule keeps the reservation */
	li t0, 7
	sd t0, 0(s1)
	lr.d a5, (s1)
	la t0, cmd
	sw zero, 0(t0)
	li t0, 8
	sc.d a4, t0, (s1)
	TEST_CASE(1, 0, )
	TEST_CASE(2, 8, ld a4, 0(s1))

	/* 3: hart 1 stores to the reserved word: SC fails, nothing written */
	lr.d a5, (s1)
	TEST_CASE(3, 8, mv a4, a5)
	ASK(1) /* hart 1: sd 100, word */
	li t0, 55
	sc.d a4, t0, (s1)
	TEST_CASE(4, 1, )
	TEST_CASE(5, 100, ld a4, 0(s1))

	/* 6: hart 1 adds to it with an AMO */
	lr.d a5, (s1)
	ASK(2) /* hart 1: amoadd.d 5, word */
	li t0, 55
	sc.d a4, t0, (s1)
	TEST_CASE(6, 1, )
	TEST_CASE(7, 105, ld a4, 0(s1))

	/* 8: hart 1 stores to the next granule (same line, same page) */
	lr.d a5, (s1)
	ASK(3) /* hart 1: sd 9, word+8 */
	li t0, 55
	sc.d a4, t0, (s1)
	TEST_CASE(8, 0, )
	TEST_CASE(9, 55, ld a4, 0(s1))
	TEST_CASE(10, 9, ld a4, 8(s1))

	/* 11: word-sized: hart 1 stores to the reserved word with sw */
	lr.w a5, (s1)
	ASK(4) /* hart 1: sw 77, word */
	li t0, 66
	sc.w a4, t0, (s1)
	TEST_CASE(11, 1, )
	TEST_CASE(12, 77, lw a4, 0(s1))

	/* 13: a counter from every hart, LR/SC loops */
	ASK(5)
	call add_loop
	la t0, done
	li t1, 1
	amoadd.w zero, t1, (t0)
	li TESTNUM, 13
1:	lw a4, 0(t0)
	li t2, NHARTS
	bne a4, t2, 1b
	TEST_CASE(14, NHARTS * ADDS, la t0, counter; ld a4, 0(t0))
	TEST_CASE(15, NHARTS * ADDS, la t0, counter32; lw a4, 0(t0))
TEST_END

/* ADDS increments of counter (lr.d/sc.d) and counter32 (lr.w/sc.w). */
add_loop:
	li t3, ADDS
	la t4, counter
	la t5, counter32
1:	lr.d t0, (t4)
	addi t0, t0, 1
	sc.d t1, t0, (t4)
	bnez t1, 1b
2:	lr.w t0, (t5)
	addi t0, t0, 1
	sc.w t1, t0, (t5)
	bnez t1, 2b
	addi t3, t3, -1
	bnez t3, 1b
	ret

secondary:
	li t0, 1
	beq a0, t0, helper
	/* harts 2.. only add, once hart 0 starts the counting */
	la t0, cmd
1:	lw t1, 0(t0)
	li t2, 5
	bne t1, t2, 1b
	j count

helper:	la s1, word
	la s2, cmd
	la s3, ack
	li s4, 0 /* last command done */
1:	lw t0, 0(s2)
	beq t0, s4, 1b
	mv s4, t0
	li t1, 1
	beq t0, t1, c1
	li t1, 2
	beq t0, t1, c2
	li t1, 3
	beq t0, t1, c3
	li t1, 4
	beq t0, t1, c4
	sw t0, 0(s3)
	j count
c1:	li t1, 100
	sd t1, 0(s1)
	j 2f
c2:	li t1, 5
	amoadd.d zero, t1, (s1)
	j 2f
c3:	li t1, 9
	sd t1, 8(s1)
	j 2f
c4:	li t1, 77
	sw t1, 0(s1)
2:	fence
	sw t0, 0(s3)
	j 1b

count:	call add_loop
	la t0, done
	li t1, 1
	amoadd.w zero, t1, (t0)
	j park

	.data
	.balign 64
word:	.dword 0, 0
	.balign 64
cmd:	.word 0
	.balign 64
ack:	.word 0
	.balign 64
done:	.word 0
	.balign 64
counter: .dword 0
	.balign 64
counter32: .word 0
