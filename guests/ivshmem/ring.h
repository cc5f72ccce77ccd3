/* ring.h: the reusable part of the ivshmem guest driver (ivshmem.c is its
 * test driver, ../demo/demo.c its music player): PCI set-up of an ivshmem
 * device and the producer side of gemu's audio ring in its shared memory
 * (layout and rules: devices/ivshmem/ring.go; registers: QEMU
 * hw/misc/ivshmem.c, docs/devices/ivshmem.md). No interrupts. Needs ../common/mmio.h. */
#ifndef RING_H
#define RING_H

#include "../common/mmio.h"

#define IVSHMEM_ID 0x11101af4u /* 1af4:1110 */

/* Where the driver puts the BARs: BAR0 in the 32-bit window, BAR2 at the
 * base of the 64-bit window (end of up to 14 GiB of RAM rounded up). */
#define BAR0_ADDR 0x40000000UL
#define BAR2_ADDR 0x400000000UL

#define REG_INTR_MASK 0x00
#define REG_INTR_STATUS 0x04
#define REG_IV_POSITION 0x08
#define REG_DOORBELL 0x0c

/* Ring header (devices/ivshmem/ring.go). */
#define RING_MAGIC 0x44554147u /* "GAUD" */
#define OFF_MAGIC 0x00
#define OFF_VERSION 0x04
#define OFF_RATE 0x08
#define OFF_CHANNELS 0x0c
#define OFF_FORMAT 0x0e
#define OFF_FRAME_BYTES 0x10
#define OFF_DATA 0x14
#define OFF_CAPACITY 0x18
#define OFF_WRITE 0x20
#define OFF_READ 0x40
#define OFF_STATUS 0x48
#define OFF_EPOCH 0x60
#define OFF_ACTIVE 0x64
#define FORMAT_S16LE 2
#define RING_PLAYING 1 /* status, low byte: the consumer is attached */
#define RING_BROKEN 2
#define DATA_OFF 0x100

/* ivshmem_map sizes BAR0 (32-bit registers) and BAR2 (64-bit prefetchable
 * shared memory, PCI 3.0 6.2.5.1), puts them at BAR0_ADDR and BAR2_ADDR and
 * enables memory decoding (Command bit 1: QEMU's reset leaves it off). It
 * returns 0, -1 if BAR2 is not 64-bit prefetchable memory, or -2 if its
 * size is not a power of two of at least 64 KiB. */
static inline int ivshmem_map(int slot, uint32_t *size0, uint64_t *size2)
{
	wr32(cfg_addr(slot, 0x10), 0xffffffffu);
	*size0 = ~(rd32(cfg_addr(slot, 0x10)) & ~0xfu) + 1;
	if ((rd32(cfg_addr(slot, 0x18)) & 0xf) != 0xc)
		return -1;
	wr32(cfg_addr(slot, 0x18), 0xffffffffu);
	wr32(cfg_addr(slot, 0x1c), 0xffffffffu);
	uint64_t mask = (uint64_t)rd32(cfg_addr(slot, 0x1c)) << 32 | (rd32(cfg_addr(slot, 0x18)) & ~0xfu);
	*size2 = ~mask + 1;
	if (*size2 < 0x10000 || (*size2 & (*size2 - 1)))
		return -2;
	wr32(cfg_addr(slot, 0x10), (uint32_t)BAR0_ADDR);
	wr32(cfg_addr(slot, 0x18), (uint32_t)BAR2_ADDR);
	wr32(cfg_addr(slot, 0x1c), (uint32_t)(BAR2_ADDR >> 32));
	wr16(cfg_addr(slot, 0x04), 0x0002); /* memory space */
	return 0;
}

/* ring_start sets up a 16-bit stereo ring of capacity bytes (a power of
 * two) at DATA_OFF in the shared memory at shm, as ring.go's "Starting"
 * says: indices first, magic last. filled bytes of data already written at
 * the start of the data area are published with it (0 for none). */
static inline void ring_start(uintptr_t shm, uint32_t rate, uint32_t capacity, uint64_t filled)
{
	wr32(shm + OFF_MAGIC, 0);
	wr64(shm + OFF_WRITE, filled);
	wr64(shm + OFF_READ, 0);
	wr32(shm + OFF_VERSION, 1);
	wr32(shm + OFF_RATE, rate);
	wr16(shm + OFF_CHANNELS, 2);
	wr16(shm + OFF_FORMAT, FORMAT_S16LE);
	wr32(shm + OFF_FRAME_BYTES, 4);
	wr32(shm + OFF_DATA, DATA_OFF);
	wr32(shm + OFF_CAPACITY, capacity);
	wr32(shm + OFF_EPOCH, 1);
	wr32(shm + OFF_ACTIVE, 1);
	__asm__ volatile("fence w,w" ::: "memory");
	wr32(shm + OFF_MAGIC, RING_MAGIC);
}

/* ring_publish stores the write index w after the samples before it. */
static inline void ring_publish(uintptr_t shm, uint64_t w)
{
	__asm__ volatile("fence w,w" ::: "memory");
	wr64(shm + OFF_WRITE, w);
}

/* ring_read loads the consumer's read index; samples are read after it. */
static inline uint64_t ring_read(uintptr_t shm)
{
	uint64_t r = rd64(shm + OFF_READ);
	__asm__ volatile("fence r,rw" ::: "memory");
	return r;
}

#endif
