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
// It is off unless a cluster turns it on (Cluster.SetJIT, gemu's -jit flag).
// DefaultJIT turns it on for every new cluster; the GEMU_JIT=1 environment
// variable sets it, so that the whole test suite can run with the translator:
//
//	GEMU_JIT=1 go test ./...
var DefaultJIT = os.Getenv("GEMU_JIT") == "1"
