/* ac97mix: exercises QEMU 7.2's AC97 mixer and register rules so a host
 * test can compare gemu with QEMU bit for bit (tests/ac97 TestQEMUMixer).
 *
 * Polling only (no interrupts). Each playback segment k plays 2400 frames of
 * a pattern (frame i: L = ((i + 1000k) mod 32767) + 1, R = -L, never an
 * all-zero frame, even attenuated), keeps PCM out running on underrun
 * silence for 30 ms (QEMU drops what its mixer still holds when the voice
 * stops) and stops. Before each segment the guest makes the codec writes of
 * one case of the voice volume rule (docs/devices/ac97.md):
 *
 *   0  (R = 48000 only) codec reset state: Master 0x8000 muted -> silence
 *   1  Master 0x0000, PCM 0x0808                       -> gain 190/255
 *   2  Master 0x0503, PCM 0x0a11 (asymmetric)          -> per-channel gains
 *   3  Master 0x3f00, PCM 0x0000                       -> left 0, right unity
 *   4  Master 0x8000, DAC rate R (xv6-mp3's sequence)  -> 48000: silence;
 *                                                       other R: unity
 *   5  DAC rate R again, Master 0x8000                 -> silence
 *   6  codec reset, DAC rate R                         -> 48000: silence;
 *                                                       other R: unity
 *   7  (R = 48000 only) unmute, EXT_CTRL 0, DAC 44100  -> rate ignored,
 *                                                       gain 190/255
 *
 * R comes from the kernel command line (rate=44100; default 48000); the
 * host sets the WAV sink to R, so no segment is resampled. Then it prints
 * register reads at widths QEMU does not decode, and CIV/PIV/PICB/SR after
 * restarts whose head descriptor has length 0 (by CR and by LVI).
 *
 * References: QEMU hw/audio/ac97.c (nam_writew, nabm_read*, transfer_audio),
 * Intel 82801AA datasheet section 11, AC'97 2.3 section 5. */
#include "../common/virt.h"
#include "../ac97/ac97.h"
#include "../common/fdt.h"

#define SEG_FRAMES 2400
#define NBD 32

static struct bd bdl[NBD] __attribute__((aligned(8)));
static uint32_t buf[SEG_FRAMES] __attribute__((aligned(8)));

static void fail(const char *why)
{
	uart_puts("ac97mix: FAIL: ");
	uart_puts(why);
	uart_puts("\n");
	poweroff(1);
}


static uint32_t rate_arg(const char *s)
{
	for (; *s; s++) {
		if (s[0] == 'r' && s[1] == 'a' && s[2] == 't' && s[3] == 'e' && s[4] == '=') {
			uint32_t v = 0;
			for (s += 5; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (uint32_t)(*s - '0');
			return v;
		}
	}
	return 48000;
}

static void wait_ms(uint64_t ms)
{
	uint64_t end = mtime() + ms * (TIMEBASE_HZ / 1000);
	while (mtime() < end)
		;
}

/* wait_sr polls PO's SR until bit is set, failing after ms of guest time. */
static void wait_sr(uint16_t bit, uint64_t ms, const char *what)
{
	uint64_t end = mtime() + ms * (TIMEBASE_HZ / 1000);
	while (!(rd16(nabm(PO + SR)) & bit))
		if (mtime() > end)
			fail(what);
}

static void line(const char *name, uint64_t v, int digits)
{
	uart_puts("ac97mix: ");
	uart_puts(name);
	uart_puts(" = 0x");
	put_hex(v, digits);
	uart_puts("\n");
}

/* dma_fence makes the descriptors and buffers written with plain stores
 * visible to the device before the register writes that start it (a
 * compiler and hart barrier). */
static inline void dma_fence(void)
{
	__asm__ volatile("fence rw, rw" ::: "memory");
}

static void stop_po(void)
{
	wr8(nabm(PO + CR), 0);
	wr8(nabm(PO + CR), CR_RR);
}

static void play_segment(int k)
{
	for (uint32_t i = 0; i < SEG_FRAMES; i++) {
		uint16_t l = (uint16_t)((i + 1000u * (uint32_t)k) % 32767u + 1u);
		buf[i] = l | (uint32_t)(uint16_t)-l << 16;
	}
	/* three descriptors: 1000 + 1000 + 400 frames */
	bdl[0].addr = (uint32_t)(uintptr_t)&buf[0];
	bdl[0].ctl = 2000;
	bdl[1].addr = (uint32_t)(uintptr_t)&buf[1000];
	bdl[1].ctl = 2000;
	bdl[2].addr = (uint32_t)(uintptr_t)&buf[2000];
	bdl[2].ctl = 800;
	dma_fence();
	stop_po();
	wr32(nabm(PO + BDBAR), (uint32_t)(uintptr_t)bdl);
	wr8(nabm(PO + LVI), 2);
	wr8(nabm(PO + CR), CR_RPBM);
	wait_sr(SR_LVBCI, 2000, "segment did not finish");
	wait_ms(30);
	stop_po();
	uart_puts("ac97mix: segment ");
	put_dec((uint64_t)k);
	uart_puts(" master=0x");
	put_hex(nam_rd(AC_MASTER), 4);
	uart_puts(" pcm=0x");
	put_hex(nam_rd(AC_PCM_OUT), 4);
	uart_puts(" rate=");
	put_dec(nam_rd(AC_DAC_RATE));
	uart_puts("\n");
}

static void odd_widths(void)
{
	/* Leave some state to read: BDBAR, LVI, CR. */
	wr32(nabm(PO + BDBAR), 0x80001238);
	wr8(nabm(PO + LVI), 5);
	wr8(nabm(PO + CR), CR_IOCE);
	line("GLOB_STA/4", rd32(nabm(GLOB_STA)), 8);
	line("GLOB_STA/2", rd16(nabm(GLOB_STA)), 4);
	line("GLOB_STA/1", rd8(nabm(GLOB_STA)), 2);
	line("GLOB_STA+2/2", rd16(nabm(GLOB_STA + 2)), 4);
	line("GLOB_CNT/2", rd16(nabm(GLOB_CNT)), 4);
	line("GLOB_CNT/1", rd8(nabm(GLOB_CNT)), 2);
	line("PO_BDBAR/4", rd32(nabm(PO + BDBAR)), 8);
	line("PO_BDBAR/2", rd16(nabm(PO + BDBAR)), 4);
	line("PO_BDBAR+1/1", rd8(nabm(PO + BDBAR + 1)), 2);
	line("PO_CIV/4", rd32(nabm(PO + CIV)), 8);
	line("PO_CIV/2", rd16(nabm(PO + CIV)), 4);
	line("PO_LVI/1", rd8(nabm(PO + LVI)), 2);
	line("PO_LVI/2", rd16(nabm(PO + LVI)), 4);
	line("PO_SR/1", rd8(nabm(PO + SR)), 2);
	line("PO_SR+1/1", rd8(nabm(PO + SR + 1)), 2);
	line("PO_SR/4", rd32(nabm(PO + SR)), 8);
	line("PO_PICB/4", rd32(nabm(PO + PICB)), 8);
	line("PO_PICB/1", rd8(nabm(PO + PICB)), 2);
	line("PO_PIV/1", rd8(nabm(PO + 0x0a)), 2);
	line("PO_PIV/2", rd16(nabm(PO + 0x0a)), 4);
	line("PO_CR/1", rd8(nabm(PO + CR)), 2);
	line("PO_CR/2", rd16(nabm(PO + 0x0a)), 4); /* aligned word at PIV */
	line("PO_LVI/4", rd32(nabm(PO + LVI)), 8); /* misaligned */
	line("PO_SR+1/2", rd16(nabm(PO + SR + 1)), 4);
	line("PO_CR/4", rd32(nabm(PO + CR)), 8);
	line("GLOB_CNT+1/2", rd16(nabm(GLOB_CNT + 1)), 4);
	line("CAS/4", rd32(nabm(0x34)), 8);
	line("CAS/2", rd16(nabm(0x34)), 4);
	line("0x38/4", rd32(nabm(0x38)), 8);
	line("0x40/1", rd8(nabm(0x40)), 2);
	/* writes QEMU drops */
	wr8(nabm(GLOB_CNT), 0x02);
	wr16(nabm(PO + BDBAR), 0x4444);
	wr32(nabm(PO + PICB), 0x1f000000); /* would be CR via its byte lane */
	wr16(nabm(PO + LVI), 0x0707);
	line("after: GLOB_CNT/4", rd32(nabm(GLOB_CNT)), 8);
	line("after: PO_BDBAR/4", rd32(nabm(PO + BDBAR)), 8);
	line("after: PO_CIV/4", rd32(nabm(PO + CIV)), 8);
	line("after: PO_PICB/4", rd32(nabm(PO + PICB)), 8);
	/* SR stores written bits above the defined five (QEMU nabm_writeb). */
	wr8(nabm(PO + SR), 0xe0);
	line("after: PO_SR/2", rd16(nabm(PO + SR)), 4);
	stop_po();
}

static void state(const char *what)
{
	uart_puts("ac97mix: ");
	uart_puts(what);
	uart_puts(": CIV=");
	put_dec(rd8(nabm(PO + CIV)));
	uart_puts(" PIV=");
	put_dec(rd8(nabm(PO + 0x0a)));
	uart_puts(" LVI=");
	put_dec(rd8(nabm(PO + LVI)));
	uart_puts(" PICB=");
	put_dec(rd16(nabm(PO + PICB)));
	uart_puts(" SR=0x");
	put_hex(rd16(nabm(PO + SR)), 4);
	uart_puts("\n");
}

/* zero_heads plays short pattern buffers around zero-length descriptors. */
static void zero_heads(void)
{
	nam_wr(AC_MASTER, 0);
	nam_wr(AC_PCM_OUT, 0);
	for (uint32_t i = 0; i < SEG_FRAMES; i++) {
		uint16_t l = (uint16_t)((i + 20000u) % 32767u + 1u);
		buf[i] = l | (uint32_t)(uint16_t)-l << 16;
	}
	for (int i = 0; i < NBD; i++) {
		bdl[i].addr = (uint32_t)(uintptr_t)&buf[(i % 4) * 480];
		bdl[i].ctl = 960;
	}
	bdl[0].ctl = 0; /* head of the first run */
	bdl[3].ctl = 0; /* head of the LVI restart */
	bdl[6].ctl = 0; /* head of the CR restart, and the last valid one */
	dma_fence();
	stop_po();
	wr32(nabm(PO + BDBAR), (uint32_t)(uintptr_t)bdl);
	wr8(nabm(PO + LVI), 2);
	wr8(nabm(PO + CR), CR_RPBM);
	state("start, head BD 0 empty");
	wait_sr(SR_LVBCI, 2000, "run 1 did not finish");
	state("run 1 done");
	/* LVI written while halted with RPBM: resumes at PIV = 3 (empty). */
	wr8(nabm(PO + SR), SR_LVBCI);
	wr8(nabm(PO + LVI), 5);
	state("LVI restart, head BD 3 empty");
	wait_sr(SR_LVBCI, 2000, "run 2 did not finish");
	state("run 2 done");
	/* CR restart: CIV = PIV = 6, empty and the last valid one: halts. */
	wr8(nabm(PO + SR), SR_LVBCI);
	wr8(nabm(PO + LVI), 6);
	state("LVI 6 written while halted");
	wait_sr(SR_DCH, 2000, "run 3 did not halt");
	wait_ms(20);
	state("run 3 halted");
	wr8(nabm(PO + CR), 0);
	nam_wr(AC_MASTER, 0x8000); /* what plays next is timing: keep it silent */
	wr8(nabm(PO + CR), CR_RPBM);
	/*
	 * Only that it left the empty head is a rule; how far it got before
	 * these reads is timing (on QEMU a host stall of 20 ms lets its audio
	 * timer play a whole buffer first), so CIV/PICB are not printed.
	 */
	uart_puts("ac97mix: CR restart: left the empty head BD 6: ");
	uart_puts(rd8(nabm(PO + CIV)) != 6 ? "yes" : "no");
	uart_puts(", halted: ");
	uart_puts(rd16(nabm(PO + SR)) & SR_DCH ? "yes\n" : "no\n");
	wait_ms(30); /* how far it got is timing, not a rule: not printed */
	wr8(nabm(PO + CR), 0);
	wait_ms(30);
	stop_po();
}

int main(uint64_t hartid, const void *fdt)
{
	(void)hartid;
	uint32_t rate = rate_arg(find_bootargs(fdt));
	int slot = pci_find(AC97_ID);
	if (slot < 0)
		fail("no AC97");
	ac97_map(slot);
	if (ac97_codec_up() != 0x83847600)
		fail("codec");
	uart_puts("ac97mix: rate ");
	put_dec(rate);
	uart_puts("\n");

	/* the voice volume rule */
	if (rate == 48000) {
		nam_wr(AC_DAC_RATE, 48000); /* the same rate: nothing re-opens */
		play_segment(0);            /* codec reset state: muted */
	}
	nam_wr(AC_MASTER, 0x0000);
	nam_wr(AC_PCM_OUT, 0x0808);
	if (rate != 48000)
		nam_wr(AC_DAC_RATE, (uint16_t)rate); /* a new rate: unity */
	if (rate != 48000) {
		nam_wr(AC_MASTER, 0x0000); /* volume writes reach the new voice */
		nam_wr(AC_PCM_OUT, 0x0808);
	}
	play_segment(1);
	nam_wr(AC_MASTER, 0x0503);
	nam_wr(AC_PCM_OUT, 0x0a11);
	play_segment(2);
	nam_wr(AC_MASTER, 0x3f00);
	nam_wr(AC_PCM_OUT, 0x0000);
	play_segment(3);
	if (rate != 48000)
		nam_wr(AC_DAC_RATE, 48000);
	nam_wr(AC_MASTER, 0x8000);
	nam_wr(AC_DAC_RATE, (uint16_t)rate);
	play_segment(4);
	nam_wr(AC_DAC_RATE, (uint16_t)rate);
	nam_wr(AC_MASTER, 0x8000);
	play_segment(5);
	nam_wr(AC_RESET, 0);
	nam_wr(AC_DAC_RATE, (uint16_t)rate);
	play_segment(6);
	if (rate == 48000) {
		nam_wr(AC_MASTER, 0x0000);
		nam_wr(AC_PCM_OUT, 0x0808);
		nam_wr(AC_EXT_CTRL, 0);
		nam_wr(AC_DAC_RATE, 44100);
		play_segment(7);
	}

	odd_widths();
	if (rate == 48000)
		zero_heads();
	uart_puts("ac97mix: done\n");
	return 0;
}
