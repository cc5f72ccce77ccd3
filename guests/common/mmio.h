/* MMIO, PCI ECAM and timer helpers shared by the freestanding guest drivers
 * (ac97, virtiosnd, ivshmem, demo) on the QEMU/gemu virt board. Addresses:
 * QEMU hw/riscv/virt.c virt_memmap; docs/board.md, docs/devices/pci.md. */
#ifndef MMIO_H
#define MMIO_H

#include <stdint.h>

#define ECAM_BASE 0x30000000UL      /* PCIe ECAM, bus 0 */
#define PIO_BASE 0x03000000UL       /* PCI I/O port window */
#define PLIC_BASE 0x0c000000UL
#define CLINT_MTIMECMP 0x02004000UL /* hart 0 */
#define CLINT_MTIME 0x0200bff8UL
#define TIMEBASE_HZ 10000000UL

static inline uint8_t rd8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t rd16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t rd32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline uint64_t rd64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void wr8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void wr16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void wr32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void wr64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

static inline uint64_t mtime(void) { return rd64(CLINT_MTIME); }

/* cfg_addr is register reg of function 0 of device slot on bus 0 (PCIe
 * base spec 7.2.2: bus << 20 | device << 15 | function << 12). */
static inline uintptr_t cfg_addr(int slot, int reg)
{
	return ECAM_BASE + ((uintptr_t)slot << 15) + (uintptr_t)reg;
}

/* pci_find returns the first slot on bus 0 whose vendor:device word (vendor
 * in the low half) is id, or -1. */
static inline int pci_find(uint32_t id)
{
	for (int slot = 0; slot < 32; slot++)
		if (rd32(cfg_addr(slot, 0)) == id)
			return slot;
	return -1;
}

/* pci_irq is the PLIC source of the slot's INTx pin: virt swizzles pin P of
 * slot S to PCIe INT((S + P - 1) mod 4), PLIC sources 32..35. */
static inline int pci_irq(int slot)
{
	int pin = rd8(cfg_addr(slot, 0x3d));
	return 32 + (slot + pin - 1) % 4;
}

#endif
