package softfloat

import (
	"math"
	"math/bits"
)

// add computes a + b (or a - b when negB) in format f. IEEE 754-2008 6.3: an
// exact zero sum of operands with opposite signs is +0, or -0 under RDN.
func (f *format) add(a, b uint64, negB bool, rm RoundingMode) (uint64, Flags) {
	ua, ub := f.unpack(a), f.unpack(b)
	if negB {
		ub.sign = !ub.sign
		b ^= 1 << f.signBit
	}
	if ua.isNaN() || ub.isNaN() {
		return f.nan, nanFlags(ua, ub)
	}
	if ua.cls == cInf {
		if ub.cls == cInf && ua.sign != ub.sign {
			return f.nan, NV
		}
		return a, 0
	}
	if ub.cls == cInf {
		return b, 0
	}
	if ua.cls == cZero {
		if ub.cls == cZero && ua.sign != ub.sign {
			return f.zero(rm == RDN), 0
		}
		return b, 0
	}
	if ub.cls == cZero {
		return a, 0
	}
	// Move the leading one to bit 62 to leave room for a carry; the low
	// bits of an unpacked significand are zero, so this is exact.
	sa, sb := ua.sig>>1, ub.sig>>1
	if ua.exp < ub.exp || ua.exp == ub.exp && sa < sb {
		ua, ub = ub, ua
		sa, sb = sb, sa
	}
	// At least 10 bits remain below a binary64 significand, so the sticky
	// bit of the aligned smaller operand never reaches the rounding position.
	sb = shiftRightJam(sb, uint(ua.exp-ub.exp))
	var sig uint64
	if ua.sign == ub.sign {
		sig = sa + sb
	} else {
		sig = sa - sb
		if sig == 0 {
			return f.zero(rm == RDN), 0
		}
	}
	return f.normRoundPack(ua.sign, ua.exp+1, sig, rm)
}

// mul computes a * b in format f.
func (f *format) mul(a, b uint64, rm RoundingMode) (uint64, Flags) {
	ua, ub := f.unpack(a), f.unpack(b)
	if ua.isNaN() || ub.isNaN() {
		return f.nan, nanFlags(ua, ub)
	}
	neg := ua.sign != ub.sign
	if ua.cls == cInf || ub.cls == cInf {
		if ua.cls == cZero || ub.cls == cZero {
			return f.nan, NV // IEEE 754-2008 7.2(b)
		}
		return f.inf(neg), 0
	}
	if ua.cls == cZero || ub.cls == cZero {
		return f.zero(neg), 0
	}
	// The exact product is in [2^126, 2^128).
	hi, lo := bits.Mul64(ua.sig, ub.sig)
	exp := ua.exp + ub.exp
	if hi>>63 == 0 {
		hi = hi<<1 | lo>>63
		lo <<= 1
	} else {
		exp++
	}
	if lo != 0 {
		hi |= 1
	}
	return f.roundPack(neg, exp, hi, rm)
}

// div computes a / b in format f.
func (f *format) div(a, b uint64, rm RoundingMode) (uint64, Flags) {
	ua, ub := f.unpack(a), f.unpack(b)
	if ua.isNaN() || ub.isNaN() {
		return f.nan, nanFlags(ua, ub)
	}
	neg := ua.sign != ub.sign
	switch {
	case ua.cls == cInf:
		if ub.cls == cInf {
			return f.nan, NV // IEEE 754-2008 7.2(e)
		}
		return f.inf(neg), 0
	case ub.cls == cInf:
		return f.zero(neg), 0
	case ub.cls == cZero:
		if ua.cls == cZero {
			return f.nan, NV
		}
		return f.inf(neg), DZ // IEEE 754-2008 7.3
	case ua.cls == cZero:
		return f.zero(neg), 0
	}
	// 64 quotient bits with the leading one at bit 63; the remainder
	// becomes the sticky bit.
	exp := ua.exp - ub.exp
	var q, r uint64
	if ua.sig < ub.sig {
		q, r = bits.Div64(ua.sig, 0, ub.sig)
		exp--
	} else {
		q, r = bits.Div64(ua.sig>>1, ua.sig<<63, ub.sig)
	}
	if r != 0 {
		q |= 1
	}
	return f.roundPack(neg, exp, q, rm)
}

// sqrt computes the square root of a in format f.
func (f *format) sqrt(a uint64, rm RoundingMode) (uint64, Flags) {
	ua := f.unpack(a)
	switch {
	case ua.isNaN():
		return f.nan, nanFlags(ua)
	case ua.cls == cZero:
		return a, 0 // sqrt(-0) = -0, IEEE 754-2008 5.4.1
	case ua.sign:
		return f.nan, NV
	case ua.cls == cInf:
		return a, 0
	}
	// value = sig * 2^(exp-63). Scale sig into a 128-bit radicand N with an
	// even exponent: the root of N then has its leading one at bit 63.
	var hi, lo uint64
	if ua.exp&1 == 0 {
		hi, lo = ua.sig>>1, ua.sig<<63
	} else {
		hi, lo = ua.sig, 0
	}
	r, exact := sqrt128(hi, lo)
	if !exact {
		r |= 1
	}
	return f.roundPack(false, ua.exp>>1, r, rm)
}

// sqrt128 returns floor(sqrt(hi:lo)) and whether it is exact, for a radicand
// of at least 2^126. A host float64 square root gives a first estimate that is
// only used as a starting point: one Newton step and an exact integer check
// follow, so the result does not depend on host rounding.
func sqrt128(hi, lo uint64) (uint64, bool) {
	est := math.Sqrt(float64(hi)*0x1p64 + float64(lo))
	var r uint64
	if est >= 0x1p64 {
		r = math.MaxUint64
	} else {
		r = uint64(est)
	}
	// Newton step r += (N - r^2) / 2r; the estimate is within about 2^12 of
	// the root, so the difference fits easily and Div64 cannot overflow.
	sh, sl := bits.Mul64(r, r)
	if cmp128(sh, sl, hi, lo) <= 0 {
		dl, b := bits.Sub64(lo, sl, 0)
		dh, _ := bits.Sub64(hi, sh, b)
		if dh < r {
			q, _ := bits.Div64(dh, dl, r)
			r += q / 2
		}
	} else {
		dl, b := bits.Sub64(sl, lo, 0)
		dh, _ := bits.Sub64(sh, hi, b)
		if dh < r {
			q, _ := bits.Div64(dh, dl, r)
			r -= q / 2
		}
	}
	// Exact correction.
	for {
		sh, sl = bits.Mul64(r, r)
		if cmp128(sh, sl, hi, lo) <= 0 {
			break
		}
		r--
	}
	for r != math.MaxUint64 {
		nh, nl := bits.Mul64(r+1, r+1)
		if cmp128(nh, nl, hi, lo) > 0 {
			break
		}
		r++
	}
	sh, sl = bits.Mul64(r, r)
	return r, sh == hi && sl == lo
}

func cmp128(ah, al, bh, bl uint64) int {
	switch {
	case ah < bh || ah == bh && al < bl:
		return -1
	case ah == bh && al == bl:
		return 0
	}
	return 1
}

// mulAdd computes a*b + c with a single rounding (IEEE 754-2008 5.4.1
// fusedMultiplyAdd). RISC-V raises NV for inf*0 even when c is a quiet NaN
// (F chapter, "Single-Precision Fused Multiply-Add Instructions").
func (f *format) mulAdd(a, b, c uint64, rm RoundingMode) (uint64, Flags) {
	ua, ub, uc := f.unpack(a), f.unpack(b), f.unpack(c)
	infTimesZero := ua.cls == cInf && ub.cls == cZero || ua.cls == cZero && ub.cls == cInf
	if ua.isNaN() || ub.isNaN() || uc.isNaN() {
		fl := nanFlags(ua, ub, uc)
		if infTimesZero {
			fl |= NV
		}
		return f.nan, fl
	}
	if infTimesZero {
		return f.nan, NV
	}
	pneg := ua.sign != ub.sign
	if ua.cls == cInf || ub.cls == cInf {
		if uc.cls == cInf && uc.sign != pneg {
			return f.nan, NV
		}
		return f.inf(pneg), 0
	}
	if uc.cls == cInf {
		return c, 0
	}
	if ua.cls == cZero || ub.cls == cZero {
		if uc.cls == cZero && uc.sign != pneg {
			return f.zero(rm == RDN), 0
		}
		if uc.cls == cZero {
			return f.zero(pneg), 0
		}
		return c, 0
	}
	// Exact product P with value P * 2^(pe-126); the low bits of P are
	// zero, so moving its leading one from bit 127/126 to 126/125 is exact
	// and leaves room for the carry of the addition.
	ph, pl := bits.Mul64(ua.sig, ub.sig)
	ph, pl = ph>>1, ph<<63|pl>>1
	pe := ua.exp + ub.exp + 1
	neg := pneg
	if uc.cls == cFinite {
		// C = sig << 63, value C * 2^(ce-126).
		ch, cl := uc.sig>>1, uc.sig<<63
		ce := uc.exp
		if pe >= ce {
			ch, cl = shiftRightJam128(ch, cl, uint(pe-ce))
		} else {
			ph, pl = shiftRightJam128(ph, pl, uint(ce-pe))
			pe = ce
		}
		if uc.sign == pneg {
			var carry uint64
			pl, carry = bits.Add64(pl, cl, 0)
			ph, _ = bits.Add64(ph, ch, carry)
		} else {
			var borrow uint64
			pl, borrow = bits.Sub64(pl, cl, 0)
			ph, borrow = bits.Sub64(ph, ch, borrow)
			if borrow != 0 { // |C| > |P|: negate
				pl, borrow = bits.Sub64(0, pl, 0)
				ph, _ = bits.Sub64(0, ph, borrow)
				neg = uc.sign
			}
			if ph|pl == 0 {
				return f.zero(rm == RDN), 0
			}
		}
	}
	// Normalise to bit 127 and fold the low word into the sticky bit.
	lz := bits.LeadingZeros64(ph)
	if ph == 0 {
		lz = 64 + bits.LeadingZeros64(pl)
	}
	switch {
	case lz >= 64:
		ph, pl = pl<<(lz-64), 0
	case lz > 0:
		ph, pl = ph<<lz|pl>>(64-lz), pl<<lz
	}
	if pl != 0 {
		ph |= 1
	}
	return f.roundPack(neg, pe+1-lz, ph, rm)
}
