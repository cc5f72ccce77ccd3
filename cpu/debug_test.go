package cpu

import "testing"

func TestDebugTranslate(t *testing.T) {
	h := testHart(t)
	p := newPageTables(h, 3)
	code := p.mapPage(0x10000, ramBase, pteR|pteX, 0)     // no A bit: must stay clear
	p.mapPage(0x20000, ramBase+0x3000, pteR|pteW|pteU, 0) // a user page
	p.mapPage(0x40000000, ramBase+0x200000, pteR|pteW, 1) // 2 MiB superpage
	p.mapPage(0x80000000, ramBase+0x1000, pteR|pteW, 1)   // misaligned superpage
	p.write(p.pteAddr(0x30000, 0), pteW|pteV)             // reserved W without R
	p.enable(h)
	h.priv = PrivS

	tests := []struct {
		va   uint64
		pa   uint64
		ok   bool
		name string
	}{
		{0x10000, ramBase, true, "4 KiB page"},
		{0x10ffe, ramBase + 0xffe, true, "offset in page"},
		{0x20010, ramBase + 0x3010, true, "U page from S mode"},
		{0x40123456, ramBase + 0x323456, true, "superpage"},
		{0x11000, 0, false, "unmapped"},
		{0x30000, 0, false, "reserved PTE"},
		{0x80000000, 0, false, "misaligned superpage"},
		{1 << 40, 0, false, "not sign-extended"},
	}
	for _, tc := range tests {
		pa, ok := h.DebugTranslate(tc.va)
		if ok != tc.ok || pa != tc.pa {
			t.Errorf("%s: DebugTranslate(%#x) = %#x, %v; want %#x, %v", tc.name, tc.va, pa, ok, tc.pa, tc.ok)
		}
	}
	if pte := p.read(code); pte&(pteA|pteD) != 0 {
		t.Errorf("DebugTranslate set A/D bits: pte %#x", pte)
	}

	h.priv = PrivM
	if pa, ok := h.DebugTranslate(0x11000); !ok || pa != 0x11000 {
		t.Errorf("M mode: DebugTranslate = %#x, %v; want identity", pa, ok)
	}
}

func TestWriteCSR(t *testing.T) {
	h := testHart(t)
	h.priv = PrivU
	if !h.WriteCSR(csrMscratch, 0x1234) {
		t.Fatal("WriteCSR(mscratch) from U mode failed")
	}
	if v, ok := h.ReadCSR(csrMscratch); !ok || v != 0x1234 {
		t.Errorf("mscratch = %#x, %v", v, ok)
	}
	if h.priv != PrivU {
		t.Errorf("priv changed to %d", h.priv)
	}
	if h.WriteCSR(0xf14, 5) { // mhartid is read-only
		t.Error("WriteCSR(mhartid) succeeded")
	}
	if h.WriteCSR(0x7ff, 5) {
		t.Error("WriteCSR of an unimplemented CSR succeeded")
	}
	// minstret as the next instruction will read it.
	h.WriteCSR(csrMinstret, 100)
	if v, _ := h.ReadCSR(csrMinstret); v != 100 {
		t.Errorf("minstret = %d after writing 100", v)
	}
}

func TestSetFAndPriv(t *testing.T) {
	h := testHart(t)
	h.SetF(33, 7) // index wraps like F
	if h.F(1) != 7 {
		t.Errorf("F(1) = %d", h.F(1))
	}
	if h.csr.mstatus&mstatusFS != 0 {
		t.Error("SetF turned the FP unit on")
	}
	h.csr.mstatus |= 1 << 13 // Initial
	h.SetF(2, 9)
	if h.csr.mstatus&mstatusFS != mstatusFS {
		t.Error("SetF with FS on did not mark it Dirty")
	}
	h.SetPriv(PrivS)
	h.SetPriv(2) // reserved: ignored
	if h.Priv() != PrivS {
		t.Errorf("priv = %d, want S", h.Priv())
	}
}

// A pending, enabled timer interrupt: Step runs the instruction at pc and
// not the handler; TakeInterrupt enters the handler without executing.
func TestStepHoldsInterruptsOff(t *testing.T) {
	h := testHart(t)
	h.loadWords(ramBase, addi(1, 0, 1), addi(2, 0, 2), addi(3, 0, 3))
	h.loadWords(ramBase+0x400, addi(5, 0, 5))
	h.csr.mtvec = ramBase + 0x400
	h.csr.mie = MipMTIP
	h.csr.mstatus |= mstatusMIE
	h.SetPending(MipMTIP, true)

	if !h.Step() || h.pc != ramBase+4 || h.X(1) != 1 {
		t.Fatalf("Step: pc %#x x1 %d; want the first instruction run", h.pc, h.X(1))
	}
	if h.csr.mip&MipMTIP == 0 {
		t.Fatal("Step lost the pending MTIP")
	}
	if !h.TakeInterrupt() || h.pc != ramBase+0x400 || h.X(5) != 0 {
		t.Fatalf("TakeInterrupt: pc %#x x5 %d; want the handler, not run", h.pc, h.X(5))
	}
	if h.csr.mepc != ramBase+4 {
		t.Errorf("mepc = %#x", h.csr.mepc)
	}
	if h.TakeInterrupt() {
		t.Error("TakeInterrupt with MIE now clear took another interrupt")
	}
}

// A CSR instruction is stepped with the true mip visible.
func TestStepCSRSeesMip(t *testing.T) {
	h := testHart(t)
	h.loadWords(ramBase, csrrs(1, csrMip, 0))
	h.SetPending(MipMTIP, true)
	if !h.Step() {
		t.Fatal("Step did not run")
	}
	if h.X(1)&MipMTIP == 0 {
		t.Errorf("csrr mip read %#x under Step", h.X(1))
	}
}

func TestStepWFI(t *testing.T) {
	h := testHart(t)
	h.loadWords(ramBase, wfiW, addi(1, 0, 1))
	if !h.Step() || h.pc != ramBase+4 {
		t.Fatalf("Step over WFI: pc %#x", h.pc)
	}
	if h.Step() {
		t.Error("Step ran while waiting in WFI with nothing pending")
	}
	h.csr.mie = MipMSIP
	h.SetPending(MipMSIP, true)
	if !h.Step() || h.X(1) != 1 {
		t.Errorf("Step after wake-up: x1 = %d", h.X(1))
	}
}
