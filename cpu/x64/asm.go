// Package x64 is the small x86-64 toolkit of gemu's translator (cpu/jit*.go):
// an assembler for the few instruction forms the translator emits, memory
// that can hold and run machine code, and the Go assembly trampoline that
// enters it.
//
// The assembler writes bytes by hand from the encodings of the Intel SDM
// volume 2 (chapter 2, "Instruction Format": REX prefixes, ModRM, SIB and
// displacements; chapter 3-5 for each opcode). The forms needed are few
// (register and base+index*scale+disp operands, 8/16/32/64-bit moves, ALU,
// shifts, multiply and divide, setcc, jumps with patchable rel32), so a
// general assembler library would bring more than it gives; the unit tests
// check every form against golang.org/x/arch/x86/x86asm.
//
// Running generated code from Go without cgo follows wazero's compiler
// engine (github.com/tetratelabs/wazero, internal/engine/compiler and its
// RATIONALE.md): code lives in mmap'ed executable memory outside the Go
// heap; it is entered through an assembly function (Call) on the calling
// goroutine's stack and returns an exit code whenever Go must act. The
// generated code never calls Go, never stores Go pointers and uses no stack
// beyond Call's return address, so the garbage collector, stack growth and
// stack shrinking never meet it; a signal (async preemption, profiling) that
// lands in it finds no Go function at the pc and so the runtime does not
// preempt there, and the goroutine is preempted at the next Go safe point
// after the code returns.
package x64

import "encoding/binary"

// Reg is a general-purpose register.
type Reg uint8

// The sixteen general-purpose registers in encoding order.
const (
	RAX Reg = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
	NoReg Reg = 0xff
)

// Cond is a condition code (the low nibble of Jcc and SETcc opcodes).
type Cond uint8

// Condition codes.
const (
	CondO  Cond = 0x0
	CondNO Cond = 0x1
	CondB  Cond = 0x2 // unsigned <
	CondAE Cond = 0x3 // unsigned >=
	CondE  Cond = 0x4
	CondNE Cond = 0x5
	CondBE Cond = 0x6
	CondA  Cond = 0x7
	CondS  Cond = 0x8
	CondNS Cond = 0x9
	CondL  Cond = 0xc // signed <
	CondGE Cond = 0xd // signed >=
	CondLE Cond = 0xe
	CondG  Cond = 0xf
)

// Op is an operand: a register or memory at base+index*scale+disp.
type Op struct {
	mem   bool
	reg   Reg // the register, or the base of a memory operand
	index Reg
	scale uint8
	disp  int32
}

// R is the register operand r.
func R(r Reg) Op { return Op{reg: r, index: NoReg} }

// M is the memory operand [base+disp].
func M(base Reg, disp int32) Op { return Op{mem: true, reg: base, index: NoReg, disp: disp} }

// MI is the memory operand [base+index*scale+disp]; index must not be RSP.
func MI(base, index Reg, scale uint8, disp int32) Op {
	return Op{mem: true, reg: base, index: index, scale: scale, disp: disp}
}

// Asm accumulates machine code.
type Asm struct {
	B []byte
}

// Len is the number of bytes emitted so far.
func (a *Asm) Len() int { return len(a.B) }

func (a *Asm) byte1(b ...byte) { a.B = append(a.B, b...) }

func (a *Asm) imm32(v int32) { a.B = binary.LittleEndian.AppendUint32(a.B, uint32(v)) }

// Operand sizes.
const (
	S8  = 1
	S16 = 2
	S32 = 4
	S64 = 8
)

// enc emits an instruction with the ModRM reg field r and r/m operand m:
// operand-size prefix, REX, opcode bytes, ModRM, SIB, displacement. size is
// the operand size (S8 makes SPL..DIL reachable with an empty REX).
func (a *Asm) enc(size int, op []byte, r uint8, m Op) {
	if size == S16 {
		a.byte1(0x66)
	}
	rex := byte(0)
	if size == S64 {
		rex |= 8
	}
	if r&8 != 0 {
		rex |= 4
	}
	if m.mem && m.index != NoReg && m.index&8 != 0 {
		rex |= 2
	}
	if m.reg&8 != 0 {
		rex |= 1
	}
	need := rex != 0
	if size == S8 && (r >= 4 && r < 8 || !m.mem && m.reg >= 4 && m.reg < 8) {
		need = true
	}
	if need {
		a.byte1(0x40 | rex)
	}
	a.byte1(op...)
	rr := (r & 7) << 3
	if !m.mem {
		a.byte1(0xc0 | rr | byte(m.reg&7))
		return
	}
	var mod byte
	switch {
	case m.disp == 0 && m.reg&7 != 5:
		mod = 0
	case m.disp >= -128 && m.disp < 128:
		mod = 1
	default:
		mod = 2
	}
	if m.index != NoReg || m.reg&7 == 4 {
		idx := byte(4) // none
		ss := byte(0)
		if m.index != NoReg {
			idx = byte(m.index & 7)
			switch m.scale {
			case 2:
				ss = 1
			case 4:
				ss = 2
			case 8:
				ss = 3
			}
		}
		a.byte1(mod<<6|rr|4, ss<<6|idx<<3|byte(m.reg&7))
	} else {
		a.byte1(mod<<6 | rr | byte(m.reg&7))
	}
	switch mod {
	case 1:
		a.byte1(byte(int8(m.disp)))
	case 2:
		a.imm32(m.disp)
	}
}

// Load is MOV dst, m of size bytes; 8- and 16-bit loads zero-extend
// (MOVZX) and 32-bit ones zero-extend as every 32-bit write does.
func (a *Asm) Load(size int, dst Reg, m Op) {
	switch size {
	case S8:
		a.enc(S32, []byte{0x0f, 0xb6}, uint8(dst), m)
	case S16:
		a.enc(S32, []byte{0x0f, 0xb7}, uint8(dst), m)
	default:
		a.enc(size, []byte{0x8b}, uint8(dst), m)
	}
}

// LoadSX is a sign-extending load of size 1, 2 or 4 into a 64-bit register
// (MOVSX, MOVSXD).
func (a *Asm) LoadSX(size int, dst Reg, m Op) {
	switch size {
	case S8:
		a.enc(S64, []byte{0x0f, 0xbe}, uint8(dst), m)
	case S16:
		a.enc(S64, []byte{0x0f, 0xbf}, uint8(dst), m)
	case S32:
		a.enc(S64, []byte{0x63}, uint8(dst), m)
	default:
		a.Load(S64, dst, m)
	}
}

// Store is MOV m, src of size bytes.
func (a *Asm) Store(size int, m Op, src Reg) {
	if size == S8 {
		a.enc(S8, []byte{0x88}, uint8(src), m)
		return
	}
	a.enc(size, []byte{0x89}, uint8(src), m)
}

// StoreImm is MOV m, imm32 (sign-extended to 64 bits for size S64).
func (a *Asm) StoreImm(size int, m Op, imm int32) {
	a.enc(size, []byte{0xc7}, 0, m)
	a.imm32(imm)
}

// MovImm loads a 64-bit constant with the shortest encoding.
func (a *Asm) MovImm(dst Reg, v uint64) {
	switch {
	case v == 0:
		a.Alu(S32, Xor, dst, R(dst))
	case v <= 0xffffffff:
		if dst&8 != 0 {
			a.byte1(0x41)
		}
		a.byte1(0xb8 + byte(dst&7))
		a.imm32(int32(uint32(v)))
	case int64(v) == int64(int32(v)):
		a.enc(S64, []byte{0xc7}, 0, R(dst))
		a.imm32(int32(v))
	default:
		a.byte1(0x48|byte(dst>>3), 0xb8+byte(dst&7))
		a.B = binary.LittleEndian.AppendUint64(a.B, v)
	}
}

// Mov is MOV dst, src between registers (size S32 or S64).
func (a *Asm) Mov(size int, dst, src Reg) { a.enc(size, []byte{0x8b}, uint8(dst), R(src)) }

// Lea is LEA dst, m.
func (a *Asm) Lea(dst Reg, m Op) { a.enc(S64, []byte{0x8d}, uint8(dst), m) }

// AluOp is one of the eight classic ALU operations (its /digit).
type AluOp uint8

// ALU operations.
const (
	Add AluOp = 0
	Or  AluOp = 1
	And AluOp = 4
	Sub AluOp = 5
	Xor AluOp = 6
	Cmp AluOp = 7
)

// Alu is op dst, src (e.g. ADD dst, src) for size S32 or S64.
func (a *Asm) Alu(size int, op AluOp, dst Reg, src Op) {
	a.enc(size, []byte{byte(op)<<3 | 3}, uint8(dst), src)
}

// AluMR is op m, src with a memory or register destination.
func (a *Asm) AluMR(size int, op AluOp, dst Op, src Reg) {
	a.enc(size, []byte{byte(op)<<3 | 1}, uint8(src), dst)
}

// AluImm is op dst, imm (imm sign-extended for S64).
func (a *Asm) AluImm(size int, op AluOp, dst Op, imm int32) {
	if imm >= -128 && imm < 128 {
		a.enc(size, []byte{0x83}, uint8(op), dst)
		a.byte1(byte(int8(imm)))
		return
	}
	a.enc(size, []byte{0x81}, uint8(op), dst)
	a.imm32(imm)
}

// Test is TEST dst, src.
func (a *Asm) Test(size int, dst Op, src Reg) { a.enc(size, []byte{0x85}, uint8(src), dst) }

// ShiftOp is a shift's /digit.
type ShiftOp uint8

// Shifts.
const (
	Shl ShiftOp = 4
	Shr ShiftOp = 5
	Sar ShiftOp = 7
)

// ShiftImm is op dst, n.
func (a *Asm) ShiftImm(size int, op ShiftOp, dst Reg, n uint8) {
	a.enc(size, []byte{0xc1}, uint8(op), R(dst))
	a.byte1(n)
}

// ShiftCL is op dst, CL.
func (a *Asm) ShiftCL(size int, op ShiftOp, dst Reg) {
	a.enc(size, []byte{0xd3}, uint8(op), R(dst))
}

// Unary operations on RDX:RAX or a register (the F7 group's /digit).
type UnOp uint8

// F7 group operations.
const (
	Not  UnOp = 2
	Neg  UnOp = 3
	Mul  UnOp = 4 // RDX:RAX = RAX * src, unsigned
	Imul UnOp = 5 // RDX:RAX = RAX * src, signed
	Div  UnOp = 6 // RAX, RDX = RDX:RAX / src, unsigned
	Idiv UnOp = 7
)

// Unary is op src (F7 /digit).
func (a *Asm) Unary(size int, op UnOp, src Op) { a.enc(size, []byte{0xf7}, uint8(op), src) }

// Imul2 is IMUL dst, src (the low half of the product).
func (a *Asm) Imul2(size int, dst Reg, src Op) { a.enc(size, []byte{0x0f, 0xaf}, uint8(dst), src) }

// SignExtendAX is CQO (S64) or CDQ (S32): RDX = the sign of RAX/EAX.
func (a *Asm) SignExtendAX(size int) {
	if size == S64 {
		a.byte1(0x48)
	}
	a.byte1(0x99)
}

// Movsxd is MOVSXD dst, src32: sign-extends the low 32 bits of src.
func (a *Asm) Movsxd(dst, src Reg) { a.enc(S64, []byte{0x63}, uint8(dst), R(src)) }

// Setcc is SETcc dst8.
func (a *Asm) Setcc(c Cond, dst Reg) { a.enc(S8, []byte{0x0f, 0x90 | byte(c)}, 0, R(dst)) }

// Jcc emits Jcc rel32 and returns the offset of its rel32 for Patch.
func (a *Asm) Jcc(c Cond) int {
	a.byte1(0x0f, 0x80|byte(c))
	a.imm32(0)
	return len(a.B) - 4
}

// Jmp emits JMP rel32 and returns the offset of its rel32 for Patch.
func (a *Asm) Jmp() int {
	a.byte1(0xe9)
	a.imm32(0)
	return len(a.B) - 4
}

// Patch points the rel32 at offset at (from Jcc or Jmp) to target, an
// offset in the same buffer.
func (a *Asm) Patch(at, target int) {
	binary.LittleEndian.PutUint32(a.B[at:], uint32(int32(target-(at+4))))
}

// Ret is RET.
func (a *Asm) Ret() { a.byte1(0xc3) }

// CmpByte is CMP byte m, imm.
func (a *Asm) CmpByte(m Op, imm uint8) {
	a.enc(S8, []byte{0x80}, 7, m)
	a.byte1(imm)
}

// JmpMem is JMP qword m: an indirect jump through memory.
func (a *Asm) JmpMem(m Op) { a.enc(S32, []byte{0xff}, 4, m) }

// IsReg reports whether o is a register operand, and which.
func (o Op) IsReg() (Reg, bool) { return o.reg, !o.mem }
