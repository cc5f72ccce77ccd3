package x64

// Scalar SSE/SSE2 and FMA3 instructions for the translator's floating
// point (cpu/jit_fp_amd64.go). Encodings from the Intel SDM volume 2:
// the legacy SSE forms are a mandatory prefix (66, F2 or F3), then REX,
// then 0F xx and ModRM (2.1.2, "Instruction Prefixes", and 2.2.1, REX);
// the FMA3 forms use the 3-byte VEX prefix (2.3.5, "The VEX Prefix").

import "golang.org/x/sys/cpu"

// Xmm is an SSE register, XMM0..XMM15. Go's internal ABI keeps X15 zero:
// generated code must not write it.
type Xmm uint8

// SSE registers the translator uses.
const (
	X0 Xmm = 0
	X1 Xmm = 1
	X2 Xmm = 2
)

// X is the operand of register x (for the r/m side of an SSE instruction).
func X(x Xmm) Op { return R(Reg(x)) }

// HasFMA reports whether the host has FMA3 and the OS saves the AVX state
// (the VEX-encoded VFMADD* need both).
var HasFMA = cpu.X86.HasFMA && cpu.X86.HasAVX

// prefix returns the mandatory prefix of the scalar form of size (S32:
// F3, the ...SS forms; S64: F2, the ...SD forms).
func prefix(size int) byte {
	if size == S32 {
		return 0xf3
	}
	return 0xf2
}

// sse emits prefix p (0: none), REX as needed (W when w), 0F op and the
// ModRM of reg field r and r/m m.
func (a *Asm) sse(p byte, w bool, op byte, r uint8, m Op) {
	if p != 0 {
		a.byte1(p)
	}
	size := S32
	if w {
		size = S64
	}
	a.enc(size, []byte{0x0f, op}, r, m)
}

// FLoad is MOVSS/MOVSD x, m (size S32 or S64).
func (a *Asm) FLoad(size int, x Xmm, m Op) { a.sse(prefix(size), false, 0x10, uint8(x), m) }

// FStore is MOVSS/MOVSD m, x.
func (a *Asm) FStore(size int, m Op, x Xmm) { a.sse(prefix(size), false, 0x11, uint8(x), m) }

// FOp is a scalar SSE arithmetic operation (its opcode byte after 0F).
type FOp uint8

// Scalar arithmetic: x = x op src (FSqrt: x = sqrt(src)).
const (
	FSqrt FOp = 0x51
	FAdd  FOp = 0x58
	FMul  FOp = 0x59
	FSub  FOp = 0x5c
	FMin  FOp = 0x5d
	FDiv  FOp = 0x5e
	FMax  FOp = 0x5f
)

// FArith is ADDSS/ADDSD etc.: x = x op src, rounded as MXCSR.RC says.
func (a *Asm) FArith(size int, op FOp, x Xmm, src Op) {
	a.sse(prefix(size), false, byte(op), uint8(x), src)
}

// Ucomi is UCOMISS/UCOMISD x, src: ZF, PF, CF from the comparison (all
// three set when unordered); IE only for a signaling NaN.
func (a *Asm) Ucomi(size int, x Xmm, src Op) { a.cmpi(size, 0x2e, x, src) }

// Comi is COMISS/COMISD: as Ucomi, but IE for any NaN.
func (a *Asm) Comi(size int, x Xmm, src Op) { a.cmpi(size, 0x2f, x, src) }

func (a *Asm) cmpi(size int, op byte, x Xmm, src Op) {
	var p byte
	if size == S64 {
		p = 0x66
	}
	a.sse(p, false, op, uint8(x), src)
}

// CvtIF is CVTSI2SS/CVTSI2SD x, src: the signed integer of isize bytes
// (S32 or S64) at src converted to size, rounded as MXCSR.RC says.
func (a *Asm) CvtIF(size, isize int, x Xmm, src Op) {
	a.sse(prefix(size), isize == S64, 0x2a, uint8(x), src)
}

// CvtFI is CVTSS2SI/CVTSD2SI dst, src (trunc: CVTTSS2SI/CVTTSD2SI, which
// round toward zero): to a signed integer of isize bytes; NaN and
// out-of-range values give the "integer indefinite" (the most negative
// integer) and IE.
func (a *Asm) CvtFI(size, isize int, trunc bool, dst Reg, src Op) {
	op := byte(0x2d)
	if trunc {
		op = 0x2c
	}
	a.sse(prefix(size), isize == S64, op, uint8(dst), src)
}

// CvtFF is CVTSS2SD (size S64: to double) or CVTSD2SS (size S32: to
// single) x, src.
func (a *Asm) CvtFF(size int, x Xmm, src Op) {
	// The prefix is the source's: F3 for single, F2 for double.
	a.sse(prefix(S32+S64-size), false, 0x5a, uint8(x), src)
}

// MovToX is MOVD/MOVQ x, src (isize S32 or S64 of a register or memory).
func (a *Asm) MovToX(isize int, x Xmm, src Op) { a.sse(0x66, isize == S64, 0x6e, uint8(x), src) }

// MovFromX is MOVD/MOVQ dst, x.
func (a *Asm) MovFromX(isize int, dst Op, x Xmm) { a.sse(0x66, isize == S64, 0x7e, uint8(x), dst) }

// Ldmxcsr is LDMXCSR m32.
func (a *Asm) Ldmxcsr(m Op) { a.enc(S32, []byte{0x0f, 0xae}, 2, m) }

// Stmxcsr is STMXCSR m32.
func (a *Asm) Stmxcsr(m Op) { a.enc(S32, []byte{0x0f, 0xae}, 3, m) }

// FMAOp selects one of the four fused multiply-adds of FMA3, each in its
// "231" form: x1 = ±(x2*src) ± x1 with one rounding.
type FMAOp uint8

// The 231 forms' opcodes (VEX.66.0F38, W0 for single, W1 for double).
const (
	VFMAdd  FMAOp = 0xb9 // x2*src + x1
	VFMSub  FMAOp = 0xbb // x2*src - x1
	VFNMAdd FMAOp = 0xbd // -(x2*src) + x1
	VFNMSub FMAOp = 0xbf // -(x2*src) - x1
)

// FMA emits VFMADD231SS/SD and friends: x1 = op(x2, src, x1). Only when
// HasFMA.
func (a *Asm) FMA(size int, op FMAOp, x1, x2 Xmm, src Op) {
	// C4, then R̅X̅B̅ and map 0F38 (00010), then W, v̅v̅v̅v̅ = ~x2, L=0 and
	// pp=01 (66).
	b1 := byte(0x02)
	if x1&8 == 0 {
		b1 |= 0x80
	}
	if !(src.mem && src.index != NoReg && src.index&8 != 0) {
		b1 |= 0x40
	}
	if src.reg&8 == 0 {
		b1 |= 0x20
	}
	b2 := byte(^x2&15)<<3 | 0x01
	if size == S64 {
		b2 |= 0x80
	}
	a.byte1(0xc4, b1, b2)
	// The opcode and ModRM: with the register numbers' high bits in VEX,
	// enc adds no prefix or REX.
	a.enc(S32, []byte{byte(op)}, uint8(x1)&7, Op{mem: src.mem, reg: src.reg & 7, index: idx7(src.index), scale: src.scale, disp: src.disp})
}

func idx7(r Reg) Reg {
	if r == NoReg {
		return r
	}
	return r & 7
}

// The parity conditions: after (U)COMIS*, P means unordered (a NaN).
const (
	CondP  Cond = 0xa
	CondNP Cond = 0xb
)

// TestByte is TEST byte m, imm.
func (a *Asm) TestByte(m Op, imm uint8) {
	a.enc(S8, []byte{0xf6}, 0, m)
	a.byte1(imm)
}

// HasSSE41 reports whether the host has SSE4.1 (ROUNDSS/ROUNDSD).
var HasSSE41 = cpu.X86.HasSSE41

// Rounding modes of Round (its imm8 bits 1:0, bit 2 clear: not MXCSR's;
// bit 3 clear: PE is raised when the result differs from the source).
const (
	RoundNearest = 0
	RoundDown    = 1
	RoundUp      = 2
	RoundTrunc   = 3
)

// Round is ROUNDSS/ROUNDSD x, src, mode: src rounded to an integral value
// in its own format (SSE4.1; only when HasSSE41).
func (a *Asm) Round(size int, mode uint8, x Xmm, src Op) {
	op := byte(0x0b)
	if size == S32 {
		op = 0x0a
	}
	a.byte1(0x66)
	a.enc(S32, []byte{0x0f, 0x3a, op}, uint8(x), src)
	a.byte1(mode & 3)
}
