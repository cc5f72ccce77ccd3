package softfloat

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fimpl adapts one format's exported API to uint64 operands.
type fimpl struct {
	name       string
	o          *ofmt
	add, sub   func(a, b uint64, rm RoundingMode) (uint64, Flags)
	mul, div   func(a, b uint64, rm RoundingMode) (uint64, Flags)
	sqrt       func(a uint64, rm RoundingMode) (uint64, Flags)
	fma        func(a, b, c uint64, rm RoundingMode) (uint64, Flags)
	eq, lt, le func(a, b uint64) (bool, Flags)
	min, max   func(a, b uint64) (uint64, Flags)
	class      func(a uint64) uint64
	toI32      func(a uint64, rm RoundingMode) (uint64, Flags)
	toU32      func(a uint64, rm RoundingMode) (uint64, Flags)
	toI64      func(a uint64, rm RoundingMode) (uint64, Flags)
	toU64      func(a uint64, rm RoundingMode) (uint64, Flags)
	fromI32    func(a uint64, rm RoundingMode) (uint64, Flags)
	fromU32    func(a uint64, rm RoundingMode) (uint64, Flags)
	fromI64    func(a uint64, rm RoundingMode) (uint64, Flags)
	fromU64    func(a uint64, rm RoundingMode) (uint64, Flags)
}

func w32(f func(a, b uint32, rm RoundingMode) (uint32, Flags)) func(a, b uint64, rm RoundingMode) (uint64, Flags) {
	return func(a, b uint64, rm RoundingMode) (uint64, Flags) {
		r, fl := f(uint32(a), uint32(b), rm)
		return uint64(r), fl
	}
}

func w32cmp(f func(a, b uint32) (bool, Flags)) func(a, b uint64) (bool, Flags) {
	return func(a, b uint64) (bool, Flags) { return f(uint32(a), uint32(b)) }
}

func w32mm(f func(a, b uint32) (uint32, Flags)) func(a, b uint64) (uint64, Flags) {
	return func(a, b uint64) (uint64, Flags) {
		r, fl := f(uint32(a), uint32(b))
		return uint64(r), fl
	}
}

func w32toi(f func(a uint32, rm RoundingMode) (uint64, Flags)) func(a uint64, rm RoundingMode) (uint64, Flags) {
	return func(a uint64, rm RoundingMode) (uint64, Flags) { return f(uint32(a), rm) }
}

func w32fromi(f func(a uint64, rm RoundingMode) (uint32, Flags)) func(a uint64, rm RoundingMode) (uint64, Flags) {
	return func(a uint64, rm RoundingMode) (uint64, Flags) {
		r, fl := f(a, rm)
		return uint64(r), fl
	}
}

var impl64 = &fimpl{
	name: "f64", o: o64,
	add: F64Add, sub: F64Sub, mul: F64Mul, div: F64Div, sqrt: F64Sqrt, fma: F64MulAdd,
	eq: F64Eq, lt: F64Lt, le: F64Le, min: F64Min, max: F64Max, class: F64Classify,
	toI32: F64ToI32, toU32: F64ToU32, toI64: F64ToI64, toU64: F64ToU64,
	fromI32: I32ToF64, fromU32: U32ToF64, fromI64: I64ToF64, fromU64: U64ToF64,
}

var impl32 = &fimpl{
	name: "f32", o: o32,
	add: w32(F32Add), sub: w32(F32Sub), mul: w32(F32Mul), div: w32(F32Div),
	sqrt: func(a uint64, rm RoundingMode) (uint64, Flags) {
		r, fl := F32Sqrt(uint32(a), rm)
		return uint64(r), fl
	},
	fma: func(a, b, c uint64, rm RoundingMode) (uint64, Flags) {
		r, fl := F32MulAdd(uint32(a), uint32(b), uint32(c), rm)
		return uint64(r), fl
	},
	eq: w32cmp(F32Eq), lt: w32cmp(F32Lt), le: w32cmp(F32Le),
	min: w32mm(F32Min), max: w32mm(F32Max),
	class: func(a uint64) uint64 { return F32Classify(uint32(a)) },
	toI32: w32toi(F32ToI32), toU32: w32toi(F32ToU32), toI64: w32toi(F32ToI64), toU64: w32toi(F32ToU64),
	fromI32: w32fromi(I32ToF32), fromU32: w32fromi(U32ToF32), fromI64: w32fromi(I64ToF32), fromU64: w32fromi(U64ToF32),
}

var impls = []*fimpl{impl64, impl32}

var rmNames = [...]string{"RNE", "RTZ", "RDN", "RUP", "RMM"}

func (rm RoundingMode) String() string {
	if int(rm) < len(rmNames) {
		return rmNames[rm]
	}
	return fmt.Sprintf("rm%d", uint8(rm))
}

// gen produces operands that exercise the interesting parts of a format.
type gen struct {
	r *rand.Rand
	o *ofmt
}

func newGen(o *ofmt, seed uint64) gen { return gen{rand.New(rand.NewPCG(seed, 0x5eed)), o} }

func (g gen) fracBits() uint { return g.o.prec - 1 }
func (g gen) bias() int      { return g.o.emax }
func (g gen) expMax() int    { return 2*g.o.emax + 1 }

// frac returns a trailing significand, often with patterns that sit on
// rounding boundaries (all ones, a few bits, a few holes).
func (g gen) frac() uint64 {
	fb := g.fracBits()
	mask := uint64(1)<<fb - 1
	switch g.r.IntN(8) {
	case 0:
		return 0
	case 1:
		return mask
	case 2, 3:
		var m uint64
		for k := g.r.IntN(3) + 1; k > 0; k-- {
			m |= 1 << g.r.UintN(fb)
		}
		return m
	case 4:
		var m uint64
		for k := g.r.IntN(3) + 1; k > 0; k-- {
			m |= 1 << g.r.UintN(fb)
		}
		return mask &^ m
	}
	return g.r.Uint64() & mask
}

// pack builds a value from a sign and a biased exponent (clamped to the
// finite range).
func (g gen) pack(neg bool, e int) uint64 {
	e = max(0, min(e, g.expMax()-1))
	x := uint64(e)<<g.fracBits() | g.frac()
	if neg {
		x |= g.o.signBit()
	}
	return x
}

func (g gen) special() uint64 {
	fb := g.fracBits()
	inf := uint64(g.expMax()) << fb
	sp := []uint64{
		0, 1, 2, inf - 1, inf, inf | 1, // zero, subnormals, max, inf, sNaN
		inf | 1<<(fb-1), inf | 1<<(fb-1) | 5, // qNaNs
		1 << fb, 1<<fb - 1, 1<<fb | 1, // smallest normal and neighbours
		uint64(g.bias()) << fb, uint64(g.bias())<<fb | 1, uint64(g.bias())<<fb - 1, // 1.0 and neighbours
		uint64(g.bias()-1) << fb, // 0.5
	}
	x := sp[g.r.IntN(len(sp))]
	if g.r.IntN(2) == 0 {
		x |= g.o.signBit()
	}
	return x
}

func (g gen) any() uint64 {
	neg := g.r.IntN(2) == 0
	switch g.r.IntN(10) {
	case 0:
		return g.special()
	case 1:
		return g.r.Uint64() & (g.o.signBit()<<1 - 1)
	case 2:
		return g.pack(neg, 0)
	case 3:
		e := []int{1, 2, g.expMax() - 2, g.expMax() - 1}
		return g.pack(neg, e[g.r.IntN(len(e))])
	case 4:
		return g.pack(neg, g.r.IntN(g.expMax()))
	}
	return g.pack(neg, g.bias()+g.r.IntN(80)-40)
}

// mul multiplies in g's format with the code under test (only used to make
// operands).
func (g gen) mul(a, b uint64, rm RoundingMode) (uint64, Flags) {
	if g.o.width == 32 {
		r, fl := F32Mul(uint32(a), uint32(b), rm)
		return uint64(r), fl
	}
	return F64Mul(a, b, rm)
}

// square returns q*q rounded for a random q: its square root is within an
// ulp of q, the hard case for the sticky bit of the root.
func (g gen) square() uint64 {
	q := g.pack(false, g.bias()+g.r.IntN(400)-200)
	if g.r.IntN(4) == 0 {
		q = g.pack(false, g.r.IntN(g.expMax()))
	}
	a, _ := g.mul(q, q, RoundingMode(g.r.IntN(5)))
	return a ^ uint64(g.r.IntN(2))
}

// hardQuotient returns a, b whose quotient is a p-bit number Q followed by
// 64-p zero bits and a non-zero tail: a quotient computed to 64 bits looks
// exact unless the remainder is kept. With A = a's and B = b's integer
// significands, A*2^64 = Q*B*2^(64-p) + R with 0 < R < B, so Q is solved
// from Q*B = -R/2^(64-p) (mod 2^p). Only binary64 has such cases.
func (g gen) hardQuotient() (uint64, uint64, bool) {
	p, s := g.o.prec, 64-g.o.prec
	if p <= s {
		return 0, 0, false
	}
	for range 8 {
		B := g.r.Uint64()>>(64-p) | 1<<(p-1) | 1
		R := (g.r.Uint64() % B) &^ (1<<s - 1)
		if R == 0 {
			continue
		}
		inv := B // Newton iteration for B^-1 mod 2^64
		for range 6 {
			inv *= 2 - B*inv
		}
		Q := -(R >> s) * inv & (1<<p - 1)
		if Q < 1<<(p-1) {
			continue
		}
		hi, lo := bits.Mul64(Q, B<<s)
		if _, c := bits.Add64(lo, R, 0); c != 0 {
			hi++
		}
		A := hi
		if A < 1<<(p-1) || A >= 1<<p {
			continue
		}
		ea := g.bias() + g.r.IntN(100) - 50
		eb := g.bias() + g.r.IntN(100) - 50
		fm := uint64(1)<<(p-1) - 1
		a := uint64(ea)<<(p-1) | A&fm
		b := uint64(eb)<<(p-1) | B&fm
		if g.r.IntN(2) == 0 {
			a |= g.o.signBit()
		}
		return a, b, true
	}
	return 0, 0, false
}

// hardSquare returns a whose square root is a p-bit number Q followed by
// 64-p zero bits and a non-zero tail (the sqrt analogue of hardQuotient),
// found by search: with T = (Q*2^(64-p))^2, the next multiple N of the
// radicand scale above T must stay below (Q*2^(64-p)+1)^2.
func (g gen) hardSquare() (uint64, bool) {
	p, s := g.o.prec, 64-g.o.prec
	if s >= p+1 { // R, a multiple of 2^(2s), cannot be below 2^(s+1+p)
		return 0, false
	}
	for range 4000 {
		Q := g.r.Uint64()>>(64-p) | 1<<(p-1)
		th, tl := bits.Mul64(Q<<s, Q<<s)
		scale := 63 + s + uint(g.r.IntN(2)) // radicand = A * 2^scale
		// N = ceil(T / 2^scale) * 2^scale; R = N - T.
		A := th >> (scale - 64)
		rem := th&(1<<(scale-64)-1) != 0 || tl != 0
		if !rem {
			continue
		}
		A++
		// R = A*2^scale - T, which must be below 2*Q*2^s.
		nh := A << (scale - 64)
		rl, b := bits.Sub64(0, tl, 0)
		rh, _ := bits.Sub64(nh, th, b)
		if rh != 0 || rl >= Q<<(s+1) {
			continue
		}
		if A < 1<<(p-1) || A >= 1<<p {
			continue
		}
		// a = A * 2^(scale - 2t); pick t so that a is a normal number.
		e := int(scale) - 2*(int(g.r.IntN(40))+int(scale)/2-20)
		ea := g.bias() + e + int(p) - 1
		return uint64(ea)<<(p-1) | A&(1<<(p-1)-1), true
	}
	return 0, false
}

func (g gen) exp(x uint64) int { return int(x>>g.fracBits()) & g.expMax() }

// near returns an operand whose exponent is close to x's, so that additions
// cancel and round in interesting ways.
func (g gen) near(x uint64) uint64 {
	neg := g.r.IntN(2) == 0
	d := g.r.IntN(2*int(g.o.prec)+8) - int(g.o.prec) - 4
	if g.r.IntN(2) == 0 {
		d = g.r.IntN(5) - 2
	}
	y := g.pack(neg, g.exp(x)+d)
	if g.r.IntN(4) == 0 { // same significand, maybe perturbed
		y = y&^(1<<g.fracBits()-1) | x&(1<<g.fracBits()-1) ^ uint64(g.r.IntN(4))
	}
	return y
}

// pair returns operands for a binary operation; target biases the sum
// (product) or difference (quotient) of exponents towards the overflow and
// underflow thresholds.
func (g gen) pair(op string) (uint64, uint64) {
	a := g.any()
	switch g.r.IntN(4) {
	case 0:
		return a, g.any()
	case 1:
		return a, g.near(a)
	}
	if op != "mul" && op != "div" && op != "fma" {
		return a, g.near(a)
	}
	if op == "div" && g.r.IntN(3) == 0 {
		if a, b, ok := g.hardQuotient(); ok {
			return a, b
		}
	}
	if op == "div" && g.r.IntN(2) == 0 {
		// a = b*q rounded: a/b lies within a few ulps of q without being
		// q, the hard case for the sticky bit of the quotient.
		b := g.pack(g.r.IntN(2) == 0, g.bias()+g.r.IntN(200)-100)
		q := g.pack(g.r.IntN(2) == 0, g.bias()+g.r.IntN(200)-100)
		a, _ := g.mul(b, q, RoundingMode(g.r.IntN(5)))
		return a ^ uint64(g.r.IntN(2)), b
	}
	// Product/quotient near the edges of the exponent range.
	ea := g.r.IntN(g.expMax()-1) + 1
	targets := []int{1, 0, -1, -int(g.o.prec) + 1, -int(g.o.prec), 2, g.expMax() - 1, g.expMax(), g.expMax() - 2}
	t := targets[g.r.IntN(len(targets))] + g.r.IntN(3) - 1
	var eb int
	if op == "div" {
		eb = ea - t + g.bias()
	} else {
		eb = t - ea + g.bias()
	}
	return g.pack(g.r.IntN(2) == 0, ea), g.pack(g.r.IntN(2) == 0, eb)
}

// addend returns c for a*b + c: often close to -a*b so that the sum cancels.
func (g gen) addend(a, b uint64) uint64 {
	switch g.r.IntN(3) {
	case 0:
		return g.any()
	case 1:
		p, _ := F64Mul(math.Float64bits(g.o.toF(a)), math.Float64bits(g.o.toF(b)), RNE)
		c := g.o.fromF(-math.Float64frombits(p))
		if g.o.kind(c) == kFin || g.o.kind(c) == kZero {
			c ^= uint64(g.r.IntN(8))
		}
		return c
	}
	p := g.o.toF(a) * g.o.toF(b)
	if math.IsNaN(p) || math.IsInf(p, 0) || p == 0 {
		return g.any()
	}
	_, e := math.Frexp(p)
	d := e + g.bias() - 1 + g.r.IntN(2*int(g.o.prec)+10) - int(g.o.prec) - 5
	return g.pack(g.r.IntN(2) == 0, d)
}

// bothPaths runs f with the host fast paths enabled and with the integer
// path alone, so that both stay correct.
func bothPaths(t *testing.T, f func(t *testing.T)) {
	defer func(old bool) { fastPath = old }(fastPath)
	for _, fast := range []bool{true, false} {
		fastPath = fast
		name := "int"
		if fast {
			name = "fast"
		}
		t.Run(name, f)
	}
}

type failures struct {
	t *testing.T
	n int
}

func (f *failures) report(format string, args ...any) {
	f.t.Helper()
	f.n++
	if f.n <= 10 {
		f.t.Errorf(format, args...)
	}
	if f.n == 11 {
		f.t.Errorf("... more failures")
	}
}

// casesPer is the number of random operand sets per operation and format;
// each is run in all five rounding modes.
func casesPer() int {
	if testing.Short() {
		return 3000
	}
	return 30000
}

func TestBinaryOpsAgainstReference(t *testing.T) { bothPaths(t, testBinaryOpsAgainstReference) }

func testBinaryOpsAgainstReference(t *testing.T) {
	for _, im := range impls {
		o := im.o
		ops := []struct {
			name string
			got  func(a, b uint64, rm RoundingMode) (uint64, Flags)
			want func(a, b uint64, rm RoundingMode) (uint64, Flags)
		}{
			{"add", im.add, o.refAdd},
			{"sub", im.sub, o.refSub},
			{"mul", im.mul, o.refMul},
			{"div", im.div, o.refDiv},
		}
		for i, op := range ops {
			t.Run(im.name+"/"+op.name, func(t *testing.T) {
				g := newGen(o, uint64(i)*7+uint64(o.width))
				fails := failures{t: t}
				for n := 0; n < casesPer(); n++ {
					a, b := g.pair(op.name)
					for rm := RNE; rm <= RMM; rm++ {
						r, fl := op.got(a, b, rm)
						wr, wfl := op.want(a, b, rm)
						if r != wr || fl != wfl {
							fails.report("%s(%#x, %#x, %v) = %#x %05b, want %#x %05b", op.name, a, b, rm, r, fl, wr, wfl)
						}
					}
				}
			})
		}
	}
}

func TestSqrtAgainstReference(t *testing.T) { bothPaths(t, testSqrtAgainstReference) }

func testSqrtAgainstReference(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			g := newGen(im.o, 99)
			fails := failures{t: t}
			for n := 0; n < casesPer(); n++ {
				a := g.any()
				switch n % 3 {
				case 0:
					a &^= im.o.signBit()
				case 1:
					a = g.square()
				}
				if n%5 == 0 {
					if h, ok := g.hardSquare(); ok {
						a = h
					}
				}
				for rm := RNE; rm <= RMM; rm++ {
					r, fl := im.sqrt(a, rm)
					wr, wfl := im.o.refSqrt(a, rm)
					if r != wr || fl != wfl {
						fails.report("sqrt(%#x, %v) = %#x %05b, want %#x %05b", a, rm, r, fl, wr, wfl)
					}
				}
			}
		})
	}
}

func TestMulAddAgainstReference(t *testing.T) { bothPaths(t, testMulAddAgainstReference) }

func testMulAddAgainstReference(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			g := newGen(im.o, 1234)
			fails := failures{t: t}
			for n := 0; n < casesPer(); n++ {
				a, b := g.pair("fma")
				c := g.addend(a, b)
				for rm := RNE; rm <= RMM; rm++ {
					r, fl := im.fma(a, b, c, rm)
					wr, wfl := im.o.refMulAdd(a, b, c, rm)
					if r != wr || fl != wfl {
						fails.report("fma(%#x, %#x, %#x, %v) = %#x %05b, want %#x %05b", a, b, c, rm, r, fl, wr, wfl)
					}
				}
			}
		})
	}
}

func TestCompareMinMaxClassify(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			g := newGen(im.o, 77)
			fails := failures{t: t}
			for n := 0; n < 4*casesPer(); n++ {
				a, b := g.pair("cmp")
				if n%5 == 0 {
					b = a
				}
				for _, c := range []struct {
					name string
					f    func(a, b uint64) (bool, Flags)
				}{{"eq", im.eq}, {"lt", im.lt}, {"le", im.le}} {
					r, fl := c.f(a, b)
					wr, wfl := im.o.refCmp(a, b, c.name)
					if r != wr || fl != wfl {
						fails.report("%s(%#x, %#x) = %v %05b, want %v %05b", c.name, a, b, r, fl, wr, wfl)
					}
				}
				for _, max := range []bool{false, true} {
					f := im.min
					if max {
						f = im.max
					}
					r, fl := f(a, b)
					wr, wfl := im.o.refMinMax(a, b, max)
					if r != wr || fl != wfl {
						fails.report("minmax(%#x, %#x, max=%v) = %#x %05b, want %#x %05b", a, b, max, r, fl, wr, wfl)
					}
				}
				if r, w := im.class(a), im.o.refClassify(a); r != w {
					fails.report("classify(%#x) = %#x, want %#x", a, r, w)
				}
			}
		})
	}
}

func TestToIntAgainstReference(t *testing.T) { bothPaths(t, testToIntAgainstReference) }

func testToIntAgainstReference(t *testing.T) {
	for _, im := range impls {
		convs := []struct {
			name   string
			f      func(a uint64, rm RoundingMode) (uint64, Flags)
			bits   int
			signed bool
		}{
			{"toI32", im.toI32, 32, true}, {"toU32", im.toU32, 32, false},
			{"toI64", im.toI64, 64, true}, {"toU64", im.toU64, 64, false},
		}
		for _, c := range convs {
			t.Run(im.name+"/"+c.name, func(t *testing.T) {
				g := newGen(im.o, uint64(c.bits)+map[bool]uint64{true: 1}[c.signed])
				fails := failures{t: t}
				for n := 0; n < casesPer(); n++ {
					var a uint64
					switch n % 3 {
					case 0:
						a = g.any()
					default: // integers and half-integers near the type limits
						e := g.bias() + g.r.IntN(c.bits+4) - 2
						a = g.pack(g.r.IntN(3) == 0, e)
					}
					for rm := RNE; rm <= RMM; rm++ {
						r, fl := c.f(a, rm)
						wr, wfl := im.o.refToInt(a, rm, c.bits, c.signed)
						if r != wr || fl != wfl {
							fails.report("%s(%#x, %v) = %#x %05b, want %#x %05b", c.name, a, rm, r, fl, wr, wfl)
						}
					}
				}
			})
		}
	}
}

func TestFromIntAgainstReference(t *testing.T) {
	for _, im := range impls {
		convs := []struct {
			name string
			f    func(a uint64, rm RoundingMode) (uint64, Flags)
			val  func(a uint64) *big.Int
		}{
			{"fromI32", im.fromI32, func(a uint64) *big.Int { return big.NewInt(int64(int32(uint32(a)))) }},
			{"fromU32", im.fromU32, func(a uint64) *big.Int { return new(big.Int).SetUint64(uint64(uint32(a))) }},
			{"fromI64", im.fromI64, func(a uint64) *big.Int { return big.NewInt(int64(a)) }},
			{"fromU64", im.fromU64, func(a uint64) *big.Int { return new(big.Int).SetUint64(a) }},
		}
		for i, c := range convs {
			t.Run(im.name+"/"+c.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(i), 3))
				fails := failures{t: t}
				for n := 0; n < casesPer(); n++ {
					// Random magnitudes of every length, sometimes with runs of
					// ones, in the upper bits (untouched high bits for the 32-bit
					// variants check that they are ignored).
					a := r.Uint64() >> r.UintN(64)
					if n%4 == 0 {
						a = (uint64(1)<<r.UintN(64) - 1) << r.UintN(8)
					}
					if n%7 == 0 {
						a = -a
					}
					for rm := RNE; rm <= RMM; rm++ {
						got, fl := c.f(a, rm)
						want, wfl := im.o.refFromInt(c.val(a), rm)
						if got != want || fl != wfl {
							fails.report("%s(%#x, %v) = %#x %05b, want %#x %05b", c.name, a, rm, got, fl, want, wfl)
						}
					}
				}
			})
		}
	}
}

func TestConvertFormats(t *testing.T) {
	g := newGen(o64, 5)
	fails := failures{t: t}
	for n := 0; n < casesPer(); n++ {
		a := g.any()
		if n%2 == 0 { // around the binary32 range
			a = g.pack(g.r.IntN(2) == 0, 1023+g.r.IntN(300)-150)
		}
		for rm := RNE; rm <= RMM; rm++ {
			r, fl := F64ToF32(a, rm)
			wr, wfl := o32.refConvert(o64, a, rm)
			if uint64(r) != wr || fl != wfl {
				fails.report("F64ToF32(%#x, %v) = %#x %05b, want %#x %05b", a, rm, r, fl, wr, wfl)
			}
		}
	}
	g = newGen(o32, 6)
	for n := 0; n < casesPer(); n++ {
		a := uint32(g.any())
		r, fl := F32ToF64(a)
		wr, wfl := o64.refConvert(o32, uint64(a), RNE)
		if r != wr || fl != wfl {
			fails.report("F32ToF64(%#x) = %#x %05b, want %#x %05b", a, r, fl, wr, wfl)
		}
	}
}

// TestNativeRNE cross-checks round-to-nearest-even results against the host
// FPU through Go's float64/float32 arithmetic, math.Sqrt and math.FMA (all
// correctly rounded). NaN results must be the canonical NaN.
func TestNativeRNE(t *testing.T) { bothPaths(t, testNativeRNE) }

func testNativeRNE(t *testing.T) {
	n := 1000000
	if testing.Short() {
		n = 20000
	}
	g64, g32 := newGen(o64, 11), newGen(o32, 12)
	fails := failures{t: t}
	check := func(name string, args []uint64, got, want, nan uint64, wantNaN bool) {
		if wantNaN {
			want = nan
		}
		if got != want {
			fails.report("%s%#x = %#x, want %#x", name, args, got, want)
		}
	}
	for i := 0; i < n; i++ {
		a, b := g64.pair("mul")
		c := g64.addend(a, b)
		fa, fb, fc := math.Float64frombits(a), math.Float64frombits(b), math.Float64frombits(c)
		ab := []uint64{a, b}
		r, _ := F64Add(a, b, RNE)
		check("F64Add", ab, r, math.Float64bits(fa+fb), F64NaN, math.IsNaN(fa+fb))
		r, _ = F64Sub(a, b, RNE)
		check("F64Sub", ab, r, math.Float64bits(fa-fb), F64NaN, math.IsNaN(fa-fb))
		r, _ = F64Mul(a, b, RNE)
		check("F64Mul", ab, r, math.Float64bits(fa*fb), F64NaN, math.IsNaN(fa*fb))
		r, _ = F64Div(a, b, RNE)
		check("F64Div", ab, r, math.Float64bits(fa/fb), F64NaN, math.IsNaN(fa/fb))
		r, _ = F64Sqrt(a, RNE)
		check("F64Sqrt", ab[:1], r, math.Float64bits(math.Sqrt(fa)), F64NaN, math.IsNaN(math.Sqrt(fa)))
		w := math.FMA(fa, fb, fc)
		r, _ = F64MulAdd(a, b, c, RNE)
		check("F64MulAdd", []uint64{a, b, c}, r, math.Float64bits(w), F64NaN, math.IsNaN(w))
		f32, _ := F64ToF32(a, RNE)
		check("F64ToF32", ab[:1], uint64(f32), uint64(math.Float32bits(float32(fa))), uint64(F32NaN), math.IsNaN(fa))
		if fa > -1<<63 && fa < 1<<63 {
			r, _ = F64ToI64(a, RTZ)
			check("F64ToI64", ab[:1], r, uint64(int64(fa)), 0, false)
		}
		r, _ = I64ToF64(a, RNE)
		check("I64ToF64", ab[:1], r, math.Float64bits(float64(int64(a))), 0, false)
		r, _ = U64ToF64(a, RNE)
		check("U64ToF64", ab[:1], r, math.Float64bits(float64(a)), 0, false)

		x, y := g32.pair("mul")
		x, y = x&0xffffffff, y&0xffffffff
		fx, fy := math.Float32frombits(uint32(x)), math.Float32frombits(uint32(y))
		xy := []uint64{x, y}
		s, _ := F32Add(uint32(x), uint32(y), RNE)
		check("F32Add", xy, uint64(s), uint64(math.Float32bits(fx+fy)), uint64(F32NaN), fx+fy != fx+fy)
		s, _ = F32Sub(uint32(x), uint32(y), RNE)
		check("F32Sub", xy, uint64(s), uint64(math.Float32bits(fx-fy)), uint64(F32NaN), fx-fy != fx-fy)
		s, _ = F32Mul(uint32(x), uint32(y), RNE)
		check("F32Mul", xy, uint64(s), uint64(math.Float32bits(fx*fy)), uint64(F32NaN), fx*fy != fx*fy)
		s, _ = F32Div(uint32(x), uint32(y), RNE)
		check("F32Div", xy, uint64(s), uint64(math.Float32bits(fx/fy)), uint64(F32NaN), fx/fy != fx/fy)
		// binary64 has more than 2*24+2 bits, so rounding the binary64 root
		// to binary32 is correctly rounded.
		sq := float32(math.Sqrt(float64(fx)))
		s, _ = F32Sqrt(uint32(x), RNE)
		check("F32Sqrt", xy[:1], uint64(s), uint64(math.Float32bits(sq)), uint64(F32NaN), sq != sq)
		d, _ := F32ToF64(uint32(x))
		check("F32ToF64", xy[:1], d, math.Float64bits(float64(fx)), F64NaN, fx != fx)
		s, _ = I32ToF32(a, RNE)
		check("I32ToF32", ab[:1], uint64(s), uint64(math.Float32bits(float32(int32(a)))), 0, false)
		if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
			// Go's own uint64 to float32 conversion rounds twice (through
			// float64) on some 32-bit ports, e.g. 386.
			s, _ = U64ToF32(a, RNE)
			check("U64ToF32", ab[:1], uint64(s), uint64(math.Float32bits(float32(a))), 0, false)
		}
	}
}

// TestEdgeCases pins down RISC-V specific behaviour with hand-picked inputs;
// each expectation is derived from the specification text cited.
func TestEdgeCases(t *testing.T) { bothPaths(t, testEdgeCases) }

func testEdgeCases(t *testing.T) {
	const (
		pInf  = 0x7ff0000000000000
		nInf  = 0xfff0000000000000
		sNaN  = 0x7ff0000000000001
		qNaN  = 0x7ff8000000000123
		one   = 0x3ff0000000000000
		two   = 0x4000000000000000
		minN  = 0x0010000000000000 // smallest normal
		maxS  = 0x000fffffffffffff // largest subnormal
		maxF  = 0x7fefffffffffffff
		negZ  = 0x8000000000000000
		fOne  = 0x3f800000
		fsNaN = 0x7f800001
	)
	type res struct {
		R  uint64
		Fl Flags
	}
	tests := []struct {
		name string
		got  func() (uint64, Flags)
		want res
	}{
		// F chapter: fused multiply-add of inf*0 is invalid even with a quiet NaN addend.
		{"fma inf*0+qNaN", func() (uint64, Flags) { return F64MulAdd(pInf, 0, qNaN, RNE) }, res{F64NaN, NV}},
		{"fma 0*inf+qNaN f32", func() (uint64, Flags) {
			r, f := F32MulAdd(0, 0x7f800000, 0x7fc00001, RNE)
			return uint64(r), f
		}, res{uint64(F32NaN), NV}},
		{"fma qNaN*1+1 quiet", func() (uint64, Flags) { return F64MulAdd(qNaN, one, one, RNE) }, res{F64NaN, 0}},
		{"fma inf-inf", func() (uint64, Flags) { return F64MulAdd(pInf, one, nInf, RNE) }, res{F64NaN, NV}},
		// Exact zero sums: +0, except -0 under RDN (IEEE 754-2008 6.3).
		{"1-1 RNE", func() (uint64, Flags) { return F64Sub(one, one, RNE) }, res{0, 0}},
		{"1-1 RDN", func() (uint64, Flags) { return F64Sub(one, one, RDN) }, res{negZ, 0}},
		{"-0+-0", func() (uint64, Flags) { return F64Add(negZ, negZ, RNE) }, res{negZ, 0}},
		{"fma 1*1-1 RDN", func() (uint64, Flags) { return F64MulAdd(one, one, one|negZ, RDN) }, res{negZ, 0}},
		// Overflow: inf or the largest finite number depending on the mode.
		{"max+max RNE", func() (uint64, Flags) { return F64Add(maxF, maxF, RNE) }, res{pInf, OF | NX}},
		{"max+max RTZ", func() (uint64, Flags) { return F64Add(maxF, maxF, RTZ) }, res{maxF, OF | NX}},
		{"-max-max RUP", func() (uint64, Flags) { return F64Add(maxF|negZ, maxF|negZ, RUP) }, res{maxF | negZ, OF | NX}},
		{"-max-max RDN", func() (uint64, Flags) { return F64Add(maxF|negZ, maxF|negZ, RDN) }, res{nInf, OF | NX}},
		// Tininess after rounding: the largest subnormal plus a bit rounds
		// up to the smallest normal; after rounding it is not tiny, so no UF.
		{"maxS*(1+2^-52) RUP", func() (uint64, Flags) { return F64Mul(maxS, one+1, RUP) }, res{minN, NX}},
		{"maxS*(1+2^-52) RNE", func() (uint64, Flags) { return F64Mul(maxS, one+1, RNE) }, res{minN, NX}},
		// (2^-1022)(1-2^-53) is exact at 53 bits, so it is tiny after
		// rounding; it is a tie on the subnormal grid, rounded to even.
		{"minN*(1-2^-53) RNE", func() (uint64, Flags) { return F64Mul(minN, 0x3fefffffffffffff, RNE) }, res{minN, UF | NX}},
		// Same product under RTZ stays below 2^-1022: tiny and inexact.
		{"minN*(1-2^-53) RTZ", func() (uint64, Flags) { return F64Mul(minN, 0x3fefffffffffffff, RTZ) }, res{maxS, UF | NX}},
		// Exact subnormal results raise no UF.
		{"minN/2 exact", func() (uint64, Flags) { return F64Mul(minN, 0x3fe0000000000000, RNE) }, res{0x0008000000000000, 0}},
		{"div by zero", func() (uint64, Flags) { return F64Div(one, negZ, RNE) }, res{nInf, DZ}},
		{"0/0", func() (uint64, Flags) { return F64Div(0, 0, RNE) }, res{F64NaN, NV}},
		{"sqrt(-0)", func() (uint64, Flags) { return F64Sqrt(negZ, RNE) }, res{negZ, 0}},
		{"sqrt(-1)", func() (uint64, Flags) { return F64Sqrt(one|negZ, RNE) }, res{F64NaN, NV}},
		{"sqrt(sNaN)", func() (uint64, Flags) { return F64Sqrt(sNaN, RNE) }, res{F64NaN, NV}},
		// Float to integer, F chapter table "Domains of float-to-integer conversions".
		{"NaN to i32", func() (uint64, Flags) { return F64ToI32(qNaN, RNE) }, res{0x7fffffff, NV}},
		{"NaN to u32", func() (uint64, Flags) { return F64ToU32(qNaN, RNE) }, res{0xffffffffffffffff, NV}},
		{"-inf to i64", func() (uint64, Flags) { return F64ToI64(nInf, RNE) }, res{1 << 63, NV}},
		{"-inf to u64", func() (uint64, Flags) { return F64ToU64(nInf, RNE) }, res{0, NV}},
		{"-1 to u32", func() (uint64, Flags) { return F64ToU32(one|negZ, RNE) }, res{0, NV}},
		{"-0.5 to u32 RNE", func() (uint64, Flags) { return F64ToU32(0xbfe0000000000000, RNE) }, res{0, NX}},
		{"-0.5 to u32 RDN", func() (uint64, Flags) { return F64ToU32(0xbfe0000000000000, RDN) }, res{0, NV}},
		{"2^32-1 to u32", func() (uint64, Flags) { return F64ToU32(0x41efffffffe00000, RNE) }, res{0xffffffffffffffff, 0}},
		{"2^31 to i32", func() (uint64, Flags) { return F64ToI32(0x41e0000000000000, RNE) }, res{0x7fffffff, NV}},
		{"-2^31 to i32", func() (uint64, Flags) { return F64ToI32(0xc1e0000000000000, RNE) }, res{0xffffffff80000000, 0}},
		{"2.5 to i32 RNE", func() (uint64, Flags) { return F64ToI32(0x4004000000000000, RNE) }, res{2, NX}},
		{"2.5 to i32 RMM", func() (uint64, Flags) { return F64ToI32(0x4004000000000000, RMM) }, res{3, NX}},
		{"-2.5 to i32 RMM", func() (uint64, Flags) { return F64ToI32(0xc004000000000000, RMM) }, res{0xfffffffffffffffd, NX}},
		{"f32 sNaN to f64", func() (uint64, Flags) { return F32ToF64(fsNaN) }, res{F64NaN, NV}},
		{"min(-0,+0)", func() (uint64, Flags) { return F64Min(0, negZ) }, res{negZ, 0}},
		{"max(-0,+0)", func() (uint64, Flags) { return F64Max(negZ, 0) }, res{0, 0}},
		{"min(qNaN,1)", func() (uint64, Flags) { return F64Min(qNaN, one) }, res{one, 0}},
		{"min(sNaN,1)", func() (uint64, Flags) { return F64Min(sNaN, one) }, res{one, NV}},
		{"max(sNaN,qNaN)", func() (uint64, Flags) { return F64Max(sNaN, qNaN) }, res{F64NaN, NV}},
		{"class +subnormal", func() (uint64, Flags) { return F64Classify(1), 0 }, res{1 << 5, 0}},
		{"class -inf", func() (uint64, Flags) { return F64Classify(nInf), 0 }, res{1 << 0, 0}},
		{"class sNaN f32", func() (uint64, Flags) { return F32Classify(fsNaN), 0 }, res{1 << 8, 0}},
		{"class 1.0f", func() (uint64, Flags) { return F32Classify(fOne), 0 }, res{1 << 6, 0}},
		{"u32 max to f32 RTZ", func() (uint64, Flags) {
			r, f := U32ToF32(0xffffffff, RTZ)
			return uint64(r), f
		}, res{0x4f7fffff, NX}},
		{"2+2", func() (uint64, Flags) { return F64Add(two, two, RNE) }, res{0x4010000000000000, 0}},
	}
	for _, tc := range tests {
		r, fl := tc.got()
		if diff := cmp.Diff(tc.want, res{r, fl}); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.name, diff)
		}
	}
}

// TestReservedRoundingModes checks the documented behaviour for frm values 5
// to 7 (reserved; the hart traps before calling): they round like RNE.
func TestReservedRoundingModes(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		g := newGen(o64, 42)
		for n := 0; n < 20000; n++ {
			a, b := g.pair("mul")
			c := g.addend(a, b)
			for rm := RoundingMode(5); rm <= 7; rm++ {
				for _, op := range []struct {
					name string
					f    func(RoundingMode) (uint64, Flags)
				}{
					{"add", func(rm RoundingMode) (uint64, Flags) { return F64Add(a, b, rm) }},
					{"mul", func(rm RoundingMode) (uint64, Flags) { return F64Mul(a, b, rm) }},
					{"div", func(rm RoundingMode) (uint64, Flags) { return F64Div(a, b, rm) }},
					{"fma", func(rm RoundingMode) (uint64, Flags) { return F64MulAdd(a, b, c, rm) }},
					{"f32", func(rm RoundingMode) (uint64, Flags) {
						r, fl := F32Add(uint32(a>>32), uint32(b>>32), rm)
						return uint64(r), fl
					}},
					{"toI64", func(rm RoundingMode) (uint64, Flags) { return F64ToI64(a, rm) }},
				} {
					r, fl := op.f(rm)
					wr, wfl := op.f(RNE)
					if r != wr || fl != wfl {
						t.Fatalf("%s(%#x, %#x, %v) = %#x %05b, RNE gives %#x %05b", op.name, a, b, rm, r, fl, wr, wfl)
					}
				}
			}
		}
	})
}
