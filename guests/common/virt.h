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

static inline void put_dec(uint64_t v)
{
	char b[24];
	int i = 0;
	do {
		b[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		uart_putc(b[--i]);
}

static inline void put_hex(uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--)
		uart_putc("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

/* poweroff ends the machine: status 0 is a clean power-off, anything else
 * exits with that code (the finisher's FAIL encoding, code << 16). It is in
 * crt0.S, which also calls it when main returns. */
void poweroff(int status) __attribute__((noreturn));

#endif
