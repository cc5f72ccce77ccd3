package softfloat

import "testing"

// Fuzz targets compare the implementation with the big.Float reference on
// arbitrary bit patterns; the rounding mode byte is reduced modulo 5 and its
// top bit switches the host fast paths off.

func fuzzMode(rmb uint8) RoundingMode {
	fastPath = rmb&0x80 == 0
	return RoundingMode(rmb & 0x7f % 5)
}

var fuzzSeeds64 = []uint64{0, 1, 0x000fffffffffffff, 0x0010000000000000, 0x3ff0000000000000,
	0x3fefffffffffffff, 0x7fefffffffffffff, 0x7ff0000000000000, 0x7ff0000000000001,
	0x7ff8000000000000, 0x8000000000000000, 0xc000000000000001}

var fuzzSeeds32 = []uint32{0, 1, 0x007fffff, 0x00800000, 0x3f800000, 0x3f7fffff, 0x7f7fffff,
	0x7f800000, 0x7f800001, 0x7fc00000, 0x80000000, 0xc0000001}

func fuzzBinary64(f *testing.F, name string, got, want func(a, b uint64, rm RoundingMode) (uint64, Flags)) {
	for i, a := range fuzzSeeds64 {
		f.Add(a, fuzzSeeds64[(i*5+3)%len(fuzzSeeds64)], uint8(i))
	}
	f.Fuzz(func(t *testing.T, a, b uint64, rmb uint8) {
		rm := fuzzMode(rmb)
		r, fl := got(a, b, rm)
		wr, wfl := want(a, b, rm)
		if r != wr || fl != wfl {
			t.Fatalf("%s(%#x, %#x, %v) = %#x %05b, want %#x %05b", name, a, b, rm, r, fl, wr, wfl)
		}
	})
}

func fuzzBinary32(f *testing.F, name string, got, want func(a, b uint64, rm RoundingMode) (uint64, Flags)) {
	for i, a := range fuzzSeeds32 {
		f.Add(a, fuzzSeeds32[(i*5+3)%len(fuzzSeeds32)], uint8(i))
	}
	f.Fuzz(func(t *testing.T, a, b uint32, rmb uint8) {
		rm := fuzzMode(rmb)
		r, fl := got(uint64(a), uint64(b), rm)
		wr, wfl := want(uint64(a), uint64(b), rm)
		if r != wr || fl != wfl {
			t.Fatalf("%s(%#x, %#x, %v) = %#x %05b, want %#x %05b", name, a, b, rm, r, fl, wr, wfl)
		}
	})
}

func FuzzF64Add(f *testing.F) { fuzzBinary64(f, "F64Add", impl64.add, o64.refAdd) }
func FuzzF64Sub(f *testing.F) { fuzzBinary64(f, "F64Sub", impl64.sub, o64.refSub) }
func FuzzF64Mul(f *testing.F) { fuzzBinary64(f, "F64Mul", impl64.mul, o64.refMul) }
func FuzzF64Div(f *testing.F) { fuzzBinary64(f, "F64Div", impl64.div, o64.refDiv) }
func FuzzF32Add(f *testing.F) { fuzzBinary32(f, "F32Add", impl32.add, o32.refAdd) }
func FuzzF32Mul(f *testing.F) { fuzzBinary32(f, "F32Mul", impl32.mul, o32.refMul) }
func FuzzF32Div(f *testing.F) { fuzzBinary32(f, "F32Div", impl32.div, o32.refDiv) }

func FuzzF64Sqrt(f *testing.F) {
	fuzzBinary64(f, "F64Sqrt", func(a, _ uint64, rm RoundingMode) (uint64, Flags) { return F64Sqrt(a, rm) },
		func(a, _ uint64, rm RoundingMode) (uint64, Flags) { return o64.refSqrt(a, rm) })
}

func FuzzF32Sqrt(f *testing.F) {
	fuzzBinary32(f, "F32Sqrt", func(a, _ uint64, rm RoundingMode) (uint64, Flags) { return impl32.sqrt(a, rm) },
		func(a, _ uint64, rm RoundingMode) (uint64, Flags) { return o32.refSqrt(a, rm) })
}

func FuzzF64MulAdd(f *testing.F) {
	for i, a := range fuzzSeeds64 {
		f.Add(a, fuzzSeeds64[(i+4)%len(fuzzSeeds64)], fuzzSeeds64[(i*7+1)%len(fuzzSeeds64)], uint8(i))
	}
	f.Fuzz(func(t *testing.T, a, b, c uint64, rmb uint8) {
		rm := fuzzMode(rmb)
		r, fl := F64MulAdd(a, b, c, rm)
		wr, wfl := o64.refMulAdd(a, b, c, rm)
		if r != wr || fl != wfl {
			t.Fatalf("F64MulAdd(%#x, %#x, %#x, %v) = %#x %05b, want %#x %05b", a, b, c, rm, r, fl, wr, wfl)
		}
	})
}

func FuzzF32MulAdd(f *testing.F) {
	for i, a := range fuzzSeeds32 {
		f.Add(a, fuzzSeeds32[(i+4)%len(fuzzSeeds32)], fuzzSeeds32[(i*7+1)%len(fuzzSeeds32)], uint8(i))
	}
	f.Fuzz(func(t *testing.T, a, b, c uint32, rmb uint8) {
		rm := fuzzMode(rmb)
		r, fl := F32MulAdd(a, b, c, rm)
		wr, wfl := o32.refMulAdd(uint64(a), uint64(b), uint64(c), rm)
		if uint64(r) != wr || fl != wfl {
			t.Fatalf("F32MulAdd(%#x, %#x, %#x, %v) = %#x %05b, want %#x %05b", a, b, c, rm, r, fl, wr, wfl)
		}
	})
}

// FuzzConvert covers float-to-integer, integer-to-float and binary64 to
// binary32 conversions; a is read as a binary64, a binary32 (low bits) and
// an integer.
func FuzzConvert(f *testing.F) {
	for i, a := range fuzzSeeds64 {
		f.Add(a, uint8(i))
	}
	f.Fuzz(func(t *testing.T, a uint64, rmb uint8) {
		rm := fuzzMode(rmb)
		for _, im := range impls {
			x := a
			if im.o.width == 32 {
				x &= 0xffffffff
			}
			for _, c := range []struct {
				name   string
				f      func(uint64, RoundingMode) (uint64, Flags)
				bits   int
				signed bool
			}{{"toI32", im.toI32, 32, true}, {"toU32", im.toU32, 32, false}, {"toI64", im.toI64, 64, true}, {"toU64", im.toU64, 64, false}} {
				r, fl := c.f(x, rm)
				wr, wfl := im.o.refToInt(x, rm, c.bits, c.signed)
				if r != wr || fl != wfl {
					t.Fatalf("%s %s(%#x, %v) = %#x %05b, want %#x %05b", im.name, c.name, x, rm, r, fl, wr, wfl)
				}
			}
		}
		r, fl := F64ToF32(a, rm)
		wr, wfl := o32.refConvert(o64, a, rm)
		if uint64(r) != wr || fl != wfl {
			t.Fatalf("F64ToF32(%#x, %v) = %#x %05b, want %#x %05b", a, rm, r, fl, wr, wfl)
		}
		for _, c := range []struct {
			name string
			f    func(uint64, RoundingMode) (uint64, Flags)
			o    *ofmt
		}{{"I64ToF64", I64ToF64, o64}, {"I64ToF32", impl32.fromI64, o32}} {
			r, fl := c.f(a, rm)
			wr, wfl := c.o.refFromInt(bigInt64(a), rm)
			if r != wr || fl != wfl {
				t.Fatalf("%s(%#x, %v) = %#x %05b, want %#x %05b", c.name, a, rm, r, fl, wr, wfl)
			}
		}
	})
}
