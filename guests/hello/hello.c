/* hello: the smallest gemu guest. Prints through the ns16550a UART and
 * powers the board off through the sifive,test finisher. */
#include "../common/virt.h"

int main(void)
{
	uart_puts("Hello from gemu: a freestanding RISC-V guest on the virt board.\n");
	return 0;
}
