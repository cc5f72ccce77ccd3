package cpu

import "os"

// The translator (jit_amd64.go) turns RV64GC basic blocks into x86-64 code
// at run time, behind the same Hart: Run executes translated blocks and
// falls back to the interpreter (interp) for every instruction it does not
// translate, for icount deadlines that end inside a block, and whenever an
// execute, load or store trigger is armed. The interpreter stays the
// reference: the translator's tests (jit_test.go) compare the two after every
// block.
//
// It is the default where it exists (JITSupported: amd64 hosts): every new
// cluster starts with it on when DefaultJIT is set, and Cluster.SetJIT
// (gemu's -accel tcg,jit=on|off) changes that. The environment variable
// GEMU_JIT=0 clears DefaultJIT, so that a whole test run uses the
// interpreter:
//
//	GEMU_JIT=0 go test ./cpu ./tests/isa
var DefaultJIT = JITSupported && os.Getenv("GEMU_JIT") != "0"

// SetJITHook installs f, called after every return of the hart from
// translated code, with its state up to date: at the end of a block, or
// before an instruction the block left to the interpreter (a TLB miss).
// While it is set, blocks do not chain, so that f sees each one. The
// differential tests compare the hart with an interpreting one there
// (tests/isa). nil removes it; a hart that interprets never calls it.
func (h *Hart) SetJITHook(f func(h *Hart)) { h.jitHook = f }

// JITFault, when set, makes the translator translate ADDI wrongly (one
// more than the immediate) from the next translated block on. It exists for
// the mutation checks of the differential tests, which must see them fail;
// nothing else may set it.
var JITFault bool
