package softfloat

// isNaN and isSNaN work on the raw encoding, without unpacking.
func (f *format) isNaN(x uint64) bool {
	return x&^(1<<f.signBit) > uint64(f.expMax)<<f.fracBits
}

func (f *format) isSNaN(x uint64) bool {
	return f.isNaN(x) && x>>(f.fracBits-1)&1 == 0
}

func (f *format) isZero(x uint64) bool { return x&^(1<<f.signBit) == 0 }

// eq is the quiet equality (FEQ): NV only for signaling NaNs.
func (f *format) eq(a, b uint64) (bool, Flags) {
	if f.isNaN(a) || f.isNaN(b) {
		if f.isSNaN(a) || f.isSNaN(b) {
			return false, NV
		}
		return false, 0
	}
	return a == b || f.isZero(a) && f.isZero(b), 0
}

// lt is the signaling less-than (FLT): NV for any NaN operand.
func (f *format) lt(a, b uint64) (bool, Flags) {
	if f.isNaN(a) || f.isNaN(b) {
		return false, NV
	}
	return f.orderKey(a) < f.orderKey(b) && !(f.isZero(a) && f.isZero(b)), 0
}

// le is the signaling less-or-equal (FLE): NV for any NaN operand.
func (f *format) le(a, b uint64) (bool, Flags) {
	if f.isNaN(a) || f.isNaN(b) {
		return false, NV
	}
	return f.orderKey(a) <= f.orderKey(b) || f.isZero(a) && f.isZero(b), 0
}

// orderKey maps a non-NaN encoding to an unsigned integer with the same
// order as the numbers, with -0 ordered just below +0.
func (f *format) orderKey(x uint64) uint64 {
	sign := uint64(1) << f.signBit
	if x&sign != 0 {
		return ^x & (sign<<1 - 1)
	}
	return x | sign
}

// minMax implements FMIN/FMAX of RISC-V ISA 2.2 and later (IEEE 754-2019
// minimumNumber/maximumNumber): -0 < +0, a single NaN operand yields the other
// operand, two NaNs yield the canonical NaN, and signaling NaNs raise NV.
func (f *format) minMax(a, b uint64, max bool) (uint64, Flags) {
	aNaN, bNaN := f.isNaN(a), f.isNaN(b)
	if aNaN || bNaN {
		var fl Flags
		if f.isSNaN(a) || f.isSNaN(b) {
			fl = NV
		}
		switch {
		case aNaN && bNaN:
			return f.nan, fl
		case aNaN:
			return b, fl
		}
		return a, fl
	}
	if (f.orderKey(a) < f.orderKey(b)) != max {
		return a, 0
	}
	return b, 0
}

// classify implements FCLASS (F chapter, "Format of result of FCLASS").
func (f *format) classify(x uint64) uint64 {
	u := f.unpack(x)
	subnormal := x>>f.fracBits&uint64(f.expMax) == 0
	var bit uint
	switch u.cls {
	case cInf:
		bit = 0
	case cFinite:
		if subnormal {
			bit = 2
		} else {
			bit = 1
		}
	case cZero:
		bit = 3
	case cSNaN:
		return 1 << 8
	case cQNaN:
		return 1 << 9
	}
	if !u.sign {
		bit = 7 - bit
	}
	return 1 << bit
}
