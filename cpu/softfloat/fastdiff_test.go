package softfloat

import (
	"testing"
)

// TestFastMatchesInteger compares the host fast paths with the integer path
// (itself checked against the big.Float reference) on many operands chosen
// to land inside the fast paths' guarded ranges, with cancellation, ties and
// results near rounding boundaries. It also counts how often each fast path
// actually ran and was inexact, so that the comparison cannot pass vacuously.
func TestFastMatchesInteger(t *testing.T) {
	n := 300000
	if testing.Short() {
		n = 30000
	}
	defer func(old bool) { fastPath = old }(fastPath)
	type op struct {
		name string
		fast func(a, b, c uint64, rm RoundingMode) (uint64, Flags, bool)
		slow func(a, b, c uint64, rm RoundingMode) (uint64, Flags)
	}
	ops := []op{
		{"F64Add", func(a, b, _ uint64, rm RoundingMode) (uint64, Flags, bool) { return add64Fast(a, b, rm) },
			func(a, b, _ uint64, rm RoundingMode) (uint64, Flags) { return fmt64.add(a, b, false, rm) }},
		{"F64Mul", func(a, b, _ uint64, rm RoundingMode) (uint64, Flags, bool) { return mul64Fast(a, b, rm) },
			func(a, b, _ uint64, rm RoundingMode) (uint64, Flags) { return fmt64.mul(a, b, rm) }},
		{"F64Div", func(a, b, _ uint64, rm RoundingMode) (uint64, Flags, bool) { return div64Fast(a, b, rm) },
			func(a, b, _ uint64, rm RoundingMode) (uint64, Flags) { return fmt64.div(a, b, rm) }},
		{"F64Sqrt", func(a, _, _ uint64, rm RoundingMode) (uint64, Flags, bool) { return sqrt64Fast(a, rm) },
			func(a, _, _ uint64, rm RoundingMode) (uint64, Flags) { return fmt64.sqrt(a, rm) }},
		{"F64MulAdd", mulAdd64Fast, fmt64.mulAdd},
		{"F32Add", func(a, b, _ uint64, rm RoundingMode) (uint64, Flags, bool) {
			r, fl, ok := add32Fast(uint32(a), uint32(b), rm)
			return uint64(r), fl, ok
		}, func(a, b, _ uint64, rm RoundingMode) (uint64, Flags) { return fmt32.add(a, b, false, rm) }},
		{"F32Mul", func(a, b, _ uint64, rm RoundingMode) (uint64, Flags, bool) {
			r, fl, ok := mul32Fast(uint32(a), uint32(b), rm)
			return uint64(r), fl, ok
		}, func(a, b, _ uint64, rm RoundingMode) (uint64, Flags) { return fmt32.mul(a, b, rm) }},
		{"F32Div", func(a, b, _ uint64, rm RoundingMode) (uint64, Flags, bool) {
			r, fl, ok := div32Fast(uint32(a), uint32(b), rm)
			return uint64(r), fl, ok
		}, func(a, b, _ uint64, rm RoundingMode) (uint64, Flags) { return fmt32.div(a, b, rm) }},
		{"F32Sqrt", func(a, _, _ uint64, rm RoundingMode) (uint64, Flags, bool) {
			r, fl, ok := sqrt32Fast(uint32(a), rm)
			return uint64(r), fl, ok
		}, func(a, _, _ uint64, rm RoundingMode) (uint64, Flags) { return fmt32.sqrt(a, rm) }},
		{"F32MulAdd", func(a, b, c uint64, rm RoundingMode) (uint64, Flags, bool) {
			r, fl, ok := mulAdd32Fast(uint32(a), uint32(b), uint32(c), rm)
			return uint64(r), fl, ok
		}, fmt32.mulAdd},
	}
	for i, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			o := o64
			if op.name[:3] == "F32" {
				o = o32
			}
			g := newGen(o, uint64(i)+1000)
			fails := failures{t: t}
			taken, inexact := 0, 0
			for k := 0; k < n; k++ {
				var a, b, c uint64
				switch k % 4 {
				case 0: // moderate exponents
					a = g.pack(g.r.IntN(2) == 0, g.bias()+g.r.IntN(64)-32)
					b = g.near(a)
				case 1:
					a, b = g.pair("fma")
				case 2: // a tie or a near-tie of the sum: b a few ulps of a
					a = g.pack(g.r.IntN(2) == 0, g.bias()+g.r.IntN(600)-300)
					b = g.pack(g.r.IntN(2) == 0, g.exp(a)-int(o.prec)+g.r.IntN(3)-1)
				default:
					a, b = g.any(), g.any()
				}
				c = g.addend(a, b)
				if k%8 == 1 { // product and addend cancel almost completely
					p := o.toF(a) * o.toF(b)
					c = o.fromF(-p) ^ uint64(g.r.IntN(4))
				}
				for rm := RNE; rm <= RMM; rm++ {
					r, fl, ok := op.fast(a, b, c, rm)
					if !ok {
						continue
					}
					taken++
					if fl&NX != 0 {
						inexact++
					}
					wr, wfl := op.slow(a, b, c, rm)
					if r != wr || fl != wfl {
						fails.report("%s(%#x, %#x, %#x, %v) fast = %#x %05b, integer = %#x %05b", op.name, a, b, c, rm, r, fl, wr, wfl)
					}
				}
			}
			// The fast path must be exercised for real, exact and inexact.
			if taken < n || inexact < n/4 || taken-inexact < n/50 {
				t.Errorf("fast path taken %d times (%d inexact) in %d cases: generator misses it", taken, inexact, n*5)
			}
			t.Logf("fast path taken %d of %d, %d inexact", taken, 5*n, inexact)
		})
	}
}
