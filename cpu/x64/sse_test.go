package x64

import "testing"

func TestSSEEncodings(t *testing.T) {
	tests := []struct {
		emit func(a *Asm)
		want string
	}{
		{func(a *Asm) { a.FLoad(S64, X0, M(RBX, 0x808)) }, "movsd xmm0, qword ptr [rbx+0x808]"},
		{func(a *Asm) { a.FLoad(S32, X1, M(RBX, 8)) }, "movss xmm1, dword ptr [rbx+0x8]"},
		{func(a *Asm) { a.FLoad(S64, 9, M(R12, 0)) }, "movsd xmm9, qword ptr [r12]"},
		{func(a *Asm) { a.FStore(S64, M(RBX, 0x810), X0) }, "movsd qword ptr [rbx+0x810], xmm0"},
		{func(a *Asm) { a.FStore(S32, MI(RDX, RAX, 1, 0), X2) }, "movss dword ptr [rdx+rax], xmm2"},
		{func(a *Asm) { a.FArith(S64, FAdd, X0, M(RBX, 0x818)) }, "addsd xmm0, qword ptr [rbx+0x818]"},
		{func(a *Asm) { a.FArith(S64, FSub, X0, X(X1)) }, "subsd xmm0, xmm1"},
		{func(a *Asm) { a.FArith(S64, FMul, X2, M(RBX, 16)) }, "mulsd xmm2, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.FArith(S64, FDiv, X0, M(RBX, 16)) }, "divsd xmm0, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.FArith(S64, FSqrt, X0, M(RBX, 16)) }, "sqrtsd xmm0, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.FArith(S64, FMin, X0, M(RBX, 16)) }, "minsd xmm0, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.FArith(S64, FMax, X0, X(X1)) }, "maxsd xmm0, xmm1"},
		{func(a *Asm) { a.FArith(S32, FAdd, X0, M(RBX, 0x818)) }, "addss xmm0, dword ptr [rbx+0x818]"},
		{func(a *Asm) { a.FArith(S32, FSub, X1, X(X0)) }, "subss xmm1, xmm0"},
		{func(a *Asm) { a.FArith(S32, FMul, X0, M(RBX, 16)) }, "mulss xmm0, dword ptr [rbx+0x10]"},
		{func(a *Asm) { a.FArith(S32, FDiv, X0, M(RBX, 16)) }, "divss xmm0, dword ptr [rbx+0x10]"},
		{func(a *Asm) { a.FArith(S32, FSqrt, X0, M(RBX, 16)) }, "sqrtss xmm0, dword ptr [rbx+0x10]"},
		{func(a *Asm) { a.FArith(S32, FMin, X0, M(RBX, 16)) }, "minss xmm0, dword ptr [rbx+0x10]"},
		{func(a *Asm) { a.FArith(S32, FMax, X0, M(RBX, 16)) }, "maxss xmm0, dword ptr [rbx+0x10]"},
		{func(a *Asm) { a.Ucomi(S64, X0, M(RBX, 16)) }, "ucomisd xmm0, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.Ucomi(S64, X0, X(X0)) }, "ucomisd xmm0, xmm0"},
		{func(a *Asm) { a.Comi(S64, X1, M(RBX, 16)) }, "comisd xmm1, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.Ucomi(S32, X0, M(RBX, 16)) }, "ucomiss xmm0, dword ptr [rbx+0x10]"},
		{func(a *Asm) { a.Comi(S32, X0, X(X1)) }, "comiss xmm0, xmm1"},
		{func(a *Asm) { a.CvtIF(S64, S64, X0, R(RAX)) }, "cvtsi2sd xmm0, rax"},
		{func(a *Asm) { a.CvtIF(S64, S32, X0, R(R9)) }, "cvtsi2sd xmm0, r9d"},
		{func(a *Asm) { a.CvtIF(S32, S64, X1, R(R15)) }, "cvtsi2ss xmm1, r15"},
		{func(a *Asm) { a.CvtIF(S32, S32, X0, R(RCX)) }, "cvtsi2ss xmm0, ecx"},
		{func(a *Asm) { a.CvtFI(S64, S64, true, RAX, M(RBX, 16)) }, "cvttsd2si rax, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.CvtFI(S64, S32, false, RAX, M(RBX, 16)) }, "cvtsd2si eax, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.CvtFI(S32, S64, false, RCX, X(X0)) }, "cvtss2si rcx, xmm0"},
		{func(a *Asm) { a.CvtFI(S32, S32, true, RAX, M(RBX, 16)) }, "cvttss2si eax, dword ptr [rbx+0x10]"},
		{func(a *Asm) { a.CvtFF(S64, X0, M(RBX, 16)) }, "cvtss2sd xmm0, dword ptr [rbx+0x10]"},
		{func(a *Asm) { a.CvtFF(S32, X0, M(RBX, 16)) }, "cvtsd2ss xmm0, qword ptr [rbx+0x10]"},
		{func(a *Asm) { a.MovToX(S64, X0, R(RAX)) }, "movq xmm0, rax"},
		{func(a *Asm) { a.MovToX(S32, X1, R(R10)) }, "movd xmm1, r10d"},
		{func(a *Asm) { a.MovFromX(S64, R(RAX), X0) }, "movq rax, xmm0"},
		{func(a *Asm) { a.MovFromX(S32, R(RCX), X2) }, "movd ecx, xmm2"},
		{func(a *Asm) { a.Ldmxcsr(M(RBX, 0x100)) }, "ldmxcsr dword ptr [rbx+0x100]"},
		{func(a *Asm) { a.Stmxcsr(M(RBX, 0x100)) }, "stmxcsr dword ptr [rbx+0x100]"},
		{func(a *Asm) { a.FMA(S64, VFMAdd, X0, X1, M(RBX, 0x810)) }, "vfmadd231sd xmm0, xmm1, qword ptr [rbx+0x810]"},
		{func(a *Asm) { a.FMA(S64, VFMSub, X0, X1, X(X2)) }, "vfmsub231sd xmm0, xmm1, xmm2"},
		{func(a *Asm) { a.FMA(S64, VFNMAdd, X2, X1, M(RBX, 8)) }, "vfnmadd231sd xmm2, xmm1, qword ptr [rbx+0x8]"},
		{func(a *Asm) { a.FMA(S64, VFNMSub, X0, X1, M(RBX, 8)) }, "vfnmsub231sd xmm0, xmm1, qword ptr [rbx+0x8]"},
		{func(a *Asm) { a.FMA(S32, VFMAdd, X0, X1, M(RBX, 8)) }, "vfmadd231ss xmm0, xmm1, dword ptr [rbx+0x8]"},
		{func(a *Asm) { a.FMA(S32, VFNMSub, X0, X2, X(X1)) }, "vfnmsub231ss xmm0, xmm2, xmm1"},
		{func(a *Asm) { a.FMA(S64, VFMAdd, 9, 10, M(R12, 8)) }, "vfmadd231sd xmm9, xmm10, qword ptr [r12+0x8]"},
		{func(a *Asm) { a.FMA(S64, VFMAdd, X0, X1, MI(RDX, R11, 8, 0)) }, "vfmadd231sd xmm0, xmm1, qword ptr [rdx+8*r11]"},
		{func(a *Asm) { a.FMA(S64, VFMAdd, X0, X1, X(9)) }, "vfmadd231sd xmm0, xmm1, xmm9"},
		{func(a *Asm) { a.TestByte(M(RBX, 0x500), 1) }, "test byte ptr [rbx+0x500], 0x1"},
		{func(a *Asm) { a.Round(S64, RoundDown, X0, M(RBX, 0x810)) }, "roundsd xmm0, qword ptr [rbx+0x810], 0x1"},
		{func(a *Asm) { a.Round(S32, RoundUp, X1, X(X0)) }, "roundss xmm1, xmm0, 0x2"},
		{func(a *Asm) { a.Round(S64, RoundUp, 9, M(R12, 8)) }, "roundsd xmm9, qword ptr [r12+0x8], 0x2"},
		{func(a *Asm) { a.Jcc(CondP) }, "jp .+0x0"},
		{func(a *Asm) { a.Jcc(CondNP) }, "jnp .+0x0"},
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
