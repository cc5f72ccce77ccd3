/* demo: gemu's main job. A freestanding program that finds the three sound
 * devices of the virt board and plays one short piece of music through all
 * of them at once: the opening of the "Ode to Joy" (L. van Beethoven, 9th
 * symphony, 1824; about 15 seconds) with
 *
 *   the melody        on the AC97 (PCI, bus-master DMA, IOC interrupts),
 *   the bass line     on virtio-sound (virtio-mmio, tx virtqueue),
 *   a counter-voice   on ivshmem (gemu's audio ring in shared memory),
 *
 * each voice a 48 kHz 16-bit stereo stream of exactly the same length,
 * panned to its own place (melody left, bass centre, counter-voice right),
 * all three started back to back so the host mixer plays them as one piece.
 * A missing device is reported and its voice left out; the others play.
 *
 * The drivers are the test drivers' reusable parts (../ac97/ac97.h,
 * ../virtiosnd/vsnd.h, ../ivshmem/ring.h). Interrupts stay globally off
 * (mstatus.MIE = 0): the program sleeps in WFI, which wakes on any pending
 * enabled interrupt (privileged spec 3.3.3) -- the AC97's IOC, the
 * virtio-mmio used-buffer interrupt (both through the PLIC) or the CLINT
 * timer that paces the ivshmem ring -- then services every device by
 * polling and completes the PLIC claims. Nothing is lost between a check
 * and the WFI, because a pending interrupt keeps WFI from sleeping.
 *
 * The synthesiser uses integer arithmetic only, so a host test can
 * recompute every sample (tests/demo/demo_test.go): a sine table
 * from Bhaskara I's approximation, one harmonic wavetable per voice,
 * 32-bit phase accumulators, and a per-note envelope with a 5 ms attack
 * and a 15 ms release (notes start and end at zero: no clicks). Peak
 * levels add up to less than full scale, so the mix cannot clip. */
#include "../common/virt.h"

static void fail(const char *why, uint64_t val);

#include "../ac97/ac97.h"
#include "../virtiosnd/vsnd.h"
#include "../ivshmem/ring.h"

#define RATE 48000
#define CHUNK 1024 /* frames rendered at a time: 21 ms */

/* ---- console ---- */

static void fail(const char *why, uint64_t val)
{
	uart_puts("gemu demo: FAIL: ");
	uart_puts(why);
	uart_puts(" (0x");
	put_hex(val, 8);
	uart_puts(")\n");
	poweroff(1);
}

/* ---- the score: MIDI note numbers and lengths in eighth notes ---- */

struct note {
	uint8_t key, len;
};

/* Melody: the first two phrases, 16 bars of 4/4 in eighths. */
static const struct note melody[] = {
	{64, 2}, {64, 2}, {65, 2}, {67, 2}, {67, 2}, {65, 2}, {64, 2}, {62, 2},
	{60, 2}, {60, 2}, {62, 2}, {64, 2}, {64, 3}, {62, 1}, {62, 4},
	{64, 2}, {64, 2}, {65, 2}, {67, 2}, {67, 2}, {65, 2}, {64, 2}, {62, 2},
	{60, 2}, {60, 2}, {62, 2}, {64, 2}, {62, 3}, {60, 1}, {60, 8},
};

/* Bass: C and G, ending on C. */
static const struct note bass[] = {
	{48, 8}, {43, 8}, {48, 8}, {43, 8},
	{48, 8}, {43, 8}, {48, 4}, {43, 4}, {48, 12},
};

/* Counter-voice: one note per half bar under the melody (thirds, fifths
 * and sixths below it), ending on the E of the final C major chord. */
static const struct note counter[] = {
	{60, 4}, {62, 4}, {62, 4}, {55, 4}, {57, 4}, {59, 4}, {55, 4}, {59, 4},
	{60, 4}, {62, 4}, {62, 4}, {55, 4}, {57, 4}, {59, 4}, {55, 4}, {52, 8},
};

#define EIGHTH (RATE * 60 / 132 / 2) /* 132 beats per minute */

/* ---- synthesiser ---- */

static int16_t sine[1024]; /* one period, peak 32767 */

/* make_sine: Bhaskara I's sin x ~ 16x(pi-x) / (5pi^2 - 4x(pi-x)) on each
 * half period; with x = p*pi/512 and a = p(512-p) it is 4a / (327680 - a). */
static void make_sine(void)
{
	for (int i = 0; i < 1024; i++) {
		int64_t p = i & 511, a = p * (512 - p);
		int32_t s = (int32_t)(32767 * 4 * a / (327680 - a));
		sine[i] = (int16_t)(i < 512 ? s : -s);
	}
}

/* make_wave sums harmonics 1..8 with amplitudes in 1024ths. */
static void make_wave(int16_t *w, const int16_t amp[8])
{
	for (int i = 0; i < 1024; i++) {
		int32_t s = 0;
		for (int h = 0; h < 8; h++)
			s += amp[h] * sine[(i * (h + 1)) & 1023];
		w[i] = (int16_t)(s / 1024);
	}
}

/* 2^32 * f / RATE for MIDI keys 60..71 (C4..B4), f = 440 * 2^((k-69)/12),
 * rounded; other octaves shift it. */
static const uint32_t step_c4[12] = {
	23409859, 24801882, 26276679, 27839171, 29494575, 31248413,
	33106541, 35075158, 37160835, 39370534, 41711627, 44191930,
};

static uint32_t phase_step(int k)
{
	int oct = k / 12 - 5;
	uint32_t s = step_c4[k % 12];
	return oct >= 0 ? s << oct : s >> -oct;
}

struct voice {
	const struct note *score;
	int n, i;            /* notes, current note */
	uint32_t left;       /* frames left in the note */
	uint32_t age;        /* frames since the note began */
	uint32_t phase, step;
	int key;
	int gain;            /* 0..256 */
	int pan_l, pan_r;    /* 0..256 */
	const int16_t *wave;
	uint32_t made, total; /* frames rendered, frames in the piece */
};

static int16_t wave_reed[1024], wave_round[1024], wave_soft[1024];
static const int16_t amp_reed[8] = {512, 230, 128, 61, 41, 26, 15, 10};
static const int16_t amp_round[8] = {700, 250, 60, 14, 0, 0, 0, 0};
static const int16_t amp_soft[8] = {900, 90, 34, 0, 0, 0, 0, 0};

#define VOICE(s, g, l, r, w) {s, sizeof s / sizeof s[0], -1, 0, 0, 0, 0, 0, g, l, r, w, 0, 0}
static struct voice mel = VOICE(melody, 172, 256, 150, wave_reed);
static struct voice bas = VOICE(bass, 108, 200, 200, wave_round);
static struct voice ctr = VOICE(counter, 72, 150, 256, wave_soft);

/* next_sample returns the voice's next sample, or 0 after its last note. */
static int32_t next_sample(struct voice *v)
{
	if (v->left == 0) {
		if (v->i + 1 >= v->n)
			return 0;
		v->i++;
		v->key = v->score[v->i].key;
		v->left = (uint32_t)v->score[v->i].len * EIGHTH;
		v->age = 0;
		v->step = phase_step(v->key);
	}
	v->left--;
	uint32_t a = v->age++;
	/* envelope: 5 ms attack, decay to half over 340 ms, 15 ms release */
	int32_t env;
	if (a < 240)
		env = (int32_t)(a * 256 / 240);
	else
		env = 256 - (int32_t)((a - 240) / 128 > 128 ? 128 : (a - 240) / 128);
	if (v->left < 720)
		env = env * (int32_t)v->left / 720;
	v->phase += v->step;
	int32_t s = v->wave[v->phase >> 22];
	return s * env / 256 * v->gain / 256;
}

/* render writes the voice's next frames (at most n, 0 when the piece is
 * over) as 16-bit stereo words (left in the low half) and returns how many. */
static uint32_t render(struct voice *v, volatile uint32_t *out, uint32_t n)
{
	if (n > v->total - v->made)
		n = v->total - v->made;
	for (uint32_t i = 0; i < n; i++) {
		int32_t s = next_sample(v);
		int32_t l = s * v->pan_l / 256, r = s * v->pan_r / 256;
		out[i] = (uint32_t)(uint16_t)l | (uint32_t)(uint16_t)r << 16;
	}
	v->made += n;
	return n;
}

static uint32_t score_frames(const struct note *s, int n)
{
	uint32_t t = 0;
	for (int i = 0; i < n; i++)
		t += s[i].len;
	return t * EIGHTH;
}

/* ---- AC97: the melody ---- */

#define NBD 32
static struct {
	int slot, irq, head, on, done;
} ac;
static struct bd bdl[NBD] __attribute__((aligned(8)));
static uint32_t ac_pcm[NBD][CHUNK] __attribute__((aligned(8)));

/* ac_fill renders the next chunk into descriptor d; 0 when over. */
static int ac_fill(int d)
{
	uint32_t n = render(&mel, ac_pcm[d], CHUNK);
	if (!n)
		return 0;
	bdl[d].addr = (uint32_t)(uintptr_t)ac_pcm[d];
	bdl[d].ctl = BD_IOC | (n * 2);
	return 1;
}

static int ac_setup(void)
{
	ac.slot = pci_find(AC97_ID);
	if (ac.slot < 0) {
		uart_puts("gemu demo: no AC97 on the PCI bus (-device AC97): the melody stays silent\n");
		return 0;
	}
	if (!ac97_bar_size(ac.slot, 0) || !ac97_bar_size(ac.slot, 1)) {
		uart_puts("gemu demo: the AC97's BARs are not I/O BARs: the melody stays silent\n");
		return 0;
	}
	ac.irq = ac97_map(ac.slot);
	if (!ac97_codec_up()) {
		uart_puts("gemu demo: the AC97 codec never became ready: the melody stays silent\n");
		return 0;
	}
	nam_wr(AC_MASTER, 0x0000);  /* unmuted, attenuation 0: unity */
	nam_wr(AC_PCM_OUT, 0x0000); /* unmuted, attenuation 0: unity */
	nam_wr(AC_EXT_CTRL, nam_rd(AC_EXT_CTRL) | 0x1); /* VRA */
	nam_wr(AC_DAC_RATE, RATE);
	uart_puts("gemu demo: AC97 (Intel 82801AA) at PCI 00:");
	put_hex((uint64_t)ac.slot, 2);
	uart_puts(".0, IRQ ");
	put_dec((uint64_t)ac.irq);
	uart_puts(": plays the melody (left)\n");
	return 1;
}

/* ac_prime queues the first 32 chunks; ac_start runs the DMA engine. */
static int ac_last;
static void ac_prime(void)
{
	for (int d = 0; d < NBD && ac_fill(d); d++)
		ac_last = d;
	wr8(nabm(PO + CR), CR_RR);
	wr32(nabm(PO + BDBAR), (uint32_t)(uintptr_t)bdl);
	wr8(nabm(PO + LVI), (uint8_t)ac_last);
}

static void ac_start(void) { wr8(nabm(PO + CR), CR_RPBM | CR_LVBIE | CR_IOCE); }

/* ac_service refills every descriptor the engine has finished (those
 * before CIV) and stops at the last-valid-buffer interrupt. (Until it
 * stops, a halted engine feeds the codec underrun fill, here zeros: gemu
 * adds at most one 1 ms tick of them after the last buffer.) */
static void ac_service(void)
{
	uint16_t sr = rd16(nabm(PO + SR));
	if (!(sr & (SR_BCIS | SR_LVBCI | SR_FIFOE)))
		return;
	int civ = rd8(nabm(PO + CIV));
	while (ac.head != civ && !(sr & SR_LVBCI)) {
		if (ac_fill(ac.head))
			wr8(nabm(PO + LVI), (uint8_t)ac.head);
		ac.head = (ac.head + 1) % NBD;
	}
	if (sr & (SR_LVBCI | SR_FIFOE)) {
		wr8(nabm(PO + CR), 0);
		ac.done = 1;
		if (sr & SR_FIFOE)
			uart_puts("gemu demo: AC97 FIFO error: the melody stops\n");
	}
	wr16(nabm(PO + SR), sr & (SR_BCIS | SR_LVBCI | SR_FIFOE));
}

/* ---- virtio-sound: the bass ---- */

#define VS_MSGS 4 /* messages in flight: 85 ms queued ahead */
static struct {
	int slot, irq, on, done;
	uint32_t sent, back;
} vs;
static uint32_t vs_hdr[VS_MSGS];
static uint32_t vs_pcm[VS_MSGS][CHUNK] __attribute__((aligned(8)));
static uint32_t vs_status[VS_MSGS][2];

static int vs_setup(void)
{
	vs.slot = probe();
	if (vs.slot < 0) {
		uart_puts("gemu demo: no virtio-sound device (-device virtio-sound-device): the bass stays silent\n");
		return 0;
	}
	vs.irq = 1 + vs.slot; /* virt: virtio-mmio slot n is PLIC source 1 + n */
	init_device();
	set_params(0, CHUNK, VS_MSGS, RATE);
	pcm_must(PCM_PREPARE, 0, "virtio-sound PREPARE");
	uart_puts("gemu demo: virtio-sound at virtio-mmio slot ");
	put_dec((uint64_t)vs.slot);
	uart_puts(" (0x");
	put_hex(dev, 8);
	uart_puts("), IRQ ");
	put_dec((uint64_t)vs.irq);
	uart_puts(": plays the bass (centre)\n");
	return 1;
}

/* vs_queue renders the next chunk into message m and hands it over:
 * header | PCM | status (5.14.6.8). 0 when the piece is over. */
static int vs_queue(int m)
{
	uint32_t n = render(&bas, vs_pcm[m], CHUNK);
	if (!n)
		return 0;
	struct vq *q = &vqs[Q_TX];
	vs_hdr[m] = 0; /* stream 0 */
	vs_status[m][0] = 0;
	set_desc(q, 3 * m, &vs_hdr[m], 4, D_NEXT, 3 * m + 1);
	set_desc(q, 3 * m + 1, vs_pcm[m], n * 4, D_NEXT, 3 * m + 2);
	set_desc(q, 3 * m + 2, vs_status[m], 8, D_WRITE, 0);
	publish(q, 3 * m);
	vs.sent++;
	return 1;
}

static void vs_prime(void)
{
	for (int m = 0; m < VS_MSGS && vs_queue(m); m++)
		;
}

static void vs_start(void) { pcm_must(PCM_START, 0, "virtio-sound START"); }

/* vs_service reuses every message the device has returned. */
static void vs_service(void)
{
	wr(R_INT_ACK, rd(R_INT_STATUS));
	if (rd(R_STATUS) & S_NEEDS_RESET)
		fail("virtio-sound needs reset", rd(R_STATUS));
	uint32_t len;
	int head;
	while ((head = reap(&vqs[Q_TX], &len)) >= 0) {
		int m = head / 3;
		if (head % 3 || m >= VS_MSGS || len != 8 || vs_status[m][0] != SND_OK)
			fail("virtio-sound tx completion", (uint64_t)head << 32 | vs_status[m % VS_MSGS][0]);
		vs.back++;
		vs_queue(m);
	}
	if (vs.back == vs.sent && bas.made == bas.total) {
		pcm_must(PCM_STOP, 0, "virtio-sound STOP");
		pcm_must(PCM_RELEASE, 0, "virtio-sound RELEASE");
		wr(R_INT_ACK, rd(R_INT_STATUS));
		vs.done = 1;
	}
}

/* ---- ivshmem: the counter-voice ---- */

#define IV_CAP 32768u /* ring bytes: 8192 frames, 170 ms */
#define IV_STALL (TIMEBASE_HZ / 2)
static struct {
	int slot, on, done;
	uintptr_t shm;
	uint64_t w, r, moved; /* write and read index, time read last moved */
} iv;

static int iv_setup(void)
{
	iv.slot = pci_find(IVSHMEM_ID);
	if (iv.slot < 0) {
		uart_puts("gemu demo: no ivshmem on the PCI bus (-device ivshmem-plain,memdev=...,audiodev=...): the counter-voice stays silent\n");
		return 0;
	}
	uint32_t size0;
	uint64_t size2;
	if (ivshmem_map(iv.slot, &size0, &size2) || size2 < DATA_OFF + IV_CAP) {
		uart_puts("gemu demo: the ivshmem's shared memory is unusable: the counter-voice stays silent\n");
		return 0;
	}
	iv.shm = BAR2_ADDR;
	uart_puts("gemu demo: ivshmem at PCI 00:");
	put_hex((uint64_t)iv.slot, 2);
	uart_puts(".0, ");
	put_dec(size2 >> 10);
	uart_puts(" KiB shared memory: plays the counter-voice (right)\n");
	return 1;
}

/* iv_fill renders whole chunks into the free part of the ring. */
static void iv_fill(void)
{
	while (IV_CAP - (iv.w - iv.r) >= CHUNK * 4) {
		volatile uint32_t *p = (volatile uint32_t *)(iv.shm + DATA_OFF + (iv.w & (IV_CAP - 1)));
		uint32_t n = render(&ctr, p, CHUNK);
		if (!n)
			break;
		iv.w += n * 4;
	}
}

static void iv_prime(void) { iv_fill(); }

static void iv_start(void)
{
	ring_start(iv.shm, RATE, IV_CAP, iv.w);
	iv.moved = mtime();
}

/* iv_service tops the ring up; the ring is over once everything is read.
 * Nobody reads it when the device has no audiodev= (or on QEMU): when no
 * consumer has said it plays (status) and the read index has not moved
 * for half a second, the voice is given up. (A consumer that plays may
 * stall for longer: with -icount and real speakers virtual time runs
 * ahead while the host's audio buffer is full.) */
static void iv_service(void)
{
	uint64_t r = ring_read(iv.shm);
	if (r != iv.r) {
		iv.r = r;
		iv.moved = mtime();
	}
	uint32_t st = rd32(iv.shm + OFF_STATUS) & 0xff;
	if (st == RING_BROKEN) {
		uart_puts("gemu demo: gemu found the ivshmem ring broken: the counter-voice stops\n");
		iv.done = 1;
		return;
	}
	if (st != RING_PLAYING && mtime() - iv.moved > IV_STALL) {
		uart_puts("gemu demo: nothing plays the ivshmem ring (no audiodev= on the device?): the counter-voice stops\n");
		wr32(iv.shm + OFF_ACTIVE, 0);
		iv.done = 1;
		return;
	}
	iv_fill();
	ring_publish(iv.shm, iv.w);
	if (iv.r == iv.w && ctr.made == ctr.total) {
		wr32(iv.shm + OFF_ACTIVE, 0);
		iv.done = 1;
	}
}

/* ---- the main loop ---- */

/* plic_enable routes source src to context 0 (hart 0, M mode), or stops
 * routing it (RISC-V PLIC specification: priority and enable registers;
 * gemu devices/plic). */
static void plic_enable(int src, int on)
{
	wr32(PLIC_BASE + 4 * (uintptr_t)src, 1); /* priority */
	uintptr_t en = PLIC_BASE + 0x2000 + 4 * (uintptr_t)(src / 32);
	uint32_t bit = 1u << (src % 32);
	wr32(en, on ? rd32(en) | bit : rd32(en) & ~bit);
}

int main(void)
{
	make_sine();
	make_wave(wave_reed, amp_reed);
	make_wave(wave_round, amp_round);
	make_wave(wave_soft, amp_soft);
	uint32_t a = score_frames(melody, sizeof melody / sizeof melody[0]);
	uint32_t b = score_frames(bass, sizeof bass / sizeof bass[0]);
	uint32_t c = score_frames(counter, sizeof counter / sizeof counter[0]);
	uint32_t total = a > b ? a : b;
	total = total > c ? total : c;
	mel.total = bas.total = ctr.total = total;

	uart_puts("gemu demo: the Ode to Joy (L. van Beethoven, 1824), 48 kHz 16-bit stereo, one voice per sound device\n");
	ac.on = ac_setup();
	vs.on = vs_setup();
	iv.on = iv_setup();
	if (!ac.on && !vs.on && !iv.on) {
		uart_puts("gemu demo: no sound device found, nothing to play\n");
		return 1;
	}

	/* Interrupts wake WFI only: MEIE and MTIE on, mstatus.MIE off. */
	wr32(PLIC_BASE + 0x200000, 0); /* context 0 (hart 0 M) threshold */
	if (ac.on)
		plic_enable(ac.irq, 1);
	if (vs.on)
		plic_enable(vs.irq, 1);
	wr64(CLINT_MTIMECMP, ~0ull);
	__asm__ volatile("csrs mie, %0" ::"r"((1 << 11) | (1 << 7)));

	/* Everything queued first, then the three starts back to back. */
	if (ac.on)
		ac_prime();
	if (vs.on)
		vs_prime();
	if (iv.on)
		iv_prime();
	if (ac.on)
		ac_start();
	if (vs.on)
		vs_start();
	if (iv.on)
		iv_start();
	uart_puts("gemu demo: playing ");
	put_dec(total / RATE);
	uart_puts(" s...\n");

	for (;;) {
		if (ac.on && !ac.done) {
			ac_service();
			if (ac.done)
				plic_enable(ac.irq, 0);
		}
		if (vs.on && !vs.done) {
			vs_service();
			if (vs.done)
				plic_enable(vs.irq, 0);
		}
		if (iv.on && !iv.done)
			iv_service();
		/* The devices have been answered: complete what the PLIC holds
		 * (a line still high pends again and wakes the WFI below). */
		uint32_t src;
		for (int k = 0; k < 4 && (src = rd32(PLIC_BASE + 0x200004)) != 0; k++) /* claim */
			wr32(PLIC_BASE + 0x200004, src);                                   /* complete */
		if ((!ac.on || ac.done) && (!vs.on || vs.done) && (!iv.on || iv.done))
			break;
		/* The ring has no interrupt: look at it every 20 ms, and every
		 * 1 ms once it holds the last frame, so that active is cleared
		 * (ring.go "Stopping") right after the consumer has read it. */
		uint64_t poll = ctr.made == ctr.total ? TIMEBASE_HZ / 1000 : TIMEBASE_HZ / 50;
		wr64(CLINT_MTIMECMP, iv.on && !iv.done ? mtime() + poll : ~0ull);
		__asm__ volatile("wfi");
	}
	uart_puts("gemu demo: played ");
	put_dec(total);
	uart_puts(" frames per voice (AC97 ");
	uart_puts(ac.on ? "melody" : "absent");
	uart_puts(", virtio-sound ");
	uart_puts(vs.on ? "bass" : "absent");
	uart_puts(", ivshmem ");
	uart_puts(iv.on ? "counter-voice" : "absent");
	uart_puts(")\n");
	uart_puts("gemu demo: done.\n");
	return 0;
}
