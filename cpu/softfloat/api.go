package softfloat

import "math"

// The exported API: thin wrappers over the format-generic implementation.
// The hart (package cpu) calls these names; do not rename them.

// F64Add returns a + b rounded under rm (FADD.D).
func F64Add(a, b uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if r, fl, ok := add64Fast(a, b, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt64.add(a, b, false, rm)
	return r, fl
}

// F64Sub returns a - b rounded under rm.
func F64Sub(a, b uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if r, fl, ok := add64Fast(a, b^1<<63, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt64.add(a, b, true, rm)
	return r, fl
}

// F64Mul returns a * b rounded under rm.
func F64Mul(a, b uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if r, fl, ok := mul64Fast(a, b, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt64.mul(a, b, rm)
	return r, fl
}

// F64Div returns a / b rounded under rm.
func F64Div(a, b uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if r, fl, ok := div64Fast(a, b, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt64.div(a, b, rm)
	return r, fl
}

// F64Sqrt returns the square root of a rounded under rm.
func F64Sqrt(a uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if r, fl, ok := sqrt64Fast(a, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt64.sqrt(a, rm)
	return r, fl
}

// F64MulAdd returns a*b + c with a single rounding under rm; inf*0 raises
// NV even if c is a quiet NaN. FMSUB, FNMSUB and FNMADD are this function with
// the sign bit of c, a, or both flipped: -(a*b)-c is computed as (-a)*b + (-c),
// so an exact zero result gets the sign rule of the negated operands (+0
// except under RDN), as in the RISC-V reference model (Spike/SoftFloat).
func F64MulAdd(a, b, c uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if r, fl, ok := mulAdd64Fast(a, b, c, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt64.mulAdd(a, b, c, rm)
	return r, fl
}

// F64Eq is the quiet a == b (FEQ): NV only for a signaling NaN.
func F64Eq(a, b uint64) (bool, Flags) { return fmt64.eq(a, b) }

// F64Lt is the signaling a < b (FLT): NV for any NaN.
func F64Lt(a, b uint64) (bool, Flags) { return fmt64.lt(a, b) }

// F64Le is the signaling a <= b (FLE): NV for any NaN.
func F64Le(a, b uint64) (bool, Flags) { return fmt64.le(a, b) }

// F64Min is FMIN (RISC-V 2.2+, IEEE 754-2019 minimumNumber): -0 < +0,
// one NaN yields the other operand, two NaNs the canonical NaN, NV if any sNaN.
func F64Min(a, b uint64) (uint64, Flags) {
	r, fl := fmt64.minMax(a, b, false)
	return r, fl
}

// F64Max is FMAX (RISC-V 2.2+, IEEE 754-2019 maximumNumber): -0 < +0,
// one NaN yields the other operand, two NaNs the canonical NaN, NV if any sNaN.
func F64Max(a, b uint64) (uint64, Flags) {
	r, fl := fmt64.minMax(a, b, true)
	return r, fl
}

// F64Classify returns the 10-bit FCLASS mask of a.
func F64Classify(a uint64) uint64 { return fmt64.classify(a) }

// F64ToI32 converts a to int32 under rm; 32-bit results are sign-extended
// to 64 bits. NaN and +overflow give the largest value, -overflow the smallest, with NV.
func F64ToI32(a uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if i, fl, ok := toIntFast(math.Float64frombits(a), rm, math.MinInt32, math.MaxInt32); ok {
			return uint64(i), fl
		}
	}
	return fmt64.toInt(a, rm, kindI32)
}

// F64ToU32 converts a to uint32 under rm; 32-bit results are sign-extended
// to 64 bits. NaN and +overflow give the largest value, -overflow the smallest, with NV.
func F64ToU32(a uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if i, fl, ok := toIntFast(math.Float64frombits(a), rm, 0, math.MaxUint32); ok {
			return sext32(uint64(i)), fl
		}
	}
	return fmt64.toInt(a, rm, kindU32)
}

// F64ToI64 converts a to int64 under rm; 32-bit results are sign-extended
// to 64 bits. NaN and +overflow give the largest value, -overflow the smallest, with NV.
func F64ToI64(a uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if i, fl, ok := toIntFast(math.Float64frombits(a), rm, math.MinInt64, math.MaxInt64); ok {
			return uint64(i), fl
		}
	}
	return fmt64.toInt(a, rm, kindI64)
}

// F64ToU64 converts a to uint64 under rm; 32-bit results are sign-extended
// to 64 bits. NaN and +overflow give the largest value, -overflow the smallest, with NV.
func F64ToU64(a uint64, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if i, fl, ok := toIntFast(math.Float64frombits(a), rm, 0, math.MaxInt64); ok {
			return uint64(i), fl
		}
	}
	return fmt64.toInt(a, rm, kindU64)
}

// I32ToF64 converts the int32 in the low 32 bits of a to binary64 under rm.
func I32ToF64(a uint64, rm RoundingMode) (uint64, Flags) {
	neg, mag := fromI32(a)
	r, fl := fmt64.fromInt(neg, mag, rm)
	return r, fl
}

// U32ToF64 converts the uint32 in the low 32 bits of a to binary64 under rm.
func U32ToF64(a uint64, rm RoundingMode) (uint64, Flags) {
	r, fl := fmt64.fromInt(false, uint64(uint32(a)), rm)
	return r, fl
}

// I64ToF64 converts the int64 in a to binary64 under rm.
func I64ToF64(a uint64, rm RoundingMode) (uint64, Flags) {
	neg, mag := fromI64(a)
	r, fl := fmt64.fromInt(neg, mag, rm)
	return r, fl
}

// U64ToF64 converts the uint64 in a to binary64 under rm.
func U64ToF64(a uint64, rm RoundingMode) (uint64, Flags) {
	r, fl := fmt64.fromInt(false, a, rm)
	return r, fl
}

// F32Add returns a + b rounded under rm (FADD.S).
func F32Add(a, b uint32, rm RoundingMode) (uint32, Flags) {
	if fastPath {
		if r, fl, ok := add32Fast(a, b, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt32.add(uint64(a), uint64(b), false, rm)
	return uint32(r), fl
}

// F32Sub returns a - b rounded under rm.
func F32Sub(a, b uint32, rm RoundingMode) (uint32, Flags) {
	if fastPath {
		if r, fl, ok := add32Fast(a, b^1<<31, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt32.add(uint64(a), uint64(b), true, rm)
	return uint32(r), fl
}

// F32Mul returns a * b rounded under rm.
func F32Mul(a, b uint32, rm RoundingMode) (uint32, Flags) {
	if fastPath {
		if r, fl, ok := mul32Fast(a, b, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt32.mul(uint64(a), uint64(b), rm)
	return uint32(r), fl
}

// F32Div returns a / b rounded under rm.
func F32Div(a, b uint32, rm RoundingMode) (uint32, Flags) {
	if fastPath {
		if r, fl, ok := div32Fast(a, b, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt32.div(uint64(a), uint64(b), rm)
	return uint32(r), fl
}

// F32Sqrt returns the square root of a rounded under rm.
func F32Sqrt(a uint32, rm RoundingMode) (uint32, Flags) {
	if fastPath {
		if r, fl, ok := sqrt32Fast(a, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt32.sqrt(uint64(a), rm)
	return uint32(r), fl
}

// F32MulAdd returns a*b + c with a single rounding under rm; inf*0 raises
// NV even if c is a quiet NaN. FMSUB, FNMSUB and FNMADD are this function with
// the sign bit of c, a, or both flipped: -(a*b)-c is computed as (-a)*b + (-c),
// so an exact zero result gets the sign rule of the negated operands (+0
// except under RDN), as in the RISC-V reference model (Spike/SoftFloat).
func F32MulAdd(a, b, c uint32, rm RoundingMode) (uint32, Flags) {
	if fastPath {
		if r, fl, ok := mulAdd32Fast(a, b, c, rm); ok {
			return r, fl
		}
	}
	r, fl := fmt32.mulAdd(uint64(a), uint64(b), uint64(c), rm)
	return uint32(r), fl
}

// F32Eq is the quiet a == b (FEQ): NV only for a signaling NaN.
func F32Eq(a, b uint32) (bool, Flags) { return fmt32.eq(uint64(a), uint64(b)) }

// F32Lt is the signaling a < b (FLT): NV for any NaN.
func F32Lt(a, b uint32) (bool, Flags) { return fmt32.lt(uint64(a), uint64(b)) }

// F32Le is the signaling a <= b (FLE): NV for any NaN.
func F32Le(a, b uint32) (bool, Flags) { return fmt32.le(uint64(a), uint64(b)) }

// F32Min is FMIN (RISC-V 2.2+, IEEE 754-2019 minimumNumber): -0 < +0,
// one NaN yields the other operand, two NaNs the canonical NaN, NV if any sNaN.
func F32Min(a, b uint32) (uint32, Flags) {
	r, fl := fmt32.minMax(uint64(a), uint64(b), false)
	return uint32(r), fl
}

// F32Max is FMAX (RISC-V 2.2+, IEEE 754-2019 maximumNumber): -0 < +0,
// one NaN yields the other operand, two NaNs the canonical NaN, NV if any sNaN.
func F32Max(a, b uint32) (uint32, Flags) {
	r, fl := fmt32.minMax(uint64(a), uint64(b), true)
	return uint32(r), fl
}

// F32Classify returns the 10-bit FCLASS mask of a.
func F32Classify(a uint32) uint64 { return fmt32.classify(uint64(a)) }

// F32ToI32 converts a to int32 under rm; 32-bit results are sign-extended
// to 64 bits. NaN and +overflow give the largest value, -overflow the smallest, with NV.
func F32ToI32(a uint32, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if i, fl, ok := toIntFast(f32to64(a), rm, math.MinInt32, math.MaxInt32); ok {
			return uint64(i), fl
		}
	}
	return fmt32.toInt(uint64(a), rm, kindI32)
}

// F32ToU32 converts a to uint32 under rm; 32-bit results are sign-extended
// to 64 bits. NaN and +overflow give the largest value, -overflow the smallest, with NV.
func F32ToU32(a uint32, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if i, fl, ok := toIntFast(f32to64(a), rm, 0, math.MaxUint32); ok {
			return sext32(uint64(i)), fl
		}
	}
	return fmt32.toInt(uint64(a), rm, kindU32)
}

// F32ToI64 converts a to int64 under rm; 32-bit results are sign-extended
// to 64 bits. NaN and +overflow give the largest value, -overflow the smallest, with NV.
func F32ToI64(a uint32, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if i, fl, ok := toIntFast(f32to64(a), rm, math.MinInt64, math.MaxInt64); ok {
			return uint64(i), fl
		}
	}
	return fmt32.toInt(uint64(a), rm, kindI64)
}

// F32ToU64 converts a to uint64 under rm; 32-bit results are sign-extended
// to 64 bits. NaN and +overflow give the largest value, -overflow the smallest, with NV.
func F32ToU64(a uint32, rm RoundingMode) (uint64, Flags) {
	if fastPath {
		if i, fl, ok := toIntFast(f32to64(a), rm, 0, math.MaxInt64); ok {
			return uint64(i), fl
		}
	}
	return fmt32.toInt(uint64(a), rm, kindU64)
}

// I32ToF32 converts the int32 in the low 32 bits of a to binary32 under rm.
func I32ToF32(a uint64, rm RoundingMode) (uint32, Flags) {
	neg, mag := fromI32(a)
	r, fl := fmt32.fromInt(neg, mag, rm)
	return uint32(r), fl
}

// U32ToF32 converts the uint32 in the low 32 bits of a to binary32 under rm.
func U32ToF32(a uint64, rm RoundingMode) (uint32, Flags) {
	r, fl := fmt32.fromInt(false, uint64(uint32(a)), rm)
	return uint32(r), fl
}

// I64ToF32 converts the int64 in a to binary32 under rm.
func I64ToF32(a uint64, rm RoundingMode) (uint32, Flags) {
	neg, mag := fromI64(a)
	r, fl := fmt32.fromInt(neg, mag, rm)
	return uint32(r), fl
}

// U64ToF32 converts the uint64 in a to binary32 under rm.
func U64ToF32(a uint64, rm RoundingMode) (uint32, Flags) {
	r, fl := fmt32.fromInt(false, a, rm)
	return uint32(r), fl
}

// F64ToF32 converts binary64 to binary32 under rm (FCVT.S.D).
func F64ToF32(a uint64, rm RoundingMode) (uint32, Flags) {
	r, fl := convert(&fmt32, &fmt64, a, rm)
	return uint32(r), fl
}

// F32ToF64 converts binary32 to binary64 (FCVT.D.S); it is always exact.
func F32ToF64(a uint32) (uint64, Flags) { return convert(&fmt64, &fmt32, uint64(a), RNE) }
