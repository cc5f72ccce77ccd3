package x64

import (
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
)

// disasm decodes b completely into Intel-syntax lines.
func disasm(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		in, err := x86asm.Decode(b, 64)
		if err != nil {
			t.Fatalf("decode % x: %v", b, err)
		}
		out = append(out, strings.ToLower(x86asm.IntelSyntax(in, 0, nil)))
		b = b[in.Len:]
	}
	return out
}

func TestEncodings(t *testing.T) {
	tests := []struct {
		emit func(a *Asm)
		want string
	}{
		{func(a *Asm) { a.Load(S64, RAX, M(RBX, 8)) }, "mov rax, qword ptr [rbx+0x8]"},
		{func(a *Asm) { a.Load(S64, R9, M(R12, 0)) }, "mov r9, qword ptr [r12]"},
		{func(a *Asm) { a.Load(S64, RCX, M(R13, 0)) }, "mov rcx, qword ptr [r13]"},
		{func(a *Asm) { a.Load(S64, RCX, M(RBP, 0x1000)) }, "mov rcx, qword ptr [rbp+0x1000]"},
		{func(a *Asm) { a.Load(S32, RDX, MI(RCX, RAX, 1, 0)) }, "mov edx, dword ptr [rcx+rax]"},
		{func(a *Asm) { a.Load(S8, RDX, MI(R8, R11, 8, -4)) }, "movzx edx, byte ptr [r8+8*r11-0x4]"},
		{func(a *Asm) { a.Load(S16, RSI, MI(RSP, RAX, 2, 0)) }, "movzx esi, word ptr [rsp+2*rax]"},
		{func(a *Asm) { a.LoadSX(S8, RAX, MI(RCX, RDX, 1, 0)) }, "movsx rax, byte ptr [rcx+rdx]"},
		{func(a *Asm) { a.LoadSX(S16, R10, M(RCX, 0)) }, "movsx r10, word ptr [rcx]"},
		{func(a *Asm) { a.LoadSX(S32, RAX, M(RSP, 0)) }, "movsxd rax, dword ptr [rsp]"},
		{func(a *Asm) { a.Store(S8, MI(RDX, RAX, 1, 0), RSI) }, "mov byte ptr [rdx+rax], sil"},
		{func(a *Asm) { a.Store(S8, M(RDX, 0), RCX) }, "mov byte ptr [rdx], cl"},
		{func(a *Asm) { a.Store(S16, M(RDX, 2), RCX) }, "mov word ptr [rdx+0x2], cx"},
		{func(a *Asm) { a.Store(S32, M(R15, 2), R9) }, "mov dword ptr [r15+0x2], r9d"},
		{func(a *Asm) { a.Store(S64, M(RBX, 0x200), RAX) }, "mov qword ptr [rbx+0x200], rax"},
		{func(a *Asm) { a.StoreImm(S64, M(RBX, 16), -1) }, "mov qword ptr [rbx+0x10], -0x1"},
		{func(a *Asm) { a.MovImm(RAX, 0) }, "xor eax, eax"},
		{func(a *Asm) { a.MovImm(R8, 0x80000000) }, "mov r8d, -0x80000000"},
		{func(a *Asm) { a.MovImm(RCX, 0xffffffff80001000) }, "mov rcx, -0x7ffff000"},
		{func(a *Asm) { a.MovImm(R11, 0x123456789) }, "mov r11, 0x123456789"},
		{func(a *Asm) { a.Mov(S64, RSI, R10) }, "mov rsi, r10"},
		{func(a *Asm) { a.Mov(S32, RAX, RAX) }, "mov eax, eax"},
		{func(a *Asm) { a.Lea(RAX, M(RAX, -2048)) }, "lea rax, ptr [rax-0x800]"},
		{func(a *Asm) { a.Alu(S64, Add, RAX, M(RBX, 0x10)) }, "add rax, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.Alu(S32, Sub, RAX, R(RCX)) }, "sub eax, ecx"},
		{func(a *Asm) { a.Alu(S64, Cmp, RSI, M(RDX, 0)) }, "cmp rsi, qword ptr [rdx]"},
		{func(a *Asm) { a.AluMR(S64, Xor, M(RBX, 8), RAX) }, "xor qword ptr [rbx+0x8], rax"},
		{func(a *Asm) { a.AluImm(S64, And, R(RSI), -4089) }, "and rsi, -0xff9"},
		{func(a *Asm) { a.AluImm(S64, Add, M(RBX, 0x208), 5) }, "add qword ptr [rbx+0x208], 0x5"},
		{func(a *Asm) { a.AluImm(S32, Or, R(R9), 0x1234) }, "or r9d, 0x1234"},
		{func(a *Asm) { a.Test(S64, R(RCX), RCX) }, "test rcx, rcx"},
		{func(a *Asm) { a.ShiftImm(S64, Shl, RAX, 3) }, "shl rax, 0x3"},
		{func(a *Asm) { a.ShiftImm(S32, Sar, R12, 31) }, "sar r12d, 0x1f"},
		{func(a *Asm) { a.ShiftCL(S64, Shr, RDX) }, "shr rdx, cl"},
		{func(a *Asm) { a.Unary(S64, Mul, M(RBX, 8)) }, "mul qword ptr [rbx+0x8]"},
		{func(a *Asm) { a.Unary(S32, Idiv, R(RCX)) }, "idiv ecx"},
		{func(a *Asm) { a.Unary(S64, Neg, R(RAX)) }, "neg rax"},
		{func(a *Asm) { a.Imul2(S64, RAX, M(RBX, 0x18)) }, "imul rax, qword ptr [rbx+0x18]"},
		{func(a *Asm) { a.Imul2(S32, RAX, R(RCX)) }, "imul eax, ecx"},
		{func(a *Asm) { a.SignExtendAX(S64) }, "cqo"},
		{func(a *Asm) { a.SignExtendAX(S32) }, "cdq"},
		{func(a *Asm) { a.Movsxd(RAX, RAX) }, "movsxd rax, eax"},
		{func(a *Asm) { a.Setcc(CondL, RCX) }, "setl cl"},
		{func(a *Asm) { a.Setcc(CondB, RSI) }, "setb sil"},
		{func(a *Asm) { a.CmpByte(M(RBX, 0x110), 0) }, "cmp byte ptr [rbx+0x110], 0x0"},
		{func(a *Asm) { a.JmpMem(M(RCX, 16)) }, "jmp qword ptr [rcx+0x10]"},
		{func(a *Asm) { a.Ret() }, "ret"},
	}
	for _, tc := range tests {
		var a Asm
		tc.emit(&a)
		got := disasm(t, a.B)
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("% x = %q, want %q", a.B, got, tc.want)
		}
	}
}

func TestJumps(t *testing.T) {
	var a Asm
	j := a.Jcc(CondNE)
	a.Ret()
	k := a.Jmp()
	a.Patch(j, a.Len())
	a.Patch(k, 0)
	a.Ret()
	got := disasm(t, a.B)
	want := []string{"jnz .+0x6", "ret", "jmp .-0xc", "ret"}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestCall runs generated code through the trampoline: it adds the two
// words at ctx, stores the sum at ctx+16 and returns 42.
func TestCall(t *testing.T) {
	c, err := NewCode(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	var a Asm
	a.Load(S64, RAX, M(RBX, 0))
	a.Alu(S64, Add, RAX, M(RBX, 8))
	a.Store(S64, M(RBX, 16), RAX)
	// Clobber what Call must restore or may lose.
	a.MovImm(R14, 1)
	a.MovImm(R15, 2)
	a.MovImm(RAX, 42)
	a.Ret()
	p, err := c.Add(a.B)
	if err != nil {
		t.Fatal(err)
	}
	v := [3]uint64{40, 2, 0}
	for i := 0; i < 1000; i++ {
		v[2] = 0
		if r := Call(p, unsafe.Pointer(&v)); r != 42 || v[2] != 42 {
			t.Fatalf("Call = %d, sum %d", r, v[2])
		}
	}
}
