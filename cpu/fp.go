package cpu

import sf "gemu/cpu/softfloat"

// The F and D extensions (unprivileged spec chapters 11-13). Arithmetic is
// exact and done by package softfloat; this file decodes, checks mstatus.FS
// and rounding modes, handles NaN-boxing (12.2) and accumulates fflags.

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

// roundingMode resolves the instruction's rm field (7 = dynamic, from frm).
func (h *Hart) roundingMode(raw uint32) (sf.RoundingMode, bool) {
	rm := raw >> 12 & 7
	if rm == 7 {
		rm = uint32(h.csr.frm)
	}
	if rm > 4 {
		return 0, false
	}
	return sf.RoundingMode(rm), true
}

// execFP executes one F/D instruction; false means it raised an exception.
func (h *Hart) execFP(d *dinst) bool {
	raw := d.raw
	if !h.fpEnabled() {
		h.exception(excIllegal, uint64(raw))
		return false
	}
	if d.len == 2 {
		// Compressed FP loads/stores were expanded; decode the expansion.
		w, _ := expandC(raw)
		raw = w
	}
	rd := uint8(raw >> 7 & 31)
	rs1 := uint8(raw >> 15 & 31)
	rs2 := uint8(raw >> 20 & 31)
	f3 := raw >> 12 & 7
	illegal := func() bool {
		h.exception(excIllegal, uint64(d.raw))
		return false
	}
	switch raw & 0x7f {
	case 0x07: // FLW, FLD
		va := h.x[rs1] + uint64(int64(immI(raw)))
		switch f3 {
		case 2:
			v, ok := h.load(va, 4)
			if !ok {
				return false
			}
			h.setF32(rd, uint32(v))
		case 3:
			v, ok := h.load(va, 8)
			if !ok {
				return false
			}
			h.setF64(rd, v)
		default:
			return illegal()
		}
		return true
	case 0x27: // FSW, FSD
		va := h.x[rs1] + uint64(int64(immS(raw)))
		switch f3 {
		case 2:
			return h.store(va, 4, h.f[rs2]&0xffffffff)
		case 3:
			return h.store(va, 8, h.f[rs2])
		}
		return illegal()
	case 0x43, 0x47, 0x4b, 0x4f: // FMADD, FMSUB, FNMSUB, FNMADD
		rm, ok := h.roundingMode(raw)
		if !ok {
			return illegal()
		}
		rs3 := uint8(raw >> 27)
		op := raw >> 2 & 3 // 0 madd, 1 msub, 2 nmsub, 3 nmadd
		switch raw >> 25 & 3 {
		case 0:
			a, b, c := h.f32(rs1), h.f32(rs2), h.f32(rs3)
			if op == 2 || op == 3 {
				a ^= 1 << 31
			}
			if op == 1 || op == 3 {
				c ^= 1 << 31
			}
			r, fl := sf.F32MulAdd(a, b, c, rm)
			h.setF32(rd, r)
			h.fflags(fl)
		case 1:
			a, b, c := h.f[rs1], h.f[rs2], h.f[rs3]
			if op == 2 || op == 3 {
				a ^= 1 << 63
			}
			if op == 1 || op == 3 {
				c ^= 1 << 63
			}
			r, fl := sf.F64MulAdd(a, b, c, rm)
			h.setF64(rd, r)
			h.fflags(fl)
		default:
			return illegal()
		}
		return true
	case 0x53:
	default:
		return illegal()
	}
	funct5 := raw >> 27
	fmtD := false
	switch raw >> 25 & 3 {
	case 0:
	case 1:
		fmtD = true
	default:
		return illegal()
	}
	switch funct5 {
	case 0x00, 0x01, 0x02, 0x03, 0x0b: // FADD FSUB FMUL FDIV FSQRT
		if funct5 == 0x0b && rs2 != 0 {
			return illegal()
		}
		rm, ok := h.roundingMode(raw)
		if !ok {
			return illegal()
		}
		if fmtD {
			a, b := h.f[rs1], h.f[rs2]
			var r uint64
			var fl sf.Flags
			switch funct5 {
			case 0:
				r, fl = sf.F64Add(a, b, rm)
			case 1:
				r, fl = sf.F64Sub(a, b, rm)
			case 2:
				r, fl = sf.F64Mul(a, b, rm)
			case 3:
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
			switch funct5 {
			case 0:
				r, fl = sf.F32Add(a, b, rm)
			case 1:
				r, fl = sf.F32Sub(a, b, rm)
			case 2:
				r, fl = sf.F32Mul(a, b, rm)
			case 3:
				r, fl = sf.F32Div(a, b, rm)
			default:
				r, fl = sf.F32Sqrt(a, rm)
			}
			h.setF32(rd, r)
			h.fflags(fl)
		}
	case 0x04: // FSGNJ, FSGNJN, FSGNJX
		if f3 > 2 {
			return illegal()
		}
		if fmtD {
			a, b := h.f[rs1], h.f[rs2]
			h.setF64(rd, a&^(1<<63)|signInject(a>>63, b>>63, f3)<<63)
		} else {
			a, b := h.f32(rs1), h.f32(rs2)
			s := signInject(uint64(a>>31), uint64(b>>31), f3)
			h.setF32(rd, a&^(1<<31)|uint32(s)<<31)
		}
	case 0x05: // FMIN, FMAX
		if f3 > 1 {
			return illegal()
		}
		if fmtD {
			var r uint64
			var fl sf.Flags
			if f3 == 0 {
				r, fl = sf.F64Min(h.f[rs1], h.f[rs2])
			} else {
				r, fl = sf.F64Max(h.f[rs1], h.f[rs2])
			}
			h.setF64(rd, r)
			h.fflags(fl)
		} else {
			var r uint32
			var fl sf.Flags
			if f3 == 0 {
				r, fl = sf.F32Min(h.f32(rs1), h.f32(rs2))
			} else {
				r, fl = sf.F32Max(h.f32(rs1), h.f32(rs2))
			}
			h.setF32(rd, r)
			h.fflags(fl)
		}
	case 0x08: // FCVT.S.D, FCVT.D.S
		rm, ok := h.roundingMode(raw)
		if !ok {
			return illegal()
		}
		switch {
		case !fmtD && rs2 == 1:
			r, fl := sf.F64ToF32(h.f[rs1], rm)
			h.setF32(rd, r)
			h.fflags(fl)
		case fmtD && rs2 == 0:
			r, fl := sf.F32ToF64(h.f32(rs1))
			h.setF64(rd, r)
			h.fflags(fl)
		default:
			return illegal()
		}
	case 0x14: // FLE, FLT, FEQ
		var r bool
		var fl sf.Flags
		switch {
		case f3 > 2:
			return illegal()
		case fmtD:
			r, fl = [3]func(a, b uint64) (bool, sf.Flags){sf.F64Le, sf.F64Lt, sf.F64Eq}[f3](h.f[rs1], h.f[rs2])
		default:
			r, fl = [3]func(a, b uint32) (bool, sf.Flags){sf.F32Le, sf.F32Lt, sf.F32Eq}[f3](h.f32(rs1), h.f32(rs2))
		}
		h.setXr(rd, b2u(r))
		h.fflags(fl)
	case 0x18: // FCVT.W/WU/L/LU from S or D
		rm, ok := h.roundingMode(raw)
		if !ok || rs2 > 3 {
			return illegal()
		}
		var r uint64
		var fl sf.Flags
		if fmtD {
			r, fl = [4]func(uint64, sf.RoundingMode) (uint64, sf.Flags){
				sf.F64ToI32, sf.F64ToU32, sf.F64ToI64, sf.F64ToU64}[rs2](h.f[rs1], rm)
		} else {
			r, fl = [4]func(uint32, sf.RoundingMode) (uint64, sf.Flags){
				sf.F32ToI32, sf.F32ToU32, sf.F32ToI64, sf.F32ToU64}[rs2](h.f32(rs1), rm)
		}
		h.setXr(rd, r)
		h.fflags(fl)
	case 0x1a: // FCVT.S/D from W/WU/L/LU
		rm, ok := h.roundingMode(raw)
		if !ok || rs2 > 3 {
			return illegal()
		}
		a := h.x[rs1]
		if fmtD {
			r, fl := [4]func(uint64, sf.RoundingMode) (uint64, sf.Flags){
				sf.I32ToF64, sf.U32ToF64, sf.I64ToF64, sf.U64ToF64}[rs2](a, rm)
			h.setF64(rd, r)
			h.fflags(fl)
		} else {
			r, fl := [4]func(uint64, sf.RoundingMode) (uint32, sf.Flags){
				sf.I32ToF32, sf.U32ToF32, sf.I64ToF32, sf.U64ToF32}[rs2](a, rm)
			h.setF32(rd, r)
			h.fflags(fl)
		}
	case 0x1c: // FMV.X.W/D, FCLASS
		if rs2 != 0 {
			return illegal()
		}
		switch {
		case f3 == 0 && fmtD:
			h.setXr(rd, h.f[rs1])
		case f3 == 0:
			h.setXr(rd, sx32(h.f[rs1]))
		case f3 == 1 && fmtD:
			h.setXr(rd, sf.F64Classify(h.f[rs1]))
		case f3 == 1:
			h.setXr(rd, sf.F32Classify(h.f32(rs1)))
		default:
			return illegal()
		}
	case 0x1e: // FMV.W.X, FMV.D.X
		if rs2 != 0 || f3 != 0 {
			return illegal()
		}
		if fmtD {
			h.setF64(rd, h.x[rs1])
		} else {
			h.setF32(rd, uint32(h.x[rs1]))
		}
	default:
		return illegal()
	}
	return true
}

// signInject computes the result sign of FSGNJ (f3=0), FSGNJN (1), FSGNJX (2).
func signInject(a, b uint64, f3 uint32) uint64 {
	switch f3 {
	case 0:
		return b
	case 1:
		return b ^ 1
	}
	return a ^ b
}
