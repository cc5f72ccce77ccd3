// Package softfloat implements IEEE 754-2008 binary32 and binary64 arithmetic
// with integer operations only, following the rules of the RISC-V F and D
// extensions (RISC-V Unprivileged ISA, chapters "F" and "D"):
//
//   - five rounding modes (frm encoding RNE, RTZ, RDN, RUP, RMM);
//   - exact accrued exception flags (fflags NX, UF, OF, DZ, NV);
//   - tininess is detected after rounding, and UF is raised only when the
//     result is both tiny and inexact (F chapter, "Floating-Point Control and
//     Status Register");
//   - every NaN result is the canonical NaN (F chapter, "NaN Generation and
//     Propagation"); signaling NaN inputs raise NV.
//
// Values are passed as raw bit patterns: binary64 in a uint64, binary32 in a
// uint32. Go cannot read the host FPU flags or change its rounding mode, so no
// host floating-point arithmetic is used on the result path.
//
// Internally every finite non-zero operand is unpacked into a sign, an
// unbiased exponent and a 64-bit significand whose bit 63 is the leading one
// (value = sig * 2^(exp-63)). The operations compute a significand that keeps
// enough extra bits (plus a "sticky" bit that records any non-zero bits that
// were shifted out) and hand it to format.roundPack, which performs the single
// IEEE rounding for the destination format.
package softfloat

import "math/bits"

// RoundingMode is a RISC-V frm encoding. Values above RMM are reserved; the
// hart must trap on them before calling this package (they round like RNE).
type RoundingMode uint8

// Rounding modes, RISC-V Unprivileged ISA, F chapter, table "Rounding mode
// encoding".
const (
	RNE RoundingMode = 0 // round to nearest, ties to even
	RTZ RoundingMode = 1 // round towards zero
	RDN RoundingMode = 2 // round down (towards -infinity)
	RUP RoundingMode = 3 // round up (towards +infinity)
	RMM RoundingMode = 4 // round to nearest, ties to max magnitude (away from zero)
)

// Flags is a set of RISC-V fflags bits (F chapter, "Accrued exception flag
// encoding").
type Flags uint8

// Exception flags.
const (
	NX Flags = 1  // inexact
	UF Flags = 2  // underflow
	OF Flags = 4  // overflow
	DZ Flags = 8  // divide by zero
	NV Flags = 16 // invalid operation
)

// Canonical NaNs (F chapter, "NaN Generation and Propagation").
const (
	F64NaN uint64 = 0x7ff8000000000000
	F32NaN uint32 = 0x7fc00000
)

// format describes one IEEE binary interchange format.
type format struct {
	fracBits uint   // trailing significand bits: 52 or 23
	signBit  uint   // position of the sign bit: 63 or 31
	expMax   int    // all-ones biased exponent: 2047 or 255
	bias     int    // 1023 or 127
	nan      uint64 // canonical NaN
}

var (
	fmt64 = format{fracBits: 52, signBit: 63, expMax: 2047, bias: 1023, nan: F64NaN}
	fmt32 = format{fracBits: 23, signBit: 31, expMax: 255, bias: 127, nan: uint64(F32NaN)}
)

type class uint8

const (
	cZero class = iota
	cFinite
	cInf
	cQNaN
	cSNaN
)

// unpacked is a decoded operand. For cFinite, sig has bit 63 set and the
// value is (-1)^sign * sig * 2^(exp-63); subnormals are normalised.
type unpacked struct {
	sign bool
	cls  class
	exp  int
	sig  uint64
}

func (u unpacked) isNaN() bool { return u.cls >= cQNaN }

func (f *format) unpack(x uint64) (u unpacked) {
	u.sign = x>>f.signBit&1 != 0
	e := int(x>>f.fracBits) & f.expMax
	frac := x & (1<<f.fracBits - 1)
	switch {
	case e == f.expMax:
		switch {
		case frac == 0:
			u.cls = cInf
		case frac>>(f.fracBits-1) != 0:
			u.cls = cQNaN
		default:
			u.cls = cSNaN
		}
	case e == 0:
		if frac == 0 {
			u.cls = cZero
			return
		}
		// Subnormal: value = frac * 2^(1-bias-fracBits).
		lz := bits.LeadingZeros64(frac)
		u.cls = cFinite
		u.sig = frac << lz
		u.exp = 64 - f.bias - int(f.fracBits) - lz
	default:
		u.cls = cFinite
		u.sig = (frac | 1<<f.fracBits) << (63 - f.fracBits)
		u.exp = e - f.bias
	}
	return
}

func (f *format) signMask(neg bool) uint64 {
	if neg {
		return 1 << f.signBit
	}
	return 0
}

func (f *format) zero(neg bool) uint64 { return f.signMask(neg) }

func (f *format) inf(neg bool) uint64 {
	return f.signMask(neg) | uint64(f.expMax)<<f.fracBits
}

// nanFlags is NV if any operand is a signaling NaN.
func nanFlags(us ...unpacked) Flags {
	for _, u := range us {
		if u.cls == cSNaN {
			return NV
		}
	}
	return 0
}

// shiftRightJam shifts x right by n bits and ORs every bit shifted out into
// bit 0 (the sticky bit).
func shiftRightJam(x uint64, n uint) uint64 {
	switch {
	case n == 0:
		return x
	case n >= 64:
		if x != 0 {
			return 1
		}
		return 0
	}
	r := x >> n
	if x<<(64-n) != 0 {
		r |= 1
	}
	return r
}

// shiftRightJam128 is shiftRightJam for the 128-bit value hi:lo.
func shiftRightJam128(hi, lo uint64, n uint) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n < 64:
		sticky := lo<<(64-n) != 0
		lo = hi<<(64-n) | lo>>n
		hi >>= n
		if sticky {
			lo |= 1
		}
		return hi, lo
	case n < 128:
		sticky := lo != 0 || hi<<(128-n) != 0
		lo = hi >> (n - 64)
		if sticky {
			lo |= 1
		}
		return 0, lo
	}
	if hi|lo != 0 {
		return 0, 1
	}
	return 0, 0
}

// roundUp reports whether a magnitude whose kept part ends in lsb and whose
// discarded part is rb (compared against half, the weight of half an ulp) must
// be incremented under rm. IEEE 754-2008 section 4.3.
func roundUp(rm RoundingMode, neg bool, lsb, rb, half uint64) bool {
	switch rm {
	case RTZ:
		return false
	case RDN:
		return neg && rb != 0
	case RUP:
		return !neg && rb != 0
	case RMM:
		return rb >= half
	default: // RNE
		return rb > half || rb == half && lsb&1 != 0
	}
}

// overflow returns the result of an overflowing operation (IEEE 754-2008
// section 7.4): infinity, or the largest finite number when rm rounds towards
// zero for that sign.
func (f *format) overflow(neg bool, rm RoundingMode) (uint64, Flags) {
	inf := uint64(f.expMax) << f.fracBits
	r := inf
	switch rm {
	case RTZ:
		r = inf - 1
	case RDN:
		if !neg {
			r = inf - 1
		}
	case RUP:
		if neg {
			r = inf - 1
		}
	}
	return f.signMask(neg) | r, OF | NX
}

// roundPack rounds (-1)^neg * sig * 2^(exp-63) to format f under rm. sig must
// have bit 63 set; its low bits carry any sticky information.
func (f *format) roundPack(neg bool, exp int, sig uint64, rm RoundingMode) (uint64, Flags) {
	shift := 63 - f.fracBits // discarded bits for a normal result
	mask := uint64(1)<<shift - 1
	half := uint64(1) << (shift - 1)
	s := f.signMask(neg)
	e := exp + f.bias // biased exponent of the leading bit
	if e >= f.expMax {
		return f.overflow(neg, rm)
	}
	if e <= 0 {
		// The unrounded result is below the normal range. RISC-V detects
		// tininess after rounding: the result is tiny unless rounding it
		// to full precision with an unbounded exponent reaches 2^emin,
		// which can only happen for e == 0 with an all-ones significand.
		tiny := true
		if e == 0 {
			m := sig >> shift
			tiny = !(m == 1<<(f.fracBits+1)-1 && roundUp(rm, neg, m, sig&mask, half))
		}
		sig = shiftRightJam(sig, uint(1-e))
		m := sig >> shift
		rb := sig & mask
		var fl Flags
		if rb != 0 {
			fl = NX
			if tiny {
				fl |= UF
			}
		}
		if roundUp(rm, neg, m, rb, half) {
			m++ // may carry into the exponent field: the smallest normal
		}
		return s | m, fl
	}
	m := sig >> shift
	rb := sig & mask
	var fl Flags
	if rb != 0 {
		fl = NX
	}
	if roundUp(rm, neg, m, rb, half) {
		m++
	}
	// m includes the implicit bit, which adds one to the exponent field; a
	// carry out of the significand adds one more.
	r := uint64(e-1)<<f.fracBits + m
	if r >= uint64(f.expMax)<<f.fracBits {
		return f.overflow(neg, rm)
	}
	return s | r, fl
}

// normRoundPack is roundPack for a non-zero sig that may have leading zeros.
func (f *format) normRoundPack(neg bool, exp int, sig uint64, rm RoundingMode) (uint64, Flags) {
	lz := bits.LeadingZeros64(sig)
	return f.roundPack(neg, exp-lz, sig<<lz, rm)
}
