/* hello_sbi: an S-mode payload for OpenSBI (-bios fw_dynamic.bin -kernel
 * hello_sbi.elf). Prints through the SBI legacy console, checks a few SBI
 * calls and S-mode CSRs, and powers off with SBI system reset (SBI spec
 * v1.0: base extension 0x10, SRST 0x53525354, legacy putchar 0x01). */
#include <stdint.h>

struct sbiret {
	long error;
	long value;
};

static struct sbiret sbi_call(long eid, long fid, long a0, long a1)
{
	register long r_a0 __asm__("a0") = a0;
	register long r_a1 __asm__("a1") = a1;
	register long r_a6 __asm__("a6") = fid;
	register long r_a7 __asm__("a7") = eid;
	__asm__ volatile("ecall"
			 : "+r"(r_a0), "+r"(r_a1)
			 : "r"(r_a6), "r"(r_a7)
			 : "memory");
	return (struct sbiret){r_a0, r_a1};
}

static void putc_(char c) { sbi_call(0x01, 0, c, 0); }

static void puts_(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc_('\r');
		putc_(*s);
	}
}

static void puthex(uint64_t v)
{
	for (int s = 60; s >= 0; s -= 4)
		putc_("0123456789abcdef"[(v >> s) & 15]);
}

static void shutdown(long reason)
{
	/* SRST: type 0 = shutdown, reason 0 = none, 1 = system failure */
	sbi_call(0x53525354, 0, 0, reason);
	for (;;)
		__asm__ volatile("wfi");
}

int main(void)
{
	puts_("Hello from S-mode via SBI\n");
	struct sbiret spec = sbi_call(0x10, 0, 0, 0);  /* get_spec_version */
	struct sbiret srst = sbi_call(0x10, 3, 0x53525354, 0); /* probe SRST */
	struct sbiret time = sbi_call(0x10, 3, 0x54494D45, 0); /* probe TIME */
	uint64_t t0, t1, sstatus;
	__asm__ volatile("rdtime %0" : "=r"(t0));
	for (volatile int i = 0; i < 10000; i++)
		;
	__asm__ volatile("rdtime %0" : "=r"(t1));
	__asm__ volatile("csrr %0, sstatus" : "=r"(sstatus));
	puts_("sbi spec ");
	puthex((uint64_t)spec.value);
	puts_(" srst ");
	puthex((uint64_t)srst.value);
	puts_(" time ");
	puthex((uint64_t)time.value);
	puts_("\n");
	int ok = spec.error == 0 && spec.value >= 0x01000000 && srst.value != 0 && time.value != 0 && t1 > t0;
	puts_(ok ? "SBI OK\n" : "SBI FAILED\n");
	shutdown(ok ? 0 : 1);
	return 0;
}
