//go:build amd64

package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gemu/cpu/x64"
)

// The differential test of the translator's FP arithmetic
// (jit_fp_amd64.go): random F and D instructions on operands chosen to hit
// the hard cases (signed zeros, infinities, quiet and signaling NaNs,
// singles that are not NaN-boxed, subnormals, values whose results land at
// the overflow and underflow thresholds or on rounding ties, integers at
// the conversions' limits) under every rounding mode and frm, with random
// fflags and mstatus.FS, run on a translating and an interpreting hart and
// compared after every instruction (and after runs of them in one block).

// fpTame limits the operands to non-NaN values, boxed singles, FS on and
// frm 0: what runs translated, so that its paths are tried more often.
var fpTame bool

// fpTameFmt is the one format (0: S, 1: D) of registers and instructions
// of a case when fpTame.
var fpTameFmt uint32

// fpOperand64 returns a double's bits.
func fpOperand64(r *rand.Rand) uint64 {
	if fpTame {
		for {
			fpTame = false
			v := fpOperand64(r)
			fpTame = true
			if v&(1<<63-1) <= 0x7ff0000000000000 {
				return v
			}
		}
	}
	specials := []uint64{
		0, 1 << 63, // ±0
		0x7ff0000000000000, 0xfff0000000000000, // ±inf
		0x7ff8000000000000, 0xfff8000000000000, 0x7ff8000000000123, // quiet NaNs
		0x7ff4000000000000, 0x7ff0000000000001, 0xfff0000000000abc, // signaling NaNs
		1, 0x800fffffffffffff, 0x000fffffffffffff, // subnormals
		0x0010000000000000, 0x8010000000000001, 0x001fffffffffffff, // smallest normals
		0x7fefffffffffffff, 0xffeffffffffffffe, 0x7fe0000000000000, // near overflow
		0x3ff0000000000000, 0xbff0000000000000, 0x4000000000000000, 0x3fe0000000000000,
		0xbfe0000000000000, 0x3ff8000000000000, 0xbfe8000000000000, 0x3fefffffffffffff,
		0x41dfffffffc00000, 0x41e0000000000000, 0xc1e0000000000000, 0xc1e0000000200000, // ±2^31
		0x41efffffffe00000, 0x41f0000000000000, 0xc1f0000000000000, // 2^32
		0x43dfffffffffffff, 0x43e0000000000000, 0xc3e0000000000000, 0xc3e0000000000001, // 2^63
		0x43efffffffffffff, 0x43f0000000000000, // 2^64
		0x2000000000000000, 0x1ff0000000000000, 0x5ff0000000000000, 0x6000000000000000, // squares at the limits
		0x3cb0000000000000, 0x4340000000000001, // 2^-52, 2^53+2
	}
	switch k := r.Intn(10); {
	case k < 3:
		return specials[r.Intn(len(specials))]
	case k < 5:
		return r.Uint64()
	default:
		exps := []uint64{0, 1, 2, 3, 0x3fe, 0x3ff, 0x400, 0x1fe, 0x1ff, 0x200, 0x5fe, 0x5ff, 0x600, 0x7fd, 0x7fe,
			0x3ca, 0x434, 0x41e, 0x43e}
		e := exps[r.Intn(len(exps))]
		if r.Intn(3) == 0 {
			e = uint64(r.Intn(0x7ff))
		}
		m := r.Uint64() & (1<<52 - 1)
		switch r.Intn(4) {
		case 0:
			m &= 0xfff << 40 // few bits: exact results, ties
		case 1:
			m |= 1<<52 - 1<<r.Intn(52) // runs of ones: carries when rounding
		}
		return uint64(r.Intn(2))<<63 | e<<52 | m
	}
}

// fpOperand32 returns a single's bits, NaN-boxed most of the time.
func fpOperand32(r *rand.Rand) uint64 {
	if fpTame {
		for {
			fpTame = false
			v := fpOperand32(r)
			fpTame = true
			if v>>32 == 0xffffffff && v&(1<<31-1) <= 0x7f800000 {
				return v
			}
		}
	}
	specials := []uint32{
		0, 1 << 31, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00123,
		0x7fa00000, 0x7f800001, 0xff800abc,
		1, 0x807fffff, 0x007fffff, 0x00800000, 0x80800001, 0x00ffffff,
		0x7f7fffff, 0xff7ffffe, 0x7f000000,
		0x3f800000, 0xbf800000, 0x40000000, 0x3f000000, 0xbf000000, 0x3fc00000, 0x3f7fffff,
		0x4effffff, 0x4f000000, 0xcf000000, 0x4f7fffff, 0x4f800000, 0x5effffff, 0x5f000000,
		0xdf000000, 0x5f800000, 0x20000000, 0x1f800000, 0x5f800000, 0x60000000, 0x34000000,
	}
	var v uint32
	switch k := r.Intn(10); {
	case k < 3:
		v = specials[r.Intn(len(specials))]
	case k < 5:
		v = r.Uint32()
	default:
		exps := []uint32{0, 1, 2, 3, 0x7e, 0x7f, 0x80, 0x3e, 0x3f, 0x40, 0xbe, 0xbf, 0xc0, 0xfd, 0xfe, 0x9e, 0xbe}
		e := exps[r.Intn(len(exps))]
		if r.Intn(3) == 0 {
			e = uint32(r.Intn(0xff))
		}
		m := r.Uint32() & (1<<23 - 1)
		switch r.Intn(4) {
		case 0:
			m &= 0xff << 15
		case 1:
			m |= 1<<23 - 1<<r.Intn(23)
		}
		v = uint32(r.Intn(2))<<31 | e<<23 | m
	}
	switch r.Intn(20) {
	case 0:
		return uint64(v) // not boxed
	case 1:
		return r.Uint64()&^0xffffffff | uint64(v)
	}
	return 0xffffffff00000000 | uint64(v)
}

func fpInteger(r *rand.Rand) uint64 {
	specials := []uint64{0, 1, ^uint64(0), 0x7fffffff, 0x80000000, 0xffffffff, 0xffffffff80000000,
		0x7fffffffffffffff, 1 << 63, 1<<53 + 1, 1<<24 + 1, 0xffffffff7fffffff, 1<<63 | 1, 0x00000000ffffff01}
	if r.Intn(3) == 0 {
		return specials[r.Intn(len(specials))]
	}
	if r.Intn(2) == 0 {
		return uint64(int64(int32(r.Uint32())))
	}
	return r.Uint64() >> r.Intn(64)
}

// fpOp encodes an OP-FP instruction.
func fpOp(f5, fmt, rm, rd, rs1, rs2 uint32) uint32 {
	return f5<<27 | fmt<<25 | rs2<<20 | rs1<<15 | rm<<12 | rd<<7 | 0x53
}

// fpInst returns a random F or D instruction other than loads and stores.
func fpInst(r *rand.Rand) uint32 {
	rm := func() uint32 {
		switch k := r.Intn(20); {
		case k < 8:
			return 0
		case k < 16:
			return 7
		case k < 19:
			return uint32(1 + r.Intn(4))
		}
		return uint32(5 + r.Intn(2)) // reserved
	}
	f := func() uint32 { return uint32(r.Intn(32)) }
	x := func() uint32 { return uint32(r.Intn(10)) } // x0..x9
	op := fpOp
	fmt := uint32(r.Intn(2))
	if fpTame {
		fmt = fpTameFmt
	}
	switch r.Intn(14) {
	case 0, 1:
		return op(uint32(r.Intn(4)), fmt, rm(), f(), f(), f()) // FADD..FDIV
	case 2:
		return op(0x0b, fmt, rm(), f(), f(), 0) // FSQRT
	case 3, 4:
		opc := []uint32{0x43, 0x47, 0x4b, 0x4f}[r.Intn(4)]
		return f()<<27 | fmt<<25 | f()<<20 | f()<<15 | rm()<<12 | f()<<7 | opc
	case 5:
		return op(0x04, fmt, uint32(r.Intn(3)), f(), f(), f()) // FSGNJ*
	case 6:
		return op(0x05, fmt, uint32(r.Intn(2)), f(), f(), f()) // FMIN, FMAX
	case 7:
		return op(0x08, fmt, rm(), f(), f(), 1-fmt) // FCVT.S.D, FCVT.D.S
	case 8:
		return op(0x14, fmt, uint32(r.Intn(3)), x(), f(), f()) // FLE, FLT, FEQ
	case 9, 10:
		return op(0x18, fmt, rm(), x(), f(), uint32(r.Intn(4))) // FCVT to integer
	case 11:
		return op(0x1a, fmt, rm(), f(), x(), uint32(r.Intn(4))) // FCVT from integer
	case 12:
		return op(0x1c, fmt, uint32(r.Intn(2)), x(), f(), 0) // FMV.X.*, FCLASS
	}
	return op(0x1e, fmt, 0, f(), x(), 0) // FMV.*.X
}

// fpRandomState gives both harts the same random f and x registers,
// fcsr and mstatus.FS.
func fpRandomState(r *rand.Rand, hs ...*Hart) {
	var f [32]uint64
	for i := range f {
		if fpTame && fpTameFmt == 1 || !fpTame && r.Intn(2) == 0 {
			f[i] = fpOperand64(r)
		} else {
			f[i] = fpOperand32(r)
		}
	}
	var x [32]uint64
	for i := 1; i < 32; i++ {
		x[i] = fpInteger(r)
	}
	fflags := uint64(r.Intn(32))
	if r.Intn(2) == 0 {
		fflags |= 1 // NX set: the fast paths
	}
	frm := uint64(0)
	if r.Intn(8) == 0 {
		frm = uint64(r.Intn(8))
	}
	fs := uint64(1 + r.Intn(3))
	if r.Intn(30) == 0 && !fpTame {
		fs = 0
	}
	if fpTame {
		frm = 0
	}
	for _, h := range hs {
		h.f = f
		copy(h.x[:32], x[:])
		h.csr.fflags, h.csr.frm = fflags, frm
		h.csr.mstatus = h.csr.mstatus&^mstatusFS | fs<<mstatusFSShift
		h.pc = diffCode
	}
}

// fpDiff is diffState with the registers in the message.
func fpDiff(a, b *Hart) string {
	if d := diffState(a, b); d != "" {
		return fmt.Sprintf("%s (mstatus %#x/%#x, x %#x/%#x, f %#x/%#x)", d, a.csr.mstatus, b.csr.mstatus, a.x[:10], b.x[:10], a.f, b.f)
	}
	return ""
}

// runFPDifferential runs n random cases and returns the first difference
// ("" if none) and, of the single-instruction blocks entered, how many ran
// through and how many exited at their FP instruction.
func runFPDifferential(t *testing.T, seed int64, n int) (fail string, through, exited int) {
	r := rand.New(rand.NewSource(seed))
	j := diffHart(t, true, nil, false)
	ref := diffHart(t, false, nil, false)
	var entered uint64
	pairs, first := false, false
	jitAfterBlock = func(h *Hart) {
		if h == j && pairs && first {
			first = false
			switch h.steps - entered {
			case 0:
				exited++
			case 2:
				through++
			}
		}
	}
	defer func() { jitAfterBlock = nil }()
	le := func(ws []uint32) []byte {
		var b []byte
		for _, w := range ws {
			b = binary.LittleEndian.AppendUint32(b, w)
		}
		return b
	}
	for c := 0; c < n; c++ {
		fpTameFmt = uint32(c / 2 % 2)
		var prog []uint32
		var ins []uint32
		var step, total uint64
		pairs = c%2 == 0
		if pairs {
			// Each instruction in its own block (with a JAL), compared
			// after each.
			for i := 0; i < 8; i++ {
				w := fpInst(r)
				ins = append(ins, w)
				prog = append(prog, w, jal(0, 4))
			}
			step, total = 2, 16
		} else {
			// A block of several: flags accumulate within it.
			k := 2 + r.Intn(10)
			for i := 0; i < k; i++ {
				w := fpInst(r)
				ins = append(ins, w)
				prog = append(prog, w)
			}
			prog = append(prog, jal(0, 0))
			step, total = uint64(k+1), uint64(k+1)
		}
		for _, h := range []*Hart{j, ref} {
			if err := h.bus.WriteDMA(diffCode, le(prog)); err != nil {
				t.Fatal(err)
			}
		}
		fpRandomState(r, j, ref)
		before := *j
		for done := uint64(0); done < total; done += step {
			entered, first = j.steps, true
			j.Run(step)
			ref.Run(step)
			if d := fpDiff(j, ref); d != "" {
				return fmt.Sprintf("case %d, after %d instructions of %#08x (f %#x, x %#x, fflags %#x, frm %d, mstatus %#x): %s",
					c, done+step, ins, before.f, before.x[:10], before.csr.fflags, before.csr.frm, before.csr.mstatus, d), through, exited
			}
		}
	}
	return "", through, exited
}

func TestJITFPDifferential(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	d, through, exited := runFPDifferential(t, 1, n)
	if d != "" {
		t.Fatal(d)
	}
	fpTame = true
	d, through2, exited2 := runFPDifferential(t, 3, n/2)
	fpTame = false
	if d != "" {
		t.Fatal("no NaN operands: ", d)
	}
	t.Logf("no NaN operands: %d single-instruction blocks ran translated, %d exited", through2, exited2)
	if through2 < 2*exited2 {
		t.Errorf("no NaN operands: only %d of %d FP instructions ran translated", through2, through2+exited2)
	}
	// Many operands are NaNs, unboxed or out of an integer's range, which
	// exit; still, a good part must run translated, or this tests the
	// interpreter.
	t.Logf("single-instruction blocks: %d ran translated, %d exited to the interpreter", through, exited)
	if 3*through < through+exited {
		t.Errorf("only %d of %d FP instructions ran translated", through, through+exited)
	}
}

// TestJITFPDifferentialFails is the mutation check: with underflow no
// longer mapped to UF, the differential test must find a difference.
func TestJITFPDifferentialFails(t *testing.T) {
	saved := mxcsrFflags
	defer func() { mxcsrFflags = saved }()
	for i := range mxcsrFflags {
		mxcsrFflags[i] &^= 1 << 1
	}
	d, _, _ := runFPDifferential(t, 2, 20000)
	if d == "" {
		t.Fatal("the FP differential test passed a translator that drops UF")
	}
	t.Logf("as it should: %s", d)
}

// TestJITFPTranslated makes sure the differential test exercises the
// translator: on normal operands under RNE every arithmetic instruction
// runs in translated code (no exit to the interpreter).
func TestJITFPTranslated(t *testing.T) {
	fadd := fpOp(0, 1, 0, 10, 10, 11)
	for _, w := range []uint32{
		fadd,
		fpOp(1, 1, 7, 10, 10, 11),                       // fsub.d, dyn
		fpOp(2, 1, 0, 10, 10, 11),                       // fmul.d
		fpOp(3, 1, 7, 10, 10, 11),                       // fdiv.d
		fpOp(11, 1, 0, 10, 10, 0),                       // fsqrt.d
		fpOp(0, 0, 7, 10, 10, 11),                       // fadd.s
		fpOp(0x18, 1, 1, 10, 10, 0),                     // fcvt.w.d, rtz
		fpOp(0x1a, 1, 0, 10, 10, 0),                     // fcvt.d.w
		fpOp(0x14, 1, 2, 10, 10, 11),                    // feq.d
		fpOp(5, 1, 0, 10, 10, 11),                       // fmin.d
		fpOp(8, 0, 7, 10, 10, 1),                        // fcvt.s.d
		fpOp(4, 1, 1, 10, 10, 11),                       // fsgnjn.d
		12<<27 | 1<<25 | 11<<20 | 10<<15 | 10<<7 | 0x43, // fmadd.d
	} {
		if !x64.HasFMA && w&0x7f == 0x43 {
			continue
		}
		var d dinst
		decodeAny(uint16(w), uint16(w>>16), &d)
		var e emitter
		if !e.inst(&d, diffCode) {
			t.Errorf("%#08x not translated", w)
		}
	}
	// And it runs without exits: a loop of FADD.D with NX set.
	prog := []uint32{fadd, fadd, fadd, jal(0, -12)}
	var b []byte
	for _, w := range prog {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	h := diffHart(t, true, b, false)
	h.f[10], h.f[11] = math.Float64bits(1), math.Float64bits(1e-3)
	h.csr.fflags = 1
	exits := 0
	jitAfterBlock = func(*Hart) { exits++ }
	defer func() { jitAfterBlock = nil }()
	h.Run(40000)
	if exits > 100 {
		t.Errorf("%d returns to Go for 40000 instructions", exits)
	}
	if got := math.Float64frombits(h.f[10]); got < 30 || got > 32 {
		t.Errorf("f10 = %v", got)
	}
}

// TestJITFPBoundaries runs operations whose results sit exactly where the
// translator's fast path must give up (fpNormal): rounded up to the
// smallest normal from below it (tiny after rounding: UF), overflowing to
// infinity, exact zeros, with NX already set so that the fast path is
// tried, translated against interpreted.
func TestJITFPBoundaries(t *testing.T) {
	type tc struct {
		w    uint32
		a, b uint64
		uf   bool // the interpreter must raise UF
	}
	mulD := fpOp(2, 1, 0, 12, 10, 11)
	mulS := fpOp(2, 0, 0, 12, 10, 11)
	divD := fpOp(3, 1, 7, 12, 10, 11)
	fmaD := uint32(13<<27 | 1<<25 | 11<<20 | 10<<15 | 12<<7 | 0x43)
	s := func(v uint32) uint64 { return 0xffffffff00000000 | uint64(v) }
	cases := []tc{
		// 2^-511(1-2^-53) * 2^-511 = 2^-1022(1-2^-53): rounds to the
		// smallest normal, tiny after rounding, inexact.
		{mulD, 0x1fffffffffffffff, 0x2000000000000000, true},
		{mulD, 0x9fffffffffffffff, 0x2000000000000000, true},
		{mulD, 0x2000000000000000, 0x2000000000000000, false}, // exactly 2^-1022
		{mulD, 0x2000000000000001, 0x2000000000000000, false},
		{mulS, s(0x1fffffff), s(0x20000000), true},
		{mulS, s(0x20000000), s(0x20000000), false},
		{mulD, 0x7fe0000000000000, 0x4000000000000000, false}, // overflow
		{mulD, 0x7fefffffffffffff, 0x3ff0000000000001, false},
		{divD, 0x0010000000000000, 0x3ff0000000000001, true}, // just below 2^-1022
		{divD, 0x0020000000000000, 0x4000000000000000, false},
		{fpOp(1, 1, 0, 12, 10, 11), 0x3ff0000000000000, 0x3ff0000000000000, false}, // exact zero
		{fpOp(0, 1, 0, 12, 10, 11), 0x0010000000000001, 0x8010000000000000, false}, // exact subnormal
		{fpOp(0, 0, 0, 12, 10, 11), s(0x00800001), s(0x80800000), false},
		{fpOp(0, 1, 0, 12, 10, 11), 0x7fefffffffffffff, 0x7fefffffffffffff, false}, // overflow
		{fpOp(1, 0, 0, 12, 10, 11), s(0xff7fffff), s(0x7f7fffff), false},
		{fpOp(11, 1, 0, 12, 10, 0), 1, 0, false}, // sqrt of the smallest subnormal
		{fpOp(11, 0, 0, 12, 10, 0), s(1), 0, false},
		{fpOp(8, 0, 0, 12, 10, 1), 0x380fffffdf800000, 0, true}, // to single: 2^-126(1-2^-24-2^-30)
	}
	if x64.HasFMA {
		cases = append(cases, tc{fmaD, 0x1fffffffffffffff, 0x2000000000000000, true})
	}
	for _, c := range cases {
		prog := binary.LittleEndian.AppendUint32(nil, c.w)
		prog = binary.LittleEndian.AppendUint32(prog, jal(0, 0))
		j := diffHart(t, true, prog, false)
		ref := diffHart(t, false, prog, false)
		for _, h := range []*Hart{j, ref} {
			h.f[10], h.f[11], h.f[13] = c.a, c.b, 1<<63 // fmadd adds -0
			h.csr.fflags = 1
			h.csr.mstatus |= mstatusFS
		}
		j.Run(2)
		ref.Run(2)
		if d := fpDiff(j, ref); d != "" {
			t.Errorf("%#08x %#x, %#x: %s", c.w, c.a, c.b, d)
		}
		if uf := ref.csr.fflags&2 != 0; uf != c.uf {
			t.Errorf("%#08x %#x, %#x: interpreter's UF %v, want %v", c.w, c.a, c.b, uf, c.uf)
		}
	}
}
