package softfloat

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSmokeNative(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 0
	for i := 0; i < 200000; i++ {
		a, b := r.Uint64(), r.Uint64()
		if i%3 == 0 {
			b = a ^ (r.Uint64() & 0x800fffffffffffff)
		}
		fa, fb := math.Float64frombits(a), math.Float64frombits(b)
		check := func(name string, got uint64, want float64) {
			if math.IsNaN(want) {
				if got != F64NaN {
					t.Errorf("%s %x %x: got %x want NaN", name, a, b, got)
				}
				return
			}
			if got != math.Float64bits(want) && n < 20 {
				n++
				t.Errorf("%s %x %x: got %x want %x", name, a, b, got, math.Float64bits(want))
			}
		}
		g, _ := F64Add(a, b, RNE)
		check("add", g, fa+fb)
		g, _ = F64Sub(a, b, RNE)
		check("sub", g, fa-fb)
		g, _ = F64Mul(a, b, RNE)
		check("mul", g, fa*fb)
		g, _ = F64Div(a, b, RNE)
		check("div", g, fa/fb)
		g, _ = F64Sqrt(a, RNE)
		check("sqrt", g, math.Sqrt(fa))
		c := r.Uint64()
		g, _ = F64MulAdd(a, b, c, RNE)
		check("fma", g, math.FMA(fa, fb, math.Float64frombits(c)))
	}
}
