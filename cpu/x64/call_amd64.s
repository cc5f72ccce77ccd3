#include "textflag.h"

// func Call(code uintptr, ctx unsafe.Pointer) uint64
TEXT ·Call(SB), NOSPLIT, $16-24
	MOVQ R14, 0(SP)
	MOVQ R15, 8(SP)
	MOVQ code+0(FP), AX
	MOVQ ctx+8(FP), BX
	CALL AX
	MOVQ 0(SP), R14
	MOVQ 8(SP), R15
	MOVQ AX, ret+16(FP)
	RET
