package softfloat_test

import (
	"fmt"
	"math"

	"gemu/cpu/softfloat"
)

// 0.1 + 0.2 is inexact: rounding up gives the familiar 0.30000000000000004,
// rounding towards zero the binary64 number just below it.
func ExampleF64Add() {
	a, b := math.Float64bits(0.1), math.Float64bits(0.2)
	for _, rm := range []softfloat.RoundingMode{softfloat.RNE, softfloat.RTZ} {
		r, fl := softfloat.F64Add(a, b, rm)
		fmt.Printf("%.17g NX=%v\n", math.Float64frombits(r), fl&softfloat.NX != 0)
	}
	// Output:
	// 0.30000000000000004 NX=true
	// 0.29999999999999999 NX=true
}

// Converting NaN to an integer gives the largest value and raises NV, as the
// RISC-V F extension specifies.
func ExampleF64ToI32() {
	r, fl := softfloat.F64ToI32(math.Float64bits(math.NaN()), softfloat.RTZ)
	fmt.Printf("%#x NV=%v\n", r, fl&softfloat.NV != 0)
	// Output:
	// 0x7fffffff NV=true
}
