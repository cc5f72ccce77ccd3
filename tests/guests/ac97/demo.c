/* demo: the AC97-only music demo (gemu's main job, which plays one voice on
 * each sound device, is ../demo/demo.c). A freestanding program that finds
 * the AC97 on the virt board's PCI bus and plays a short piece of music
 * through it: the opening of the "Ode to Joy" (L. van Beethoven, 9th
 * symphony, 1824; about 15 seconds), a melody over a bass line, synthesised
 * on the fly at 48 kHz into a ring of 32 buffer descriptors that the IOC
 * interrupt handler refills.
 *
 * It uses the driver's shared part (ac97.h; see ac97.c for the register
 * details), plus a tiny synthesiser: phase accumulators, an 8-harmonic
 * wavetable built at start-up, and a per-note envelope. */
#include "../common/virt.h"

#include "ac97.h"

#define RATE 48000
#define NBD 32
#define CHUNK 1024 /* frames per descriptor: 21 ms */

static struct bd bdl[NBD] __attribute__((aligned(8)));
static int16_t pcm[NBD][CHUNK * 2] __attribute__((aligned(8)));

/* ---- the score: MIDI note numbers and lengths in eighth notes ---- */

struct note {
	uint8_t key, len;
};

/* Melody (right hand): the first two phrases, 16 bars of 4/4 in eighths. */
static const struct note melody[] = {
	{64, 2}, {64, 2}, {65, 2}, {67, 2}, {67, 2}, {65, 2}, {64, 2}, {62, 2},
	{60, 2}, {60, 2}, {62, 2}, {64, 2}, {64, 3}, {62, 1}, {62, 4},
	{64, 2}, {64, 2}, {65, 2}, {67, 2}, {67, 2}, {65, 2}, {64, 2}, {62, 2},
	{60, 2}, {60, 2}, {62, 2}, {64, 2}, {62, 3}, {60, 1}, {60, 8},
};

/* Bass (left hand): one note per half bar, C and G, ending on C. */
static const struct note bass[] = {
	{48, 8}, {43, 8}, {48, 8}, {43, 8},
	{48, 8}, {43, 8}, {48, 4}, {43, 4}, {48, 12},
};

#define EIGHTH (RATE * 60 / 132 / 2) /* 132 beats per minute */

/* ---- synthesiser ---- */

static int16_t wave[1024]; /* one period of a soft, reedy tone */

/* sine of x (radians, |x| <= pi) by a 9th-order Taylor polynomial. */
static float fsin(float x)
{
	float x2 = x * x;
	return x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72))));
}

static void make_wave(void)
{
	static const float amp[8] = {1.0f, 0.45f, 0.25f, 0.12f, 0.08f, 0.05f, 0.03f, 0.02f};
	for (int i = 0; i < 1024; i++) {
		float s = 0;
		for (int h = 0; h < 8; h++) {
			/* phase of harmonic h+1, folded into [-pi, pi] */
			int p = (i * (h + 1)) & 1023;
			float x = (float)(p < 512 ? p : p - 1024) * (3.14159265f / 512);
			s += amp[h] * fsin(x);
		}
		wave[i] = (int16_t)(s * 16000);
	}
}

/* 2^32 * f / RATE for MIDI key k: f = 440 * 2^((k-69)/12). */
static uint32_t phase_step(int k)
{
	static const float semis[12] = {1.0f, 1.0594631f, 1.1224620f, 1.1892071f, 1.2599210f, 1.3348399f,
					1.4142136f, 1.4983071f, 1.5874011f, 1.6817928f, 1.7817974f, 1.8877486f};
	float f = 440.0f * semis[(k - 69 + 120) % 12];
	int oct = (k - 69 + 120) / 12 - 10;
	while (oct > 0)
		f *= 2, oct--;
	while (oct < 0)
		f /= 2, oct++;
	return (uint32_t)(f * (4294967296.0f / RATE));
}

struct voice {
	const struct note *score;
	int n, i;         /* notes, current note */
	uint32_t left;    /* frames left in the note */
	uint32_t age;     /* frames since the note began */
	uint32_t phase, step;
	int key;
	int gain;         /* 0..256 */
};

static struct voice mel = {melody, sizeof melody / sizeof melody[0], -1, 0, 0, 0, 0, 0, 180};
static struct voice bas = {bass, sizeof bass / sizeof bass[0], -1, 0, 0, 0, 0, 0, 120};

/* next_sample returns the voice's next sample, or 0 after its last note. */
static int next_sample(struct voice *v)
{
	if (v->left == 0) {
		if (v->i + 1 >= v->n)
			return 0;
		v->i++;
		v->key = v->score[v->i].key;
		v->left = (uint32_t)v->score[v->i].len * EIGHTH;
		v->age = 0;
		if (v->key)
			v->step = phase_step(v->key);
	}
	v->left--;
	uint32_t a = v->age++;
	if (!v->key)
		return 0;
	/* envelope: 5 ms attack, exponential-ish decay, 15 ms release */
	int env;
	if (a < 240)
		env = (int)(a * 256 / 240);
	else
		env = 256 - (int)((a - 240) / 128 > 128 ? 128 : (a - 240) / 128);
	if (v->left < 720)
		env = env * (int)v->left / 720;
	v->phase += v->step;
	int s = wave[v->phase >> 22];
	return s * env / 256 * v->gain / 256;
}

static uint32_t frames_total, frames_made;

/* fill renders the next chunk into descriptor d; 0 when the piece is over. */
static int fill(int d)
{
	if (frames_made >= frames_total)
		return 0;
	uint32_t n = frames_total - frames_made;
	if (n > CHUNK)
		n = CHUNK;
	for (uint32_t i = 0; i < n; i++) {
		int m = next_sample(&mel), b = next_sample(&bas);
		/* melody a little left of centre, bass a little right */
		int l = m * 5 / 4 + b * 3 / 4, r = m * 3 / 4 + b * 5 / 4;
		pcm[d][2 * i] = (int16_t)(l > 32767 ? 32767 : l < -32768 ? -32768 : l);
		pcm[d][2 * i + 1] = (int16_t)(r > 32767 ? 32767 : r < -32768 ? -32768 : r);
	}
	bdl[d].addr = (uint32_t)(uintptr_t)pcm[d];
	bdl[d].ctl = 0x80000000u | (n * 2);
	frames_made += n;
	return 1;
}

/* ---- interrupts ---- */

static int irq_src, head;
static volatile int done;

void __attribute__((interrupt("machine"), aligned(4))) trap(void)
{
	volatile uint32_t *claim = (volatile uint32_t *)(PLIC_BASE + 0x200004);
	uint32_t src = *claim;
	if ((int)src == irq_src) {
		uint16_t sr = rd16(nabm(PO + SR));
		int civ = rd8(nabm(PO + CIV));
		while (head != civ && !(sr & 4)) {
			if (fill(head))
				wr8(nabm(PO + LVI), (uint8_t)head);
			head = (head + 1) % NBD;
		}
		if (sr & 4) { /* last valid buffer played */
			wr8(nabm(PO + CR), 0);
			done = 1;
		}
		wr16(nabm(PO + SR), sr);
	}
	*claim = src;
}

static uint32_t score_frames(const struct note *s, int n)
{
	uint32_t t = 0;
	for (int i = 0; i < n; i++)
		t += s[i].len;
	return t * EIGHTH;
}

int main(void)
{
	int slot = pci_find(AC97_ID);
	if (slot < 0) {
		uart_puts("gemu demo: no AC97 sound card on the PCI bus (add -device AC97,audiodev=ID)\n");
		return 1;
	}
	irq_src = ac97_map(slot);
	if (!ac97_codec_up()) {
		uart_puts("gemu demo: the AC97 codec never became ready\n");
		return 1;
	}
	nam_wr(AC_MASTER, 0x0000);  /* unmuted, unity */
	nam_wr(AC_PCM_OUT, 0x0000); /* unmuted, unity */
	nam_wr(AC_DAC_RATE, RATE);

	*(volatile uint32_t *)(PLIC_BASE + 4 * irq_src) = 1;
	*(volatile uint32_t *)(PLIC_BASE + 0x2000 + 4 * (irq_src / 32)) |= 1u << (irq_src % 32);
	*(volatile uint32_t *)(PLIC_BASE + 0x200000) = 0;
	__asm__ volatile("csrw mtvec, %0" ::"r"(trap));
	__asm__ volatile("csrs mie, %0" ::"r"(1 << 11));
	__asm__ volatile("csrs mstatus, %0" ::"r"(1 << 3));

	make_wave();
	uint32_t a = score_frames(melody, sizeof melody / sizeof melody[0]);
	uint32_t b = score_frames(bass, sizeof bass / sizeof bass[0]);
	frames_total = a > b ? a : b;
	uart_puts("gemu demo: AC97 (Intel 82801AA) found on the PCI bus; playing the Ode to Joy\n");
	uart_puts("           (L. van Beethoven, 1824) at 48 kHz, 16-bit stereo...\n");

	int last = 0;
	for (int d = 0; d < NBD && fill(d); d++)
		last = d;
	wr8(nabm(PO + CR), CR_RR); /* reset the channel */
	wr32(nabm(PO + BDBAR), (uint32_t)(uintptr_t)bdl);
	wr8(nabm(PO + LVI), (uint8_t)last);
	wr8(nabm(PO + CR), CR_RPBM | CR_LVBIE | CR_IOCE);
	while (!done)
		__asm__ volatile("wfi");
	uart_puts("gemu demo: done.\n");
	return 0;
}
