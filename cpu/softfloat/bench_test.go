package softfloat

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Operands typical of audio/DSP code: normal numbers of moderate magnitude.
func benchOperands64() []uint64 {
	r := rand.New(rand.NewPCG(1, 1))
	v := make([]uint64, 1024)
	for i := range v {
		v[i] = math.Float64bits((r.Float64()*2 - 1) * math.Ldexp(1, r.IntN(40)-20))
	}
	return v
}

func benchOperands32() []uint32 {
	v64 := benchOperands64()
	v := make([]uint32, len(v64))
	for i, x := range v64 {
		v[i] = math.Float32bits(float32(math.Float64frombits(x)))
	}
	return v
}

var sink64 uint64
var sink32 uint32
var sinkFl Flags

// withPaths runs the benchmark with the host fast paths ("fast") and with the
// integer path alone ("int").
func withPaths(b *testing.B, run func(b *testing.B)) {
	defer func(old bool) { fastPath = old }(fastPath)
	for _, fast := range []bool{true, false} {
		fastPath = fast
		name := "int"
		if fast {
			name = "fast"
		}
		b.Run(name, run)
	}
}

func bench64(b *testing.B, f func(a, b uint64, rm RoundingMode) (uint64, Flags)) {
	v := benchOperands64()
	var acc uint64
	var fl Flags
	for i := 0; b.Loop(); i++ {
		r, f := f(v[i&1023], v[(i+1)&1023], RNE)
		acc ^= r
		fl |= f
	}
	sink64, sinkFl = acc, fl
}

func bench32(b *testing.B, f func(a, b uint32, rm RoundingMode) (uint32, Flags)) {
	v := benchOperands32()
	var acc uint32
	var fl Flags
	for i := 0; b.Loop(); i++ {
		r, f := f(v[i&1023], v[(i+1)&1023], RNE)
		acc ^= r
		fl |= f
	}
	sink32, sinkFl = acc, fl
}

func BenchmarkF64Add(b *testing.B) {
	withPaths(b, func(b *testing.B) { bench64(b, F64Add) })
}
func BenchmarkF64Sub(b *testing.B) {
	withPaths(b, func(b *testing.B) { bench64(b, F64Sub) })
}
func BenchmarkF64Mul(b *testing.B) {
	withPaths(b, func(b *testing.B) { bench64(b, F64Mul) })
}
func BenchmarkF64Div(b *testing.B) {
	withPaths(b, func(b *testing.B) { bench64(b, F64Div) })
}
func BenchmarkF64Sqrt(b *testing.B) {
	withPaths(b, func(b *testing.B) {
		bench64(b, func(a, _ uint64, rm RoundingMode) (uint64, Flags) { return F64Sqrt(a&^(1<<63), rm) })
	})
}
func BenchmarkF64MulAdd(b *testing.B) {
	withPaths(b, func(b *testing.B) {
		v := benchOperands64()
		var acc uint64
		for i := 0; b.Loop(); i++ {
			r, _ := F64MulAdd(v[i&1023], v[(i+1)&1023], v[(i+2)&1023], RNE)
			acc ^= r
		}
		sink64 = acc
	})
}
func BenchmarkF64Min(b *testing.B) {
	bench64(b, func(a, c uint64, _ RoundingMode) (uint64, Flags) { return F64Min(a, c) })
}
func BenchmarkF64Lt(b *testing.B) {
	bench64(b, func(a, c uint64, _ RoundingMode) (uint64, Flags) {
		r, fl := F64Lt(a, c)
		if r {
			return 1, fl
		}
		return 0, fl
	})
}
func BenchmarkF64ToI64(b *testing.B) {
	bench64(b, func(a, _ uint64, rm RoundingMode) (uint64, Flags) { return F64ToI64(a, rm) })
}
func BenchmarkI64ToF64(b *testing.B) {
	bench64(b, func(a, _ uint64, rm RoundingMode) (uint64, Flags) { return I64ToF64(a>>12, rm) })
}
func BenchmarkF64ToF32(b *testing.B) {
	bench64(b, func(a, _ uint64, rm RoundingMode) (uint64, Flags) {
		r, fl := F64ToF32(a, rm)
		return uint64(r), fl
	})
}

func BenchmarkF32Add(b *testing.B) {
	withPaths(b, func(b *testing.B) { bench32(b, F32Add) })
}
func BenchmarkF32Mul(b *testing.B) {
	withPaths(b, func(b *testing.B) { bench32(b, F32Mul) })
}
func BenchmarkF32Div(b *testing.B) {
	withPaths(b, func(b *testing.B) { bench32(b, F32Div) })
}
func BenchmarkF32Sqrt(b *testing.B) {
	withPaths(b, func(b *testing.B) {
		bench32(b, func(a, _ uint32, rm RoundingMode) (uint32, Flags) { return F32Sqrt(a&^(1<<31), rm) })
	})
}
func BenchmarkF32MulAdd(b *testing.B) {
	withPaths(b, func(b *testing.B) {
		v := benchOperands32()
		var acc uint32
		for i := 0; b.Loop(); i++ {
			r, _ := F32MulAdd(v[i&1023], v[(i+1)&1023], v[(i+2)&1023], RNE)
			acc ^= r
		}
		sink32 = acc
	})
}

// BenchmarkNativeF64Add is the host FPU baseline for the numbers above.
func BenchmarkNativeF64Add(b *testing.B) {
	bench64(b, func(a, c uint64, _ RoundingMode) (uint64, Flags) {
		return math.Float64bits(math.Float64frombits(a) + math.Float64frombits(c)), 0
	})
}
