package cpu

import (
	"math"
	"testing"
)

func fpR(f7 uint32, rd, rs1, rs2 int, rm uint32) uint32 {
	return encR(0x53, uint32(rd), rm, uint32(rs1), uint32(rs2), f7)
}
func fma(opc, fmt uint32, rd, rs1, rs2, rs3 int, rm uint32) uint32 {
	return uint32(rs3)<<27 | fmt<<25 | uint32(rs2)<<20 | uint32(rs1)<<15 | rm<<12 | uint32(rd)<<7 | opc
}

const (
	rne = 0
	rtz = 1
	rdn = 2
	rup = 3
	dyn = 7
)

func fmvWX(rd, rs1 int) uint32             { return fpR(0x78, rd, rs1, 0, 0) }
func fmvDX(rd, rs1 int) uint32             { return fpR(0x79, rd, rs1, 0, 0) }
func fmvXW(rd, rs1 int) uint32             { return fpR(0x70, rd, rs1, 0, 0) }
func fmvXD(rd, rs1 int) uint32             { return fpR(0x71, rd, rs1, 0, 0) }
func faddS(rd, a, b int, rm uint32) uint32 { return fpR(0x00, rd, a, b, rm) }
func fdivS(rd, a, b int, rm uint32) uint32 { return fpR(0x0c, rd, a, b, rm) }
func fdivD(rd, a, b int, rm uint32) uint32 { return fpR(0x0d, rd, a, b, rm) }
func fcvtWD(rd, a int, rm uint32) uint32   { return fpR(0x61, rd, a, 0, rm) }
func fclassD(rd, a int) uint32             { return fpR(0x71, rd, a, 0, 1) }
func fsgnjnD(rd, a, b int) uint32          { return fpR(0x11, rd, a, b, 1) }

// fpHart returns a hart with FS=Initial and the given f registers (raw bits
// via x registers and FMV) and program.
func fpHart(t *testing.T, prog ...uint32) *Hart {
	h := testHart(t)
	h.csr.mstatus |= 1 << mstatusFSShift
	h.csr.mtvec = ramBase + 0x400
	h.loadWords(ramBase+0x400, jal(0, 0))
	h.loadWords(ramBase, prog...)
	return h
}

func TestFPNaNBoxing(t *testing.T) {
	h := fpHart(t, fmvWX(1, 1), fmvDX(2, 2), faddS(3, 1, 2, rne), fmvXW(4, 1))
	h.SetX(1, 0x3f800000) // 1.0f
	h.SetX(2, 0x3f800000) // not NaN-boxed as a single
	h.Run(4)
	if h.F(1) != 0xffffffff3f800000 {
		t.Errorf("fmv.w.x: f1 = %#x, want NaN-boxed", h.F(1))
	}
	if h.F(3) != 0xffffffff7fc00000 {
		t.Errorf("fadd.s with unboxed operand = %#x, want boxed canonical NaN", h.F(3))
	}
	if h.X(4) != 0x3f800000 {
		t.Errorf("fmv.x.w = %#x", h.X(4))
	}
	if h.csr.fflags != 0 {
		t.Errorf("fflags %#x: a canonical (quiet) NaN input raises nothing", h.csr.fflags)
	}
}

func TestFPStateTracking(t *testing.T) {
	h := fpHart(t, fmvWX(1, 0))
	h.Run(1)
	if h.csr.mstatus&mstatusFS != mstatusFS || h.mstatusRead()&mstatusSD == 0 {
		t.Errorf("after an FP register write, mstatus %#x: want FS=Dirty and SD", h.csr.mstatus)
	}
	for _, w := range []uint32{fmvWX(1, 0), flw(1, 0, 0), fsd(1, 0, 0), faddS(1, 1, 1, rne), csrrs(1, csrFflags, 0)} {
		h := fpHart(t, w)
		h.csr.mstatus &^= mstatusFS
		h.Run(1)
		if h.csr.mcause != excIllegal || h.csr.mtval != uint64(w) {
			t.Errorf("%#08x with FS=Off: mcause %d mtval %#x, want illegal", w, h.csr.mcause, h.csr.mtval)
		}
	}
}

func TestFPRoundingModes(t *testing.T) {
	one, three := math.Float32bits(1), math.Float32bits(3)
	tests := []struct {
		name    string
		rm      uint32
		frm     uint64
		want    uint32
		illegal bool
	}{
		{"rne", rne, 0, 0x3eaaaaab, false},
		{"rtz", rtz, 0, 0x3eaaaaaa, false},
		{"rdn", rdn, 0, 0x3eaaaaaa, false},
		{"rup", rup, 0, 0x3eaaaaab, false},
		{"dynamic rtz", dyn, rtz, 0x3eaaaaaa, false},
		{"static rm 5", 5, 0, 0, true},
		{"dynamic with frm 5", dyn, 5, 0, true},
	}
	for _, tc := range tests {
		w := fdivS(3, 1, 2, tc.rm)
		h := fpHart(t, fmvWX(1, 1), fmvWX(2, 2), w)
		h.SetX(1, uint64(one))
		h.SetX(2, uint64(three))
		h.csr.frm = tc.frm
		h.Run(3)
		if tc.illegal {
			if h.csr.mcause != excIllegal || h.csr.mtval != uint64(w) {
				t.Errorf("%s: mcause %d, want illegal", tc.name, h.csr.mcause)
			}
			continue
		}
		if got := uint32(h.F(3)); got != tc.want || h.csr.fflags != 1 {
			t.Errorf("%s: 1/3 = %#x fflags %#x, want %#x and NX", tc.name, got, h.csr.fflags, tc.want)
		}
	}
}

func TestFPOps(t *testing.T) {
	d := math.Float64bits
	tests := []struct {
		name      string
		a, b, c   uint64 // f1, f2, f3 (raw)
		w         uint32
		wantF     uint64 // f4, when toX is false
		wantX     uint64 // x4, when toX is true
		toX       bool
		wantFlags uint64
	}{
		{"fmadd.d", d(2), d(3), d(1), fma(0x43, 1, 4, 1, 2, 3, rne), d(7), 0, false, 0},
		{"fmsub.d", d(2), d(3), d(1), fma(0x47, 1, 4, 1, 2, 3, rne), d(5), 0, false, 0},
		{"fnmsub.d", d(2), d(3), d(1), fma(0x4b, 1, 4, 1, 2, 3, rne), d(-5), 0, false, 0},
		{"fnmadd.d", d(2), d(3), d(1), fma(0x4f, 1, 4, 1, 2, 3, rne), d(-7), 0, false, 0},
		{"fdiv.d by zero", d(1), d(0), 0, fdivD(4, 1, 2, rne), d(math.Inf(1)), 0, false, 8},
		{"fcvt.w.d NaN saturates", d(math.NaN()), 0, 0, fcvtWD(4, 1, rtz), 0, 0x7fffffff, true, 16},
		{"fcvt.w.d -1.5 rdn", d(-1.5), 0, 0, fcvtWD(4, 1, rdn), 0, uint64(0xfffffffffffffffe), true, 1},
		{"fclass.d -inf", d(math.Inf(-1)), 0, 0, fclassD(4, 1), 0, 1, true, 0},
		{"fsgnjn.d", d(2), d(3), 0, fsgnjnD(4, 1, 2), d(-2), 0, false, 0},
		{"fmv.x.d", d(2.5), 0, 0, fmvXD(4, 1), 0, d(2.5), true, 0},
	}
	for _, tc := range tests {
		h := fpHart(t, fmvDX(1, 1), fmvDX(2, 2), fmvDX(3, 3), tc.w)
		h.SetX(1, tc.a)
		h.SetX(2, tc.b)
		h.SetX(3, tc.c)
		h.Run(4)
		if h.csr.mcause != 0 {
			t.Errorf("%s: trapped %d", tc.name, h.csr.mcause)
			continue
		}
		if tc.toX && h.X(4) != tc.wantX || !tc.toX && h.F(4) != tc.wantF || h.csr.fflags != tc.wantFlags {
			t.Errorf("%s: f4 %#x x4 %#x fflags %#x; want f %#x x %#x flags %#x",
				tc.name, h.F(4), h.X(4), h.csr.fflags, tc.wantF, tc.wantX, tc.wantFlags)
		}
	}
}

func TestFPLoadStore(t *testing.T) {
	const data = ramBase + 0x3000
	h := fpHart(t, flw(1, 5, 0), fsw(1, 5, 8), fld(2, 5, 16), fsd(2, 5, 25))
	h.SetX(5, data)
	copy(h.ram[0x3000:], []byte{0x00, 0x00, 0x80, 0x3f})
	copy(h.ram[0x3010:], []byte{1, 2, 3, 4, 5, 6, 7, 8})
	h.Run(4)
	if h.F(1) != 0xffffffff3f800000 || h.F(2) != 0x0807060504030201 {
		t.Fatalf("f1 %#x f2 %#x", h.F(1), h.F(2))
	}
	if got := h.ram[0x3008:0x300c]; string(got) != "\x00\x00\x80\x3f" {
		t.Fatalf("fsw wrote % x", got)
	}
	if got := h.ram[0x3019:0x3021]; string(got) != "\x01\x02\x03\x04\x05\x06\x07\x08" {
		t.Fatalf("misaligned fsd wrote % x", got)
	}
}
