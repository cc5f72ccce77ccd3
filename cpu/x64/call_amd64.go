package x64

import "unsafe"

// Call runs the code at address code with RBX = ctx and returns what the
// code leaves in RAX. The code must return with RET, keep RSP and RBP and
// use no stack; every other register may be clobbered (R14 and R15, which
// Go's internal ABI reserves, are restored here).
//
//go:noescape
func Call(code uintptr, ctx unsafe.Pointer) uint64
