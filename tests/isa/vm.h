/* vm.h: page-table helpers for vm*.S (privileged spec 4.3-4.5). */
#ifndef GEMU_ISA_VM_H
#define GEMU_ISA_VM_H

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80
#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)
#define SATP_SV57 (10 << 60)

/* table[idx] = PTE pointing at the page of symbol target. */
#define PTE_SYM(table, idx, target, flags) \
	la t0, target; \
	srli t0, t0, 12; \
	slli t0, t0, 10; \
	ori t0, t0, flags; \
	la t1, table; \
	sd t0, (idx) * 8(t1)
/* table[idx] = PTE pointing at physical address pa. */
#define PTE_PA(table, idx, pa, flags) \
	li t0, (((pa) >> 12) << 10) | (flags); \
	la t1, table; \
	sd t0, (idx) * 8(t1)
/* a4 = table[idx] & mask (for A/D checks) */
#define PTE_GET(table, idx, mask) \
	la t1, table; \
	ld a4, (idx) * 8(t1); \
	andi a4, a4, mask
/* satp = mode | root PPN, then flush */
#define SATP_SET(mode, root) \
	la t0, root; \
	srli t0, t0, 12; \
	li t1, mode; \
	or t0, t0, t1; \
	csrw satp, t0; \
	sfence.vma

#endif
