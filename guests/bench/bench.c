/* bench: gemu's benchmark guest. Two timed parts, each reporting the
 * instructions it retired (instret) and the time it took (the time CSR:
 * mtime at 10 MHz, which follows the host clock in gemu's default real-time
 * mode):
 *   int:  CRC-32 (table driven) over a 64 KiB buffer and a quicksort of
 *         16K words, repeated; M mode, paging off.
 *   sv39: a memory-heavy loop (strided read-modify-write and pseudo-random
 *         loads) over 4 MiB mapped with 4 KiB Sv39 pages, in S mode.
 *   mem:  the sv39 part's memory loop with paging off (M mode, physical
 *         addresses).
 *   fp:   floating-point kernels in double and single precision: matrix
 *         multiply (gcc contracts to fmadd), dot product and saxpy, an
 *         n-body step (sqrt, div), int<->fp conversions, compares, min/max
 *         and sign injection; M mode, paging off.
 *   fpsv39: the same kernels on data mapped with 4 KiB Sv39 pages, in S
 *         mode.
 *   smp:  the integer part on every hart at once (-DPARTS=4), each hart on
 *         its own data; the harts are counted in the device tree (a1).
 *         Reports one line per hart ("h0", "h1", ...) and "all": the sum
 *         of their instructions over the time from the first start to the
 *         last end. Every hart's check equals the int part's (so does
 *         all's, which is 0 if the harts disagree).
 * Output lines: "bench <part> instret=<n> ticks=<n> check=<hex>".
 * Built with -DPARTS=1, 2, 4, 8, 16, 32 or 0 (make -C guests bench, for `go run
 * ./tests/bench`) so that each part runs in its own process and its host
 * CPU time can be measured.
 * Ends by powering off through the sifive,test finisher. */
#include <stddef.h>
#include <stdint.h>

#define UART0 ((volatile uint8_t *)0x10000000UL)
#define FINISHER ((volatile uint32_t *)0x100000UL)
#define CLINT_MSIP ((volatile uint32_t *)0x2000000UL)
#define MAXHARTS 8

#ifndef INT_ROUNDS
#define INT_ROUNDS 64
#endif
#ifndef MEM_PASSES
#define MEM_PASSES 256
#endif
/* PARTS selects what runs: bit 0 = int, bit 1 = sv39, bit 2 = int on
 * every hart, bit 3 = mem, bit 4 = fp, bit 5 = fpsv39 (0 = a baseline that
 * measures start-up and power-off only). */
#ifndef PARTS
#define PARTS 3
#endif

static void putc_(char c)
{
	while ((UART0[5] & 0x20) == 0)
		;
	UART0[0] = (uint8_t)c;
}

static void puts_(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc_('\r');
		putc_(*s);
	}
}

static void putdec(uint64_t v)
{
	char b[24];
	int i = 0;
	do {
		b[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		putc_(b[--i]);
}

static void puthex(uint64_t v)
{
	for (int s = 60; s >= 0; s -= 4)
		putc_("0123456789abcdef"[(v >> s) & 15]);
}

void poweroff(int status)
{
	*FINISHER = status == 0 ? 0x5555 : ((uint32_t)status << 16) | 0x3333;
	for (;;)
		__asm__ volatile("wfi");
}

void bad_trap(uint64_t cause, uint64_t epc, uint64_t tval)
{
	puts_("bench: unexpected trap cause=");
	puthex(cause);
	puts_(" epc=");
	puthex(epc);
	puts_(" tval=");
	puthex(tval);
	puts_("\n");
	poweroff(1);
}

static inline uint64_t rdinstret(void)
{
	uint64_t v;
	__asm__ volatile("rdinstret %0" : "=r"(v));
	return v;
}

static inline uint64_t rdtime(void)
{
	uint64_t v;
	__asm__ volatile("rdtime %0" : "=r"(v));
	return v;
}

static void report(const char *part, uint64_t instret, uint64_t ticks, uint64_t check)
{
	puts_("bench ");
	puts_(part);
	puts_(" instret=");
	putdec(instret);
	puts_(" ticks=");
	putdec(ticks);
	puts_(" check=");
	puthex(check);
	puts_("\n");
}

/* ---- integer part ---- */

/* One hart's data: PARTS & 4 gives each hart its own. */
struct intdata {
	uint32_t crc_table[256];
	uint8_t buf[64 * 1024];
	uint32_t arr[16 * 1024];
};
#define NDATA ((PARTS & 4) ? MAXHARTS : 1)
static struct intdata intdata[NDATA];

static void crc_init(uint32_t *crc_table)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32(const uint32_t *crc_table, const uint8_t *p, size_t n, uint32_t crc)
{
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void quicksort(uint32_t *a, long lo, long hi)
{
	while (lo < hi) {
		uint32_t pivot = a[lo + (hi - lo) / 2];
		long i = lo - 1, j = hi + 1;
		for (;;) {
			do
				i++;
			while (a[i] < pivot);
			do
				j--;
			while (a[j] > pivot);
			if (i >= j)
				break;
			uint32_t t = a[i];
			a[i] = a[j];
			a[j] = t;
		}
		/* recurse into the smaller half, loop on the larger */
		if (j - lo < hi - j) {
			quicksort(a, lo, j);
			lo = j + 1;
		} else {
			quicksort(a, j + 1, hi);
			hi = j;
		}
	}
}

static uint64_t int_work(struct intdata *d)
{
	uint8_t *buf = d->buf;
	uint32_t *arr = d->arr;
	uint64_t check = 0;
	uint32_t seed = 12345;
	crc_init(d->crc_table);
	for (size_t i = 0; i < sizeof d->buf; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (int r = 0; r < INT_ROUNDS; r++) {
		uint32_t crc = crc32(d->crc_table, buf, sizeof d->buf, (uint32_t)r);
		size_t n = sizeof d->arr / sizeof d->arr[0];
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			arr[i] = seed ^ crc;
		}
		quicksort(arr, 0, (long)n - 1);
		for (size_t i = 1; i < n; i++)
			if (arr[i - 1] > arr[i])
				poweroff(2); /* not sorted: emulator bug */
		check = check * 31 + crc + arr[n / 2];
	}
	return check;
}

/* ---- Sv39 part ---- */

#define MEM_VA 0x40000000UL
#define MEM_SIZE (4UL << 20)
#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_A 0x40
#define PTE_D 0x80

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l0[2][512] __attribute__((aligned(4096)));
static uint8_t membuf[MEM_SIZE] __attribute__((aligned(4096)));
static volatile uint64_t mem_result[3];

static uint64_t pte(const void *pa, uint64_t flags)
{
	return (((uint64_t)(uintptr_t)pa >> 12) << 10) | flags;
}

/* The memory loop of the sv39 and mem parts over the 4 MiB at a. */
static uint64_t __attribute__((noinline)) mem_loop(uint64_t *a)
{
	uint64_t n = MEM_SIZE / 8, sum = 0;
	for (int pass = 0; pass < MEM_PASSES; pass++) {
		/* one word per 64-byte line, all 1024 pages */
		for (uint64_t i = (uint64_t)pass & 7; i < n; i += 8)
			a[i] += i ^ (uint64_t)pass;
		/* pseudo-random loads across the buffer */
		uint64_t x = (uint64_t)pass * 2654435761u + 1;
		for (int k = 0; k < 16384; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			sum += a[(x >> 33) & (n - 1)];
		}
	}
	return sum;
}

/* Runs in S mode with translation on; reports through mem_result. */
static void __attribute__((noinline, noreturn)) mem_work(uint64_t *a)
{
	uint64_t t0 = rdtime(), i0 = rdinstret();
	uint64_t sum = mem_loop(a);
	uint64_t i1 = rdinstret(), t1 = rdtime();
	mem_result[0] = i1 - i0;
	mem_result[1] = t1 - t0;
	mem_result[2] = sum;
	__asm__ volatile("ecall");
	__builtin_unreachable();
}

void run_in_s(void (*fn)(uint64_t *), uint64_t *arg);

/* map_sv39 turns Sv39 on: an identity gigapage for code and data at
 * 0x80000000 and 4 MiB of 4 KiB pages at MEM_VA -> membuf. */
static void map_sv39(void)
{
	/* identity gigapage for code/data at 0x80000000, and 4 MiB of 4 KiB
	 * pages at MEM_VA -> membuf */
	root[2] = ((0x80000000UL >> 12) << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
	root[MEM_VA >> 30] = pte(l1, PTE_V);
	for (int j = 0; j < 2; j++) {
		l1[j] = pte(l0[j], PTE_V);
		for (int i = 0; i < 512; i++)
			l0[j][i] = pte(membuf + ((size_t)j * 512 + (size_t)i) * 4096,
				       PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
	}
	uint64_t satp = (8UL << 60) | ((uint64_t)(uintptr_t)root >> 12);
	__asm__ volatile("csrw satp, %0; sfence.vma" ::"r"(satp) : "memory");
}

static void unmap_sv39(void)
{
	__asm__ volatile("csrw satp, zero; sfence.vma" ::: "memory");
}

static void sv39_part(void)
{
	map_sv39();
	run_in_s(mem_work, (uint64_t *)MEM_VA);
	unmap_sv39();
	report("sv39", mem_result[0], mem_result[1], mem_result[2]);
}

static void mem_part(void)
{
	uint64_t t0 = rdtime(), i0 = rdinstret();
	uint64_t sum = mem_loop((uint64_t *)membuf);
	uint64_t i1 = rdinstret(), t1 = rdtime();
	report("mem", i1 - i0, t1 - t0, sum);
}

/* ---- floating-point parts ---- */

#ifndef FP_ROUNDS
#define FP_ROUNDS 48
#endif
#define MAT 40	  /* matrix side */
#define VEC 4096  /* dot/saxpy length */
#define BODIES 48 /* n-body */

/* FPKERNELS(T, S) defines the kernels for type T with suffix S: fp_d for
 * double, fp_s for float. ws is a workspace of at least 1 MiB; every
 * result's bits go into the check. */
#define FPKERNELS(T, S, SQRT, FMIN, FMAX, FABS, COPYSIGN, BITS)                      \
	static uint64_t fp_mix_##S(uint64_t h, T v)                                   \
	{                                                                              \
		BITS u;                                                                \
		__builtin_memcpy(&u, &v, sizeof u);                                    \
		return (h ^ u) * 0x100000001b3ull;                                     \
	}                                                                              \
	static uint64_t __attribute__((noinline)) fp_work_##S(T *ws, int round)         \
	{                                                                              \
		T *a = ws, *b = a + MAT * MAT, *c = b + MAT * MAT;                     \
		T *x = c + MAT * MAT, *y = x + VEC;                                    \
		T *px = y + VEC, *py = px + BODIES, *pz = py + BODIES;                 \
		T *vx = pz + BODIES, *vy = vx + BODIES, *vz = vy + BODIES;             \
		T *m = vz + BODIES;                                                    \
		uint64_t h = 0xcbf29ce484222325ull;                                    \
		uint32_t seed = 777u + (uint32_t)round;                                \
		for (int i = 0; i < MAT * MAT; i++) {                                  \
			seed = seed * 1103515245u + 12345u;                            \
			a[i] = (T)((int32_t)seed >> 12) / (T)4096;                     \
			seed = seed * 1103515245u + 12345u;                            \
			b[i] = (T)(seed >> 16) / (T)65536 - (T)0.5;                    \
		}                                                                      \
		/* matrix multiply */                                                  \
		for (int i = 0; i < MAT; i++)                                          \
			for (int j = 0; j < MAT; j++) {                                \
				T s = 0;                                               \
				for (int k = 0; k < MAT; k++)                          \
					s += a[i * MAT + k] * b[k * MAT + j];          \
				c[i * MAT + j] = s;                                    \
			}                                                              \
		for (int i = 0; i < MAT * MAT; i += 7)                                 \
			h = fp_mix_##S(h, c[i]);                                       \
		/* dot and saxpy */                                                    \
		for (int i = 0; i < VEC; i++) {                                        \
			x[i] = c[i % (MAT * MAT)] * (T)0.25 + (T)i;                    \
			y[i] = (T)(VEC - i) / (T)3;                                    \
		}                                                                      \
		T alpha = (T)1.0009765625;                                             \
		for (int r = 0; r < 8; r++) {                                          \
			T dot = 0;                                                     \
			for (int i = 0; i < VEC; i++)                                  \
				dot += x[i] * y[i];                                    \
			for (int i = 0; i < VEC; i++)                                  \
				y[i] = alpha * x[i] + y[i];                            \
			h = fp_mix_##S(h, dot);                                        \
			alpha = -alpha * (T)0.5;                                       \
		}                                                                      \
		/* n-body steps */                                                     \
		for (int i = 0; i < BODIES; i++) {                                     \
			px[i] = a[i * 3] * 10;                                         \
			py[i] = a[i * 3 + 1] * 10;                                     \
			pz[i] = b[i * 3 + 2] * 10;                                     \
			vx[i] = vy[i] = vz[i] = 0;                                     \
			m[i] = (T)1 + FABS(b[i]);                                      \
		}                                                                      \
		for (int step = 0; step < 4; step++) {                                 \
			for (int i = 0; i < BODIES; i++) {                             \
				T ax = 0, ay = 0, az = 0;                              \
				for (int j = 0; j < BODIES; j++) {                     \
					T dx = px[j] - px[i], dy = py[j] - py[i];      \
					T dz = pz[j] - pz[i];                          \
					T d2 = dx * dx + dy * dy + dz * dz + (T)0.01;  \
					T inv = m[j] / (d2 * SQRT(d2));                \
					ax += dx * inv;                                \
					ay += dy * inv;                                \
					az += dz * inv;                                \
				}                                                      \
				vx[i] += ax * (T)0.01;                                 \
				vy[i] += ay * (T)0.01;                                 \
				vz[i] += az * (T)0.01;                                 \
			}                                                              \
			for (int i = 0; i < BODIES; i++) {                             \
				px[i] += vx[i] * (T)0.01;                              \
				py[i] += vy[i] * (T)0.01;                              \
				pz[i] += vz[i] * (T)0.01;                              \
			}                                                              \
		}                                                                      \
		for (int i = 0; i < BODIES; i++)                                       \
			h = fp_mix_##S(fp_mix_##S(h, px[i]), vz[i]);                   \
		/* conversions, compares, min/max, sign injection */                   \
		int64_t isum = 0;                                                      \
		uint64_t usum = 0;                                                     \
		int lt = 0, le = 0, eq = 0;                                            \
		T mn = x[0], mx = x[0], sg = 0;                                        \
		for (int i = 0; i < VEC; i++) {                                        \
			T v = y[i] - x[i] * (T)1.5;                                    \
			int32_t k = (int32_t)(v * (T)16);                              \
			int64_t l = (int64_t)(v * (T)1024);                            \
			uint32_t u = (uint32_t)FABS(v);                                \
			isum += k + l;                                                 \
			usum += u;                                                     \
			T w = (T)k / (T)16 + (T)l + (T)u + (T)(uint64_t)(usum & 0xffff); \
			lt += v < w;                                                   \
			le += v <= x[i];                                               \
			eq += (T)k == v * (T)16;                                       \
			mn = FMIN(mn, v);                                              \
			mx = FMAX(mx, w);                                              \
			sg += COPYSIGN(w, v) + -FABS(v);                               \
		}                                                                      \
		h = fp_mix_##S(fp_mix_##S(fp_mix_##S(h, mn), mx), sg);                 \
		return (h ^ (uint64_t)isum ^ usum << 1) * 31 + (uint64_t)(lt * 7 + le * 3 + eq); \
	}

/* gcc 12 calls libm for fmin/fmax; these are the instructions. */
static inline double fmin_d(double a, double b)
{
	double r;
	__asm__("fmin.d %0, %1, %2" : "=f"(r) : "f"(a), "f"(b));
	return r;
}
static inline double fmax_d(double a, double b)
{
	double r;
	__asm__("fmax.d %0, %1, %2" : "=f"(r) : "f"(a), "f"(b));
	return r;
}
static inline float fmin_s(float a, float b)
{
	float r;
	__asm__("fmin.s %0, %1, %2" : "=f"(r) : "f"(a), "f"(b));
	return r;
}
static inline float fmax_s(float a, float b)
{
	float r;
	__asm__("fmax.s %0, %1, %2" : "=f"(r) : "f"(a), "f"(b));
	return r;
}

FPKERNELS(double, d, __builtin_sqrt, fmin_d, fmax_d, __builtin_fabs, __builtin_copysign, uint64_t)
FPKERNELS(float, s, __builtin_sqrtf, fmin_s, fmax_s, __builtin_fabsf, __builtin_copysignf, uint32_t)

static uint64_t fp_work(uint64_t *ws)
{
	uint64_t check = 0;
	for (int r = 0; r < FP_ROUNDS; r++) {
		check = check * 31 + fp_work_d((double *)ws, r);
		check = check * 31 + fp_work_s((float *)ws, r);
	}
	return check;
}

static volatile uint64_t fp_result[3];

/* fp_s_work is fp_work in S mode (run_in_s); reports through fp_result. */
static void __attribute__((noinline, noreturn)) fp_s_work(uint64_t *ws)
{
	uint64_t t0 = rdtime(), i0 = rdinstret();
	uint64_t check = fp_work(ws);
	uint64_t i1 = rdinstret(), t1 = rdtime();
	fp_result[0] = i1 - i0;
	fp_result[1] = t1 - t0;
	fp_result[2] = check;
	__asm__ volatile("ecall");
	__builtin_unreachable();
}

static void fp_part(void)
{
	uint64_t t0 = rdtime(), i0 = rdinstret();
	uint64_t check = fp_work((uint64_t *)membuf);
	uint64_t i1 = rdinstret(), t1 = rdtime();
	report("fp", i1 - i0, t1 - t0, check);
}

static void fpsv39_part(void)
{
	map_sv39();
	run_in_s(fp_s_work, (uint64_t *)MEM_VA);
	unmap_sv39();
	report("fpsv39", fp_result[0], fp_result[1], fp_result[2]);
}

/* ---- SMP part ---- */

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* count_harts counts the cpu@ nodes of the flattened device tree
 * (Devicetree Specification 0.4, 5.4: FDT_BEGIN_NODE 1, FDT_END_NODE 2,
 * FDT_PROP 3, FDT_NOP 4, FDT_END 9). */
static int count_harts(const uint8_t *fdt)
{
	if (fdt == 0 || be32(fdt) != 0xd00dfeed)
		return 1;
	const uint8_t *p = fdt + be32(fdt + 8);
	int n = 0;
	for (;;) {
		uint32_t tok = be32(p);
		p += 4;
		if (tok == 1) {
			const char *name = (const char *)p;
			size_t l = 0;
			while (name[l])
				l++;
			if (l > 4 && name[0] == 'c' && name[1] == 'p' && name[2] == 'u' && name[3] == '@')
				n++;
			p += (l + 4) & ~(size_t)3;
		} else if (tok == 3) {
			p += 8 + ((be32(p) + 3) & ~3u);
		} else if (tok != 2 && tok != 4) {
			break;
		}
	}
	return n < 1 ? 1 : n > MAXHARTS ? MAXHARTS : n;
}

/* In .data, not .bss: the secondaries read go before hart 0 clears .bss. */
static volatile int smp_go __attribute__((section(".data")));
static volatile int smp_harts, smp_arrived, smp_finished;
static volatile uint64_t smp_res[MAXHARTS][5]; /* instret, t0, t1, check */

/* One hart's share: wait for all, run the integer part, record. */
static void smp_work(uint64_t hart)
{
	__atomic_fetch_add(&smp_arrived, 1, __ATOMIC_SEQ_CST);
	while (smp_arrived < smp_harts)
		;
	uint64_t t0 = rdtime(), i0 = rdinstret();
	uint64_t check = int_work(&intdata[hart]);
	uint64_t i1 = rdinstret(), t1 = rdtime();
	smp_res[hart][0] = i1 - i0;
	smp_res[hart][1] = t0;
	smp_res[hart][2] = t1;
	smp_res[hart][3] = check;
	__atomic_fetch_add(&smp_finished, 1, __ATOMIC_SEQ_CST);
}

/* Secondary harts (start.S): wait for hart 0, work, wake it, sleep. */
void secondary_main(uint64_t hart)
{
	while (!smp_go)
		;
	if (hart < (uint64_t)smp_harts) {
		smp_work(hart);
		CLINT_MSIP[0] = 1;
	}
	for (;;)
		__asm__ volatile("wfi");
}

static void smp_part(const uint8_t *fdt)
{
	int n = count_harts(fdt);
	smp_harts = n;
	__atomic_store_n(&smp_go, 1, __ATOMIC_SEQ_CST);
	smp_work(0);
	/* sleep until the others are done: their IPIs wake us (mie.MSIE
	 * with mstatus.MIE clear: WFI returns, no trap) */
	__asm__ volatile("csrs mie, %0" ::"r"(8));
	while (smp_finished < n) {
		__asm__ volatile("wfi");
		CLINT_MSIP[0] = 0;
	}
	__asm__ volatile("csrc mie, %0" ::"r"(8));
	uint64_t sum = 0, first = ~0ull, last = 0, check;
	int differ = 0;
	char name[4] = "h0";
	for (int h = 0; h < n; h++) {
		name[1] = (char)('0' + h);
		report(name, smp_res[h][0], smp_res[h][2] - smp_res[h][1], smp_res[h][3]);
		sum += smp_res[h][0];
		first = smp_res[h][1] < first ? smp_res[h][1] : first;
		last = smp_res[h][2] > last ? smp_res[h][2] : last;
		if (smp_res[h][3] != smp_res[0][3])
			differ = 1;
	}
	check = differ ? 0 : smp_res[0][3];
	report("all", sum, last - first, check);
}

int main(uint64_t hart, const uint8_t *fdt)
{
	(void)hart;
	puts_("bench: start\n");
	if (PARTS & 1) {
		uint64_t t0 = rdtime(), i0 = rdinstret();
		uint64_t check = int_work(&intdata[0]);
		uint64_t i1 = rdinstret(), t1 = rdtime();
		report("int", i1 - i0, t1 - t0, check);
	}
	if (PARTS & 2)
		sv39_part();
	if (PARTS & 4)
		smp_part(fdt);
	if (PARTS & 8)
		mem_part();
	if (PARTS & 16)
		fp_part();
	if (PARTS & 32)
		fpsv39_part();
	puts_("bench: done\n");
	return 0;
}
