/* plic_latch: a level-triggered request that the PLIC gateway forwarded
 * stays pending (IP = 1) until a target claims it, even if the device
 * drops its line first (RISC-V PLIC spec, "Interrupt Gateways" and
 * "Interrupt Pending Bits"). Here the UART's request is masked by the
 * threshold, the UART goes quiet, the threshold drops: MEIP must be set and
 * the claim must return the UART. */
#include "test.h"

#define PLIC 0x0c000000
#define UART_IRQ 10
#define MIP_MEIP (1 << 11)
#define W32(addr, v) li t0, addr; li t1, v; sw t1, 0(t0)
#define W8(addr, v) li t0, addr; li t1, v; sb t1, 0(t0)

TEST_BEGIN
	W8(UART0 + 1, 0)
	W32(PLIC + 4 * UART_IRQ, 1)
	W32(PLIC + 0x2000, 1 << UART_IRQ)
	W32(PLIC + 0x200000, 1)            /* threshold 1 masks priority 1 */
	W8(UART0 + 1, 2)                   /* THR empty interrupt on */
	TEST_CASE(1, 0, li t0, 20000; 1: addi t0, t0, -1; bnez t0, 1b; csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)
	TEST_CASE(2, 1 << UART_IRQ, li t0, PLIC + 0x1000; lw a4, 0(t0); andi a4, a4, 1 << UART_IRQ)
	W8(UART0 + 1, 0)                   /* line drops */
	W32(PLIC + 0x200000, 0)
	TEST_CASE(3, 1 << UART_IRQ, li t0, PLIC + 0x1000; lw a4, 0(t0); andi a4, a4, 1 << UART_IRQ)
	TEST_CASE(4, MIP_MEIP, csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)
	TEST_CASE(5, UART_IRQ, li t0, PLIC + 0x200004; lw a4, 0(t0))
	W32(PLIC + 0x200004, UART_IRQ)
	TEST_CASE(6, 0, csrr a4, mip; li t1, MIP_MEIP; and a4, a4, t1)
	TEST_CASE(7, 0, li t0, PLIC + 0x1000; lw a4, 0(t0); andi a4, a4, 1 << UART_IRQ)
	W32(PLIC + 0x2000, 0)
TEST_END
