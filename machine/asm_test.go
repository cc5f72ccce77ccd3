package machine

import (
	"bytes"
	"encoding/binary"
)

// A tiny RV64 assembler for test programs (base formats of the
// unprivileged spec, chapter 2).

const (
	zero = 0
	t0   = 5
	t1   = 6
	t2   = 7
	a0   = 10
	a1   = 11
	a2   = 12
	t3   = 28
	t4   = 29
	t5   = 30
)

type prog struct{ words []uint32 }

func (p *prog) emit(w uint32) *prog { p.words = append(p.words, w); return p }

func (p *prog) lui(rd uint32, imm20 uint32) *prog { return p.emit(imm20<<12 | rd<<7 | 0x37) }
func (p *prog) addi(rd, rs uint32, imm int32) *prog {
	return p.emit(uint32(imm)<<20 | rs<<15 | rd<<7 | 0x13)
}
func (p *prog) add(rd, rs1, rs2 uint32) *prog { return p.emit(rs2<<20 | rs1<<15 | rd<<7 | 0x33) }
func (p *prog) load(funct3, rd, rs uint32, imm int32) *prog {
	return p.emit(uint32(imm)<<20 | rs<<15 | funct3<<12 | rd<<7 | 0x03)
}
func (p *prog) ld(rd, rs uint32, imm int32) *prog { return p.load(3, rd, rs, imm) }
func (p *prog) lw(rd, rs uint32, imm int32) *prog { return p.load(2, rd, rs, imm) }
func (p *prog) store(funct3, rs2, rs1 uint32, imm int32) *prog {
	u := uint32(imm)
	return p.emit((u>>5)<<25 | rs2<<20 | rs1<<15 | funct3<<12 | (u&31)<<7 | 0x23)
}
func (p *prog) sb(rs2, rs1 uint32, imm int32) *prog { return p.store(0, rs2, rs1, imm) }
func (p *prog) sw(rs2, rs1 uint32, imm int32) *prog { return p.store(2, rs2, rs1, imm) }
func (p *prog) sd(rs2, rs1 uint32, imm int32) *prog { return p.store(3, rs2, rs1, imm) }
func (p *prog) csrw(csr, rs uint32) *prog           { return p.emit(csr<<20 | rs<<15 | 1<<12 | 0x73) }
func (p *prog) wfi() *prog                          { return p.emit(0x10500073) }
func (p *prog) loop() *prog                         { return p.emit(0x6f) } // jal x0, 0
// bne rs1, rs2, off (bytes, multiple of 2, within ±4 KiB).
func (p *prog) bne(rs1, rs2 uint32, off int32) *prog {
	u := uint32(off)
	return p.emit((u>>12&1)<<31 | (u>>5&0x3f)<<25 | rs2<<20 | rs1<<15 | 1<<12 | (u>>1&0xf)<<8 | (u>>11&1)<<7 | 0x63)
}

func (p *prog) slli(rd, rs, sh uint32) *prog { return p.emit(sh<<20 | rs<<15 | 1<<12 | rd<<7 | 0x13) }
func (p *prog) srli(rd, rs, sh uint32) *prog { return p.emit(sh<<20 | rs<<15 | 5<<12 | rd<<7 | 0x13) }

// la loads a 4 KiB-aligned address below 4 GiB (lui sign-extends on RV64,
// so the upper half is cleared with a shift pair).
func (p *prog) la(rd uint32, addr uint64) *prog {
	return p.lui(rd, uint32(addr>>12)&0xfffff).slli(rd, rd, 32).srli(rd, rd, 32)
}

// li loads a 32-bit signed constant.
func (p *prog) li(rd uint32, v int32) *prog {
	lo := v << 20 >> 20
	hi := uint32(v-lo) >> 12
	if hi != 0 {
		p.lui(rd, hi&0xfffff)
		return p.addi(rd, rd, lo)
	}
	return p.addi(rd, zero, lo)
}

// putc writes c to the UART (t0 = UART base must be set).
func (p *prog) puts(s string) *prog {
	p.lui(t0, UARTBase>>12)
	for _, c := range []byte(s) {
		p.addi(t1, zero, int32(c)).sb(t1, t0, 0)
	}
	return p
}

// finish writes v to the sifive_test finisher and spins.
func (p *prog) finish(v int32) *prog {
	return p.lui(t0, TestBase>>12).li(t1, v).sw(t1, t0, 0).loop()
}

func (p *prog) bytes() []byte {
	b := make([]byte, 0, 4*len(p.words))
	for _, w := range p.words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// elf64 wraps code (loaded at base) in a minimal RISC-V ELF with a symbol
// table holding the given symbols.
func elf64(code []byte, base uint64, syms map[string]uint64) []byte {
	le := binary.LittleEndian
	const ehsize, phsize, shsize = 64, 56, 64
	// Layout: ehdr, phdr, code, strtab, symtab, shstrtab, section headers.
	codeOff := uint64(ehsize + phsize)
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	var symtab bytes.Buffer
	symtab.Write(make([]byte, 24)) // null symbol
	for name, v := range syms {
		off := uint32(strtab.Len())
		strtab.WriteString(name)
		strtab.WriteByte(0)
		var s [24]byte
		le.PutUint32(s[0:], off)
		s[4] = 0x10            // STB_GLOBAL, STT_NOTYPE
		le.PutUint16(s[6:], 1) // section .text
		le.PutUint64(s[8:], v)
		symtab.Write(s[:])
	}
	shstr := []byte("\x00.text\x00.strtab\x00.symtab\x00.shstrtab\x00")
	strOff := codeOff + uint64(len(code))
	symOff := (strOff + uint64(strtab.Len()) + 7) &^ 7
	shstrOff := symOff + uint64(symtab.Len())
	shOff := (shstrOff + uint64(len(shstr)) + 7) &^ 7

	out := make([]byte, shOff+5*shsize)
	copy(out, "\x7fELF")
	out[4], out[5], out[6] = 2, 1, 1 // 64-bit, little-endian, version 1
	le.PutUint16(out[16:], 2)        // ET_EXEC
	le.PutUint16(out[18:], 243)      // EM_RISCV
	le.PutUint32(out[20:], 1)
	le.PutUint64(out[24:], base) // entry
	le.PutUint64(out[32:], ehsize)
	le.PutUint64(out[40:], shOff)
	le.PutUint16(out[52:], ehsize)
	le.PutUint16(out[54:], phsize)
	le.PutUint16(out[56:], 1)
	le.PutUint16(out[58:], shsize)
	le.PutUint16(out[60:], 5)
	le.PutUint16(out[62:], 4) // shstrndx

	ph := out[ehsize:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[4:], 7) // RWX
	le.PutUint64(ph[8:], codeOff)
	le.PutUint64(ph[16:], base)
	le.PutUint64(ph[24:], base)
	le.PutUint64(ph[32:], uint64(len(code)))
	le.PutUint64(ph[40:], uint64(len(code))+64) // a little BSS
	le.PutUint64(ph[48:], 4)

	copy(out[codeOff:], code)
	copy(out[strOff:], strtab.Bytes())
	copy(out[symOff:], symtab.Bytes())
	copy(out[shstrOff:], shstr)

	sh := func(i int, name, typ uint32, flags, addr, off, size uint64, link, info uint32, entsize uint64) {
		s := out[shOff+uint64(i)*shsize:]
		le.PutUint32(s[0:], name)
		le.PutUint32(s[4:], typ)
		le.PutUint64(s[8:], flags)
		le.PutUint64(s[16:], addr)
		le.PutUint64(s[24:], off)
		le.PutUint64(s[32:], size)
		le.PutUint32(s[40:], link)
		le.PutUint32(s[44:], info)
		le.PutUint64(s[48:], 1)
		le.PutUint64(s[56:], entsize)
	}
	sh(1, 1, 1, 6, base, codeOff, uint64(len(code)), 0, 0, 0)  // .text PROGBITS AX
	sh(2, 7, 3, 0, 0, strOff, uint64(strtab.Len()), 0, 0, 0)   // .strtab
	sh(3, 15, 2, 0, 0, symOff, uint64(symtab.Len()), 2, 1, 24) // .symtab -> .strtab
	sh(4, 23, 3, 0, 0, shstrOff, uint64(len(shstr)), 0, 0, 0)  // .shstrtab
	return out
}
