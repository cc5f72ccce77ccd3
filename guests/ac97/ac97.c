/* ac97: a freestanding driver for the Intel 82801AA AC'97 controller on the
 * QEMU/gemu virt board, in the style of teaching-kernel drivers.
 *
 *   1. scan ECAM bus 0 for 8086:2415, size and assign the two I/O BARs,
 *      enable I/O decoding and bus mastering;
 *   2. release the AC-link reset, wait for "primary codec ready", reset the
 *      codec, check the SigmaTel vendor ID, unmute (attenuation 0 = unity);
 *   3. for each playback rate: program it through VRA, fill a 32-entry
 *      buffer descriptor list with a counter pattern, start PCM out with IOC
 *      interrupts and refill descriptors from the PLIC interrupt handler
 *      until the whole pattern is queued; stop at the last-valid-buffer
 *      interrupt;
 *   4. record through PCM in and MIC in (8 descriptors with IOC), print the
 *      recording in hex for the host test, with a timeout (QEMU's wav
 *      audiodev has no capture);
 *   5. power off.
 *
 * Options come from the kernel command line (-append, /chosen/bootargs):
 *   play=48000,44100,8000   rates to play (default all three; play=none)
 *   ms=250                  length of each playback segment
 *   rec=pi,mc               capture channels (default both; rec=none)
 *   recrate=8000            capture rate
 *   recframes=2048          frames per capture (multiple of 256, <= 8192)
 *   dump=1                  print the recorded frames in hex
 *   idle=MS                 only wait MS milliseconds, then power off
 *                           (the speed benchmark's baseline)
 *   linger=0                ms to keep PCM out running (on silence) after
 *                           the last buffer before stopping it
 *   loud=1                  play the loud pattern instead (below)
 *
 * Frame i of the segment played at rate R is L = ((i + R) mod 32767) + 1,
 * right = -L: never zero, every frame distinct within 32767 frames, so the
 * host can check every sample of the output. With loud=1 it is instead
 * L = 32767 - (i mod 1024), right = -32768 + (i mod 1024): full-scale
 * ramps that reach both extremes, for the host's check of how samples near
 * full scale are clipped.
 *
 * Runs in M mode; the PLIC's context 0 (hart 0, M mode) routes the device's
 * INTx. Register facts: Intel 82801AA datasheet section 11, AC'97 2.3
 * section 5, QEMU hw/audio/ac97.c, gemu docs/devices/ac97.md. */
#include "../common/virt.h"
#include "ac97.h"
#include "../common/fdt.h"

#define NBD 32
#define CHUNK_FRAMES 256
#define MAX_REC 8192

static struct bd bdl[3][NBD] __attribute__((aligned(8)));
static uint32_t play_buf[NBD][CHUNK_FRAMES] __attribute__((aligned(8)));
static uint32_t rec_buf[MAX_REC] __attribute__((aligned(8)));

/* ---- console ---- */

static void fail(const char *why)
{
	uart_puts("ac97: FAIL: ");
	uart_puts(why);
	uart_puts("\n");
	poweroff(1);
}

/* ---- options from /chosen/bootargs (common/fdt.h) ---- */

/* opt copies the value of key= from args into buf, or returns 0. */
static int opt(const char *args, const char *key, char *buf, int n)
{
	for (const char *s = args; *s;) {
		const char *k = key;
		const char *t = s;
		while (*k && *t == *k)
			k++, t++;
		if (!*k && *t == '=') {
			t++;
			int i = 0;
			while (*t && *t != ' ' && i < n - 1)
				buf[i++] = *t++;
			buf[i] = 0;
			return 1;
		}
		while (*s && *s != ' ')
			s++;
		while (*s == ' ')
			s++;
	}
	return 0;
}

static uint32_t parse_num(const char **s)
{
	uint32_t v = 0;
	while (**s >= '0' && **s <= '9')
		v = v * 10 + (uint32_t)(*(*s)++ - '0');
	return v;
}

/* ---- interrupts ---- */

static int irq_src;
static volatile int timed_out;

/* Per-playback state shared with the interrupt handler. */
static struct {
	uint32_t rate, frames;    /* pattern parameters */
	uint32_t next;            /* next frame to queue */
	int head;                 /* oldest descriptor still queued */
	volatile int done;        /* last valid buffer completed */
	volatile uint32_t ioc;    /* IOC interrupts seen */
	volatile uint32_t queued; /* descriptors queued */
} pb;

/* linger_ms keeps PCM out enabled (halted, feeding silence) for a while
 * after the last buffer: QEMU drops samples still queued in its mixer when a
 * voice is disabled, so its compatibility run plays on into silence. */
static uint32_t linger_ms;

/* loud selects the full-scale pattern (loud=1). */
static int loud;

static volatile int rec_done;
static volatile uint32_t rec_ioc;

static uint32_t pattern(uint32_t rate, uint32_t i)
{
	if (loud) {
		uint16_t l = (uint16_t)(32767 - i % 1024);
		uint16_t r = (uint16_t)(-32768 + (int32_t)(i % 1024));
		return (uint32_t)r << 16 | l;
	}
	uint16_t l = (uint16_t)((i + rate) % 32767 + 1);
	uint16_t r = (uint16_t)-l;
	return (uint32_t)r << 16 | l;
}

/* queue_chunk fills descriptor d with the next part of the pattern. */
static int queue_chunk(int d)
{
	if (pb.next >= pb.frames)
		return 0;
	uint32_t n = pb.frames - pb.next;
	if (n > CHUNK_FRAMES)
		n = CHUNK_FRAMES;
	for (uint32_t i = 0; i < n; i++)
		play_buf[d][i] = pattern(pb.rate, pb.next + i);
	bdl[1][d].addr = (uint32_t)(uintptr_t)play_buf[d];
	bdl[1][d].ctl = BD_IOC | (n * 2);
	pb.next += n;
	pb.queued++;
	return 1;
}

static void handle_ac97(void)
{
	uint32_t sta = rd32(nabm(GLOB_STA));
	if (sta & (1u << 6)) { /* POINT */
		uint16_t sr = rd16(nabm(PO + SR));
		if (sr & SR_BCIS) {
			pb.ioc++;
			/* Every descriptor before CIV has been played: reuse them. */
			int civ = rd8(nabm(PO + CIV));
			while (pb.head != civ && !(sr & SR_LVBCI)) {
				if (queue_chunk(pb.head))
					wr8(nabm(PO + LVI), (uint8_t)pb.head);
				pb.head = (pb.head + 1) % NBD;
			}
		}
		if (sr & SR_LVBCI) {
			if (!linger_ms)
				wr8(nabm(PO + CR), 0); /* stop at once: no underrun fill */
			pb.done = 1;
		}
		if (sr & SR_FIFOE)
			fail("PCM out FIFO error");
		wr16(nabm(PO + SR), sr); /* write-one-to-clear what we saw */
	}
	for (int b = 0; b < 2; b++) {
		int base = b ? MC : PI;
		uint32_t bit = b ? (1u << 7) : (1u << 5);
		if (!(sta & bit))
			continue;
		uint16_t sr = rd16(nabm(base + SR));
		if (sr & SR_BCIS)
			rec_ioc++;
		if (sr & SR_LVBCI) {
			wr8(nabm(base + CR), 0);
			rec_done = 1;
		}
		if (sr & SR_FIFOE)
			fail("capture FIFO error");
		wr16(nabm(base + SR), sr);
	}
}

void __attribute__((interrupt("machine"), aligned(4))) trap(void)
{
	uint64_t cause;
	__asm__ volatile("csrr %0, mcause" : "=r"(cause));
	if (cause == ((1ull << 63) | 11)) { /* machine external */
		volatile uint32_t *claim = (volatile uint32_t *)(PLIC_BASE + 0x200004);
		uint32_t src = *claim;
		if ((int)src == irq_src)
			handle_ac97();
		*claim = src; /* complete */
	} else if (cause == ((1ull << 63) | 7)) { /* machine timer */
		*(volatile uint64_t *)CLINT_MTIMECMP = ~0ull;
		timed_out = 1;
	} else {
		uart_puts("ac97: unexpected trap ");
		put_hex(cause, 16);
		uart_puts("\n");
		poweroff(2);
	}
}

static void set_timeout(uint64_t ms)
{
	timed_out = 0;
	*(volatile uint64_t *)CLINT_MTIMECMP = mtime() + ms * (TIMEBASE_HZ / 1000);
}

static void irq_setup(void)
{
	volatile uint32_t *prio = (volatile uint32_t *)(PLIC_BASE + 4 * irq_src);
	volatile uint32_t *enable = (volatile uint32_t *)(PLIC_BASE + 0x2000 + 4 * (irq_src / 32));
	*prio = 1;
	*enable |= 1u << (irq_src % 32);
	*(volatile uint32_t *)(PLIC_BASE + 0x200000) = 0; /* threshold */
	*(volatile uint64_t *)CLINT_MTIMECMP = ~0ull;
	__asm__ volatile("csrw mtvec, %0" ::"r"(trap));
	__asm__ volatile("csrs mie, %0" ::"r"((1 << 11) | (1 << 7))); /* MEIE, MTIE */
	__asm__ volatile("csrs mstatus, %0" ::"r"(1 << 3));          /* MIE */
}

/* ---- device setup ---- */

static uint32_t bar_size(int slot, int bar)
{
	uint32_t n = ac97_bar_size(slot, bar);
	if (!n)
		fail("BAR is not an I/O BAR");
	return n;
}

static void setup_pci(void)
{
	int slot = pci_find(AC97_ID);
	if (slot < 0)
		fail("no 8086:2415 on bus 0");
	uint32_t s0 = bar_size(slot, 0), s1 = bar_size(slot, 1);
	irq_src = ac97_map(slot);
	int pin = rd8(cfg_addr(slot, 0x3d));
	uint32_t sub = rd32(cfg_addr(slot, 0x2c));
	uart_puts("ac97: 8086:2415 at 00:");
	put_hex((uint64_t)slot, 2);
	uart_puts(".0 subsystem ");
	put_hex(sub & 0xffff, 4);
	uart_puts(":");
	put_hex(sub >> 16, 4);
	uart_puts(" NAMBAR ");
	put_dec(s0);
	uart_puts(" ports, NABMBAR ");
	put_dec(s1);
	uart_puts(" ports, INT");
	uart_putc((char)('A' + pin - 1));
	uart_puts(" -> PLIC ");
	put_dec((uint64_t)irq_src);
	uart_puts("\n");
}

static void setup_codec(void)
{
	uint32_t vendor = ac97_codec_up();
	if (vendor == 0)
		fail("codec not ready");
	if (vendor != 0x83847600)
		fail("unexpected codec vendor");
	nam_wr(AC_MASTER, 0x0000);  /* unmuted, attenuation 0: unity */
	nam_wr(AC_PCM_OUT, 0x0000); /* unmuted, attenuation 0: unity */
	nam_wr(AC_REC_SELECT, 0x0000);
	nam_wr(AC_REC_GAIN, 0x0f0f); /* unmuted, full gain = unity */
	if (nam_rd(AC_MASTER) != 0 || nam_rd(AC_REC_GAIN) != 0x0f0f)
		fail("mixer does not hold its values");
	nam_wr(AC_EXT_CTRL, nam_rd(AC_EXT_CTRL) | 0x9); /* VRA + VRM */
	for (int b = 0; b < 3; b++) {
		wr8(nabm(16 * b + CR), 0);
		wr8(nabm(16 * b + CR), CR_RR);
		if (rd8(nabm(16 * b + CR)) & CR_RR)
			fail("channel reset did not complete");
		wr32(nabm(16 * b + BDBAR), (uint32_t)(uintptr_t)bdl[b]);
	}
	uart_puts("ac97: codec SigmaTel STAC9700 ready\n");
}

/* ---- playback and capture ---- */

static void play(uint32_t rate, uint32_t ms)
{
	nam_wr(AC_DAC_RATE, (uint16_t)rate);
	if (nam_rd(AC_DAC_RATE) != rate)
		fail("DAC rate not accepted");
	pb.rate = rate;
	pb.frames = (uint32_t)((uint64_t)rate * ms / 1000);
	pb.next = 0;
	pb.head = 0;
	pb.done = 0;
	pb.ioc = 0;
	pb.queued = 0;
	int last = -1;
	for (int d = 0; d < NBD && queue_chunk(d); d++)
		last = d;
	if (last < 0)
		return;
	wr8(nabm(PO + CR), CR_RR);
	wr32(nabm(PO + BDBAR), (uint32_t)(uintptr_t)bdl[1]);
	wr8(nabm(PO + LVI), (uint8_t)last);
	wr8(nabm(PO + CR), CR_RPBM | CR_IOCE | CR_LVBIE | CR_FEIE);
	set_timeout(ms * 4 + 2000);
	while (!pb.done && !timed_out)
		__asm__ volatile("wfi");
	if (!pb.done)
		fail("playback timed out");
	if (linger_ms) {
		set_timeout(linger_ms);
		while (!timed_out)
			__asm__ volatile("wfi");
		wr8(nabm(PO + CR), 0);
	}
	while (!(rd16(nabm(PO + SR)) & SR_DCH))
		;
	wr8(nabm(PO + CR), CR_RR);
	uart_puts("ac97: played ");
	put_dec(pb.frames);
	uart_puts(" frames at ");
	put_dec(rate);
	uart_puts(" Hz: ");
	put_dec(pb.queued);
	uart_puts(" buffers, ");
	put_dec(pb.ioc);
	uart_puts(" IOC interrupts\n");
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
	uint32_t c = ~0u;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void record(int base, const char *name, int rate_reg, uint32_t rate, uint32_t frames, int dump)
{
	nam_wr(rate_reg, (uint16_t)rate);
	for (uint32_t i = 0; i < frames; i++)
		rec_buf[i] = 0xdeadbeef; /* anything the device does not write shows */
	int nbd = (int)(frames / CHUNK_FRAMES);
	struct bd *l = bdl[base / 16];
	for (int d = 0; d < nbd; d++) {
		l[d].addr = (uint32_t)(uintptr_t)&rec_buf[d * CHUNK_FRAMES];
		l[d].ctl = BD_IOC | CHUNK_FRAMES * 2;
	}
	rec_done = 0;
	rec_ioc = 0;
	wr8(nabm(base + CR), CR_RR);
	wr32(nabm(base + BDBAR), (uint32_t)(uintptr_t)l);
	wr8(nabm(base + LVI), (uint8_t)(nbd - 1));
	wr8(nabm(base + CR), CR_RPBM | CR_IOCE | CR_LVBIE | CR_FEIE);
	set_timeout((uint64_t)frames * 1000 / rate * 2 + 1000);
	while (!rec_done && !timed_out)
		__asm__ volatile("wfi");
	int civ = rd8(nabm(base + CIV));
	uint16_t picb = rd16(nabm(base + PICB));
	wr8(nabm(base + CR), 0);
	while (!(rd16(nabm(base + SR)) & SR_DCH))
		;
	wr8(nabm(base + CR), CR_RR);
	uart_puts("ac97: rec ");
	uart_puts(name);
	uart_puts(" ");
	put_dec(rate);
	uart_puts(" Hz: ");
	if (!rec_done) {
		uart_puts("timeout (CIV ");
		put_dec((uint64_t)civ);
		uart_puts(" PICB ");
		put_dec(picb);
		uart_puts(")\n");
		return;
	}
	put_dec(frames);
	uart_puts(" frames, ");
	put_dec(rec_ioc);
	uart_puts(" IOC interrupts, crc32 ");
	put_hex(crc32((const uint8_t *)rec_buf, frames * 4), 8);
	uart_puts("\n");
	if (!dump)
		return;
	for (uint32_t i = 0; i < frames; i += 8) {
		uart_puts("REC ");
		uart_puts(name);
		for (uint32_t j = i; j < i + 8 && j < frames; j++) {
			uart_putc(' ');
			put_hex(rec_buf[j], 8);
		}
		uart_puts("\n");
	}
}

int main(uint64_t hartid, const void *fdt)
{
	(void)hartid;
	const char *args = find_bootargs(fdt);
	char v[64];
	uint32_t ms = 250, recrate = 8000, recframes = 2048;
	int dump = 1;
	if (opt(args, "ms", v, sizeof v)) {
		const char *s = v;
		ms = parse_num(&s);
	}
	if (opt(args, "recrate", v, sizeof v)) {
		const char *s = v;
		recrate = parse_num(&s);
	}
	if (opt(args, "recframes", v, sizeof v)) {
		const char *s = v;
		recframes = parse_num(&s) / CHUNK_FRAMES * CHUNK_FRAMES;
		if (recframes == 0 || recframes > MAX_REC)
			fail("recframes must be 256..8192");
	}
	if (opt(args, "linger", v, sizeof v)) {
		const char *s = v;
		linger_ms = parse_num(&s);
	}
	if (opt(args, "dump", v, sizeof v))
		dump = v[0] != '0';
	if (opt(args, "loud", v, sizeof v))
		loud = v[0] != '0';

	setup_pci();
	setup_codec();
	irq_setup();

	if (opt(args, "idle", v, sizeof v)) {
		/* The speed benchmark's baseline: same set-up, then only WFI. */
		const char *s = v;
		set_timeout(parse_num(&s));
		while (!timed_out)
			__asm__ volatile("wfi");
		uart_puts("ac97: idle done\n");
		return 0;
	}

	if (!opt(args, "play", v, sizeof v)) {
		const char *def = "48000,44100,8000";
		int i = 0;
		while ((v[i] = def[i]))
			i++;
	}
	for (const char *s = v; *s && !streq(v, "none");) {
		uint32_t rate = parse_num(&s);
		if (rate)
			play(rate, ms);
		if (*s != ',')
			break;
		s++;
	}

	if (!opt(args, "rec", v, sizeof v)) {
		v[0] = 'p', v[1] = 'i', v[2] = ',', v[3] = 'm', v[4] = 'c', v[5] = 0;
	}
	for (const char *s = v; *s;) {
		if (s[0] == 'p' && s[1] == 'i')
			record(PI, "pi", AC_ADC_RATE, recrate, recframes, dump);
		else if (s[0] == 'm' && s[1] == 'c')
			record(MC, "mc", AC_MIC_RATE, recrate, recframes, dump);
		while (*s && *s != ',')
			s++;
		if (*s == ',')
			s++;
	}
	/* Let the host's audio backend write out what is still queued (QEMU
	 * exits at power-off without flushing its mixing buffer). */
	set_timeout(100);
	while (!timed_out)
		__asm__ volatile("wfi");
	uart_puts("ac97: done\n");
	return 0;
}
