// Package disasm disassembles RV64GC instructions for gemu's logs (-d
// in_asm, the instruction ring buffer, the difference finder), in the
// layout of QEMU 7.2's disassembler (disas/riscv.c): ABI register names,
// the mnemonic padded to 24 columns, and "# 0x..." with the target of
// pc-relative instructions.
//
// Decoding is golang.org/x/arch/riscv64/riscv64asm, which covers RV64GC
// including the compressed instructions (shown, as QEMU shows them, as the
// instruction they expand to). It lacks the privileged instructions, which
// are added here: mret, sret, wfi and sfence.vma (privileged spec 3.3 and
// 4.2.1).
package disasm

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/arch/riscv64/riscv64asm"
)

// ABI register names (psABI chapter 1, as QEMU's rv_ireg_name_sym).
var xNames = [32]string{
	"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
	"s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
	"a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
	"s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
}

var fNames = [32]string{
	"ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7",
	"fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
	"fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
	"fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
}

// XName returns the ABI name of integer register i.
func XName(i int) string { return xNames[i&31] }

// FName returns the ABI name of floating-point register i.
func FName(i int) string { return fNames[i&31] }

var regRE = regexp.MustCompile(`\b([xf])([0-9]{1,2})\b`)

// Len returns the length in bytes of the instruction whose first 16-bit
// parcel is lo.
func Len(lo uint16) int {
	if lo&3 == 3 {
		return 4
	}
	return 2
}

// Inst returns the assembly of the instruction insn at pc (16 bits for a
// compressed one): mnemonic and operands, without address or encoding.
func Inst(pc uint64, insn uint32) string {
	op, args, ok := privileged(insn)
	if !ok {
		n := Len(uint16(insn))
		b := make([]byte, 4)
		binary.LittleEndian.PutUint32(b, insn)
		in, err := riscv64asm.Decode(b[:n])
		if err != nil {
			return "illegal"
		}
		s := riscv64asm.GNUSyntax(in)
		op, args, _ = strings.Cut(s, " ")
		args = regRE.ReplaceAllStringFunc(args, func(r string) string {
			n, _ := strconv.Atoi(r[1:])
			if r[0] == 'x' {
				return xNames[n&31]
			}
			return fNames[n&31]
		})
		if t, ok := target(pc, in); ok {
			args = fmt.Sprintf("%-24s# 0x%x", args, t)
		}
	}
	if args == "" {
		return op
	}
	return fmt.Sprintf("%-24s%s", op, args)
}

// Line returns one line of QEMU's -d in_asm listing (disas.c target_disas
// and disas/riscv.c print_insn_riscv): address, encoding, assembly.
func Line(pc uint64, insn uint32) string {
	enc := fmt.Sprintf("%08x          ", insn)
	if Len(uint16(insn)) == 2 {
		enc = fmt.Sprintf("%04x              ", insn&0xffff)
	}
	return fmt.Sprintf("0x%016x:  %s%s", pc, enc, Inst(pc, insn))
}

// privileged decodes the SYSTEM instructions riscv64asm does not know.
func privileged(w uint32) (op, args string, ok bool) {
	if w&3 != 3 {
		return "", "", false
	}
	switch w {
	case 0x30200073:
		return "mret", "", true
	case 0x10200073:
		return "sret", "", true
	case 0x10500073:
		return "wfi", "", true
	}
	if w&0xfe007fff == 0x12000073 { // sfence.vma rs1, rs2
		rs1, rs2 := w>>15&31, w>>20&31
		return "sfence.vma", xNames[rs1] + "," + xNames[rs2], true
	}
	return "", "", false
}

// target returns the address a pc-relative instruction refers to.
func target(pc uint64, in riscv64asm.Inst) (uint64, bool) {
	switch in.Op {
	case riscv64asm.JAL, riscv64asm.BEQ, riscv64asm.BNE, riscv64asm.BLT,
		riscv64asm.BGE, riscv64asm.BLTU, riscv64asm.BGEU, riscv64asm.AUIPC:
	default:
		return 0, false
	}
	w := in.Enc
	var off int64
	if in.Len == 2 {
		switch w >> 13 & 7 {
		case 5: // c.j
			v := w>>12&1<<11 | w>>11&1<<4 | w>>9&3<<8 | w>>8&1<<10 | w>>7&1<<6 | w>>6&1<<7 | w>>3&7<<1 | w>>2&1<<5
			off = int64(int32(v<<20) >> 20)
		case 6, 7: // c.beqz, c.bnez
			v := w>>12&1<<8 | w>>10&3<<3 | w>>5&3<<6 | w>>3&3<<1 | w>>2&1<<5
			off = int64(int32(v<<23) >> 23)
		default:
			return 0, false
		}
		return pc + uint64(off), true
	}
	switch w & 0x7f {
	case 0x6f:
		v := w>>31<<20 | w>>12&0xff<<12 | w>>20&1<<11 | w>>21&0x3ff<<1
		off = int64(int32(v<<11) >> 11)
	case 0x63:
		v := w>>31<<12 | w>>7&1<<11 | w>>25&0x3f<<5 | w>>8&0xf<<1
		off = int64(int32(v<<19) >> 19)
	case 0x17:
		off = int64(int32(w &^ 0xfff))
	}
	return pc + uint64(off), true
}
