// Benchmark guest for the cpu package's Benchmark* functions: integer work
// (bitwise CRC-32) and memory work (insertion sort of a pseudo-random array),
// compiled with -O2 for RV64GC so that the mix of compressed and 32-bit
// instructions is what real code looks like. The hart runs it bare (M mode)
// and under Sv39 (S mode); it never returns.
//
// Rebuild with `go generate ./cpu/` (needs riscv64-unknown-elf-gcc); a test
// checks that the committed bench.bin matches the sources.

typedef unsigned long u64;
typedef unsigned int u32;

#define N 512

static u64 data[N];
static unsigned char buf[1024];
volatile u64 sink;

static u32 crc32(const unsigned char *p, u64 n, u32 crc) {
	crc = ~crc;
	for (u64 i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static void fill(u64 seed) {
	for (int i = 0; i < N; i++) {
		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		data[i] = seed >> 17;
	}
}

static void sort(void) {
	for (int i = 1; i < N; i++) {
		u64 v = data[i];
		int j = i - 1;
		while (j >= 0 && data[j] > v) {
			data[j + 1] = data[j];
			j--;
		}
		data[j + 1] = v;
	}
}

// crc_main loops over CRC-32 of a buffer forever.
void crc_main(void) {
	u32 c = 0;
	for (int i = 0; i < (int)sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7);
	for (;;) {
		c = crc32(buf, sizeof buf, c);
		sink = c;
	}
}

// sort_main sorts freshly filled arrays forever.
void sort_main(void) {
	u64 seed = 1;
	for (;;) {
		fill(seed++);
		sort();
		sink = data[N / 2];
	}
}
