/* ac97.h: the reusable part of the AC97 guest driver (ac97.c is its test
 * driver, ../demo/demo.c its music player): register names, PCI set-up and
 * codec bring-up for the Intel 82801AA on the QEMU/gemu virt board.
 * Register facts: Intel 82801AA datasheet section 11, AC'97 2.3 section 5,
 * QEMU hw/audio/ac97.c, docs/devices/ac97.md. Needs ../common/mmio.h. */
#ifndef AC97_H
#define AC97_H

#include "../common/mmio.h"

#define AC97_ID 0x24158086u /* 8086:2415 */

/* I/O ports the driver puts the two BARs at. */
#define NAM_PORT 0x1000
#define NABM_PORT 0x1400

/* Codec registers (NAMBAR). */
#define AC_RESET 0x00
#define AC_MASTER 0x02
#define AC_PCM_OUT 0x18
#define AC_REC_SELECT 0x1a
#define AC_REC_GAIN 0x1c
#define AC_EXT_CTRL 0x2a
#define AC_DAC_RATE 0x2c
#define AC_ADC_RATE 0x32
#define AC_MIC_RATE 0x34
#define AC_VENDOR1 0x7c
#define AC_VENDOR2 0x7e

/* Bus master blocks and registers (NABMBAR). */
#define PI 0x00
#define PO 0x10
#define MC 0x20
#define BDBAR 0x00
#define CIV 0x04
#define LVI 0x05
#define SR 0x06
#define PICB 0x08
#define CR 0x0b
#define GLOB_CNT 0x2c
#define GLOB_STA 0x30

#define SR_DCH 0x01
#define SR_LVBCI 0x04
#define SR_BCIS 0x08
#define SR_FIFOE 0x10
#define CR_RPBM 0x01
#define CR_RR 0x02
#define CR_LVBIE 0x04
#define CR_FEIE 0x08
#define CR_IOCE 0x10
#define BD_IOC 0x80000000u

/* A buffer descriptor: 32 of them form a channel's list. */
struct bd {
	uint32_t addr;
	uint32_t ctl; /* IOC | BUP | length in 16-bit samples */
};

static inline uint16_t nam_rd(int reg) { return rd16(PIO_BASE + NAM_PORT + reg); }
static inline void nam_wr(int reg, uint16_t v) { wr16(PIO_BASE + NAM_PORT + reg, v); }
static inline uintptr_t nabm(int reg) { return PIO_BASE + NABM_PORT + reg; }

/* ac97_bar_size sizes I/O BAR bar of slot (PCI 3.0 6.2.5.1); 0 when it is
 * not an I/O BAR. */
static inline uint32_t ac97_bar_size(int slot, int bar)
{
	uintptr_t a = cfg_addr(slot, 0x10 + 4 * bar);
	uint32_t old = rd32(a);
	wr32(a, 0xffffffff);
	uint32_t mask = rd32(a);
	wr32(a, old);
	if (!(mask & 1))
		return 0;
	return ~(mask & ~3u) + 1;
}

/* ac97_map puts the BARs at NAM_PORT and NABM_PORT, enables I/O decoding
 * and bus mastering, and returns the PLIC source of the card's INTA. */
static inline int ac97_map(int slot)
{
	wr32(cfg_addr(slot, 0x10), NAM_PORT | 1);
	wr32(cfg_addr(slot, 0x14), NABM_PORT | 1);
	wr8(cfg_addr(slot, 0x04), 0x05); /* I/O space + bus master */
	return pci_irq(slot);
}

/* ac97_codec_up releases the AC-link reset, waits for "primary codec
 * ready", resets the codec and returns its vendor ID (0 if it never became
 * ready). */
static inline uint32_t ac97_codec_up(void)
{
	wr32(nabm(GLOB_CNT), 0x2); /* release AC_RESET# (cold reset off) */
	int i;
	for (i = 0; i < 1000 && !(rd32(nabm(GLOB_STA)) & (1u << 8)); i++)
		;
	if (i == 1000)
		return 0;
	nam_wr(AC_RESET, 0);
	return (uint32_t)nam_rd(AC_VENDOR1) << 16 | nam_rd(AC_VENDOR2);
}

#endif
