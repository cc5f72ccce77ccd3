package cpu

import (
	"encoding/binary"
	"testing"
)

// pageTables builds Sv39/Sv48 tables in the test hart's RAM.
type pageTables struct {
	h      *Hart
	levels int
	root   uint64
	next   uint64
}

func newPageTables(h *Hart, levels int) *pageTables {
	p := &pageTables{h: h, levels: levels, next: ramBase + 0x80000}
	p.root = p.alloc()
	return p
}

func (p *pageTables) alloc() uint64 {
	a := p.next
	p.next += 4096
	return a
}

func (p *pageTables) pteAddr(va uint64, level int) uint64 {
	a := p.root
	for i := p.levels - 1; i > level; i-- {
		e := a + (va>>(12+9*uint(i))&511)*8
		pte := p.read(e)
		if pte&pteV == 0 {
			n := p.alloc()
			pte = n>>12<<10 | pteV
			p.write(e, pte)
		}
		a = pte >> 10 << 12
	}
	return a + (va>>(12+9*uint(level))&511)*8
}

func (p *pageTables) read(pa uint64) uint64 {
	return binary.LittleEndian.Uint64(p.h.ram[pa-ramBase:])
}
func (p *pageTables) write(pa, v uint64) {
	binary.LittleEndian.PutUint64(p.h.ram[pa-ramBase:], v)
}

// mapPage maps va to pa at level (0 = 4 KiB, 1 = 2 MiB, ...) with flags
// (V is added) and returns the PTE's address.
func (p *pageTables) mapPage(va, pa, flags uint64, level int) uint64 {
	e := p.pteAddr(va, level)
	p.write(e, pa>>12<<10|flags|pteV)
	return e
}

func (p *pageTables) enable(h *Hart) {
	mode := uint64(satpSv39)
	if p.levels == 4 {
		mode = satpSv48
	}
	h.csr.satp = mode<<60 | p.root>>12
	h.flushTLB()
}

// pagedHart: code at virtual 0x10000 (-> ramBase), data page at virtual
// 0x40000000 (-> ramBase+0x10000), S mode, traps to M at physical
// ramBase+0x400.
func pagedHart(t testing.TB, levels int, dataFlags uint64, prog ...uint32) (*Hart, *pageTables, uint64) {
	h := testHart(t)
	p := newPageTables(h, levels)
	p.mapPage(0x10000, ramBase, pteR|pteX|pteA, 0)
	pte := p.mapPage(0x40000000, ramBase+0x10000, dataFlags, 0)
	p.enable(h)
	h.loadWords(ramBase, prog...)
	h.loadWords(ramBase+0x400, jal(0, 0)) // M-mode handler: spin
	h.csr.mtvec = ramBase + 0x400
	h.priv = PrivS
	h.pc = 0x10000
	return h, p, pte
}

func TestSv39LoadStoreAndAD(t *testing.T) {
	for _, levels := range []int{3, 4} {
		h, p, pte := pagedHart(t, levels, pteR|pteW, lui(1, 0x40000000), ld(2, 1, 8), sd(3, 1, 16))
		binary.LittleEndian.PutUint64(h.ram[0x10008:], 0xdeadbeef)
		h.SetX(3, 77)
		h.Run(2)
		if h.X(2) != 0xdeadbeef {
			t.Fatalf("levels %d: ld got %#x (mcause %d)", levels, h.X(2), h.csr.mcause)
		}
		if v := p.read(pte); v&pteA == 0 || v&pteD != 0 {
			t.Fatalf("after load, PTE %#x: want A set, D clear", v)
		}
		h.Run(1)
		if got := binary.LittleEndian.Uint64(h.ram[0x10010:]); got != 77 {
			t.Fatalf("sd wrote %d", got)
		}
		if v := p.read(pte); v&pteD == 0 {
			t.Fatalf("after store, PTE %#x: want D set", v)
		}
	}
}

func TestPageFaults(t *testing.T) {
	tests := []struct {
		name      string
		flags     uint64
		mstatus   uint64
		priv      uint8
		w         uint32
		wantCause uint64 // excNone: no fault
	}{
		{"store to read-only", pteR, 0, PrivS, sd(3, 1, 0), excStorePage},
		{"load from U page in S", pteR | pteU, 0, PrivS, ld(3, 1, 0), excLoadPage},
		{"load from U page with SUM", pteR | pteU, mstatusSUM, PrivS, ld(3, 1, 0), excNone},
		{"load from exec-only", pteX, 0, PrivS, ld(3, 1, 0), excLoadPage},
		{"load from exec-only with MXR", pteX, mstatusMXR, PrivS, ld(3, 1, 0), excNone},
		{"invalid PTE", 0, 0, PrivS, ld(3, 1, 0), excLoadPage},
		{"W without R is reserved", pteW, 0, PrivS, sd(3, 1, 0), excStorePage},
		{"jump to data page", pteR | pteW, 0, PrivS, jalr(0, 1, 0), excInstrPage},
		{"reserved PTE bits", pteR | 1<<60, 0, PrivS, ld(3, 1, 0), excLoadPage},
	}
	for _, tc := range tests {
		h, _, _ := pagedHart(t, 3, tc.flags, lui(1, 0x40000000), tc.w, nop)
		h.csr.mstatus |= tc.mstatus
		h.Run(3)
		if tc.wantCause == excNone {
			if h.csr.mcause != 0 || h.priv != PrivS {
				t.Errorf("%s: unexpected trap %d", tc.name, h.csr.mcause)
			}
			continue
		}
		if h.csr.mcause != tc.wantCause || h.csr.mtval != 0x40000000 {
			t.Errorf("%s: mcause %d mtval %#x, want %d", tc.name, h.csr.mcause, h.csr.mtval, tc.wantCause)
		}
	}
}

func TestUserCannotFetchSupervisorPage(t *testing.T) {
	h, _, _ := pagedHart(t, 3, pteR, nop)
	h.priv = PrivU
	h.Run(1)
	if h.csr.mcause != excInstrPage || h.csr.mtval != 0x10000 {
		t.Fatalf("mcause %d mtval %#x", h.csr.mcause, h.csr.mtval)
	}
}

func TestSuperpages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pa    uint64
		fault bool
	}{
		{"aligned 2MiB", ramBase + 0x200000, false},
		{"misaligned 2MiB", ramBase + 0x201000, true},
	} {
		h := testHart(t)
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, 0x1234)
		copy(h.ram[0x200000+0x1008:], b)
		copy(h.ram[0x201000+0x1008:], b)
		p := newPageTables(h, 3)
		p.mapPage(0x10000, ramBase, pteR|pteX, 0)
		p.mapPage(0x40000000, tc.pa, pteR|pteW, 1)
		p.enable(h)
		h.loadWords(ramBase, lui(1, 0x40001000), ld(2, 1, 8))
		h.csr.mtvec = ramBase + 0x400
		h.priv, h.pc = PrivS, 0x10000
		h.Run(2)
		if tc.fault {
			if h.csr.mcause != excLoadPage {
				t.Errorf("%s: mcause %d, want load page fault", tc.name, h.csr.mcause)
			}
		} else if h.X(2) != 0x1234 {
			t.Errorf("%s: got %#x (mcause %d)", tc.name, h.X(2), h.csr.mcause)
		}
	}
}

func TestNonCanonicalAddress(t *testing.T) {
	h, _, _ := pagedHart(t, 3, pteR, ld(3, 1, 0))
	h.SetX(1, 1<<40) // bit 39.. must equal bit 38 in Sv39
	h.Run(1)
	if h.csr.mcause != excLoadPage || h.csr.mtval != 1<<40 {
		t.Fatalf("mcause %d mtval %#x", h.csr.mcause, h.csr.mtval)
	}
}

func TestSfenceFlushesTLB(t *testing.T) {
	h, p, _ := pagedHart(t, 3, pteR|pteW|pteA|pteD,
		lui(1, 0x40000000), ld(2, 1, 0), sfenceVMA, ld(3, 1, 0))
	binary.LittleEndian.PutUint64(h.ram[0x10000:], 1)
	binary.LittleEndian.PutUint64(h.ram[0x11000:], 2)
	h.Run(2)
	p.mapPage(0x40000000, ramBase+0x11000, pteR|pteW|pteA|pteD, 0) // remap
	h.Run(2)
	if h.X(2) != 1 || h.X(3) != 2 {
		t.Fatalf("before/after sfence: %d %d", h.X(2), h.X(3))
	}
}

// TestSfencePage: SFENCE.VMA with rs1 != x0 drops the translation of that
// page, and of the whole superpage (all its 4 KiB entries) when the address
// is in one.
func TestSfencePage(t *testing.T) {
	sfence := func(rs1, rs2 int) uint32 { return sfenceVMA | uint32(rs2)<<20 | uint32(rs1)<<15 }
	rw := uint64(pteR | pteW | pteA | pteD)
	h, p, _ := pagedHart(t, 3, rw,
		lui(1, 0x40000000), lui(4, 0x40201000), lui(7, 0x40202000),
		ld(2, 1, 0), ld(5, 7, 0),
		sfence(1, 0), ld(3, 1, 0), sfence(4, 9), ld(6, 7, 0))
	p.mapPage(0x40200000, ramBase+0x200000, rw, 1) // a 2 MiB superpage
	h.flushTLB()
	binary.LittleEndian.PutUint64(h.ram[0x10000:], 1)
	binary.LittleEndian.PutUint64(h.ram[0x11000:], 2)
	binary.LittleEndian.PutUint64(h.ram[0x202000:], 10)
	binary.LittleEndian.PutUint64(h.ram[0x2000:], 20)
	h.Run(5)
	p.mapPage(0x40000000, ramBase+0x11000, rw, 0)
	p.mapPage(0x40200000, ramBase, rw, 1)
	h.Run(4)
	if h.X(2) != 1 || h.X(3) != 2 || h.X(5) != 10 || h.X(6) != 20 {
		t.Fatalf("4 KiB page before/after: %d %d; superpage: %d %d", h.X(2), h.X(3), h.X(5), h.X(6))
	}
}

func TestSatpWARL(t *testing.T) {
	h := testHart(t)
	for _, tc := range []struct {
		v, want uint64
	}{
		{8<<60 | 0x1234, 8<<60 | 0x1234},
		{10<<60 | 0x5555, 8<<60 | 0x1234}, // Sv57: unsupported, unchanged
		{9<<60 | 0x42, 9<<60 | 0x42},
		{1<<60 | 7, 9<<60 | 0x42},
		{0, 0},
	} {
		h.loadWords(ramBase, csrrw(0, csrSatp, 1), csrrs(2, csrSatp, 0))
		h.SetX(1, tc.v)
		h.pc = ramBase
		h.Run(2)
		if h.X(2) != tc.want {
			t.Errorf("write %#x: satp %#x, want %#x", tc.v, h.X(2), tc.want)
		}
	}
}

func TestMPRV(t *testing.T) {
	// M mode with MPRV=1 and MPP=S loads through the page tables; with
	// MPP=M it does not translate.
	h := testHart(t)
	p := newPageTables(h, 3)
	p.mapPage(0x40000000, ramBase+0x10000, pteR|pteW, 0)
	p.enable(h)
	binary.LittleEndian.PutUint64(h.ram[0x10000:], 0xabcd)
	h.loadWords(ramBase, ld(2, 1, 0), nop)
	h.SetX(1, 0x40000000)
	h.csr.mstatus |= mstatusMPRV | 1<<mstatusMPPShift
	h.Run(1)
	if h.X(2) != 0xabcd || h.priv != PrivM {
		t.Fatalf("MPRV load: got %#x, priv %d, mcause %d", h.X(2), h.priv, h.csr.mcause)
	}
	// Instruction fetch ignores MPRV: the code ran from physical RAM.
	if h.pc != ramBase+4 {
		t.Fatalf("pc %#x", h.pc)
	}
}

func TestFetchAcrossPages(t *testing.T) {
	// A 32-bit instruction whose upper half lies on the next virtual page,
	// mapped to a non-contiguous physical page.
	h := testHart(t)
	p := newPageTables(h, 3)
	p.mapPage(0x10000, ramBase, pteR|pteX, 0)
	p.mapPage(0x11000, ramBase+0x5000, pteR|pteX, 0)
	p.enable(h)
	w := addi(5, 0, 0x123)
	binary.LittleEndian.PutUint16(h.ram[0xffe:], uint16(w))
	binary.LittleEndian.PutUint16(h.ram[0x5000:], uint16(w>>16))
	binary.LittleEndian.PutUint32(h.ram[0x5002:], jal(0, 0))
	h.priv, h.pc = PrivS, 0x10ffe
	h.csr.mtvec = ramBase + 0x400
	h.Run(2)
	if h.X(5) != 0x123 || h.pc != 0x11002 {
		t.Fatalf("x5 %#x pc %#x mcause %d", h.X(5), h.pc, h.csr.mcause)
	}
	// With the second page unmapped: instruction page fault.
	p.write(p.pteAddr(0x11000, 0), 0)
	h.flushTLB()
	h.pc = 0x10ffe
	h.Run(1)
	if h.csr.mcause != excInstrPage || h.csr.mepc != 0x10ffe || h.csr.mtval != 0x11000 {
		t.Fatalf("mcause %d mepc %#x mtval %#x", h.csr.mcause, h.csr.mepc, h.csr.mtval)
	}
}

func TestGigapageSv48(t *testing.T) {
	h := testHart(t)
	p := newPageTables(h, 4)
	p.mapPage(0x10000, ramBase, pteR|pteX, 0)
	p.mapPage(0x8000000000, ramBase&^(1<<30-1), pteR, 2) // 1 GiB page at 512 GiB
	p.enable(h)
	binary.LittleEndian.PutUint64(h.ram[0x1008:], 0x77)
	h.loadWords(ramBase, ld(2, 1, 0))
	h.SetX(1, 0x8000000000+ramBase&(1<<30-1)+0x1008)
	h.priv, h.pc = PrivS, 0x10000
	h.Run(1)
	if h.X(2) != 0x77 {
		t.Fatalf("got %#x mcause %d mtval %#x", h.X(2), h.csr.mcause, h.csr.mtval)
	}
}

func TestTLBSetsFollowPrivilegeAndSUM(t *testing.T) {
	// S mode with SUM=1 reads a U page (the S TLB set caches it); after
	// clearing SUM the same load must fault.
	h, _, _ := pagedHart(t, 3, pteR|pteU,
		lui(1, 0x40000000), ld(2, 1, 0), csrrc(0, csrSstatus, 3), ld(2, 1, 0))
	h.csr.mstatus |= mstatusSUM
	h.SetX(3, mstatusSUM)
	h.Run(3)
	if h.csr.mcause != 0 {
		t.Fatalf("load with SUM=1 trapped: %d", h.csr.mcause)
	}
	h.Run(1)
	if h.csr.mcause != excLoadPage {
		t.Fatalf("load after clearing SUM: mcause %d, want load page fault", h.csr.mcause)
	}

	// S mode reads a supervisor page (cached in the S set), then SRET to
	// U mode: the same load from U must fault.
	h, p, _ := pagedHart(t, 3, pteR, lui(1, 0x40000000), ld(2, 1, 0), sretW)
	p.mapPage(0x20000, ramBase+0x20000, pteR|pteX|pteU, 0)
	h.loadWords(ramBase+0x20000, ld(2, 1, 0))
	h.csr.sepc = 0x20000 // SPP=0: return to U
	h.Run(4)
	if h.csr.mcause != excLoadPage || h.csr.mepc != 0x20000 {
		t.Fatalf("U-mode load of an S page: mcause %d mepc %#x", h.csr.mcause, h.csr.mepc)
	}
}
