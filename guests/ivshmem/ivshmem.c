/* ivshmem: a freestanding producer for gemu's audio ring in ivshmem shared
 * memory, on the QEMU/gemu virt board.
 *
 *   1. scan ECAM bus 0 for 1af4:1110; size BAR0 (32-bit registers) and BAR2
 *      (64-bit prefetchable shared memory); put BAR0 at 0x40000000 in the
 *      32-bit window and BAR2 at 0x400000000, the base of the 64-bit window
 *      for up to 14 GiB of RAM (end of RAM rounded up to 16 GiB); enable
 *      memory decoding (Command bit 1: QEMU's reset leaves it off);
 *   2. check the registers: IVPosition 0 (plain), IntrStatus 0;
 *   3. write a check pattern into the last 4 KiB of the shared memory;
 *   4. set up the ring (devices/ivshmem/ring.go: header, 16 KiB of data at
 *      0x100) and produce NFRAMES frames of 48 kHz S16LE stereo, as much as
 *      the consumer frees, publishing the write index after the samples
 *      (fence w,w); when everything is consumed, clear active and power off;
 *   5. with no consumer (QEMU, or gemu without audiodev=): when the read
 *      index has not moved for 200 ms, say so and power off; the shared
 *      memory then holds the pattern, the header and the first 16 KiB of
 *      PCM, which the host test compares between QEMU and gemu.
 *
 * On ivshmem-doorbell (BAR1 present) it instead rings peer 0's vector 0
 * every 10 ms while it polls IntrStatus, for up to 2 s, for a peer's
 * answer (gemu latches doorbells there; QEMU delivers them only as MSI-X,
 * which this PLIC-only board cannot receive, so on QEMU the wait times
 * out), and powers off.
 *
 * Frame i: left = (13 i mod 32749) + 1, right = -((7 i mod 32749) + 1):
 * never zero, so the host can check every sample.
 *
 * Register facts: QEMU hw/misc/ivshmem.c, docs/devices/ivshmem.md; no interrupts. */
#include "../common/virt.h"

#include "ring.h"

#define CAPACITY 16384u
#define RATE 48000
#define NFRAMES 12000 /* 250 ms */
#define PATTERN_WORDS 1024

static void fail(const char *why)
{
	uart_puts("ivshmem: FAIL: ");
	uart_puts(why);
	uart_puts("\n");
	poweroff(1);
}

/* frame returns sample frame i as one 32-bit word (left in the low half). */
static uint32_t frame(uint32_t i)
{
	uint16_t l = (uint16_t)((13 * i) % 32749 + 1);
	uint16_t r = (uint16_t)-(int32_t)((7 * i) % 32749 + 1);
	return (uint32_t)l | (uint32_t)r << 16;
}

static uint32_t pattern(uint32_t i) { return i * 0x9e3779b9u ^ 0xa5a5a5a5u; }

int main(void)
{
	int slot = pci_find(IVSHMEM_ID);
	if (slot < 0)
		fail("no 1af4:1110 on bus 0");
	uint32_t class = rd32(cfg_addr(slot, 0x08)) >> 8;
	if (class != 0x050000)
		fail("class is not 0x050000");

	uint32_t size0;
	uint64_t size2;
	int err = ivshmem_map(slot, &size0, &size2);
	if (err == -1)
		fail("BAR2 is not 64-bit prefetchable memory");
	if (err)
		fail("BAR2 size is not a power of two of at least 64 KiB");

	wr32(cfg_addr(slot, 0x14), 0xffffffffu);
	int doorbell = rd32(cfg_addr(slot, 0x14)) != 0;
	if (doorbell)
		wr32(cfg_addr(slot, 0x14), (uint32_t)BAR0_ADDR + 0x1000);

	uart_puts("ivshmem: 00:");
	put_hex((uint64_t)slot, 2);
	uart_puts(".0 BAR0 ");
	put_hex(BAR0_ADDR, 8);
	uart_puts("/");
	put_hex(size0, 3);
	uart_puts(" BAR2 ");
	put_hex(BAR2_ADDR, 9);
	uart_puts("/");
	put_hex(size2, 8);
	uart_puts("\n");

	/* Configuration space as programmed (the host test compares QEMU's
	 * and gemu's). */
	uart_puts("ivshmem: config");
	for (int reg = 0; reg < 0x50; reg += 4) {
		uart_putc(' ');
		put_hex(rd32(cfg_addr(slot, reg)), 8);
	}
	uart_puts("\n");

	if (doorbell) {
		uint32_t id = rd32(BAR0_ADDR + REG_IV_POSITION);
		uart_puts("ivshmem: doorbell, IVPosition ");
		put_dec(id);
		uart_puts("\n");
		wr32(BAR0_ADDR + REG_INTR_MASK, 0xffffffffu);
		/* Ring peer 0's vector 0 every 10 ms: a doorbell to a peer the
		 * device has not heard of yet is dropped (QEMU learns about
		 * peers asynchronously after it starts). */
		uint64_t t0 = mtime(), last = 0;
		uint32_t st;
		while ((st = rd32(BAR0_ADDR + REG_INTR_STATUS)) == 0) {
			uint64_t now = mtime();
			if (now - t0 > 2 * TIMEBASE_HZ) {
				uart_puts("ivshmem: no interrupt within 2 s\n");
				poweroff(0);
			}
			if (last == 0 || now - last > TIMEBASE_HZ / 100) {
				wr32(BAR0_ADDR + REG_DOORBELL, 0 << 16 | 0);
				last = now;
			}
		}
		uart_puts("ivshmem: interrupt, IntrStatus ");
		put_hex(st, 8);
		uart_puts("\n");
		poweroff(0);
	}
	if (rd32(BAR0_ADDR + REG_IV_POSITION) != 0)
		fail("IVPosition of ivshmem-plain is not 0");
	/* Narrow accesses: QEMU implements 32-bit ones only and widens the
	 * others; print what they do so the host test can compare. */
	wr32(BAR0_ADDR + REG_INTR_MASK, 0x11223344u);
	uint8_t b1 = *(volatile uint8_t *)(BAR0_ADDR + REG_INTR_MASK + 1);
	*(volatile uint8_t *)(BAR0_ADDR + REG_INTR_MASK + 2) = 0x5a;
	uint32_t mw = rd32(BAR0_ADDR + REG_INTR_MASK);
	uart_puts("ivshmem: IntrMask byte 1 reads ");
	put_hex(b1, 2);
	uart_puts(", after a byte write at +2 it is ");
	put_hex(mw, 8);
	uart_puts("\n");
	wr32(BAR0_ADDR + REG_INTR_MASK, 0xffffffffu);
	if (rd32(BAR0_ADDR + REG_INTR_STATUS) != 0)
		fail("IntrStatus is not 0");

	uintptr_t shm = BAR2_ADDR;
	uintptr_t pat = shm + size2 - 4 * PATTERN_WORDS;
	for (uint32_t i = 0; i < PATTERN_WORDS; i++)
		wr32(pat + 4 * i, pattern(i));
	for (uint32_t i = 0; i < PATTERN_WORDS; i++)
		if (rd32(pat + 4 * i) != pattern(i))
			fail("pattern does not read back");

	ring_start(shm, RATE, CAPACITY, 0);

	uint64_t w = 0, last_read = 0;
	uint64_t last_move = mtime();
	const uint64_t total = (uint64_t)NFRAMES * 4;
	for (;;) {
		uint64_t r = ring_read(shm);
		if (r != last_read) {
			last_read = r;
			last_move = mtime();
		}
		if ((rd32(shm + OFF_STATUS) & 0xff) == RING_BROKEN)
			fail("consumer marked the ring broken");
		if (r == total)
			break;
		if (mtime() - last_move > TIMEBASE_HZ / 5) {
			uart_puts("ivshmem: no consumer; wrote ");
			put_dec(w / 4);
			uart_puts(" frames\n");
			poweroff(0);
		}
		uint64_t free = CAPACITY - (w - r);
		if (free < 1024 && w < total)
			continue;
		/* Write up to 256 frames, then publish them. */
		for (int k = 0; k < 256 && w < total && w - r < CAPACITY; k++, w += 4)
			wr32(shm + DATA_OFF + (w & (CAPACITY - 1)), frame((uint32_t)(w / 4)));
		ring_publish(shm, w);
	}
	wr32(shm + OFF_ACTIVE, 0);
	uart_puts("ivshmem: played ");
	put_dec(total / 4);
	uart_puts(" frames\n");
	return 0;
}
