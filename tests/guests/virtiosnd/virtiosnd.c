/* virtiosnd: a freestanding virtio-sound driver for the QEMU/gemu virt
 * board, polling only (no interrupts), in the style of teaching kernels.
 *
 *   1. probe the eight virtio-mmio slots for magic "virt", version 2,
 *      device ID 25 (VirtIO 1.2 4.2.2, 5.14);
 *   2. initialise: reset, ACKNOWLEDGE, DRIVER, accept VERSION_1,
 *      FEATURES_OK, four split queues of 16 entries, DRIVER_OK (3.1.1);
 *   3. PCM_INFO for both streams; check the lifecycle rejects START before
 *      PREPARE (NOT_SUPP) and an unknown stream (BAD_MSG);
 *   4. play: SET_PARAMS (S16, stereo, RATE), PREPARE, four 10 ms periods
 *      queued ahead, START, refill each period as it comes back, STOP,
 *      RELEASE;
 *   5. record RECFRAMES frames through stream 1 the same way and print them
 *      in hex for the host test;
 *   6. power off (status 0), or print FAIL and exit 1.
 *
 * Options from the kernel command line (-append, /chosen/bootargs):
 *   rate=48000      playback and capture rate (any rate the device offers)
 *   ms=250          playback length; ms=0 plays nothing
 *   recframes=2048  capture length in frames (multiple of 256, <= 8192);
 *                   recframes=0 records nothing
 *
 * Frame i played at rate R is L = ((i + R) mod 32767) + 1, right = -L:
 * never zero and distinct within 32767 frames, so the host can check every
 * sample. */
#include "../common/virt.h"

#define VIRTIO_BASE 0x10001000UL
#define VIRTIO_STRIDE 0x1000UL
#define VIRTIO_SLOTS 8
#define CLINT_MTIME 0x0200bff8UL
#define TIMEBASE_HZ 10000000UL

/* virtio-mmio registers (VirtIO 1.2 4.2.2). */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define R_CONFIG 0x100

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

/* Sound device (5.14). */
#define Q_CTL 0
#define Q_EVT 1
#define Q_TX 2
#define Q_RX 3
#define PCM_INFO 0x0100
#define PCM_SET_PARAMS 0x0101
#define PCM_PREPARE 0x0102
#define PCM_RELEASE 0x0103
#define PCM_START 0x0104
#define PCM_STOP 0x0105
#define SND_OK 0x8000
#define SND_BAD_MSG 0x8001
#define SND_NOT_SUPP 0x8002
#define FMT_S16 5

#define QN 16
#define D_NEXT 1
#define D_WRITE 2
#define INFLIGHT 4       /* messages in flight per stream */
#define MAX_PERIOD 1920  /* frames: 10 ms at 192 kHz */
#define REC_PERIOD 256   /* frames per capture message */
#define MAX_REC 8192

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* One split virtqueue with its three areas (2.7), statically placed. */
struct vq {
	struct desc desc[QN] __attribute__((aligned(16)));
	struct {
		uint16_t flags, idx, ring[QN], used_event;
	} avail __attribute__((aligned(2)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[QN];
		uint16_t avail_event;
	} used __attribute__((aligned(4)));
	uint16_t last_used;
	int index;
};

static struct vq vqs[4];
static uintptr_t dev;

/* Per in-flight message buffers. */
static uint32_t xfer_hdr[INFLIGHT];
static uint32_t play_buf[INFLIGHT][MAX_PERIOD] __attribute__((aligned(8)));
static uint32_t io_status[INFLIGHT][2];
static uint32_t rec_buf[MAX_REC] __attribute__((aligned(8)));

static uint32_t ctl_req[8];
static uint32_t ctl_hdr;
static uint8_t ctl_payload[128];

/* ---- console ---- */

static void put_dec(uint64_t v)
{
	char b[24];
	int i = 0;
	do {
		b[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		uart_putc(b[--i]);
}

static void put_hex(uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--)
		uart_putc("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

void poweroff(int status)
{
	volatile uint32_t *test = (volatile uint32_t *)TEST_BASE;
	*test = status == 0 ? TEST_PASS : ((uint32_t)status << 16) | TEST_FAIL;
	for (;;)
		__asm__ volatile("wfi");
}

static void fail(const char *why, uint64_t val)
{
	uart_puts("virtiosnd: FAIL: ");
	uart_puts(why);
	uart_puts(" (0x");
	put_hex(val, 8);
	uart_puts(")\n");
	poweroff(1);
}

/* ---- registers, time ---- */

static uint32_t rd(int reg) { return *(volatile uint32_t *)(dev + reg); }
static void wr(int reg, uint32_t v) { *(volatile uint32_t *)(dev + reg) = v; }
static uint64_t mtime(void) { return *(volatile uint64_t *)CLINT_MTIME; }
static void fence(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

/* ---- /chosen/bootargs (Devicetree specification 0.4, chapter 5) ---- */

static uint32_t fdt32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int same(const char *a, const char *b)
{
	for (; *a && *a == *b; a++, b++)
		;
	return *a == *b;
}

static const char *bootargs(const uint8_t *fdt)
{
	if (!fdt || fdt32(fdt) != 0xd00dfeed)
		return "";
	const uint8_t *p = fdt + fdt32(fdt + 8);
	const char *names = (const char *)fdt + fdt32(fdt + 12);
	int depth = 0, chosen = 0;
	for (int n = 0; n < 200000; n++) {
		uint32_t tok = fdt32(p);
		p += 4;
		if (tok == 1) { /* BEGIN_NODE */
			depth++;
			if (depth == 2)
				chosen = same((const char *)p, "chosen");
			while (*p++)
				;
			p = (const uint8_t *)(((uintptr_t)p + 3) & ~(uintptr_t)3);
		} else if (tok == 2) { /* END_NODE */
			depth--;
			chosen = chosen && depth >= 2;
		} else if (tok == 3) { /* PROP */
			uint32_t len = fdt32(p), off = fdt32(p + 4);
			if (chosen && depth == 2 && same(names + off, "bootargs"))
				return (const char *)p + 8;
			p += 8 + ((len + 3) & ~3u);
		} else if (tok != 4) { /* not NOP: END or garbage */
			break;
		}
	}
	return "";
}

/* num_opt returns the decimal value of key=N in args, or def. */
static uint32_t num_opt(const char *args, const char *key, uint32_t def)
{
	const char *s = args;
	while (*s) {
		const char *k = key, *t = s;
		while (*k && *t == *k)
			k++, t++;
		if (!*k && *t == '=') {
			uint32_t v = 0;
			for (t++; *t >= '0' && *t <= '9'; t++)
				v = v * 10 + (uint32_t)(*t - '0');
			return v;
		}
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
	}
	return def;
}

/* ---- virtqueues ---- */

static void setup_queue(struct vq *q, int index)
{
	q->index = index;
	wr(R_QUEUE_SEL, (uint32_t)index);
	if (rd(R_QUEUE_READY) != 0)
		fail("queue ready before setup", (uint64_t)index);
	if (rd(R_QUEUE_NUM_MAX) < QN)
		fail("queue too small", rd(R_QUEUE_NUM_MAX));
	wr(R_QUEUE_NUM, QN);
	wr(R_DESC_LO, (uint32_t)(uintptr_t)q->desc);
	wr(R_DESC_HI, (uint32_t)((uint64_t)(uintptr_t)q->desc >> 32));
	wr(R_DRIVER_LO, (uint32_t)(uintptr_t)&q->avail);
	wr(R_DRIVER_HI, (uint32_t)((uint64_t)(uintptr_t)&q->avail >> 32));
	wr(R_DEVICE_LO, (uint32_t)(uintptr_t)&q->used);
	wr(R_DEVICE_HI, (uint32_t)((uint64_t)(uintptr_t)&q->used >> 32));
	wr(R_QUEUE_READY, 1);
}

static void set_desc(struct vq *q, int i, void *addr, uint32_t len, uint16_t flags, int next)
{
	q->desc[i].addr = (uint64_t)(uintptr_t)addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = (uint16_t)next;
}

/* publish makes chain head available and notifies the device (2.7.13). */
static void publish(struct vq *q, int head)
{
	q->avail.ring[q->avail.idx % QN] = (uint16_t)head;
	fence(); /* ring entry before idx */
	q->avail.idx++;
	fence();
	wr(R_QUEUE_NOTIFY, (uint32_t)q->index);
}

/* reap returns the next used chain head, or -1 if none yet; *len gets its
 * used length. */
static int reap(struct vq *q, uint32_t *len)
{
	fence();
	if (*(volatile uint16_t *)&q->used.idx == q->last_used)
		return -1;
	fence(); /* idx before the element */
	uint32_t id = q->used.ring[q->last_used % QN].id;
	if (len)
		*len = q->used.ring[q->last_used % QN].len;
	q->last_used++;
	return (int)id;
}

/* wait_used polls for a used chain for at most ms milliseconds. */
static int wait_used(struct vq *q, uint32_t *len, uint32_t ms, const char *what)
{
	uint64_t end = mtime() + (uint64_t)ms * (TIMEBASE_HZ / 1000);
	for (;;) {
		int id = reap(q, len);
		if (id >= 0)
			return id;
		if (rd(R_STATUS) & S_NEEDS_RESET)
			fail("device needs reset", rd(R_STATUS));
		if (mtime() > end)
			fail(what, ms);
	}
}

/* ---- control requests ---- */

/* control sends a request of reqlen bytes with a response of a 4-byte
 * header plus payload bytes (a second descriptor, as Linux does) and
 * returns the status. Linux gives each request 1 s. */
static uint32_t control(uint32_t reqlen, uint32_t payload)
{
	struct vq *q = &vqs[Q_CTL];
	set_desc(q, 0, ctl_req, reqlen, D_NEXT, 1);
	set_desc(q, 1, &ctl_hdr, 4, D_WRITE | (payload ? D_NEXT : 0), 2);
	set_desc(q, 2, ctl_payload, payload, D_WRITE, 0);
	ctl_hdr = 0;
	publish(q, 0);
	uint32_t len;
	if (wait_used(q, &len, 1000, "control request timeout") != 0)
		fail("control: wrong chain returned", 0);
	return ctl_hdr;
}

static uint32_t pcm_simple(uint32_t code, uint32_t stream)
{
	ctl_req[0] = code;
	ctl_req[1] = stream;
	return control(8, 0);
}

static void pcm_must(uint32_t code, uint32_t stream, const char *what)
{
	uint32_t st = pcm_simple(code, stream);
	if (st != SND_OK)
		fail(what, st);
}

static int rate_bit(uint32_t rate)
{
	static const uint32_t rates[] = {5512, 8000, 11025, 16000, 22050, 32000, 44100,
					 48000, 64000, 88200, 96000, 176400, 192000};
	for (int i = 0; i < 13; i++)
		if (rates[i] == rate)
			return i;
	return -1;
}

static void set_params(uint32_t stream, uint32_t period_frames, uint32_t rate)
{
	ctl_req[0] = PCM_SET_PARAMS;
	ctl_req[1] = stream;
	ctl_req[2] = INFLIGHT * period_frames * 4; /* buffer_bytes */
	ctl_req[3] = period_frames * 4;           /* period_bytes */
	ctl_req[4] = 0;                           /* features */
	ctl_req[5] = 2 | FMT_S16 << 8 | (uint32_t)rate_bit(rate) << 16;
	uint32_t st = control(24, 0);
	if (st != SND_OK)
		fail("SET_PARAMS", st);
}

/* ---- probe and initialisation ---- */

static int probe(void)
{
	for (int n = 0; n < VIRTIO_SLOTS; n++) {
		dev = VIRTIO_BASE + (uintptr_t)n * VIRTIO_STRIDE;
		if (rd(R_MAGIC) == 0x74726976 && rd(R_VERSION) == 2 && rd(R_DEVICE_ID) == 25)
			return n;
	}
	return -1;
}

static void init_device(void)
{
	wr(R_STATUS, 0);
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DEV_FEAT_SEL, 1);
	if ((rd(R_DEV_FEATURES) & 1) == 0)
		fail("VERSION_1 not offered", rd(R_DEV_FEATURES));
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEATURES, 0);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEATURES, 1); /* VERSION_1 */
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if ((rd(R_STATUS) & S_FEATURES_OK) == 0)
		fail("FEATURES_OK refused", rd(R_STATUS));
	for (int i = 0; i < 4; i++)
		setup_queue(&vqs[i], i);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

static void check_info(void)
{
	if (rd(R_CONFIG + 4) != 2)
		fail("streams", rd(R_CONFIG + 4));
	ctl_req[0] = PCM_INFO;
	ctl_req[1] = 0;
	ctl_req[2] = 2;
	ctl_req[3] = 32;
	uint32_t st = control(16, 64);
	if (st != SND_OK)
		fail("PCM_INFO", st);
	for (int s = 0; s < 2; s++) {
		const uint8_t *it = ctl_payload + 32 * s;
		uint32_t formats = (uint32_t)it[8] | (uint32_t)it[9] << 8 | (uint32_t)it[10] << 16;
		uint32_t rates = (uint32_t)it[16] | (uint32_t)it[17] << 8;
		if (it[24] != s || !(formats & (1u << FMT_S16)) || !(rates & (1u << 7)) ||
		    it[25] < 1 || it[26] < 2)
			fail("PCM_INFO item", (uint64_t)s);
	}
	uart_puts("virtiosnd: PCM_INFO ok: stream 0 output, stream 1 input\n");
	/* The lifecycle (5.14.6.6.1): START before SET_PARAMS/PREPARE is not
	 * supported; stream 2 does not exist. */
	uint32_t a = pcm_simple(PCM_START, 0), b = pcm_simple(PCM_PREPARE, 2);
	if (a != SND_NOT_SUPP || b != SND_BAD_MSG)
		fail("lifecycle checks", (uint64_t)a << 16 | b);
	uart_puts("virtiosnd: lifecycle checks ok\n");
}

/* ---- playback ---- */

static uint32_t pattern(uint32_t i, uint32_t rate)
{
	uint16_t l = (uint16_t)((i + rate) % 32767 + 1);
	return (uint32_t)l | (uint32_t)(uint16_t)(-l) << 16;
}

static void queue_tx(int slot, uint32_t first, uint32_t frames, uint32_t rate)
{
	struct vq *q = &vqs[Q_TX];
	for (uint32_t i = 0; i < frames; i++)
		play_buf[slot][i] = pattern(first + i, rate);
	xfer_hdr[slot] = 0; /* stream 0 */
	io_status[slot][0] = 0;
	int d = 3 * slot;
	set_desc(q, d, &xfer_hdr[slot], 4, D_NEXT, d + 1);
	set_desc(q, d + 1, play_buf[slot], frames * 4, D_NEXT, d + 2);
	set_desc(q, d + 2, io_status[slot], 8, D_WRITE, 0);
	publish(q, d);
}

static void play(uint32_t rate, uint32_t ms)
{
	uint32_t period = rate / 100; /* 10 ms */
	uint32_t total = (uint32_t)((uint64_t)rate * ms / 1000);
	set_params(0, period, rate);
	pcm_must(PCM_PREPARE, 0, "PREPARE playback");
	uint32_t next = 0, back = 0, periods = 0;
	for (int s = 0; s < INFLIGHT && next < total; s++) {
		uint32_t n = total - next < period ? total - next : period;
		queue_tx(s, next, n, rate);
		next += n;
		periods++;
	}
	uint64_t t0 = mtime();
	pcm_must(PCM_START, 0, "START playback");
	while (back < periods) {
		uint32_t len;
		int head = wait_used(&vqs[Q_TX], &len, 1000, "tx message not returned");
		int slot = head / 3;
		if (head % 3 || slot >= INFLIGHT || len != 8 || io_status[slot][0] != SND_OK)
			fail("tx completion", (uint64_t)head << 32 | io_status[slot][0]);
		back++;
		if (next < total) {
			uint32_t n = total - next < period ? total - next : period;
			queue_tx(slot, next, n, rate);
			next += n;
			periods++;
		}
	}
	uint64_t took = mtime() - t0;
	pcm_must(PCM_STOP, 0, "STOP playback");
	pcm_must(PCM_RELEASE, 0, "RELEASE playback");
	/* Buffers come back only as their audio is due: the whole playback
	 * must take at least its length, less the periods queued ahead. */
	uint64_t min_ticks = (uint64_t)(total > INFLIGHT * period ? total - INFLIGHT * period : 0) *
			     TIMEBASE_HZ / rate;
	if (took < min_ticks)
		fail("playback ran faster than real time", took);
	uart_puts("virtiosnd: played ");
	put_dec(total);
	uart_puts(" frames at ");
	put_dec(rate);
	uart_puts(" Hz in ");
	put_dec(took / (TIMEBASE_HZ / 1000));
	uart_puts(" ms\n");
}

/* ---- capture ---- */

static void queue_rx(int slot, uint32_t *buf)
{
	struct vq *q = &vqs[Q_RX];
	xfer_hdr[slot] = 1; /* stream 1 */
	io_status[slot][0] = 0;
	int d = 3 * slot;
	set_desc(q, d, &xfer_hdr[slot], 4, D_NEXT, d + 1);
	set_desc(q, d + 1, buf, REC_PERIOD * 4, D_WRITE | D_NEXT, d + 2);
	set_desc(q, d + 2, io_status[slot], 8, D_WRITE, 0);
	publish(q, d);
}

static void record(uint32_t rate, uint32_t frames)
{
	uint32_t periods = frames / REC_PERIOD;
	set_params(1, REC_PERIOD, rate);
	pcm_must(PCM_PREPARE, 1, "PREPARE capture");
	uint32_t next = 0, back = 0;
	int slot_of[INFLIGHT];
	for (int s = 0; s < INFLIGHT && next < periods; s++, next++) {
		slot_of[s] = (int)next;
		queue_rx(s, rec_buf + next * REC_PERIOD);
	}
	pcm_must(PCM_START, 1, "START capture");
	while (back < periods) {
		uint32_t len;
		int head = wait_used(&vqs[Q_RX], &len, 2000, "rx message not returned");
		int slot = head / 3;
		if (head % 3 || slot >= INFLIGHT || io_status[slot][0] != SND_OK ||
		    len != REC_PERIOD * 4 + 8 || slot_of[slot] != (int)back)
			fail("rx completion", (uint64_t)head << 32 | len);
		back++;
		if (next < periods) {
			slot_of[slot] = (int)next;
			queue_rx(slot, rec_buf + next * REC_PERIOD);
			next++;
		}
	}
	pcm_must(PCM_STOP, 1, "STOP capture");
	pcm_must(PCM_RELEASE, 1, "RELEASE capture");
	uart_puts("virtiosnd: recorded ");
	put_dec(frames);
	uart_puts(" frames at ");
	put_dec(rate);
	uart_puts(" Hz\n");
	for (uint32_t i = 0; i < frames; i += 8) {
		uart_puts("REC");
		for (uint32_t j = i; j < i + 8 && j < frames; j++) {
			uart_putc(' ');
			put_hex(rec_buf[j], 8);
		}
		uart_puts("\n");
	}
}

int main(uint64_t hartid, const uint8_t *fdt)
{
	(void)hartid;
	const char *args = bootargs(fdt);
	uint32_t rate = num_opt(args, "rate", 48000);
	uint32_t ms = num_opt(args, "ms", 250);
	uint32_t recframes = num_opt(args, "recframes", 2048);
	if (rate_bit(rate) < 0 || rate / 100 > MAX_PERIOD)
		fail("unsupported rate=", rate);
	if (recframes % REC_PERIOD || recframes > MAX_REC)
		fail("recframes must be a multiple of 256 up to 8192", recframes);

	int slot = probe();
	if (slot < 0)
		fail("no virtio-sound device in any virtio-mmio slot", 0);
	uart_puts("virtiosnd: device in slot ");
	put_dec((uint64_t)slot);
	uart_puts(" at 0x");
	put_hex(dev, 8);
	uart_puts("\n");
	init_device();
	check_info();
	if (ms)
		play(rate, ms);
	if (recframes)
		record(rate, recframes);
	wr(R_INT_ACK, rd(R_INT_STATUS));
	uart_puts("virtiosnd: done\n");
	return 0;
}
