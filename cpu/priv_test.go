package cpu

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCSRAccessRules(t *testing.T) {
	tests := []struct {
		name    string
		priv    uint8
		setup   func(h *Hart)
		w       uint32
		illegal bool
	}{
		{"mstatus from M", PrivM, nil, csrrs(1, csrMstatus, 0), false},
		{"mstatus from S", PrivS, nil, csrrs(1, csrMstatus, 0), true},
		{"sstatus from U", PrivU, nil, csrrs(1, csrSstatus, 0), true},
		{"write read-only mhartid", PrivM, nil, csrrw(0, csrMhartid, 1), true},
		{"csrrs x0 of mhartid reads", PrivM, nil, csrrs(1, csrMhartid, 0), false},
		{"unimplemented CSR", PrivM, nil, csrrs(1, 0x7c0, 0), true},
		{"hypervisor CSR", PrivM, nil, csrrs(1, 0x600, 0), true},
		{"odd pmpcfg", PrivM, nil, csrrs(1, csrPmpcfg0+1, 0), true},
		{"pmpaddr63", PrivM, nil, csrrw(1, csrPmpaddr0+63, 1), false},
		{"mhpmcounter5", PrivM, nil, csrrs(1, 0xb05, 0), false},
		{"mhpmevent31", PrivM, nil, csrrw(1, 0x33f, 1), false},
		{"cycle from S, mcounteren=0", PrivS, nil, csrrs(1, csrCycle, 0), true},
		{"time from S, TM set", PrivS, func(h *Hart) { h.csr.mcounteren = 2 }, csrrs(1, csrTime, 0), false},
		{"time from U, scounteren=0", PrivU, func(h *Hart) { h.csr.mcounteren = 2 }, csrrs(1, csrTime, 0), true},
		{"time from U, both set", PrivU, func(h *Hart) { h.csr.mcounteren, h.csr.scounteren = 2, 2 }, csrrs(1, csrTime, 0), false},
		{"fcsr with FS off", PrivM, func(h *Hart) { h.csr.mstatus &^= mstatusFS }, csrrs(1, csrFcsr, 0), true},
		{"fcsr with FS on", PrivM, func(h *Hart) { h.csr.mstatus |= 1 << mstatusFSShift }, csrrs(1, csrFcsr, 0), false},
		{"satp from S with TVM", PrivS, func(h *Hart) { h.csr.mstatus |= mstatusTVM }, csrrs(1, csrSatp, 0), true},
		{"stimecmp from S without STCE", PrivS, func(h *Hart) { h.csr.mcounteren = 2 }, csrrs(1, csrStimecmp, 0), true},
		{"stimecmp from S with STCE", PrivS, func(h *Hart) { h.csr.mcounteren, h.csr.menvcfg = 2, envcfgSTCE }, csrrs(1, csrStimecmp, 0), false},
		{"sret from S with TSR", PrivS, func(h *Hart) { h.csr.mstatus |= mstatusTSR }, sretW, true},
		{"sfence from S with TVM", PrivS, func(h *Hart) { h.csr.mstatus |= mstatusTVM }, sfenceVMA, true},
		{"sfence from U", PrivU, nil, sfenceVMA, true},
		{"mret from S", PrivS, nil, mretW, true},
		{"wfi from U", PrivU, nil, wfiW, true},
		{"wfi from S with TW", PrivS, func(h *Hart) { h.csr.mstatus |= mstatusTW }, wfiW, true},
	}
	for _, tc := range tests {
		h := testHart(t)
		h.csr.mtvec = ramBase + 0x400
		h.loadWords(ramBase, tc.w)
		if tc.setup != nil {
			tc.setup(h)
		}
		h.priv = tc.priv
		h.SetX(1, 5)
		h.Run(1)
		gotIllegal := h.csr.mcause == excIllegal && h.pc == ramBase+0x400
		if gotIllegal != tc.illegal {
			t.Errorf("%s: illegal=%v (mcause %d pc %#x), want %v", tc.name, gotIllegal, h.csr.mcause, h.pc, tc.illegal)
		}
		if gotIllegal && h.csr.mtval != uint64(tc.w) {
			t.Errorf("%s: mtval %#x, want the instruction %#x", tc.name, h.csr.mtval, tc.w)
		}
	}
}

// csrRoundTrip writes v to a CSR in M mode and returns what reads back.
func csrRoundTrip(t *testing.T, h *Hart, csr uint32, v uint64) uint64 {
	t.Helper()
	h.loadWords(ramBase, csrrw(0, csr, 1), csrrs(2, csr, 0))
	h.pc = ramBase
	h.priv = PrivM
	h.SetX(1, v)
	h.Run(2)
	return h.X(2)
}

func TestCSRWARL(t *testing.T) {
	h := testHart(t)
	all := ^uint64(0)
	tests := []struct {
		name string
		csr  uint32
		v    uint64
		want uint64
	}{
		{"misa fixed", csrMisa, 0, misaValue},
		{"medeleg", csrMedeleg, all, medelegMask},
		{"mideleg", csrMideleg, all, sInts},
		{"mie", csrMie, all, allInts},
		{"mtvec vectored", csrMtvec, ramBase | 1, ramBase | 1},
		{"mtvec reserved mode", csrMtvec, ramBase | 2, ramBase},
		{"mepc bit0", csrMepc, ramBase | 3, ramBase | 2},
		{"mcounteren", csrMcounten, all, 0xffffffff},
		{"menvcfg", csrMenvcfg, all, envcfgFIOM | envcfgSTCE},
		{"pmpaddr0", csrPmpaddr0, all, 1<<54 - 1},
		{"pmpaddr20 absent", csrPmpaddr0 + 20, all, 0},
		{"pmpcfg0", csrPmpcfg0, 0x1f0f, 0x1f0f},
		{"pmpcfg W without R", csrPmpcfg0, 0x02, 0},
		{"mhpmcounter3", 0xb03, all, 0},
		{"mcountinhibit", csrMcountih, all, 5},
		{"mscratch", csrMscratch, all, all},
		{"mstatus MPP=2 reads U", csrMstatus, 2 << mstatusMPPShift, mstatusUXL | mstatusSXL},
		{"mstatus FS dirty sets SD", csrMstatus, mstatusFS, mstatusUXL | mstatusSXL | mstatusFS | mstatusSD},
	}
	for _, tc := range tests {
		if got := csrRoundTrip(t, h, tc.csr, tc.v); got != tc.want {
			t.Errorf("%s: wrote %#x read %#x, want %#x", tc.name, tc.v, got, tc.want)
		}
	}
}

func TestPMPLock(t *testing.T) {
	h := testHart(t)
	csrRoundTrip(t, h, csrPmpaddr0, 0x1000)
	csrRoundTrip(t, h, csrPmpcfg0, 0x80|0x1f) // lock entry 0
	if got := csrRoundTrip(t, h, csrPmpaddr0, 0x2000); got != 0x1000 {
		t.Fatalf("locked pmpaddr0 changed to %#x", got)
	}
	if got := csrRoundTrip(t, h, csrPmpcfg0, 0); got != 0x9f {
		t.Fatalf("locked pmpcfg0 changed to %#x", got)
	}
}

func TestSstatusView(t *testing.T) {
	h := testHart(t)
	csrRoundTrip(t, h, csrMstatus, mstatusMIE|mstatusSIE|mstatusTVM|mstatusSUM)
	got := csrRoundTrip(t, h, csrSstatus, 0) // clears SIE and SUM only
	if got != mstatusUXL {
		t.Errorf("sstatus after write 0: %#x", got)
	}
	if m := h.csr.mstatus; m&mstatusMIE == 0 || m&mstatusTVM == 0 || m&(mstatusSIE|mstatusSUM) != 0 {
		t.Errorf("mstatus %#x: M-only bits must survive an sstatus write", m)
	}
}

type trapState struct {
	Priv           uint8
	PC             uint64
	Mcause, Scause uint64
	Mepc, Sepc     uint64
	Mtval, Stval   uint64
	MPP, SPP       uint64
}

func snapshot(h *Hart) trapState {
	return trapState{
		Priv: h.priv, PC: h.pc,
		Mcause: h.csr.mcause, Scause: h.csr.scause,
		Mepc: h.csr.mepc, Sepc: h.csr.sepc,
		Mtval: h.csr.mtval, Stval: h.csr.stval,
		MPP: h.csr.mstatus >> mstatusMPPShift & 3, SPP: h.csr.mstatus >> 8 & 1,
	}
}

func TestTrapDelegation(t *testing.T) {
	const mtvec, stvec = ramBase + 0x400, ramBase + 0x800
	tests := []struct {
		name    string
		priv    uint8
		medeleg uint64
		w       uint32
		want    trapState
	}{
		{"ecall U to M", PrivU, 0, ecall,
			trapState{Priv: PrivM, PC: mtvec, Mcause: excEcallU, Mepc: ramBase, MPP: PrivU}},
		{"ecall U delegated to S", PrivU, 1 << excEcallU, ecall,
			trapState{Priv: PrivS, PC: stvec, Scause: excEcallU, Sepc: ramBase, SPP: 0}},
		{"ecall S delegated is S", PrivS, 1 << excEcallS, ecall,
			trapState{Priv: PrivS, PC: stvec, Scause: excEcallS, Sepc: ramBase, SPP: 1}},
		{"M never delegates", PrivM, ^uint64(0), ebreak,
			trapState{Priv: PrivM, PC: mtvec, Mcause: excBreakpoint, Mepc: ramBase, Mtval: ramBase, MPP: PrivM}},
		{"illegal delegated", PrivU, 1 << excIllegal, 0xffffffff,
			trapState{Priv: PrivS, PC: stvec, Scause: excIllegal, Sepc: ramBase, Stval: 0xffffffff}},
	}
	for _, tc := range tests {
		h := testHart(t)
		h.csr.mtvec, h.csr.stvec = mtvec, stvec
		h.csr.medeleg = tc.medeleg
		h.loadWords(ramBase, tc.w)
		h.priv = tc.priv
		h.Run(1)
		if diff := cmp.Diff(tc.want, snapshot(h)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestMretSret(t *testing.T) {
	h := testHart(t)
	h.csr.mepc = ramBase + 0x100
	h.csr.mstatus |= mstatusMPIE | 1<<mstatusMPPShift | mstatusMPRV // MPP=S
	h.loadWords(ramBase, mretW)
	h.loadWords(ramBase+0x100, sretW)
	h.csr.sepc = ramBase + 0x200
	h.csr.mstatus |= mstatusSPIE // SPP=0 -> U
	h.Run(1)
	if h.priv != PrivS || h.pc != ramBase+0x100 || h.csr.mstatus&mstatusMIE == 0 ||
		h.csr.mstatus&mstatusMPRV != 0 || h.csr.mstatus&mstatusMPP != 0 {
		t.Fatalf("after mret: priv %d pc %#x mstatus %#x", h.priv, h.pc, h.csr.mstatus)
	}
	h.Run(1)
	if h.priv != PrivU || h.pc != ramBase+0x200 || h.csr.mstatus&mstatusSIE == 0 {
		t.Fatalf("after sret: priv %d pc %#x mstatus %#x", h.priv, h.pc, h.csr.mstatus)
	}
}

func TestInterruptPriority(t *testing.T) {
	const mtvec, stvec = ramBase + 0x400, ramBase + 0x800
	tests := []struct {
		name      string
		priv      uint8
		mstatus   uint64
		pending   uint64
		mideleg   uint64
		wantCause uint64 // interrupt number; 99 = none
		wantPriv  uint8
	}{
		{"all pending, M with MIE", PrivM, mstatusMIE, allInts, 0, 11, PrivM},
		{"MSI over MTI", PrivM, mstatusMIE, MipMSIP | MipMTIP, 0, 3, PrivM},
		{"MTI over SEI", PrivM, mstatusMIE, MipMTIP | MipSEIP, 0, 7, PrivM},
		{"SEI over SSI over STI", PrivM, mstatusMIE, MipSEIP | MipSSIP | MipSTIP, 0, 9, PrivM},
		{"SSI over STI", PrivM, mstatusMIE, MipSSIP | MipSTIP, 0, 1, PrivM},
		{"M with MIE=0 masks", PrivM, 0, MipMTIP, 0, 99, PrivM},
		{"S ignores MIE for M ints", PrivS, 0, MipMTIP, 0, 7, PrivM},
		{"delegated not taken in M", PrivM, mstatusMIE, MipSTIP, sInts, 99, PrivM},
		{"delegated to S needs SIE in S", PrivS, 0, MipSTIP, sInts, 99, PrivS},
		{"delegated to S with SIE", PrivS, mstatusSIE, MipSTIP, sInts, 5, PrivS},
		{"delegated from U ignores SIE", PrivU, 0, MipSSIP, sInts, 1, PrivS},
		{"M-level beats S-level", PrivU, 0, MipSEIP | MipMTIP, MipSEIP, 7, PrivM},
	}
	for _, tc := range tests {
		h := testHart(t)
		h.csr.mtvec, h.csr.stvec = mtvec|1, stvec // M vectored
		h.loadWords(ramBase, nop)
		for a := uint64(mtvec); a < mtvec+0x40; a += 4 {
			h.loadWords(a, jal(0, 0))
		}
		h.loadWords(stvec, jal(0, 0))
		h.priv = tc.priv
		h.csr.mstatus |= tc.mstatus
		h.csr.mie = allInts
		h.csr.mideleg = tc.mideleg
		h.csr.mipSW = tc.pending & sInts
		h.SetPending(tc.pending&^sInts, true)
		h.updateMip()
		h.Run(1)
		if tc.wantCause == 99 {
			if h.pc != ramBase+4 {
				t.Errorf("%s: interrupt taken (pc %#x mcause %#x scause %#x)", tc.name, h.pc, h.csr.mcause, h.csr.scause)
			}
			continue
		}
		cause := h.csr.mcause
		wantPC := uint64(mtvec + 4*tc.wantCause)
		if tc.wantPriv == PrivS {
			cause = h.csr.scause
			wantPC = stvec
		}
		if cause != 1<<63|tc.wantCause || h.priv != tc.wantPriv || h.pc != wantPC {
			t.Errorf("%s: cause %#x priv %d pc %#x, want int %d in priv %d at %#x",
				tc.name, cause, h.priv, h.pc, tc.wantCause, tc.wantPriv, wantPC)
		}
	}
}

func TestTrapHookAndReadCSR(t *testing.T) {
	h := testHart(t)
	h.csr.mtvec = ramBase + 0x400
	h.loadWords(ramBase, ecall)
	h.priv = PrivU
	var got []Trap
	h.TrapHook = func(t Trap) { got = append(got, t) }
	h.Run(1)
	want := []Trap{{Cause: excEcallU, EPC: ramBase, From: PrivU, To: PrivM}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trap events (-want +got):\n%s", diff)
	}
	if v, ok := h.ReadCSR(csrMcause); !ok || v != excEcallU {
		t.Errorf("ReadCSR(mcause) = %d, %v", v, ok)
	}
	if _, ok := h.ReadCSR(0x7c0); ok {
		t.Error("ReadCSR of an unimplemented CSR succeeded")
	}
}
