package softfloat

// An independent reference model built on math/big.Float. big.Float rounds
// correctly in all five modes but has an unbounded exponent and no
// subnormals; the reference adds the binary32/binary64 range on top:
// subnormal rounding, overflow and RISC-V tininess-after-rounding.

import (
	"math"
	"math/big"
)

// ofmt describes a destination format for the reference model.
type ofmt struct {
	prec   uint // significand bits including the implicit one
	emin   int  // exponent of the smallest normal
	emax   int  // exponent of the largest finite number
	width  int  // 32 or 64
	nan    uint64
	fromF  func(float64) uint64 // exact encode of a representable value
	toF    func(uint64) float64 // exact decode
	isSNaN func(uint64) bool
}

var (
	o64 = &ofmt{prec: 53, emin: -1022, emax: 1023, width: 64, nan: F64NaN,
		fromF: math.Float64bits, toF: math.Float64frombits,
		isSNaN: func(x uint64) bool {
			return x&0x7ff0000000000000 == 0x7ff0000000000000 && x&0x000fffffffffffff != 0 && x&(1<<51) == 0
		}}
	o32 = &ofmt{prec: 24, emin: -126, emax: 127, width: 32, nan: uint64(F32NaN),
		fromF: func(f float64) uint64 { return uint64(math.Float32bits(float32(f))) },
		toF:   func(x uint64) float64 { return float64(math.Float32frombits(uint32(x))) },
		isSNaN: func(x uint64) bool {
			x &= 0xffffffff
			return x&0x7f800000 == 0x7f800000 && x&0x007fffff != 0 && x&(1<<22) == 0
		}}
)

var bigMode = [...]big.RoundingMode{
	RNE: big.ToNearestEven, RTZ: big.ToZero, RDN: big.ToNegativeInf,
	RUP: big.ToPositiveInf, RMM: big.ToNearestAway,
}

// magMode is the mode that rounds a magnitude the way rm rounds a number of
// the given sign.
func magMode(rm RoundingMode, neg bool) big.RoundingMode {
	switch {
	case rm == RDN && neg, rm == RUP && !neg:
		return big.AwayFromZero
	case rm == RDN, rm == RUP:
		return big.ToZero
	}
	return bigMode[rm]
}

func pow2(e int) *big.Float { return new(big.Float).SetMantExp(big.NewFloat(1), e) }

func (o *ofmt) signBit() uint64 { return 1 << (o.width - 1) }

func (o *ofmt) zero(neg bool) uint64 {
	if neg {
		return o.signBit()
	}
	return 0
}

func (o *ofmt) inf(neg bool) uint64 {
	return o.fromF(math.Inf(map[bool]int{true: -1, false: 1}[neg]))
}

func (o *ofmt) maxFinite(neg bool) uint64 {
	return o.inf(neg) - 1
}

// round rounds x to the format under rm. x must be non-zero and either exact
// or rounded to odd with at least prec+2 bits.
func (o *ofmt) round(x *big.Float, rm RoundingMode) (uint64, Flags) {
	neg := x.Signbit()
	ax := new(big.Float).SetPrec(x.Prec()).Abs(x)
	mode := magMode(rm, neg)
	// Rounding with an unbounded exponent: decides overflow and tininess.
	y := new(big.Float).SetMode(mode).SetPrec(o.prec).Set(ax)
	tiny := y.Cmp(pow2(o.emin)) < 0
	if y.Cmp(pow2(o.emax+1)) >= 0 {
		if mode == big.ToZero {
			return o.maxFinite(neg), OF | NX
		}
		return o.inf(neg), OF | NX
	}
	z := y
	if ax.Cmp(pow2(o.emin)) < 0 {
		// Subnormal range: the grid is multiples of 2^(emin-prec+1), which is
		// the ulp of [2^emin, 2^(emin+1)); round 2^emin + |x| there and take
		// 2^emin away again (2^emin is an even multiple of the grid step).
		s := new(big.Float).SetPrec(ax.MinPrec()+uint(o.emin-ax.MantExp(nil))+o.prec+8).Add(pow2(o.emin), ax)
		s = new(big.Float).SetMode(mode).SetPrec(o.prec).Set(s)
		z = new(big.Float).SetPrec(o.prec+8).Sub(s, pow2(o.emin))
	}
	var fl Flags
	if z.Cmp(ax) != 0 {
		fl = NX
		if tiny {
			fl |= UF
		}
	}
	f, acc := z.Float64()
	if acc != big.Exact {
		panic("reference: result not representable")
	}
	r := o.fromF(f)
	if neg {
		r |= o.signBit()
	}
	return r, fl
}

// roundOdd returns z, computed with ToZero, with the last bit of its
// significand forced to 1 if that computation was inexact (round to odd): a
// later rounding to at most z.Prec()-2 bits then gives the correctly rounded
// result in every mode.
func roundOdd(z *big.Float, exact bool) *big.Float {
	if exact {
		return z
	}
	mant := new(big.Float)
	e := z.MantExp(mant)
	mant.SetMantExp(mant, int(z.Prec()))
	i, _ := mant.Int(nil)
	neg := i.Sign() < 0
	i.Abs(i).SetBit(i, 0, 1) // on the magnitude: big.Int bit ops are two's complement
	if neg {
		i.Neg(i)
	}
	r := new(big.Float).SetPrec(z.Prec()).SetInt(i)
	return r.SetMantExp(r, e-int(z.Prec()))
}

const wideP = 6000 // enough for any exact sum or product of two formats' values

func (o *ofmt) big(x uint64) *big.Float {
	return new(big.Float).SetPrec(wideP).SetFloat64(o.toF(x))
}

type kind uint8

const (
	kNaN kind = iota
	kInf
	kZero
	kFin
)

func (o *ofmt) kind(x uint64) kind {
	f := o.toF(x)
	switch {
	case math.IsNaN(f):
		return kNaN
	case math.IsInf(f, 0):
		return kInf
	case f == 0:
		return kZero
	}
	return kFin
}

func (o *ofmt) neg(x uint64) bool { return x&o.signBit() != 0 }

func (o *ofmt) snanFlag(xs ...uint64) Flags {
	for _, x := range xs {
		if o.isSNaN(x) {
			return NV
		}
	}
	return 0
}

// refAdd is the reference for a + b.
func (o *ofmt) refAdd(a, b uint64, rm RoundingMode) (uint64, Flags) {
	ka, kb := o.kind(a), o.kind(b)
	fa, fb := o.toF(a), o.toF(b)
	switch {
	case ka == kNaN || kb == kNaN:
		return o.nan, o.snanFlag(a, b)
	case ka == kInf && kb == kInf && o.neg(a) != o.neg(b):
		return o.nan, NV
	case ka == kInf || kb == kInf:
		return o.fromF(fa + fb), 0
	case ka == kZero && kb == kZero:
		if o.neg(a) == o.neg(b) {
			return a, 0
		}
		return o.zero(rm == RDN), 0
	}
	s := new(big.Float).SetPrec(wideP).Add(o.big(a), o.big(b))
	if s.Sign() == 0 {
		return o.zero(rm == RDN), 0
	}
	return o.round(s, rm)
}

func (o *ofmt) refSub(a, b uint64, rm RoundingMode) (uint64, Flags) {
	nb := b ^ o.signBit()
	if o.kind(b) == kNaN {
		nb = b
	}
	return o.refAdd(a, nb, rm)
}

func (o *ofmt) refMul(a, b uint64, rm RoundingMode) (uint64, Flags) {
	ka, kb := o.kind(a), o.kind(b)
	switch {
	case ka == kNaN || kb == kNaN:
		return o.nan, o.snanFlag(a, b)
	case ka == kInf && kb == kZero, ka == kZero && kb == kInf:
		return o.nan, NV
	case ka != kFin || kb != kFin:
		return o.fromF(o.toF(a) * o.toF(b)), 0
	}
	return o.round(new(big.Float).SetPrec(wideP).Mul(o.big(a), o.big(b)), rm)
}

func (o *ofmt) refDiv(a, b uint64, rm RoundingMode) (uint64, Flags) {
	ka, kb := o.kind(a), o.kind(b)
	switch {
	case ka == kNaN || kb == kNaN:
		return o.nan, o.snanFlag(a, b)
	case ka == kInf && kb == kInf, ka == kZero && kb == kZero:
		return o.nan, NV
	case ka == kFin && kb == kZero: // IEEE 754-2008 7.3: finite non-zero / 0 only
		return o.inf(o.neg(a) != o.neg(b)), DZ
	case ka != kFin || kb != kFin:
		return o.fromF(o.toF(a) / o.toF(b)), 0
	}
	q := new(big.Float).SetPrec(o.prec + 8).SetMode(big.ToZero)
	q.Quo(o.big(a), o.big(b))
	return o.round(roundOdd(q, q.Acc() == big.Exact), rm)
}

func (o *ofmt) refSqrt(a uint64, rm RoundingMode) (uint64, Flags) {
	switch {
	case o.kind(a) == kNaN:
		return o.nan, o.snanFlag(a)
	case o.kind(a) == kZero:
		return a, 0
	case o.neg(a):
		return o.nan, NV
	case o.kind(a) == kInf:
		return a, 0
	}
	// Exact integer square root: a = m * 2^e with m an integer and e even,
	// scaled so the root has far more than prec bits.
	x := o.big(a)
	mant := new(big.Float)
	e := x.MantExp(mant)
	shift := 2 * int(o.prec+8)
	if (e-shift)%2 != 0 {
		shift++
	}
	mant.SetMantExp(mant, shift) // integer, since shift exceeds prec
	m, acc := mant.Int(nil)
	if acc != big.Exact {
		panic("reference: sqrt mantissa not integral")
	}
	root := new(big.Int).Sqrt(m)
	exact := new(big.Int).Mul(root, root).Cmp(m) == 0
	r := new(big.Float).SetPrec(uint(root.BitLen()) + 1).SetInt(root)
	r.SetMantExp(r, (e-shift)/2)
	return o.round(roundOdd(r, exact), rm)
}

func (o *ofmt) refMulAdd(a, b, c uint64, rm RoundingMode) (uint64, Flags) {
	ka, kb, kc := o.kind(a), o.kind(b), o.kind(c)
	infZero := ka == kInf && kb == kZero || ka == kZero && kb == kInf
	pneg := o.neg(a) != o.neg(b)
	switch {
	case ka == kNaN || kb == kNaN || kc == kNaN:
		fl := o.snanFlag(a, b, c)
		if infZero {
			fl |= NV
		}
		return o.nan, fl
	case infZero:
		return o.nan, NV
	case (ka == kInf || kb == kInf) && kc == kInf && o.neg(c) != pneg:
		return o.nan, NV
	case ka == kInf || kb == kInf:
		return o.inf(pneg), 0
	case kc == kInf:
		return c, 0
	case (ka == kZero || kb == kZero) && kc == kZero:
		if o.neg(c) == pneg {
			return c, 0
		}
		return o.zero(rm == RDN), 0
	}
	p := new(big.Float).SetPrec(wideP).Mul(o.big(a), o.big(b))
	s := new(big.Float).SetPrec(wideP).Add(p, o.big(c))
	if s.Acc() != big.Exact {
		panic("reference: fma sum not exact")
	}
	if s.Sign() == 0 {
		return o.zero(rm == RDN), 0
	}
	return o.round(s, rm)
}

// refToInt is the reference for float to integer conversion; bits is 32 or
// 64, signed selects the integer type.
func (o *ofmt) refToInt(a uint64, rm RoundingMode, bits int, signed bool) (uint64, Flags) {
	var lo, hi *big.Int // representable range
	if signed {
		hi = new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		lo = new(big.Int).Neg(hi)
		hi.Sub(hi, big.NewInt(1))
	} else {
		lo = big.NewInt(0)
		hi = new(big.Int).Lsh(big.NewInt(1), uint(bits))
		hi.Sub(hi, big.NewInt(1))
	}
	enc := func(v *big.Int) uint64 {
		var r uint64
		if v.Sign() < 0 {
			r = uint64(v.Int64())
		} else {
			r = v.Uint64()
		}
		if bits == 32 {
			r = uint64(int64(int32(uint32(r))))
		}
		return r
	}
	switch o.kind(a) {
	case kNaN:
		return enc(hi), NV
	case kInf:
		if o.neg(a) {
			return enc(lo), NV
		}
		return enc(hi), NV
	case kZero:
		return 0, 0
	}
	x := o.big(a)
	neg := x.Signbit()
	ax := new(big.Float).Abs(x)
	var v *big.Int
	if ax.Cmp(pow2(64)) >= 0 {
		v = new(big.Int).Lsh(big.NewInt(1), 64) // out of every range
	} else {
		// Round to an integer on the grid of [2^64, 2^65), whose ulp is 1.
		s := new(big.Float).SetPrec(wideP).Add(pow2(64), ax)
		s = new(big.Float).SetMode(magMode(rm, neg)).SetPrec(65).Set(s)
		s.Sub(s, pow2(64))
		v, _ = s.Int(nil)
	}
	inexact := new(big.Float).SetInt(v).Cmp(ax) != 0
	if neg {
		v.Neg(v)
	}
	if v.Cmp(hi) > 0 {
		return enc(hi), NV
	}
	if v.Cmp(lo) < 0 {
		return enc(lo), NV
	}
	if inexact {
		return enc(v), NX
	}
	return enc(v), 0
}

func (o *ofmt) refFromInt(v *big.Int, rm RoundingMode) (uint64, Flags) {
	if v.Sign() == 0 {
		return 0, 0
	}
	return o.round(new(big.Float).SetPrec(wideP).SetInt(v), rm)
}

// refConvert rounds the value a of format src to format o.
func (o *ofmt) refConvert(src *ofmt, a uint64, rm RoundingMode) (uint64, Flags) {
	switch src.kind(a) {
	case kNaN:
		return o.nan, src.snanFlag(a)
	case kInf:
		return o.inf(src.neg(a)), 0
	case kZero:
		return o.zero(src.neg(a)), 0
	}
	return o.round(src.big(a), rm)
}

func (o *ofmt) refCmp(a, b uint64, op string) (bool, Flags) {
	fa, fb := o.toF(a), o.toF(b)
	if math.IsNaN(fa) || math.IsNaN(fb) {
		if op == "eq" {
			return false, o.snanFlag(a, b)
		}
		return false, NV
	}
	switch op {
	case "eq":
		return fa == fb, 0
	case "lt":
		return fa < fb, 0
	}
	return fa <= fb, 0
}

func (o *ofmt) refMinMax(a, b uint64, max bool) (uint64, Flags) {
	fa, fb := o.toF(a), o.toF(b)
	fl := o.snanFlag(a, b)
	switch {
	case math.IsNaN(fa) && math.IsNaN(fb):
		return o.nan, fl
	case math.IsNaN(fa):
		return b, fl
	case math.IsNaN(fb):
		return a, fl
	case fa == 0 && fb == 0:
		// -0 < +0: min prefers the negative zero, max the positive one.
		if o.neg(a) == max {
			return b, 0
		}
		return a, 0
	case (fa < fb) != max:
		return a, 0
	}
	return b, 0
}

func (o *ofmt) refClassify(a uint64) uint64 {
	f := o.toF(a)
	neg := o.neg(a)
	var bit uint
	switch {
	case math.IsNaN(f):
		if o.isSNaN(a) {
			return 1 << 8
		}
		return 1 << 9
	case math.IsInf(f, 0):
		bit = 0
	case f == 0:
		bit = 3
	case math.Abs(f) < math.Ldexp(1, o.emin):
		bit = 2
	default:
		bit = 1
	}
	if !neg {
		bit = 7 - bit
	}
	return 1 << bit
}

func bigInt64(a uint64) *big.Int { return big.NewInt(int64(a)) }
