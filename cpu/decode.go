package cpu

// Instruction decoding (unprivileged spec chapters 2, 5, 7, 8, 11-13, 16, 24)
// into dinst, the pre-decoded form the hot loop switches on.

// dinst is one decoded instruction, 16 bytes. rd is zeroSink when the
// instruction names x0 as an integer destination, so the hot loop can write
// x[rd] unconditionally (FP instructions keep rd as encoded: it may name an
// f register).
type dinst struct {
	op  uint8
	rd  uint8
	rs1 uint8
	rs2 uint8
	len uint8  // 2 or 4 bytes
	fn  uint8  // opCSR: funct3; opAMO: funct5 (amo*); opFP: fp* | fpD
	rs3 uint8  // opFP: the third source of the fused multiply-adds
	aux uint8  // opAMO: access size in bytes; opFP: rounding-mode field
	imm int32  // immediate; opCSR: the CSR number
	raw uint32 // the instruction word as fetched (16 bits for compressed), for tval
}

// Opcodes of dinst. opNone marks a slot not decoded yet and opCross one that
// must be fetched the slow way each time; both are <= opCross so the hot
// loop needs one compare to find them.
const (
	opNone uint8 = iota
	opCross
	opIllegal
	opLUI
	opAUIPC
	opJAL
	opJALR
	opBEQ
	opBNE
	opBLT
	opBGE
	opBLTU
	opBGEU
	opLB
	opLH
	opLW
	opLD
	opLBU
	opLHU
	opLWU
	opSB
	opSH
	opSW
	opSD
	opADDI
	opSLTI
	opSLTIU
	opXORI
	opORI
	opANDI
	opSLLI
	opSRLI
	opSRAI
	opADD
	opSUB
	opSLL
	opSLT
	opSLTU
	opXOR
	opSRL
	opSRA
	opOR
	opAND
	opADDIW
	opSLLIW
	opSRLIW
	opSRAIW
	opADDW
	opSUBW
	opSLLW
	opSRLW
	opSRAW
	opMUL
	opMULH
	opMULHSU
	opMULHU
	opDIV
	opDIVU
	opREM
	opREMU
	opMULW
	opDIVW
	opDIVUW
	opREMW
	opREMUW
	opFENCE
	opFENCEI
	opECALL
	opEBREAK
	opMRET
	opSRET
	opWFI
	opSFENCE
	opCSR // fn and imm say which
	opAMO // LR, SC and AMOs; fn and aux say which
	opFP  // every F and D instruction; fn, rs3 and aux say which (fp.go)
	numOps
)

func field(w uint32, hi, lo uint) uint32 { return w >> lo & (1<<(hi-lo+1) - 1) }

// sext sign-extends the low n bits of v.
func sext(v uint32, n uint) int32 { return int32(v<<(32-n)) >> (32 - n) }

func immI(w uint32) int32 { return int32(w) >> 20 }
func immS(w uint32) int32 { return int32(w)>>25<<5 | int32(field(w, 11, 7)) }
func immB(w uint32) int32 {
	v := field(w, 31, 31)<<12 | field(w, 7, 7)<<11 | field(w, 30, 25)<<5 | field(w, 11, 8)<<1
	return sext(v, 13)
}
func immU(w uint32) int32 { return int32(w &^ 0xfff) }
func immJ(w uint32) int32 {
	v := field(w, 31, 31)<<20 | field(w, 19, 12)<<12 | field(w, 20, 20)<<11 | field(w, 30, 21)<<1
	return sext(v, 21)
}

// decode fills d from the 32-bit instruction word w (already expanded if it
// came from a compressed instruction). Unknown encodings become opIllegal.
func decode(w uint32, d *dinst) {
	d.op = opIllegal
	d.len = 4
	d.rd = uint8(field(w, 11, 7))
	d.rs1 = uint8(field(w, 19, 15))
	d.rs2 = uint8(field(w, 24, 20))
	d.fn, d.rs3, d.aux = 0, 0, 0
	d.imm = 0
	d.raw = w
	f3 := field(w, 14, 12)
	f7 := field(w, 31, 25)
	writesRd := true
	switch w & 0x7f {
	case 0x37:
		d.op, d.imm = opLUI, immU(w)
	case 0x17:
		d.op, d.imm = opAUIPC, immU(w)
	case 0x6f:
		d.op, d.imm = opJAL, immJ(w)
	case 0x67:
		if f3 == 0 {
			d.op, d.imm = opJALR, immI(w)
		}
	case 0x63:
		writesRd = false
		d.imm = immB(w)
		switch f3 {
		case 0:
			d.op = opBEQ
		case 1:
			d.op = opBNE
		case 4:
			d.op = opBLT
		case 5:
			d.op = opBGE
		case 6:
			d.op = opBLTU
		case 7:
			d.op = opBGEU
		}
	case 0x03:
		d.imm = immI(w)
		d.op = [8]uint8{opLB, opLH, opLW, opLD, opLBU, opLHU, opLWU, opIllegal}[f3]
	case 0x23:
		writesRd = false
		d.imm = immS(w)
		d.op = [8]uint8{opSB, opSH, opSW, opSD, opIllegal, opIllegal, opIllegal, opIllegal}[f3]
	case 0x13:
		d.imm = immI(w)
		switch f3 {
		case 0:
			d.op = opADDI
		case 2:
			d.op = opSLTI
		case 3:
			d.op = opSLTIU
		case 4:
			d.op = opXORI
		case 6:
			d.op = opORI
		case 7:
			d.op = opANDI
		case 1:
			if w>>26 == 0 {
				d.op, d.imm = opSLLI, int32(field(w, 25, 20))
			}
		case 5:
			switch w >> 26 {
			case 0:
				d.op, d.imm = opSRLI, int32(field(w, 25, 20))
			case 0x10:
				d.op, d.imm = opSRAI, int32(field(w, 25, 20))
			}
		}
	case 0x1b:
		d.imm = immI(w)
		switch {
		case f3 == 0:
			d.op = opADDIW
		case f3 == 1 && f7 == 0:
			d.op, d.imm = opSLLIW, int32(field(w, 24, 20))
		case f3 == 5 && f7 == 0:
			d.op, d.imm = opSRLIW, int32(field(w, 24, 20))
		case f3 == 5 && f7 == 0x20:
			d.op, d.imm = opSRAIW, int32(field(w, 24, 20))
		}
	case 0x33:
		switch f7 {
		case 0:
			d.op = [8]uint8{opADD, opSLL, opSLT, opSLTU, opXOR, opSRL, opOR, opAND}[f3]
		case 0x20:
			switch f3 {
			case 0:
				d.op = opSUB
			case 5:
				d.op = opSRA
			}
		case 1:
			d.op = [8]uint8{opMUL, opMULH, opMULHSU, opMULHU, opDIV, opDIVU, opREM, opREMU}[f3]
		}
	case 0x3b:
		switch f7 {
		case 0:
			switch f3 {
			case 0:
				d.op = opADDW
			case 1:
				d.op = opSLLW
			case 5:
				d.op = opSRLW
			}
		case 0x20:
			switch f3 {
			case 0:
				d.op = opSUBW
			case 5:
				d.op = opSRAW
			}
		case 1:
			switch f3 {
			case 0:
				d.op = opMULW
			case 4:
				d.op = opDIVW
			case 5:
				d.op = opDIVUW
			case 6:
				d.op = opREMW
			case 7:
				d.op = opREMUW
			}
		}
	case 0x0f:
		writesRd = false
		switch f3 {
		case 0:
			d.op = opFENCE // also PAUSE and the other FENCE hints
		case 1:
			d.op = opFENCEI
		}
	case 0x73:
		switch {
		case f3 == 0:
			writesRd = false
			switch {
			case w == 0x00000073:
				d.op = opECALL
			case w == 0x00100073:
				d.op = opEBREAK
			case w == 0x30200073:
				d.op = opMRET
			case w == 0x10200073:
				d.op = opSRET
			case w == 0x10500073:
				d.op = opWFI
			case f7 == 0x09 && d.rd == 0:
				d.op = opSFENCE
			}
		case f3 != 4:
			d.op = opCSR
			d.fn = uint8(f3)
			d.imm = int32(field(w, 31, 20))
		}
	case 0x2f:
		if f3 == 2 || f3 == 3 {
			switch f5 := uint8(w >> 27); f5 {
			case amoLR: // rs2 must be 0
				if d.rs2 == 0 {
					d.op, d.fn = opAMO, f5
				}
			case amoSC, amoSWAP, amoADD, amoXOR, amoAND, amoOR, amoMIN, amoMAX, amoMINU, amoMAXU:
				d.op, d.fn = opAMO, f5
			}
			d.aux = 4 << (f3 - 2)
		}
	case 0x07, 0x27, 0x43, 0x47, 0x4b, 0x4f, 0x53:
		decodeFP(w, d) // fp.go
		writesRd = false
	}
	if d.op == opIllegal {
		writesRd = false
	}
	if writesRd && d.rd == 0 {
		d.rd = zeroSink
	}
}

// Encoders for the 32-bit formats, used to expand compressed instructions.
func encI(opc, rd, f3, rs1 uint32, imm int32) uint32 {
	return uint32(imm)<<20 | rs1<<15 | f3<<12 | rd<<7 | opc
}
func encR(opc, rd, f3, rs1, rs2, f7 uint32) uint32 {
	return f7<<25 | rs2<<20 | rs1<<15 | f3<<12 | rd<<7 | opc
}
func encS(opc, f3, rs1, rs2 uint32, imm int32) uint32 {
	u := uint32(imm)
	return (u>>5&0x7f)<<25 | rs2<<20 | rs1<<15 | f3<<12 | (u&0x1f)<<7 | opc
}
func encB(f3, rs1, rs2 uint32, imm int32) uint32 {
	u := uint32(imm)
	return (u>>12&1)<<31 | (u>>5&0x3f)<<25 | rs2<<20 | rs1<<15 | f3<<12 |
		(u>>1&0xf)<<8 | (u>>11&1)<<7 | 0x63
}
func encJ(rd uint32, imm int32) uint32 {
	u := uint32(imm)
	return (u>>20&1)<<31 | (u>>1&0x3ff)<<21 | (u>>11&1)<<20 | (u>>12&0xff)<<12 | rd<<7 | 0x6f
}

// expandC returns the 32-bit instruction equivalent to the compressed
// instruction c (unprivileged spec chapter 16, RV64C), or ok=false for the
// reserved and illegal encodings.
func expandC(c uint32) (w uint32, ok bool) {
	b := func(hi, lo uint) uint32 { return field(c, hi, lo) }
	rdp := b(4, 2) + 8  // rd' / rs2'
	rs1p := b(9, 7) + 8 // rs1' / rd'
	rd := b(11, 7)
	rs2 := b(6, 2)
	imm6 := sext(b(12, 12)<<5|b(6, 2), 6)
	f3 := b(15, 13)
	switch c & 3 {
	case 0:
		switch f3 {
		case 0: // C.ADDI4SPN
			u := b(12, 11)<<4 | b(10, 7)<<6 | b(6, 6)<<2 | b(5, 5)<<3
			if u == 0 {
				return 0, false
			}
			return encI(0x13, rdp, 0, 2, int32(u)), true
		case 1: // C.FLD
			return encI(0x07, rdp, 3, rs1p, int32(b(12, 10)<<3|b(6, 5)<<6)), true
		case 2: // C.LW
			return encI(0x03, rdp, 2, rs1p, int32(b(12, 10)<<3|b(6, 6)<<2|b(5, 5)<<6)), true
		case 3: // C.LD
			return encI(0x03, rdp, 3, rs1p, int32(b(12, 10)<<3|b(6, 5)<<6)), true
		case 5: // C.FSD
			return encS(0x27, 3, rs1p, rdp, int32(b(12, 10)<<3|b(6, 5)<<6)), true
		case 6: // C.SW
			return encS(0x23, 2, rs1p, rdp, int32(b(12, 10)<<3|b(6, 6)<<2|b(5, 5)<<6)), true
		case 7: // C.SD
			return encS(0x23, 3, rs1p, rdp, int32(b(12, 10)<<3|b(6, 5)<<6)), true
		}
	case 1:
		switch f3 {
		case 0: // C.ADDI, C.NOP
			return encI(0x13, rd, 0, rd, imm6), true
		case 1: // C.ADDIW
			if rd == 0 {
				return 0, false
			}
			return encI(0x1b, rd, 0, rd, imm6), true
		case 2: // C.LI
			return encI(0x13, rd, 0, 0, imm6), true
		case 3:
			if rd == 2 { // C.ADDI16SP
				v := sext(b(12, 12)<<9|b(6, 6)<<4|b(5, 5)<<6|b(4, 3)<<7|b(2, 2)<<5, 10)
				if v == 0 {
					return 0, false
				}
				return encI(0x13, 2, 0, 2, v), true
			}
			// C.LUI
			if imm6 == 0 {
				return 0, false
			}
			return uint32(imm6)<<12 | rd<<7 | 0x37, true
		case 4:
			shamt := b(12, 12)<<5 | b(6, 2)
			switch b(11, 10) {
			case 0: // C.SRLI
				return encI(0x13, rs1p, 5, rs1p, int32(shamt)), true
			case 1: // C.SRAI
				return encI(0x13, rs1p, 5, rs1p, int32(shamt|0x400)), true
			case 2: // C.ANDI
				return encI(0x13, rs1p, 7, rs1p, imm6), true
			}
			if b(12, 12) == 0 {
				switch b(6, 5) {
				case 0:
					return encR(0x33, rs1p, 0, rs1p, rdp, 0x20), true // C.SUB
				case 1:
					return encR(0x33, rs1p, 4, rs1p, rdp, 0), true // C.XOR
				case 2:
					return encR(0x33, rs1p, 6, rs1p, rdp, 0), true // C.OR
				default:
					return encR(0x33, rs1p, 7, rs1p, rdp, 0), true // C.AND
				}
			}
			switch b(6, 5) {
			case 0:
				return encR(0x3b, rs1p, 0, rs1p, rdp, 0x20), true // C.SUBW
			case 1:
				return encR(0x3b, rs1p, 0, rs1p, rdp, 0), true // C.ADDW
			}
		case 5: // C.J
			v := sext(b(12, 12)<<11|b(11, 11)<<4|b(10, 9)<<8|b(8, 8)<<10|b(7, 7)<<6|
				b(6, 6)<<7|b(5, 3)<<1|b(2, 2)<<5, 12)
			return encJ(0, v), true
		case 6, 7: // C.BEQZ, C.BNEZ
			v := sext(b(12, 12)<<8|b(11, 10)<<3|b(6, 5)<<6|b(4, 3)<<1|b(2, 2)<<5, 9)
			return encB(f3-6, rs1p, 0, v), true
		}
	case 2:
		switch f3 {
		case 0: // C.SLLI
			return encI(0x13, rd, 1, rd, int32(b(12, 12)<<5|b(6, 2))), true
		case 1: // C.FLDSP
			return encI(0x07, rd, 3, 2, int32(b(12, 12)<<5|b(6, 5)<<3|b(4, 2)<<6)), true
		case 2: // C.LWSP
			if rd == 0 {
				return 0, false
			}
			return encI(0x03, rd, 2, 2, int32(b(12, 12)<<5|b(6, 4)<<2|b(3, 2)<<6)), true
		case 3: // C.LDSP
			if rd == 0 {
				return 0, false
			}
			return encI(0x03, rd, 3, 2, int32(b(12, 12)<<5|b(6, 5)<<3|b(4, 2)<<6)), true
		case 4:
			if b(12, 12) == 0 {
				if rs2 == 0 { // C.JR
					if rd == 0 {
						return 0, false
					}
					return encI(0x67, 0, 0, rd, 0), true
				}
				return encR(0x33, rd, 0, 0, rs2, 0), true // C.MV
			}
			if rs2 == 0 {
				if rd == 0 {
					return 0x00100073, true // C.EBREAK
				}
				return encI(0x67, 1, 0, rd, 0), true // C.JALR
			}
			return encR(0x33, rd, 0, rd, rs2, 0), true // C.ADD
		case 5: // C.FSDSP
			return encS(0x27, 3, 2, rs2, int32(b(12, 10)<<3|b(9, 7)<<6)), true
		case 6: // C.SWSP
			return encS(0x23, 2, 2, rs2, int32(b(12, 9)<<2|b(8, 7)<<6)), true
		case 7: // C.SDSP
			return encS(0x23, 3, 2, rs2, int32(b(12, 10)<<3|b(9, 7)<<6)), true
		}
	}
	return 0, false
}

// decodeAny decodes an instruction given its first parcel lo and, for a
// 32-bit instruction, its second parcel hi; a compressed one is expanded
// first, and raw keeps its 16 bits.
func decodeAny(lo, hi uint16, d *dinst) {
	if lo&3 != 3 {
		c := uint32(lo)
		w, ok := expandC(c)
		if ok {
			decode(w, d)
		} else {
			d.op = opIllegal
		}
		d.len = 2
		d.raw = c
		return
	}
	decode(uint32(lo)|uint32(hi)<<16, d)
}
