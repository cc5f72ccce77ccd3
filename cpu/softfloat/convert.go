package softfloat

import (
	"math"
	"math/bits"
)

// intKind selects the integer type of an FCVT between float and integer.
type intKind uint8

const (
	kindI32 intKind = iota
	kindU32
	kindI64
	kindU64
)

// maxResult is the value written for NaN and positive overflow, minResult the
// one for negative overflow (F chapter, table "Domains of float-to-integer
// conversions and behavior for invalid inputs"). 32-bit results are
// sign-extended to 64 bits, as FCVT.W[U] on RV64 does.
func (k intKind) maxResult() uint64 {
	switch k {
	case kindI32:
		return math.MaxInt32
	case kindI64:
		return math.MaxInt64
	}
	return math.MaxUint64 // U64, and U32 0xffffffff sign-extended
}

func (k intKind) minResult() uint64 {
	switch k {
	case kindI32:
		return sext32(1 << 31)
	case kindI64:
		return 1 << 63
	}
	return 0
}

func sext32(v uint64) uint64 { return uint64(int64(int32(uint32(v)))) }

// toInt converts a to an integer of kind k, rounding under rm.
func (f *format) toInt(a uint64, rm RoundingMode, k intKind) (uint64, Flags) {
	u := f.unpack(a)
	switch u.cls {
	case cQNaN, cSNaN:
		return k.maxResult(), NV
	case cInf:
		if u.sign {
			return k.minResult(), NV
		}
		return k.maxResult(), NV
	case cZero:
		return 0, 0
	}
	mag, inexact, big := roundToInt(u, rm)
	var limit uint64 // largest magnitude representable for this sign
	switch k {
	case kindI32:
		limit = math.MaxInt32
		if u.sign {
			limit++
		}
	case kindI64:
		limit = math.MaxInt64
		if u.sign {
			limit++
		}
	case kindU32:
		limit = math.MaxUint32
		if u.sign {
			limit = 0
		}
	case kindU64:
		limit = math.MaxUint64
		if u.sign {
			limit = 0
		}
	}
	if big || mag > limit {
		if u.sign {
			return k.minResult(), NV
		}
		return k.maxResult(), NV
	}
	var fl Flags
	if inexact {
		fl = NX
	}
	r := mag
	if u.sign {
		r = -mag
	}
	if k == kindI32 || k == kindU32 {
		r = sext32(r)
	}
	return r, fl
}

// roundToInt rounds the finite non-zero u to an integer magnitude. big
// reports a magnitude of 2^64 or more.
func roundToInt(u unpacked, rm RoundingMode) (mag uint64, inexact, big bool) {
	switch {
	case u.exp > 63:
		return 0, false, true
	case u.exp == 63:
		return u.sig, false, false
	}
	// frac holds the fraction bits left-aligned: half is 1<<63.
	var frac uint64
	if u.exp >= 0 {
		mag = u.sig >> (63 - u.exp)
		frac = u.sig << (u.exp + 1)
	} else {
		frac = shiftRightJam(u.sig, uint(-u.exp-1))
	}
	if roundUp(rm, u.sign, mag, frac, 1<<63) {
		mag++ // cannot wrap: mag < 2^63 here
	}
	return mag, frac != 0, false
}

// fromInt converts the integer (-1)^neg * mag to format f.
func (f *format) fromInt(neg bool, mag uint64, rm RoundingMode) (uint64, Flags) {
	if mag == 0 {
		return 0, 0
	}
	lz := bits.LeadingZeros64(mag)
	return f.roundPack(neg, 63-lz, mag<<lz, rm)
}

func fromI32(a uint64) (bool, uint64) {
	v := int64(int32(uint32(a)))
	if v < 0 {
		return true, uint64(-v)
	}
	return false, uint64(v)
}

func fromI64(a uint64) (bool, uint64) {
	v := int64(a)
	if v < 0 {
		return true, -uint64(v) // also right for MinInt64
	}
	return false, uint64(v)
}

// convert changes format from src to dst (FCVT.S.D / FCVT.D.S).
func convert(dst, src *format, a uint64, rm RoundingMode) (uint64, Flags) {
	u := src.unpack(a)
	switch u.cls {
	case cQNaN, cSNaN:
		return dst.nan, nanFlags(u)
	case cInf:
		return dst.inf(u.sign), 0
	case cZero:
		return dst.zero(u.sign), 0
	}
	return dst.roundPack(u.sign, u.exp, u.sig, rm)
}
