package cpu

import sf "gemu/cpu/softfloat"

// The F and D extensions (unprivileged spec chapters 11-13). Arithmetic is
// exact and done by package softfloat; this file decodes (into dinst, once
// per cached instruction), checks mstatus.FS and rounding modes, handles
// NaN-boxing (12.2) and accumulates fflags.

const canonicalNaN32 = 0x7fc00000

// f32 reads a single-precision operand: a value that is not properly
// NaN-boxed reads as the canonical NaN.
func (h *Hart) f32(i uint8) uint32 {
	v := h.f[i&31]
	if v>>32 != 0xffffffff {
		return canonicalNaN32
	}
	return uint32(v)
}

func (h *Hart) setF32(i uint8, v uint32) {
	h.f[i&31] = 0xffffffff00000000 | uint64(v)
	h.fsDirty()
}

func (h *Hart) setF64(i uint8, v uint64) {
	h.f[i&31] = v
	h.fsDirty()
}

func (h *Hart) setXr(rd uint8, v uint64) {
	if rd != 0 {
		h.x[rd&31] = v
	}
}

func (h *Hart) fflags(fl sf.Flags) {
	if fl != 0 {
		h.csr.fflags |= uint64(fl)
		h.fsDirty()
	}
}

// FP operations, dinst.fn of opFP. fpD is or-ed in for double precision
// (fmt=D, or FLD/FSD); the FCVT conversions to and from integers take the
// integer type from rs2 (W, WU, L, LU), as encoded.
const (
	fpLoad  = iota // FLW, FLD
	fpStore        // FSW, FSD
	fpMADD         // FMADD, FMSUB, FNMSUB, FNMADD in encoding order
	fpMSUB         //
	fpNMSUB        //
	fpNMADD        //
	fpADD          // FADD, FSUB, FMUL, FDIV in encoding order
	fpSUB          //
	fpMUL          //
	fpDIV          //
	fpSQRT         //
	fpSGNJ         // FSGNJ, FSGNJN, FSGNJX in encoding order
	fpSGNJN        //
	fpSGNJX        //
	fpMIN          //
	fpMAX          //
	fpCVTFF        // FCVT.S.D (fpD clear) and FCVT.D.S (fpD set)
	fpLE           // FLE, FLT, FEQ in encoding order
	fpLT           //
	fpEQ           //
	fpCVTIF        // FCVT.W/WU/L/LU.S/D: float to integer
	fpCVTFI        // FCVT.S/D.W/WU/L/LU: integer to float
	fpMVXF         // FMV.X.W, FMV.X.D
	fpCLASS        //
	fpMVFX         // FMV.W.X, FMV.D.X

	fpD = 0x80
)

// decodeFP fills in the F and D instruction w (opcodes LOAD-FP, STORE-FP,
// the fused multiply-adds and OP-FP; unprivileged spec chapters 11, 12 and
// the RV32F/RV64F/RV32D/RV64D listings) and sets d.op to opFP, or leaves
// it opIllegal for a reserved encoding: an unknown function, fmt H or Q, a
// nonzero field that must be zero, or the reserved rounding modes 5 and 6.
// The dynamic rounding mode (7) is resolved when executed.
func decodeFP(w uint32, d *dinst) {
	f3 := uint8(w >> 12 & 7)
	rs2 := w >> 20 & 31
	var fn uint8
	usesRM := false
	dbl := w>>25&3 == 1
	switch w & 0x7f {
	case 0x07, 0x27: // FLW, FLD, FSW, FSD
		fn, d.imm = fpLoad, immI(w)
		if w&0x7f == 0x27 {
			fn, d.imm = fpStore, immS(w)
		}
		switch f3 {
		case 2:
			dbl = false
		case 3:
			dbl = true
		default:
			return
		}
	case 0x43, 0x47, 0x4b, 0x4f:
		if w>>25&3 > 1 {
			return
		}
		fn, usesRM = fpMADD+uint8(w>>2&3), true
		d.rs3 = uint8(w >> 27)
	case 0x53:
		if w>>25&3 > 1 {
			return
		}
		switch f5 := uint8(w >> 27); f5 {
		case 0x00, 0x01, 0x02, 0x03:
			fn, usesRM = fpADD+f5, true
		case 0x0b:
			if rs2 != 0 {
				return
			}
			fn, usesRM = fpSQRT, true
		case 0x04:
			if f3 > 2 {
				return
			}
			fn = fpSGNJ + f3
		case 0x05:
			if f3 > 1 {
				return
			}
			fn = fpMIN + f3
		case 0x08: // the source format is in rs2: FCVT.S.D, FCVT.D.S
			if !dbl && rs2 != 1 || dbl && rs2 != 0 {
				return
			}
			fn, usesRM = fpCVTFF, true
		case 0x14:
			if f3 > 2 {
				return
			}
			fn = fpLE + f3
		case 0x18, 0x1a:
			if rs2 > 3 {
				return
			}
			fn, usesRM = fpCVTIF, true
			if f5 == 0x1a {
				fn = fpCVTFI
			}
		case 0x1c:
			switch {
			case rs2 != 0 || f3 > 1:
				return
			case f3 == 0:
				fn = fpMVXF
			default:
				fn = fpCLASS
			}
		case 0x1e:
			if rs2 != 0 || f3 != 0 {
				return
			}
			fn = fpMVFX
		default:
			return
		}
	default:
		return
	}
	if usesRM && (f3 == 5 || f3 == 6) {
		return
	}
	if dbl {
		fn |= fpD
	}
	d.op, d.fn, d.aux = opFP, fn, f3
}

// roundingMode resolves the rounding-mode field rm (7 = dynamic, from frm);
// ok is false when frm holds a reserved mode.
func (h *Hart) roundingMode(rm uint8) (sf.RoundingMode, bool) {
	if rm == 7 {
		rm = uint8(h.csr.frm)
	}
	if rm > 4 {
		return 0, false
	}
	return sf.RoundingMode(rm), true
}

// execFP executes one F/D instruction; false means it raised an exception.
func (h *Hart) execFP(d *dinst) bool {
	if !h.fpEnabled() {
		h.exception(excIllegal, uint64(d.raw))
		return false
	}
	rd, rs1, rs2 := d.rd, d.rs1, d.rs2
	fmtD := d.fn&fpD != 0
	fn := d.fn &^ fpD
	var rm sf.RoundingMode
	switch fn {
	case fpMADD, fpMSUB, fpNMSUB, fpNMADD, fpADD, fpSUB, fpMUL, fpDIV, fpSQRT, fpCVTFF, fpCVTIF, fpCVTFI:
		var ok bool
		if rm, ok = h.roundingMode(d.aux); !ok {
			h.exception(excIllegal, uint64(d.raw))
			return false
		}
	}
	switch fn {
	case fpLoad:
		va := h.x[rs1] + uint64(int64(d.imm))
		if fmtD {
			v, ok := h.load(va, 8)
			if !ok {
				return false
			}
			h.setF64(rd, v)
		} else {
			v, ok := h.load(va, 4)
			if !ok {
				return false
			}
			h.setF32(rd, uint32(v))
		}
	case fpStore:
		va := h.x[rs1] + uint64(int64(d.imm))
		if fmtD {
			return h.store(va, 8, h.f[rs2&31])
		}
		return h.store(va, 4, h.f[rs2&31]&0xffffffff)
	case fpMADD, fpMSUB, fpNMSUB, fpNMADD:
		// The negations flip sign bits: of the product (through rs1) for
		// FNMSUB and FNMADD, of the addend for FMSUB and FNMADD.
		sign := uint64(1) << 31
		if fmtD {
			sign = 1 << 63
		}
		var negA, negC uint64
		if fn == fpNMSUB || fn == fpNMADD {
			negA = sign
		}
		if fn == fpMSUB || fn == fpNMADD {
			negC = sign
		}
		if fmtD {
			r, fl := sf.F64MulAdd(h.f[rs1&31]^negA, h.f[rs2&31], h.f[d.rs3&31]^negC, rm)
			h.setF64(rd, r)
			h.fflags(fl)
		} else {
			r, fl := sf.F32MulAdd(h.f32(rs1)^uint32(negA), h.f32(rs2), h.f32(d.rs3)^uint32(negC), rm)
			h.setF32(rd, r)
			h.fflags(fl)
		}
	case fpADD, fpSUB, fpMUL, fpDIV, fpSQRT:
		if fmtD {
			a, b := h.f[rs1&31], h.f[rs2&31]
			var r uint64
			var fl sf.Flags
			switch fn {
			case fpADD:
				r, fl = sf.F64Add(a, b, rm)
			case fpSUB:
				r, fl = sf.F64Sub(a, b, rm)
			case fpMUL:
				r, fl = sf.F64Mul(a, b, rm)
			case fpDIV:
				r, fl = sf.F64Div(a, b, rm)
			default:
				r, fl = sf.F64Sqrt(a, rm)
			}
			h.setF64(rd, r)
			h.fflags(fl)
		} else {
			a, b := h.f32(rs1), h.f32(rs2)
			var r uint32
			var fl sf.Flags
			switch fn {
			case fpADD:
				r, fl = sf.F32Add(a, b, rm)
			case fpSUB:
				r, fl = sf.F32Sub(a, b, rm)
			case fpMUL:
				r, fl = sf.F32Mul(a, b, rm)
			case fpDIV:
				r, fl = sf.F32Div(a, b, rm)
			default:
				r, fl = sf.F32Sqrt(a, rm)
			}
			h.setF32(rd, r)
			h.fflags(fl)
		}
	case fpSGNJ, fpSGNJN, fpSGNJX:
		if fmtD {
			a, b := h.f[rs1&31], h.f[rs2&31]
			h.setF64(rd, a&^(1<<63)|signInject(a>>63, b>>63, fn)<<63)
		} else {
			a, b := h.f32(rs1), h.f32(rs2)
			s := signInject(uint64(a>>31), uint64(b>>31), fn)
			h.setF32(rd, a&^(1<<31)|uint32(s)<<31)
		}
	case fpMIN, fpMAX:
		if fmtD {
			var r uint64
			var fl sf.Flags
			if fn == fpMIN {
				r, fl = sf.F64Min(h.f[rs1&31], h.f[rs2&31])
			} else {
				r, fl = sf.F64Max(h.f[rs1&31], h.f[rs2&31])
			}
			h.setF64(rd, r)
			h.fflags(fl)
		} else {
			var r uint32
			var fl sf.Flags
			if fn == fpMIN {
				r, fl = sf.F32Min(h.f32(rs1), h.f32(rs2))
			} else {
				r, fl = sf.F32Max(h.f32(rs1), h.f32(rs2))
			}
			h.setF32(rd, r)
			h.fflags(fl)
		}
	case fpCVTFF:
		if fmtD {
			r, fl := sf.F32ToF64(h.f32(rs1))
			h.setF64(rd, r)
			h.fflags(fl)
		} else {
			r, fl := sf.F64ToF32(h.f[rs1&31], rm)
			h.setF32(rd, r)
			h.fflags(fl)
		}
	case fpLE, fpLT, fpEQ:
		var r bool
		var fl sf.Flags
		if fmtD {
			r, fl = [3]func(a, b uint64) (bool, sf.Flags){sf.F64Le, sf.F64Lt, sf.F64Eq}[fn-fpLE](h.f[rs1&31], h.f[rs2&31])
		} else {
			r, fl = [3]func(a, b uint32) (bool, sf.Flags){sf.F32Le, sf.F32Lt, sf.F32Eq}[fn-fpLE](h.f32(rs1), h.f32(rs2))
		}
		h.setXr(rd, b2u(r))
		h.fflags(fl)
	case fpCVTIF:
		var r uint64
		var fl sf.Flags
		if fmtD {
			r, fl = [4]func(uint64, sf.RoundingMode) (uint64, sf.Flags){
				sf.F64ToI32, sf.F64ToU32, sf.F64ToI64, sf.F64ToU64}[rs2&3](h.f[rs1&31], rm)
		} else {
			r, fl = [4]func(uint32, sf.RoundingMode) (uint64, sf.Flags){
				sf.F32ToI32, sf.F32ToU32, sf.F32ToI64, sf.F32ToU64}[rs2&3](h.f32(rs1), rm)
		}
		h.setXr(rd, r)
		h.fflags(fl)
	case fpCVTFI:
		a := h.x[rs1]
		if fmtD {
			r, fl := [4]func(uint64, sf.RoundingMode) (uint64, sf.Flags){
				sf.I32ToF64, sf.U32ToF64, sf.I64ToF64, sf.U64ToF64}[rs2&3](a, rm)
			h.setF64(rd, r)
			h.fflags(fl)
		} else {
			r, fl := [4]func(uint64, sf.RoundingMode) (uint32, sf.Flags){
				sf.I32ToF32, sf.U32ToF32, sf.I64ToF32, sf.U64ToF32}[rs2&3](a, rm)
			h.setF32(rd, r)
			h.fflags(fl)
		}
	case fpMVXF:
		if fmtD {
			h.setXr(rd, h.f[rs1&31])
		} else {
			h.setXr(rd, sx32(h.f[rs1&31]))
		}
	case fpCLASS:
		if fmtD {
			h.setXr(rd, sf.F64Classify(h.f[rs1&31]))
		} else {
			h.setXr(rd, sf.F32Classify(h.f32(rs1)))
		}
	case fpMVFX:
		if fmtD {
			h.setF64(rd, h.x[rs1])
		} else {
			h.setF32(rd, uint32(h.x[rs1]))
		}
	}
	return true
}

// signInject computes the result sign of FSGNJ, FSGNJN and FSGNJX (fn).
func signInject(a, b uint64, fn uint8) uint64 {
	switch fn {
	case fpSGNJ:
		return b
	case fpSGNJN:
		return b ^ 1
	}
	return a ^ b
}
