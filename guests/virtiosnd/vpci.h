/* vpci.h: the virtio 1.x PCI transport of the virtio-sound guest driver,
 * included by vsnd.h when the includer defines VSND_PCI. The function is
 * found by an ECAM scan (../common/mmio.h pci_find, as the AC97 and
 * ivshmem drivers do), its vendor capabilities give the common, notify,
 * ISR and device configuration areas (VirtIO 1.2 4.1.4), and the BARs they
 * name are placed in the board's 32-bit PCI memory window and enabled.
 * Polled: no INTx, no MSI-X. Facts: VirtIO 1.2 4.1.2 (IDs), 4.1.4.3
 * (common configuration), 4.1.4.4 (notifications), 4.1.5.1.3 (queue set-up);
 * PCI Local Bus 3.0 6.2.5.1 (BAR sizing), 6.7 (capability list); QEMU
 * hw/riscv/virt.c (VIRT_PCIE_MMIO at 0x40000000). */
#ifndef VPCI_H
#define VPCI_H

#define VPCI_SOUND_ID 0x10591af4u /* 1af4:1040 + 25 */
#define VPCI_MEM_BASE 0x40000000UL /* virt's 32-bit PCI memory window */
#define VPCI_MEM_END 0x80000000UL

/* The rest of struct virtio_pci_common_cfg (4.1.4.3). */
#define C_STATUS 0x14 /* 8 bits */
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_ENABLE 0x1c
#define C_Q_NOTIFY_OFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_DRIVER 0x28
#define C_Q_DEVICE 0x30

/* Capability types (4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

static struct {
	int slot;
	uintptr_t common, notify, isr, device;
	uint32_t notify_mult;
	uintptr_t bar[6]; /* where each BAR was placed; 0: not yet */
	uint64_t size[6];
	uintptr_t next;   /* next free address in the window */
} vp;

static uint32_t vpci_rd32(int off) { return rd32(vp.common + (uintptr_t)off); }
static void vpci_wr32(int off, uint32_t v) { wr32(vp.common + (uintptr_t)off, v); }
static uint32_t vpci_status(void) { return rd8(vp.common + C_STATUS); }
static void vpci_set_status(uint32_t v) { wr8(vp.common + C_STATUS, (uint8_t)v); }
static uint32_t vpci_config32(int off) { return rd32(vp.device + (uintptr_t)off); }

/* vpci_notify writes the queue's index to its notification address
 * (4.1.4.4: cap.offset + queue_notify_off * notify_off_multiplier). */
static void vpci_notify(int index)
{
	wr16(vp.common + C_Q_SELECT, (uint16_t)index);
	uint32_t off = rd16(vp.common + C_Q_NOTIFY_OFF);
	wr16(vp.notify + (uintptr_t)off * vp.notify_mult, (uint16_t)index);
}

/* vpci_queue sets up queue index (4.1.5.1.3): select it, check it is not
 * enabled and big enough, write its size (a driver may make it smaller)
 * and areas, enable it. */
static void vpci_queue(int index, uint16_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr16(vp.common + C_Q_SELECT, (uint16_t)index);
	if (rd16(vp.common + C_Q_ENABLE) != 0)
		fail("queue enabled before setup", (uint64_t)index);
	uint16_t max = rd16(vp.common + C_Q_SIZE);
	if (max < num)
		fail("queue too small", max);
	wr16(vp.common + C_Q_SIZE, num);
	wr32(vp.common + C_Q_DESC, (uint32_t)desc);
	wr32(vp.common + C_Q_DESC + 4, (uint32_t)(desc >> 32));
	wr32(vp.common + C_Q_DRIVER, (uint32_t)avail);
	wr32(vp.common + C_Q_DRIVER + 4, (uint32_t)(avail >> 32));
	wr32(vp.common + C_Q_DEVICE, (uint32_t)used);
	wr32(vp.common + C_Q_DEVICE + 4, (uint32_t)(used >> 32));
	wr16(vp.common + C_Q_ENABLE, 1);
}

/* vpci_map_bar places memory BAR bar at the next naturally aligned
 * address of the window (PCI 3.0 6.2.5.1: write all ones, read the size
 * mask back) and returns it; 0 if it is not a memory BAR or does not fit. */
static uintptr_t vpci_map_bar(int bar)
{
	if (vp.bar[bar])
		return vp.bar[bar];
	uintptr_t a = cfg_addr(vp.slot, 0x10 + 4 * bar);
	uint32_t lo = rd32(a);
	if (lo & 1)
		return 0; /* I/O BAR */
	int is64 = (lo & 6) == 4;
	if (is64 && bar == 5)
		return 0;
	wr32(a, 0xffffffffu);
	uint64_t mask = rd32(a) & ~0xfu;
	if (is64) {
		wr32(a + 4, 0xffffffffu);
		mask |= (uint64_t)rd32(a + 4) << 32;
	} else {
		mask |= 0xffffffff00000000ull;
	}
	uint64_t size = ~mask + 1;
	if (size == 0 || (size & (size - 1)))
		return 0;
	uintptr_t at = (vp.next + size - 1) & ~(uintptr_t)(size - 1);
	if (at + size > VPCI_MEM_END)
		return 0;
	wr32(a, (uint32_t)at);
	if (is64)
		wr32(a + 4, (uint32_t)((uint64_t)at >> 32));
	vp.next = at + size;
	vp.bar[bar] = at;
	vp.size[bar] = size;
	return at;
}

/* vpci_probe finds the virtio-sound PCI function, maps the BARs its
 * capabilities name, enables memory decoding and bus mastering, and makes
 * vsnd.h use it. It returns the slot, -1 if there is none; a function
 * without the four capabilities fails. */
static int vpci_probe(void)
{
	int slot = pci_find(VPCI_SOUND_ID);
	if (slot < 0)
		return -1;
	vp.slot = slot;
	vp.next = VPCI_MEM_BASE;
	wr16(cfg_addr(slot, 0x04), 0); /* decoding off while BARs move */
	if (!(rd16(cfg_addr(slot, 0x06)) & 0x10))
		fail("virtio-pci function without a capability list", 0);
	int found = 0;
	uint8_t at = rd8(cfg_addr(slot, 0x34)) & 0xfc;
	for (int n = 0; at && n < 48; n++) { /* 48: a looping list ends */
		if (rd8(cfg_addr(slot, at)) == 0x09) { /* vendor specific */
			uint8_t type = rd8(cfg_addr(slot, at + 3));
			uint8_t bar = rd8(cfg_addr(slot, at + 4));
			uint32_t off = rd32(cfg_addr(slot, at + 8));
			uint32_t len = rd32(cfg_addr(slot, at + 12));
			/* 4.1.4.1: the driver ignores unknown types and BARs > 5. */
			if (type >= CAP_COMMON && type <= CAP_DEVICE && bar <= 5 && !(found & (1 << type))) {
				uintptr_t base = vpci_map_bar(bar);
				if (!base || (uint64_t)off + len > vp.size[bar])
					fail("virtio-pci capability outside its BAR", (uint64_t)type << 8 | bar);
				uintptr_t where = base + off;
				if (type == CAP_COMMON)
					vp.common = where;
				else if (type == CAP_NOTIFY) {
					vp.notify = where;
					vp.notify_mult = rd32(cfg_addr(slot, at + 16));
				} else if (type == CAP_ISR)
					vp.isr = where;
				else
					vp.device = where;
				found |= 1 << type;
			}
		}
		at = rd8(cfg_addr(slot, at + 1)) & 0xfc;
	}
	if (found != (1 << CAP_COMMON | 1 << CAP_NOTIFY | 1 << CAP_ISR | 1 << CAP_DEVICE))
		fail("virtio-pci capabilities missing (bit per type found)", (uint64_t)found);
	wr16(cfg_addr(slot, 0x04), 0x0006); /* memory space + bus master */
	vsnd_pci = 1;
	dev = vp.common;
	return slot;
}

/* vpci_ack reads (and so clears) the ISR status (4.1.4.5). */
static inline uint32_t vpci_ack(void) { return rd8(vp.isr); }

#endif
