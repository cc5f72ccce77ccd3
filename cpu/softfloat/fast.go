package softfloat

import "math"

// Fast paths. The host FPU always rounds to nearest-even and Go cannot read
// its flags, but for operands and results well inside the normal range the
// host result plus an exactly computed error term determines the correctly
// rounded result in every mode and its flags:
//
//   - binary64 (fast64): r = RNE(x) comes from the host and err = x - r (or a
//     value of the same sign) is computed exactly with an error-free
//     transformation: TwoSum for addition (Knuth, TAOCP vol. 2, 4.2.2), and
//     math.FMA for the product error a*b - r, the division remainder a - r*b
//     and the square-root remainder a - r*r. Those are exact floating-point
//     numbers when they cannot underflow, which the exponent guards ensure.
//     err == 0 means exact; otherwise NX, and a directed mode moves r one
//     ulp towards x when RNE chose the other neighbour. Overflow and
//     tininess cannot happen inside the guarded range.
//
//   - binary32 (fast32): the exact result x is first rounded to odd in
//     binary64 (53 >= 24+2 bits: the nearest-even host result, moved one ulp
//     towards x when it is inexact and even). Rounding that value to binary32
//     in any mode, including the subnormal range and tininess after rounding,
//     gives the same result and flags as rounding x itself (Boldo and
//     Melquiond, "Emulation of FMA and correctly rounded sums: proved
//     algorithms using rounding to odd", IEEE TC 2008), so format.roundPack
//     does the final rounding.
//
// Everything else (NaN, infinity, zero operands or results, extreme
// exponents) takes the integer path, which is the reference for these.

// fastPath can be switched off by tests to exercise the integer path alone.
var fastPath = true

const (
	expField64 = 0x7ff << 52
	// Results (and dividends, radicands) whose biased exponent is at least
	// minExpFast have error terms far above the subnormal range: the
	// smallest such error is a multiple of about 2^(e-106).
	minExpFast = 110 << 52
	maxExpFast = 2045 << 52 // one below the top binade: r can step up once
)

// twoSum returns s = RNE(a+b) and the exact error a+b-s.
func twoSum(a, b float64) (float64, float64) {
	s := a + b
	bb := s - a
	return s, (a - (s - bb)) + (b - bb)
}

// finish64 completes a fast binary64 operation. r is the host result, dir the
// sign of x - r (-1, 0, +1), tie whether x lies exactly half-way between r
// and its neighbour away from zero (only possible for add, sub and mul).
func finish64(r float64, dir int, tie bool, rm RoundingMode) (uint64, Flags) {
	rb := math.Float64bits(r)
	if dir == 0 {
		return rb, 0
	}
	away := (dir > 0) == (rb>>63 == 0) // x is farther from zero than r
	switch rm {
	case RTZ:
		if !away {
			rb--
		}
	case RDN:
		if dir < 0 {
			if away {
				rb++
			} else {
				rb--
			}
		}
	case RUP:
		if dir > 0 {
			if away {
				rb++
			} else {
				rb--
			}
		}
	case RMM:
		if tie && away {
			rb++
		}
	}
	return rb, NX
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// isTie reports whether |err| is half the distance from r to its neighbour
// away from zero.
func isTie(r, err float64) bool {
	rb := math.Float64bits(r)
	up := math.Float64frombits(rb + 1)
	return math.Abs(err)*2 == math.Abs(up-r)
}

// add64Fast handles a + b for binary64; ok is false when the integer path
// must be used.
func add64Fast(a, b uint64, rm RoundingMode) (r uint64, fl Flags, ok bool) {
	s, e := twoSum(math.Float64frombits(a), math.Float64frombits(b))
	if ef := math.Float64bits(s) & expField64; ef < 2<<52 || ef > maxExpFast {
		return 0, 0, false
	}
	tie := rm == RMM && e != 0 && isTie(s, e)
	r, fl = finish64(s, sign(e), tie, rm)
	return r, fl, true
}

func mul64Fast(a, b uint64, rm RoundingMode) (r uint64, fl Flags, ok bool) {
	fa, fb := math.Float64frombits(a), math.Float64frombits(b)
	p := fa * fb
	if ef := math.Float64bits(p) & expField64; ef < minExpFast || ef > maxExpFast {
		return 0, 0, false
	}
	e := math.FMA(fa, fb, -p)
	tie := rm == RMM && e != 0 && isTie(p, e)
	r, fl = finish64(p, sign(e), tie, rm)
	return r, fl, true
}

func div64Fast(a, b uint64, rm RoundingMode) (r uint64, fl Flags, ok bool) {
	if a&expField64 < minExpFast {
		return 0, 0, false
	}
	fa, fb := math.Float64frombits(a), math.Float64frombits(b)
	q := fa / fb
	if ef := math.Float64bits(q) & expField64; ef < minExpFast || ef > maxExpFast {
		return 0, 0, false
	}
	rem := math.FMA(-q, fb, fa) // exact; a/b - q has the sign of rem/b
	// A quotient of two binary64 numbers is never a midpoint: no ties.
	r, fl = finish64(q, sign(rem)*sign(fb), false, rm)
	return r, fl, true
}

func sqrt64Fast(a uint64, rm RoundingMode) (r uint64, fl Flags, ok bool) {
	if a&expField64 < minExpFast || a >= expField64 { // also rejects negatives
		return 0, 0, false
	}
	fa := math.Float64frombits(a)
	s := math.Sqrt(fa)
	rem := math.FMA(-s, s, fa) // exact; never a midpoint either
	r, fl = finish64(s, sign(rem), false, rm)
	return r, fl, true
}

// roundOdd64 returns x rounded to odd, given s = RNE(x) and dir = sign(x-s).
func roundOdd64(s float64, dir int) uint64 {
	sb := math.Float64bits(s)
	if dir == 0 || sb&1 != 0 {
		return sb
	}
	if (dir > 0) == (sb>>63 == 0) {
		return sb + 1
	}
	return sb - 1
}

// finish32 rounds the binary64 value y (exact or rounded to odd) to binary32.
func finish32(y uint64, rm RoundingMode) (uint32, Flags) {
	if e := int(y>>52&0x7ff) - 1023; e >= -126 && e <= 127 {
		// Normal binary32 range: keep 24 of the 53 significand bits
		// (format.roundPack's normal branch, specialised).
		neg := y>>63 != 0
		sig := y&(1<<52-1) | 1<<52
		m, rb := sig>>29, sig&(1<<29-1)
		var fl Flags
		if rb != 0 {
			fl = NX
			if roundUp(rm, neg, m, rb, 1<<28) {
				m++
			}
		}
		r := uint64(e+126)<<23 + m
		if r >= 0xff<<23 {
			r, fl = fmt32.overflow(neg, rm)
			return uint32(r), fl
		}
		if neg {
			r |= 1 << 31
		}
		return uint32(r), fl
	}
	u := fmt64.unpack(y)
	r, fl := fmt32.roundPack(u.sign, u.exp, u.sig, rm)
	return uint32(r), fl
}

const expField32 = 0xff << 23

// ordinary32 reports whether x is a finite non-zero binary32 number.
func ordinary32(x uint32) bool { return x&expField32 != expField32 && x<<1 != 0 }

func f32to64(x uint32) float64 { return float64(math.Float32frombits(x)) }

func add32Fast(a, b uint32, rm RoundingMode) (uint32, Flags, bool) {
	if !ordinary32(a) || !ordinary32(b) {
		return 0, 0, false
	}
	s, e := twoSum(f32to64(a), f32to64(b))
	if s == 0 {
		return 0, 0, false // exact cancellation: sign depends on rm
	}
	r, fl := finish32(roundOdd64(s, sign(e)), rm)
	return r, fl, true
}

func mul32Fast(a, b uint32, rm RoundingMode) (uint32, Flags, bool) {
	if !ordinary32(a) || !ordinary32(b) {
		return 0, 0, false
	}
	// 24x24-bit products are exact in binary64.
	r, fl := finish32(math.Float64bits(f32to64(a)*f32to64(b)), rm)
	return r, fl, true
}

func div32Fast(a, b uint32, rm RoundingMode) (uint32, Flags, bool) {
	if !ordinary32(a) || !ordinary32(b) {
		return 0, 0, false
	}
	fa, fb := f32to64(a), f32to64(b)
	q := fa / fb
	rem := math.FMA(-q, fb, fa) // exact for binary32 operands
	r, fl := finish32(roundOdd64(q, sign(rem)*sign(fb)), rm)
	return r, fl, true
}

func sqrt32Fast(a uint32, rm RoundingMode) (uint32, Flags, bool) {
	if !ordinary32(a) || a>>31 != 0 {
		return 0, 0, false
	}
	fa := f32to64(a)
	s := math.Sqrt(fa)
	r, fl := finish32(roundOdd64(s, sign(math.FMA(-s, s, fa))), rm)
	return r, fl, true
}

func mulAdd32Fast(a, b, c uint32, rm RoundingMode) (uint32, Flags, bool) {
	if !ordinary32(a) || !ordinary32(b) || !ordinary32(c) {
		return 0, 0, false
	}
	// The product is exact in binary64; TwoSum then gives x = s + e exactly.
	s, e := twoSum(float64(f32to64(a)*f32to64(b)), f32to64(c))
	if s == 0 {
		return 0, 0, false
	}
	r, fl := finish32(roundOdd64(s, sign(e)), rm)
	return r, fl, true
}

// mulAdd64Fast handles a*b + c for binary64 with the error-free FMA error of
// Boldo and Muller ("Exact and approximated error of the FMA", IEEE TC 60(2),
// 2011, algorithm ErrFma): from r1 = RNE(a*b+c) it derives r2, r3 with
// a*b + c = r1 + r2 + r3 exactly and |r3| <= ulp(r2)/2, so the sign of the
// rounding error is that of r2 (or r3 when r2 is zero, which forces r3 to
// zero too) and the error is exactly half an ulp only if r3 is zero. The
// algorithm needs every intermediate far from underflow and overflow: the
// product, the addend and the result must all have moderate exponents.
func mulAdd64Fast(a, b, c uint64, rm RoundingMode) (uint64, Flags, bool) {
	const lo, hi = 200 << 52, 1850 << 52
	if ec := c & expField64; ec < lo || ec > hi {
		return 0, 0, false
	}
	fa, fb, fc := math.Float64frombits(a), math.Float64frombits(b), math.Float64frombits(c)
	u1 := float64(fa * fb)
	if eu := math.Float64bits(u1) & expField64; eu < lo || eu > hi {
		return 0, 0, false
	}
	r1 := math.FMA(fa, fb, fc)
	if er := math.Float64bits(r1) & expField64; er < lo || er > hi {
		return 0, 0, false
	}
	u2 := math.FMA(fa, fb, -u1) // exact product error
	a1, a2 := twoSum(fc, u2)
	b1, b2 := twoSum(u1, a1)
	g := float64(b1-r1) + b2
	r2 := g + a2 // Fast2Sum(g, a2)
	r3 := a2 - float64(r2-g)
	dir := sign(r2)
	if r2 == 0 {
		dir = sign(r3)
	}
	tie := rm == RMM && r3 == 0 && r2 != 0 && isTie(r1, r2)
	r, fl := finish64(r1, dir, tie, rm)
	return r, fl, true
}

// toIntFast converts a binary64 value f with |f| < 2^62 to an integer under rm
// using the host's truncating conversion: i = trunc(f) is exact, and so is the
// fraction f - i (both are multiples of f's ulp and smaller than f), which
// decides the rounding exactly. ok is false for NaN, infinities, large
// magnitudes and results outside [lo, hi]; the integer path handles those.
func toIntFast(f float64, rm RoundingMode, lo, hi int64) (int64, Flags, bool) {
	if !(f > -0x1p62 && f < 0x1p62) { // also false for NaN
		return 0, 0, false
	}
	i := int64(f)
	fr := f - float64(i)
	var fl Flags
	if fr != 0 {
		fl = NX
		switch rm {
		case RDN:
			if fr < 0 {
				i--
			}
		case RUP:
			if fr > 0 {
				i++
			}
		case RMM:
			if fr >= 0.5 {
				i++
			} else if fr <= -0.5 {
				i--
			}
		case RTZ:
		default: // RNE
			if fr > 0.5 || fr == 0.5 && i&1 != 0 {
				i++
			} else if fr < -0.5 || fr == -0.5 && i&1 != 0 {
				i--
			}
		}
	}
	if i < lo || i > hi {
		return 0, 0, false
	}
	return i, fl, true
}
