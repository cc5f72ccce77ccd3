package cpu

import (
	"unsafe"

	"gemu/cpu/x64"
)

// FP arithmetic in translated code (the F and D extensions, unprivileged
// spec chapters 11-13) on the host's SSE2 and FMA3, where that gives
// exactly the soft-float's results and fflags (fp.go, package softfloat);
// everything else exits to the interpreter at the instruction, as a TLB
// miss does.
//
// The rules that make it exact:
//
//   - Only round-to-nearest-even: a static rm of 000, or DYN with frm 0
//     checked at run time (other frm values exit). Host code runs with Go's
//     MXCSR, 0x1f80: RNE, every exception masked, DAZ and FTZ off (Intel
//     SDM vol. 1, 10.2.3); generated code loads only that value. The
//     conversions to integers with rm = RTZ (C casts) use CVTT*, which
//     truncate whatever MXCSR says; with RDN and RUP (floor, ceil)
//     ROUNDS* with its own rounding mode first (SSE4.1).
//   - NaN results exit: RISC-V returns the canonical NaN where x86
//     propagates payloads, and every operation with a NaN result is one
//     where the flags need care (signaling inputs, inf-inf, 0*inf,
//     inf*0+qNaN in a fused multiply-add, sqrt of a negative). Compares,
//     FMIN and FMAX exit on any NaN input; conversions to integers exit on
//     x86's "integer indefinite" (NaN, overflow) and on results out of the
//     unsigned range.
//   - fflags as QEMU's hardfloat does it (fpu/softfloat.c, "hardfloat"):
//     when fflags.NX is already set and the result is normal (exponent
//     above the smallest normal's, below infinity), the only flag the
//     operation can raise is NX, already set, so the host instruction runs
//     alone. Otherwise the flags path clears MXCSR's exception flags
//     (LDMXCSR 0x1f80), does the operation again, reads them (STMXCSR) and
//     ORs them into fflags mapped IE->NV, ZE->DZ, OE->OF, UE->UF, PE->NX
//     (DE ignored: it says an input was subnormal, which RISC-V does not
//     flag). x86 detects tininess after rounding, as RISC-V does (and
//     SoftFloat's 8086-SSE and RISCV specializations: init_detectTininess
//     = softfloat_tininess_afterRounding), and with exceptions masked
//     raises UE only when the tiny result is also inexact (SDM vol. 1,
//     4.9.1.5), as IEEE 754 and RISC-V do; cpu/jit_fp_test.go checks both
//     on boundary operands.
//   - Singles: an input that is not NaN-boxed reads as the canonical NaN
//     (12.2), so the instruction exits; results are NaN-boxed.
//   - mstatus.FS: Off exits (the interpreter raises the illegal
//     instruction); made Dirty whenever an f register or fflags is
//     written, as setF32, setF64 and fflags do. Both once per block where
//     they can be (fpState).
//
// Translated: FADD, FSUB, FMUL, FDIV, FSQRT, FMADD, FMSUB, FNMSUB, FNMADD
// (when the host has FMA3), FSGNJ/N/X, FMIN, FMAX, FEQ, FLT, FLE, FCVT
// between the formats and to and from integers, FMV.X.* and FMV.*.X,
// FCLASS, each in S and D; conversions to integers also under RTZ, RDN and
// RUP (static rm). Other rounding modes are interpreted.

var (
	offFflags = int32(unsafe.Offsetof(Hart{}.csr) + unsafe.Offsetof(csrFile{}.fflags))
	offFrm    = int32(unsafe.Offsetof(Hart{}.csr) + unsafe.Offsetof(csrFile{}.frm))
)

// fpScratch is where STMXCSR and LDMXCSR go through: the x0 write sink,
// which holds nothing.
var fpScratch = xmem(zeroSink)

const mxcsrDefault = 0x1f80

// mxcsrFflags maps MXCSR's exception flags (bits 0-5: IE, DE, ZE, OE, UE,
// PE) to fflags (NX 0, UF 1, OF 2, DZ 3, NV 4).
var mxcsrFflags = func() (t [64]uint8) {
	for i := range t {
		var f uint8
		if i&1 != 0 {
			f |= 1 << 4 // IE -> NV
		}
		if i&4 != 0 {
			f |= 1 << 3 // ZE -> DZ
		}
		if i&8 != 0 {
			f |= 1 << 2 // OE -> OF
		}
		if i&16 != 0 {
			f |= 1 << 1 // UE -> UF
		}
		if i&32 != 0 {
			f |= 1 // PE -> NX
		}
		t[i] = f
	}
	return
}()

// fpState is what the FP instructions emitted so far in a block have
// established for the ones after them (a block runs straight from its
// start; an instruction that exits ends it): FS is not Off, frm is 0, FS is
// Dirty. Nothing else in a block changes mstatus or frm.
type fpState struct {
	fsOn, frm0, dirty bool
}

// fpSlow emits a jump on c to the exit to the interpreter at pc.
func (e *emitter) fpSlow(c x64.Cond, pc uint64) {
	e.slow = append(e.slow, slowExit{at: e.a.Jcc(c), pc: pc, k: e.n})
}

// fpRNE tells whether instruction d may run translated under
// round-to-nearest-even: rm 000, or DYN (then it emits the run-time check
// of frm, exiting when it is not 0).
func (e *emitter) fpRNE(d *dinst, pc uint64) bool {
	switch d.aux {
	case 0:
		return true
	case 7:
		if !e.fp.frm0 {
			e.a.AluImm(x64.S64, x64.Cmp, x64.M(x64.RBX, offFrm), 0)
			e.fpSlow(x64.CondNE, pc)
			e.fp.frm0 = true
		}
		return true
	}
	return false
}

// fpBoxed exits unless f register i holds a NaN-boxed single.
func (e *emitter) fpBoxed(i uint8, pc uint64) {
	e.a.AluImm(x64.S32, x64.Cmp, x64.M(x64.RBX, offF+8*int32(i&31)+4), -1)
	e.fpSlow(x64.CondNE, pc)
}

// fpDirty makes mstatus.FS Dirty, unless an earlier instruction of the
// block did.
func (e *emitter) fpDirty() {
	if !e.fp.dirty {
		e.a.AluImm(x64.S64, x64.Or, x64.M(x64.RBX, offMstat), mstatusFS)
		e.fp.dirty = true
	}
}

// fpSetF writes XMM0 to f register rd (NaN-boxed if single) and makes FS
// Dirty.
func (e *emitter) fpSetF(size int, rd uint8) {
	a := &e.a
	a.FStore(size, fr(rd), x64.X0)
	if size == x64.S32 {
		a.StoreImm(x64.S32, x64.M(x64.RBX, offF+8*int32(rd&31)+4), -1)
	}
	e.fpDirty()
}

// fpSetX writes host register r to integer register rd (x0: nowhere).
func (e *emitter) fpSetX(rd uint8, r x64.Reg) {
	if rd == 0 {
		rd = zeroSink
	}
	e.setX(rd, r)
}

// fpFlags ORs the exception flags STMXCSR left in fpScratch into fflags,
// making FS Dirty when there are any. It clobbers RAX and RCX.
func (e *emitter) fpFlags() {
	a := &e.a
	a.Load(x64.S32, x64.RAX, fpScratch)
	a.AluImm(x64.S32, x64.And, x64.R(x64.RAX), 0x3d) // not DE
	a.MovImm(x64.RCX, uint64(uintptr(unsafe.Pointer(&mxcsrFflags[0]))))
	a.Load(x64.S8, x64.RCX, x64.MI(x64.RCX, x64.RAX, 1, 0))
	a.Test(x64.S32, x64.R(x64.RCX), x64.RCX)
	j := a.Jcc(x64.CondE)
	a.AluMR(x64.S64, x64.Or, x64.M(x64.RBX, offFflags), x64.RCX)
	if !e.fp.dirty { // conditional: e.fp.dirty stays as it is
		a.AluImm(x64.S64, x64.Or, x64.M(x64.RBX, offMstat), mstatusFS)
	}
	a.Patch(j, a.Len())
}

// fpTwoPaths emits an operation twice: op alone when fflags.NX is set and
// fast (emitted after op, returning jumps) does not send it to the flags
// path; else op between clearing and reading MXCSR's flags, then flagged
// (checks that may exit before fflags changes), then fpFlags. op must not
// touch the guest register cache (e.src, e.setX): operands it needs from
// x registers are loaded before.
//
// With dirty, the fast path also needs FS Dirty already: for an
// instruction that writes no f register, raising NX makes FS Dirty.
func (e *emitter) fpTwoPaths(op func(), fast func() []int, flagged func(), dirty bool) {
	a := &e.a
	a.TestByte(x64.M(x64.RBX, offFflags), 1) // NX
	toFlags := []int{a.Jcc(x64.CondE)}
	if dirty && !e.fp.dirty {
		a.Load(x64.S32, x64.RCX, x64.M(x64.RBX, offMstat))
		a.AluImm(x64.S32, x64.And, x64.R(x64.RCX), mstatusFS)
		a.AluImm(x64.S32, x64.Cmp, x64.R(x64.RCX), mstatusFS)
		toFlags = append(toFlags, a.Jcc(x64.CondNE))
	}
	op()
	if fast != nil {
		toFlags = append(toFlags, fast()...)
	}
	done := a.Jmp()
	for _, j := range toFlags {
		a.Patch(j, a.Len())
	}
	a.StoreImm(x64.S32, fpScratch, mxcsrDefault)
	a.Ldmxcsr(fpScratch)
	op()
	a.Stmxcsr(fpScratch)
	if flagged != nil {
		flagged()
	}
	e.fpFlags()
	a.Patch(done, a.Len())
}

// fpNormal emits the fast path's test of XMM0: a jump (returned) unless
// its exponent is above the smallest normal's and below infinity's, that
// is unless the result cannot be zero, subnormal, tiny, infinite or NaN.
func (e *emitter) fpNormal(size int) []int {
	a := &e.a
	inf := e.fpExponent(size)
	a.AluImm(x64.S32, x64.Sub, x64.R(x64.RAX), 2)
	a.AluImm(x64.S32, x64.Cmp, x64.R(x64.RAX), inf-2)
	return []int{a.Jcc(x64.CondAE)}
}

// fpExponent moves XMM0's biased exponent into EAX and returns the
// exponent of infinity and NaN (all ones) for size.
func (e *emitter) fpExponent(size int) int32 {
	a := &e.a
	shift, inf := uint8(53), int32(0x7ff) // binary64: 52 fraction bits
	if size == x64.S32 {
		shift, inf = 24, 0xff // binary32: 23
	}
	a.MovFromX(size, x64.R(x64.RAX), x64.X0)
	a.ShiftImm(size, x64.Shl, x64.RAX, 1) // drop the sign
	a.ShiftImm(size, x64.Shr, x64.RAX, shift)
	return inf
}

// fpFinite is fpNormal for FADD, FSUB and FSQRT, which never raise UF: a
// sum or difference below the smallest normal is exact (both operands are
// multiples of the smallest subnormal), and a square root is never tiny
// (that of the smallest subnormal, 2^-537 or 2^-74.5, is normal). Zeros
// and subnormals stay on the fast path; infinities and NaNs go to the
// flags path.
func (e *emitter) fpFinite(size int) []int {
	inf := e.fpExponent(size)
	e.a.AluImm(x64.S32, x64.Cmp, x64.R(x64.RAX), inf)
	return []int{e.a.Jcc(x64.CondE)}
}

// fpNaNExit exits when XMM0 is a NaN.
func (e *emitter) fpNaNExit(size int, pc uint64) {
	e.a.Ucomi(size, x64.X0, x64.X(x64.X0))
	e.fpSlow(x64.CondP, pc)
}

// fpArith emits the FP instructions other than loads and stores; false
// means not translated (nothing emitted).
func (e *emitter) fpArith(d *dinst, pc uint64) bool {
	a := &e.a
	fn := d.fn &^ fpD
	size := x64.S32
	if d.fn&fpD != 0 {
		size = x64.S64
	}
	single := size == x64.S32
	// Decide before emitting anything. rounds: the rm field matters
	// (RNE only, or RTZ too for the conversions to integers); exact: it
	// does not (FCVT.D.S, FCVT.D.W, FCVT.D.WU), but DYN with a reserved
	// frm still raises an illegal instruction.
	rounds, exact := false, false
	switch fn {
	case fpMADD, fpMSUB, fpNMSUB, fpNMADD:
		if !x64.HasFMA {
			return false
		}
		rounds = true
	case fpADD, fpSUB, fpMUL, fpDIV, fpSQRT:
		rounds = true
	case fpCVTFF:
		exact = !single
		rounds = !exact
	case fpCVTFI:
		exact = !single && d.rs2&3 <= 1
		rounds = !exact
	case fpCVTIF:
		switch d.aux {
		case 1: // RTZ: CVTT*
		case 2, 3: // RDN, RUP: ROUNDS* first
			if !x64.HasSSE41 {
				return false
			}
		default:
			rounds = true
		}
	case fpSGNJ, fpSGNJN, fpSGNJX, fpMIN, fpMAX, fpLE, fpLT, fpEQ, fpMVXF, fpMVFX, fpCLASS:
	default:
		return false
	}
	if rounds && d.aux != 0 && d.aux != 7 || exact && d.aux > 4 && d.aux != 7 {
		return false
	}
	if !e.fp.fsOn {
		e.fpCheck(pc)
		e.fp.fsOn = true
	}
	if (rounds || exact) && d.aux == 7 {
		e.fpRNE(d, pc) // frm 0; other valid modes are left to the interpreter
	}
	if single {
		switch fn {
		case fpMADD, fpMSUB, fpNMSUB, fpNMADD:
			e.fpBoxed(d.rs1, pc)
			e.fpBoxed(d.rs2, pc)
			e.fpBoxed(d.rs3, pc)
		case fpADD, fpSUB, fpMUL, fpDIV, fpSGNJ, fpSGNJN, fpSGNJX, fpMIN, fpMAX, fpLE, fpLT, fpEQ:
			e.fpBoxed(d.rs1, pc)
			e.fpBoxed(d.rs2, pc)
		case fpSQRT, fpCVTIF, fpCLASS:
			e.fpBoxed(d.rs1, pc)
		}
	} else if fn == fpCVTFF {
		e.fpBoxed(d.rs1, pc) // FCVT.D.S reads a single
	}
	switch fn {
	case fpADD, fpSUB, fpMUL, fpDIV, fpSQRT:
		hop := [...]x64.FOp{x64.FAdd, x64.FSub, x64.FMul, x64.FDiv, x64.FSqrt}[fn-fpADD]
		op := func() {
			if fn == fpSQRT {
				a.FArith(size, hop, x64.X0, fr(d.rs1))
				return
			}
			a.FLoad(size, x64.X0, fr(d.rs1))
			a.FArith(size, hop, x64.X0, fr(d.rs2))
		}
		fast := func() []int { return e.fpNormal(size) }
		if fn != fpMUL && fn != fpDIV {
			fast = func() []int { return e.fpFinite(size) }
		}
		e.fpTwoPaths(op, fast, func() { e.fpNaNExit(size, pc) }, false)
		e.fpSetF(size, d.rd)
	case fpMADD, fpMSUB, fpNMSUB, fpNMADD:
		// RISC-V's FNMSUB is -(a*b)+c, x86's VFNMADD; FNMADD is
		// -(a*b)-c, VFNMSUB.
		hop := [...]x64.FMAOp{x64.VFMAdd, x64.VFMSub, x64.VFNMAdd, x64.VFNMSub}[fn-fpMADD]
		op := func() {
			a.FLoad(size, x64.X0, fr(d.rs3))
			a.FLoad(size, x64.X1, fr(d.rs1))
			a.FMA(size, hop, x64.X0, x64.X1, fr(d.rs2))
		}
		e.fpTwoPaths(op, func() []int { return e.fpNormal(size) }, func() { e.fpNaNExit(size, pc) }, false)
		e.fpSetF(size, d.rd)
	case fpCVTFF:
		if single { // FCVT.S.D: rounds
			op := func() { a.CvtFF(x64.S32, x64.X0, fr(d.rs1)) }
			e.fpTwoPaths(op, func() []int { return e.fpNormal(x64.S32) }, func() { e.fpNaNExit(x64.S32, pc) }, false)
		} else { // FCVT.D.S: exact, no flags but for a NaN
			a.CvtFF(x64.S64, x64.X0, fr(d.rs1))
			e.fpNaNExit(x64.S64, pc)
		}
		e.fpSetF(size, d.rd)
	case fpSGNJ, fpSGNJN, fpSGNJX:
		e.fpSgnj(d, size, fn)
	case fpMIN, fpMAX:
		// x86 returns the second operand for a NaN or two zeros: NaNs
		// exit, equal operands (the same value, or zeros of either sign)
		// give a|b (min) or a&b (max) bitwise.
		a.FLoad(size, x64.X0, fr(d.rs1))
		a.Ucomi(size, x64.X0, fr(d.rs2))
		e.fpSlow(x64.CondP, pc)
		eq := a.Jcc(x64.CondE)
		hop, bop := x64.FMin, x64.Or
		if fn == fpMAX {
			hop, bop = x64.FMax, x64.And
		}
		a.FArith(size, hop, x64.X0, fr(d.rs2))
		done := a.Jmp()
		a.Patch(eq, a.Len())
		a.MovFromX(size, x64.R(x64.RAX), x64.X0)
		a.Alu(size, bop, x64.RAX, fr(d.rs2))
		a.MovToX(size, x64.X0, x64.R(x64.RAX))
		a.Patch(done, a.Len())
		e.fpSetF(size, d.rd)
	case fpEQ, fpLT, fpLE:
		// No flags unless an operand is a NaN (then exit): FEQ is the
		// quiet UCOMIS, FLT and FLE are b > a and b >= a.
		a.Alu(x64.S32, x64.Xor, x64.RCX, x64.R(x64.RCX))
		if fn == fpEQ {
			a.FLoad(size, x64.X0, fr(d.rs1))
			a.Ucomi(size, x64.X0, fr(d.rs2))
		} else {
			a.FLoad(size, x64.X0, fr(d.rs2))
			a.Comi(size, x64.X0, fr(d.rs1))
		}
		e.fpSlow(x64.CondP, pc)
		a.Setcc([...]x64.Cond{x64.CondAE, x64.CondA, x64.CondE}[fn-fpLE], x64.RCX)
		e.fpSetX(d.rd, x64.RCX)
	case fpCVTIF:
		e.fpToInt(d, size, pc)
	case fpCVTFI:
		e.fpFromInt(d, size, pc)
	case fpMVXF:
		if single {
			a.LoadSX(x64.S32, x64.RAX, fr(d.rs1))
		} else {
			a.Load(x64.S64, x64.RAX, fr(d.rs1))
		}
		e.fpSetX(d.rd, x64.RAX)
	case fpCLASS:
		e.fpClass(d, size)
	case fpMVFX:
		a.Load(x64.S64, x64.RAX, e.src(d.rs1))
		if single {
			a.Store(x64.S32, fr(d.rd), x64.RAX)
			a.StoreImm(x64.S32, x64.M(x64.RBX, offF+8*int32(d.rd&31)+4), -1)
		} else {
			a.Store(x64.S64, fr(d.rd), x64.RAX)
		}
		e.fpDirty()
	}
	return true
}

// fpSgnj is FSGNJ, FSGNJN and FSGNJX in integer registers.
func (e *emitter) fpSgnj(d *dinst, size int, fn uint8) {
	a := &e.a
	a.Load(size, x64.RAX, fr(d.rs1))
	if !(fn == fpSGNJ && d.rs1 == d.rs2) { // not FMV
		a.Load(size, x64.RCX, fr(d.rs2))
		switch fn {
		case fpSGNJN:
			a.Unary(size, x64.Not, x64.R(x64.RCX))
		case fpSGNJX:
			a.Alu(size, x64.Xor, x64.RCX, x64.R(x64.RAX))
		}
		bits := uint8(8*size - 1)
		a.ShiftImm(size, x64.Shr, x64.RCX, bits) // the sign
		a.ShiftImm(size, x64.Shl, x64.RCX, bits)
		a.ShiftImm(size, x64.Shl, x64.RAX, 1) // the rest
		a.ShiftImm(size, x64.Shr, x64.RAX, 1)
		a.Alu(size, x64.Or, x64.RAX, x64.R(x64.RCX))
	}
	a.Store(size, fr(d.rd), x64.RAX)
	if size == x64.S32 {
		a.StoreImm(x64.S32, x64.M(x64.RBX, offF+8*int32(d.rd&31)+4), -1)
	}
	e.fpDirty()
}

// fpToInt is FCVT.W/WU/L/LU.S/D: CVTT* for RTZ, CVT* (MXCSR's RNE) for
// RNE, and for RDN and RUP ROUNDS* to an integral value (raising PE when
// inexact; the rest is exact) then CVTT*. Results x86 does not give as
// RISC-V does exit: the integer
// indefinite (NaN, overflow; also the legitimate most negative value,
// which the interpreter then gives), and for the unsigned types anything
// negative (a value in (-1, 0) truncates or rounds to 0 with NX only, as
// in RISC-V) or above the range. The only flag left is NX.
func (e *emitter) fpToInt(d *dinst, size int, pc uint64) {
	a := &e.a
	trunc := d.aux == 1 || d.aux == 2 || d.aux == 3
	typ := d.rs2 & 3 // W, WU, L, LU
	op := func() {
		src := fr(d.rs1)
		if d.aux == 2 || d.aux == 3 {
			a.Round(size, [...]uint8{x64.RoundDown, x64.RoundUp}[d.aux-2], x64.X0, src)
			src = x64.X(x64.X0)
		}
		switch typ {
		case 0:
			a.CvtFI(size, x64.S32, trunc, x64.RAX, src)
			a.AluImm(x64.S32, x64.Cmp, x64.R(x64.RAX), 1) // overflows only for 0x80000000
			e.fpSlow(x64.CondO, pc)
			a.Movsxd(x64.RAX, x64.RAX)
		case 1:
			a.CvtFI(size, x64.S64, trunc, x64.RAX, src)
			a.Mov(x64.S64, x64.RCX, x64.RAX)
			a.ShiftImm(x64.S64, x64.Shr, x64.RCX, 32)
			e.fpSlow(x64.CondNE, pc)
			a.Movsxd(x64.RAX, x64.RAX) // FCVT.WU sign-extends its 32 bits
		case 2:
			a.CvtFI(size, x64.S64, trunc, x64.RAX, src)
			a.AluImm(x64.S64, x64.Cmp, x64.R(x64.RAX), 1)
			e.fpSlow(x64.CondO, pc)
		default:
			a.CvtFI(size, x64.S64, trunc, x64.RAX, src)
			a.Test(x64.S64, x64.R(x64.RAX), x64.RAX)
			e.fpSlow(x64.CondS, pc)
		}
	}
	// The result waits in RSI while fpFlags uses RAX and RCX.
	e.fpTwoPaths(func() { op(); a.Mov(x64.S64, x64.RSI, x64.RAX) }, nil, nil, true)
	e.fpSetX(d.rd, x64.RSI)
}

// fpFromInt is FCVT.S/D.W/WU/L/LU: CVTSI2S*, from a 64-bit register for
// WU (zero-extended) and for LU when the top bit is clear (else exit).
// Only NX can arise (none at all for W and WU to double).
func (e *emitter) fpFromInt(d *dinst, size int, pc uint64) {
	a := &e.a
	typ := d.rs2 & 3
	switch typ {
	case 0:
		a.Load(x64.S64, x64.RSI, e.src(d.rs1))
	case 1:
		a.Load(x64.S32, x64.RSI, e.src(d.rs1)) // zero-extends
	case 2:
		a.Load(x64.S64, x64.RSI, e.src(d.rs1))
	default:
		a.Load(x64.S64, x64.RSI, e.src(d.rs1))
		a.Test(x64.S64, x64.R(x64.RSI), x64.RSI)
		e.fpSlow(x64.CondS, pc)
	}
	isize := x64.S64
	if typ == 0 {
		isize = x64.S32
	}
	op := func() { a.CvtIF(size, isize, x64.X0, x64.R(x64.RSI)) }
	if size == x64.S64 && typ <= 1 {
		op() // exact
	} else {
		e.fpTwoPaths(op, nil, nil, false)
	}
	e.fpSetF(size, d.rd)
}

// fpClass is FCLASS.S/D in integer registers: the class index k of the
// result 1<<k (unprivileged spec, table "Format of result of FCLASS") is
// 8 or 9 for a signaling or quiet NaN and otherwise, by kind (infinity 0,
// normal 1, subnormal 2, zero 3), the kind for a negative value and 7
// minus it for a positive one. The kind comes from the magnitude shifted
// left by one (sign dropped), compared with the smallest normal's and
// infinity's.
func (e *emitter) fpClass(d *dinst, size int) {
	a := &e.a
	bits := uint8(8 * size)
	mant := uint8(52) // the fraction's width
	if size == x64.S32 {
		mant = 23
	}
	a.Load(size, x64.RAX, fr(d.rs1))
	a.Mov(x64.S64, x64.RCX, x64.RAX)
	a.ShiftImm(size, x64.Shl, x64.RCX, 1)
	a.MovImm(x64.RSI, 3) // zero
	jZero := a.Jcc(x64.CondE)
	a.MovImm(x64.RDX, 1<<(mant+1))
	a.Alu(size, x64.Cmp, x64.RCX, x64.R(x64.RDX))
	a.MovImm(x64.RSI, 2) // subnormal (MOV keeps the flags)
	jSub := a.Jcc(x64.CondB)
	a.MovImm(x64.RDX, (1<<(bits-mant)-2)<<mant) // infinity<<1, in size bits
	a.Alu(size, x64.Cmp, x64.RCX, x64.R(x64.RDX))
	a.MovImm(x64.RSI, 1) // normal
	jNormal := a.Jcc(x64.CondB)
	jNaN := a.Jcc(x64.CondA)
	a.MovImm(x64.RSI, 0) // infinity
	// The kinds: 7-k for a positive value.
	a.Patch(jZero, a.Len())
	a.Patch(jSub, a.Len())
	a.Patch(jNormal, a.Len())
	a.Test(size, x64.R(x64.RAX), x64.RAX)
	jNeg := a.Jcc(x64.CondS)
	a.Unary(x64.S32, x64.Neg, x64.R(x64.RSI))
	a.AluImm(x64.S32, x64.Add, x64.R(x64.RSI), 7)
	a.Patch(jNeg, a.Len())
	a.Mov(x64.S32, x64.RCX, x64.RSI)
	done := a.Jmp()
	// NaN: 9 if the fraction's top bit (quiet) is set, else 8.
	a.Patch(jNaN, a.Len())
	a.Mov(x64.S64, x64.RCX, x64.RAX)
	a.ShiftImm(x64.S64, x64.Shr, x64.RCX, mant-1)
	a.AluImm(x64.S32, x64.And, x64.R(x64.RCX), 1)
	a.AluImm(x64.S32, x64.Add, x64.R(x64.RCX), 8)
	a.Patch(done, a.Len())
	a.MovImm(x64.RAX, 1)
	a.ShiftCL(x64.S32, x64.Shl, x64.RAX)
	e.fpSetX(d.rd, x64.RAX)
}
