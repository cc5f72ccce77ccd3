/* virtiosnd: a freestanding virtio-sound driver for the QEMU/gemu virt
 * board, polling only (no interrupts), in the style of teaching kernels.
 *
 *   1. probe the eight virtio-mmio slots for magic "virt", version 2,
 *      device ID 25 (VirtIO 1.2 4.2.2, 5.14), then the PCI bus for
 *      1af4:1059 (4.1.2; vpci.h maps its BAR and finds its capabilities).
 *      A version 1 (legacy) virtio-mmio device, QEMU's default, is not
 *      driven: the guest says so and exits with status 0;
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

static void fail(const char *why, uint64_t val);
#define VSND_PCI
#include "vsnd.h"

#define INFLIGHT 4       /* messages in flight per stream */
#define MAX_PERIOD 1920  /* frames: 10 ms at 192 kHz */
#define REC_PERIOD 256   /* frames per capture message */
#define MAX_REC 8192

/* Per in-flight message buffers. */
static uint32_t xfer_hdr[INFLIGHT];
static uint32_t play_buf[INFLIGHT][MAX_PERIOD] __attribute__((aligned(8)));
static uint32_t io_status[INFLIGHT][2];
static uint32_t rec_buf[MAX_REC] __attribute__((aligned(8)));

/* ---- console ---- */

static void fail(const char *why, uint64_t val)
{
	uart_puts("virtiosnd: FAIL: ");
	uart_puts(why);
	uart_puts(" (0x");
	put_hex(val, 8);
	uart_puts(")\n");
	poweroff(1);
}

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

static void check_info(void)
{
	if (vt_config32(4) != 2)
		fail("streams", vt_config32(4));
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
	/* The lifecycle (5.14.6.6.1) binds the driver: START belongs after
	 * PREPARE. A device may refuse an early START (gemu: NOT_SUPP) or
	 * accept it (QEMU 10 prepares every stream at realize with default
	 * parameters); one that accepts it gets STOP and RELEASE, both valid
	 * after START. Stream 2 does not exist: BAD_MSG (5.14.6.6). */
	uint32_t a = pcm_simple(PCM_START, 0), b = pcm_simple(PCM_PREPARE, 2);
	if ((a != SND_OK && a != SND_NOT_SUPP && a != SND_BAD_MSG) || b != SND_BAD_MSG)
		fail("lifecycle checks", (uint64_t)a << 16 | b);
	if (a == SND_OK) {
		pcm_must(PCM_STOP, 0, "STOP after an accepted early START");
		pcm_must(PCM_RELEASE, 0, "RELEASE after an accepted early START");
		uart_puts("virtiosnd: START before PREPARE accepted (lenient device)\n");
	} else {
		uart_puts("virtiosnd: START before PREPARE refused\n");
	}
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
	set_params(0, period, INFLIGHT, rate);
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
	set_params(1, REC_PERIOD, INFLIGHT, rate);
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

/* legacy_slot returns the first slot with a version 1 sound device, -1 if
 * none. */
static int legacy_slot(void)
{
	for (int n = 0; n < VIRTIO_SLOTS; n++) {
		dev = VIRTIO_BASE + (uintptr_t)n * VIRTIO_STRIDE;
		if (rd(R_MAGIC) == 0x74726976 && rd(R_VERSION) == 1 && rd(R_DEVICE_ID) == 25)
			return n;
	}
	return -1;
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
	if (slot >= 0) {
		uart_puts("virtiosnd: device in slot ");
		put_dec((uint64_t)slot);
		uart_puts(" at 0x");
		put_hex(dev, 8);
		uart_puts("\n");
	} else if ((slot = vpci_probe()) >= 0) {
		uart_puts("virtiosnd: device at PCI 00:");
		put_hex((uint64_t)slot, 2);
		uart_puts(".0, BAR at 0x");
		put_hex(vp.common, 8);
		uart_puts("\n");
	} else if ((slot = legacy_slot()) >= 0) {
		uart_puts("virtiosnd: slot ");
		put_dec((uint64_t)slot);
		uart_puts(" holds a legacy (version 1) virtio-mmio sound device; this driver needs\n"
			  "virtiosnd: version 2 (VirtIO 1.2 4.2.2; legacy is 4.2.4): on QEMU add\n"
			  "virtiosnd: -global virtio-mmio.force-legacy=false\n"
			  "virtiosnd: nothing to drive\n");
		return 0;
	} else {
		fail("no virtio-sound device in any virtio-mmio slot or on the PCI bus", 0);
	}
	vt_dev_feat_sel(1);
	uint32_t hi = vt_dev_feat();
	vt_dev_feat_sel(0);
	uart_puts("virtiosnd: device features 0x");
	put_hex((uint64_t)hi << 32 | vt_dev_feat(), 16);
	uart_puts("\n");
	init_device();
	check_info();
	if (ms)
		play(rate, ms);
	if (recframes)
		record(rate, recframes);
	if (vsnd_pci)
		vpci_ack();
	else
		wr(R_INT_ACK, rd(R_INT_STATUS));
	uart_puts("virtiosnd: done\n");
	return 0;
}
