/* Flattened devicetree reading for the freestanding guests: the bootargs
 * of /chosen, where the host test passes a guest its options
 * (-append "rate=44100 ..."). Format: Devicetree Specification 0.4,
 * chapter 5 (header, structure block tokens, strings block). */
#ifndef FDT_H
#define FDT_H

#include <stdint.h>

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4

/* be32 reads a big-endian 32-bit cell (the blob's byte order). */
static inline uint32_t be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* find_bootargs returns /chosen's bootargs, or "" when the blob is absent,
 * not a devicetree, or has none. The walk is bounded so that a corrupt
 * blob cannot hang the guest. */
static inline const char *find_bootargs(const void *fdt)
{
	const uint8_t *h = fdt;
	if (!fdt || be32(h) != FDT_MAGIC)
		return "";
	const uint8_t *p = h + be32(h + 8);                  /* off_dt_struct */
	const char *strings = (const char *)h + be32(h + 12); /* off_dt_strings */
	int depth = 0, in_chosen = 0;
	for (int guard = 0; guard < 100000; guard++) {
		uint32_t tok = be32(p);
		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			depth++;
			if (depth == 2)
				in_chosen = streq(name, "chosen");
			while (*p)
				p++;
			p = (const uint8_t *)(((uintptr_t)p + 4) & ~(uintptr_t)3);
		} else if (tok == FDT_END_NODE) {
			depth--;
			in_chosen = 0;
		} else if (tok == FDT_PROP) {
			uint32_t len = be32(p), nameoff = be32(p + 4);
			const char *val = (const char *)p + 8;
			if (in_chosen && depth == 2 && streq(strings + nameoff, "bootargs"))
				return val;
			p += 8 + ((len + 3) & ~3u);
		} else if (tok != FDT_NOP) {
			break;
		}
	}
	return "";
}

#endif
