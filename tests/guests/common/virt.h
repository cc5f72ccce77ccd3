/* Devices of the QEMU/gemu virt board used by freestanding guests. */
#ifndef VIRT_H
#define VIRT_H

#include <stdint.h>

#define UART0_BASE 0x10000000UL /* ns16550a, reg-shift 0 */
#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20

#define TEST_BASE 0x100000UL /* sifive,test0 finisher */
#define TEST_PASS 0x5555
#define TEST_FAIL 0x3333

static inline void uart_putc(char c)
{
	volatile uint8_t *u = (volatile uint8_t *)UART0_BASE;
	while ((u[UART_LSR] & UART_LSR_THRE) == 0)
		;
	u[UART_THR] = (uint8_t)c;
}

static inline void uart_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			uart_putc('\r');
		uart_putc(*s);
	}
}

/* poweroff ends the machine: status 0 is a clean power-off, anything else
 * exits with that code (the finisher's FAIL encoding, code << 16). */
void poweroff(int status) __attribute__((noreturn));

#endif
