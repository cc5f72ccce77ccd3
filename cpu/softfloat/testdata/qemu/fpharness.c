/*
 * Runs floating-point test vectors on the emulated RISC-V FPU and writes
 * the results as raw bytes to the first UART. Used by qemu_test.go to compare
 * package softfloat with QEMU's independent implementation.
 *
 * Input at 0x80200000: uint64 count, then count records
 *   { uint32 op; uint32 rm; uint64 a, b, c; }
 * Output on the UART: per record { uint64 result; uint64 fflags; }.
 * Binary32 operands are the low 32 bits of a, b, c; fmv.w.x NaN-boxes them.
 * The op numbers must match the table in qemu_test.go.
 */
#include <stdint.h>

struct vec {
	uint32_t op, rm;
	uint64_t a, b, c;
};

#define UART ((volatile uint8_t *)0x10000000)

static void put8(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		while (!(UART[5] & 0x20))
			;
		UART[0] = (uint8_t)(v >> (8 * i));
	}
}

/* Binary64 helpers: operands in f registers, result moved back raw. */
#define D_IN(x, v) asm volatile("fmv.d.x %0, %1" : "=f"(x) : "r"(v))
#define D_OUT(r, x) asm volatile("fmv.x.d %0, %1" : "=r"(r) : "f"(x))
#define S_IN(x, v) asm volatile("fmv.w.x %0, %1" : "=f"(x) : "r"(v))
#define S_OUT(r, x) asm volatile("fmv.x.w %0, %1" : "=r"(r) : "f"(x))

#define D2(n, insn) case n: { double x, y, z; D_IN(x, a); D_IN(y, b); \
	asm volatile(insn " %0, %1, %2" : "=f"(z) : "f"(x), "f"(y)); D_OUT(r, z); break; }
#define S2(n, insn) case n: { float x, y, z; S_IN(x, a); S_IN(y, b); \
	asm volatile(insn " %0, %1, %2" : "=f"(z) : "f"(x), "f"(y)); S_OUT(r, z); r &= 0xffffffff; break; }
#define D1(n, insn) case n: { double x, z; D_IN(x, a); \
	asm volatile(insn " %0, %1" : "=f"(z) : "f"(x)); D_OUT(r, z); break; }
#define S1(n, insn) case n: { float x, z; S_IN(x, a); \
	asm volatile(insn " %0, %1" : "=f"(z) : "f"(x)); S_OUT(r, z); r &= 0xffffffff; break; }
#define D3(n, insn) case n: { double x, y, w, z; D_IN(x, a); D_IN(y, b); D_IN(w, c); \
	asm volatile(insn " %0, %1, %2, %3" : "=f"(z) : "f"(x), "f"(y), "f"(w)); D_OUT(r, z); break; }
#define S3(n, insn) case n: { float x, y, w, z; S_IN(x, a); S_IN(y, b); S_IN(w, c); \
	asm volatile(insn " %0, %1, %2, %3" : "=f"(z) : "f"(x), "f"(y), "f"(w)); S_OUT(r, z); r &= 0xffffffff; break; }
/* float -> integer register, integer -> float, compare */
#define DX(n, insn) case n: { double x; D_IN(x, a); asm volatile(insn " %0, %1" : "=r"(r) : "f"(x)); break; }
#define SX(n, insn) case n: { float x; S_IN(x, a); asm volatile(insn " %0, %1" : "=r"(r) : "f"(x)); break; }
#define XD(n, insn) case n: { double z; asm volatile(insn " %0, %1" : "=f"(z) : "r"(a)); D_OUT(r, z); break; }
#define XS(n, insn) case n: { float z; asm volatile(insn " %0, %1" : "=f"(z) : "r"(a)); S_OUT(r, z); r &= 0xffffffff; break; }
#define DC(n, insn) case n: { double x, y; D_IN(x, a); D_IN(y, b); asm volatile(insn " %0, %1, %2" : "=r"(r) : "f"(x), "f"(y)); break; }
#define SC(n, insn) case n: { float x, y; S_IN(x, a); S_IN(y, b); asm volatile(insn " %0, %1, %2" : "=r"(r) : "f"(x), "f"(y)); break; }

int main(void)
{
	uint64_t n = *(volatile uint64_t *)0x80200000;
	volatile struct vec *v = (volatile struct vec *)0x80200008;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = v[i].a, b = v[i].b, c = v[i].c, r = 0, fl;
		asm volatile("fsrm %0" : : "r"((uint64_t)v[i].rm));
		asm volatile("fsflags zero");
		switch (v[i].op) {
		D2(0, "fadd.d") D2(1, "fsub.d") D2(2, "fmul.d") D2(3, "fdiv.d") D1(4, "fsqrt.d")
		D3(5, "fmadd.d") D3(6, "fnmadd.d")
		D2(7, "fmin.d") D2(8, "fmax.d") DC(9, "feq.d") DC(10, "flt.d") DC(11, "fle.d")
		DX(12, "fclass.d") DX(13, "fcvt.w.d") DX(14, "fcvt.wu.d") DX(15, "fcvt.l.d") DX(16, "fcvt.lu.d")
		XD(17, "fcvt.d.w") XD(18, "fcvt.d.wu") XD(19, "fcvt.d.l") XD(20, "fcvt.d.lu")
		case 21: { double x; float z; D_IN(x, a); asm volatile("fcvt.s.d %0, %1" : "=f"(z) : "f"(x)); S_OUT(r, z); r &= 0xffffffff; break; }
		case 22: { float x; double z; S_IN(x, a); asm volatile("fcvt.d.s %0, %1" : "=f"(z) : "f"(x)); D_OUT(r, z); break; }
		S2(32, "fadd.s") S2(33, "fsub.s") S2(34, "fmul.s") S2(35, "fdiv.s") S1(36, "fsqrt.s")
		S3(37, "fmadd.s") S3(38, "fnmadd.s")
		S2(39, "fmin.s") S2(40, "fmax.s") SC(41, "feq.s") SC(42, "flt.s") SC(43, "fle.s")
		SX(44, "fclass.s") SX(45, "fcvt.w.s") SX(46, "fcvt.wu.s") SX(47, "fcvt.l.s") SX(48, "fcvt.lu.s")
		XS(49, "fcvt.s.w") XS(50, "fcvt.s.wu") XS(51, "fcvt.s.l") XS(52, "fcvt.s.lu")
		default:
			r = 0xdeadbeef;
		}
		asm volatile("frflags %0" : "=r"(fl));
		put8(r);
		put8(fl);
	}
	return 0;
}
