package cpu

import (
	"encoding/binary"
	"testing"

	"gemu/bus"
	"gemu/clock"
)

func TestWFIIdleAndWake(t *testing.T) {
	h := testHart(t)
	h.csr.mtvec = ramBase + 0x400
	h.loadWords(ramBase+0x400, jal(0, 0))
	h.loadWords(ramBase, addi(1, 0, 1), wfiW, addi(2, 0, 2), jal(0, 0))
	h.csr.mie = MipMTIP // enabled locally, MIE=0 globally
	if n := h.Run(100); n != 2 {
		t.Fatalf("Run returned %d, want 2 (stops at WFI)", n)
	}
	if !h.Idle() || h.pc != ramBase+8 {
		t.Fatalf("Idle=%v pc=%#x", h.Idle(), h.pc)
	}
	if n := h.Run(100); n != 0 {
		t.Fatalf("idle hart ran %d", n)
	}
	// A pending interrupt wakes the hart even with MIE=0: execution
	// continues after the WFI without taking the trap.
	h.SetPending(MipMTIP, true)
	if h.Idle() {
		t.Fatal("still idle with MTIP pending")
	}
	h.Run(1)
	if h.X(2) != 2 || h.priv != PrivM || h.csr.mcause != 0 {
		t.Fatalf("x2=%d mcause=%d", h.X(2), h.csr.mcause)
	}
}

func TestInterruptTakenAtNextInstruction(t *testing.T) {
	// A device raises MEIP from an MMIO write in the middle of a batch: the
	// interrupt is taken right after that instruction.
	b := bus.New(ramBase, 1<<20)
	clk := clock.NewDeterministic(0, nil)
	h := New(b, clk, 0)
	clk.SetCounter(h.Instret)
	dev := &irqDevice{h: h}
	if err := b.Map(0x10000000, 0x1000, dev, "irq"); err != nil {
		t.Fatal(err)
	}
	h.Reset(ramBase)
	openPMP(h)
	h.csr.mtvec = ramBase + 0x400
	h.csr.mie = MipMEIP
	h.csr.mstatus |= mstatusMIE
	h.loadWords(ramBase+0x400, jal(0, 0))
	h.loadWords(ramBase, lui(1, 0x10000000), sw(0, 1, 0), addi(2, 0, 1), addi(3, 0, 1))
	h.Run(3)
	if h.csr.mcause != 1<<63|11 || h.csr.mepc != ramBase+8 || h.X(2) != 0 {
		t.Fatalf("mcause %#x mepc %#x x2 %d", h.csr.mcause, h.csr.mepc, h.X(2))
	}
	if dev.instret != 2 {
		t.Fatalf("Instret seen by the device: %d, want 2", dev.instret)
	}
}

type irqDevice struct {
	h       *Hart
	instret uint64
}

func (d *irqDevice) Read(off uint64, size int) uint64 { return 0 }
func (d *irqDevice) Write(off uint64, size int, v uint64) {
	d.instret = d.h.Instret()
	d.h.SetPending(MipMEIP, true)
}

func TestRequestStop(t *testing.T) {
	b := bus.New(ramBase, 1<<20)
	clk := clock.NewDeterministic(0, nil)
	h := New(b, clk, 0)
	dev := &stopDevice{h: h}
	if err := b.Map(0x10000000, 0x1000, dev, "stop"); err != nil {
		t.Fatal(err)
	}
	h.Reset(ramBase)
	openPMP(h)
	h.loadWords(ramBase, lui(1, 0x10000000), sw(0, 1, 0), jal(0, 0))
	if n := h.Run(1000); n != 2 || h.pc != ramBase+8 {
		t.Fatalf("Run = %d, pc %#x; want 2 and the instruction after the store", n, h.pc)
	}
}

type stopDevice struct{ h *Hart }

func (d *stopDevice) Read(off uint64, size int) uint64     { return 0 }
func (d *stopDevice) Write(off uint64, size int, v uint64) { d.h.RequestStop() }

func TestSstc(t *testing.T) {
	h := testHart(t)
	clk := h.clk
	h.csr.menvcfg = envcfgSTCE
	h.csr.mcounteren = 2
	// stimecmp = 1000 ticks = 100000 ns = 100000 instructions at shift 0.
	h.loadWords(ramBase, addi(1, 0, 1000), csrrw(0, csrStimecmp, 1), jal(0, 0))
	h.Run(2)
	if h.csr.mip&MipSTIP != 0 {
		t.Fatal("STIP set before time reached stimecmp")
	}
	when, ok := clk.Next()
	if !ok || when != 1000*clock.NsPerTick {
		t.Fatalf("timer armed at %d, %v", when, ok)
	}
	h.Run(uint64(when) - h.Instret())
	clk.RunDue()
	if h.csr.mip&MipSTIP == 0 {
		t.Fatalf("STIP not set at time %d", clk.Ticks())
	}
	// Writing a later stimecmp clears STIP (level semantics).
	h.csr.stimecmp = 1 << 40
	h.updateStimer()
	if h.csr.mip&MipSTIP != 0 {
		t.Fatal("STIP still set after stimecmp moved")
	}
	// Without STCE, STIP is software-writable by M again.
	csrRoundTrip(t, h, csrMenvcfg, 0)
	if got := csrRoundTrip(t, h, csrMip, MipSTIP); got&MipSTIP == 0 {
		t.Fatalf("mip.STIP not writable without STCE: %#x", got)
	}
}

func TestDeterministicRun(t *testing.T) {
	// Same state and max give the same result.
	var results [2][3]uint64
	for i := range results {
		h := testHart(t)
		h.loadWords(ramBase, intLoop()...)
		n := h.Run(12345)
		results[i] = [3]uint64{n, h.pc, h.X(10)}
	}
	if results[0] != results[1] || results[0][0] != 12345 {
		t.Fatalf("runs differ: %v", results)
	}
}

func TestLRSC(t *testing.T) {
	const data = ramBase + 0x2000
	tests := []struct {
		name    string
		prog    []uint32
		wantSC  uint64 // 0 success
		wantMem uint64
	}{
		{"lr/sc succeeds", []uint32{lrd(2, 1), scd(3, 1, 4)}, 0, 99},
		{"sc without lr fails", []uint32{nop, scd(3, 1, 4)}, 1, 7},
		{"store between breaks", []uint32{lrd(2, 1), sd(5, 1, 0), scd(3, 1, 4)}, 1, 5},
		{"store elsewhere keeps", []uint32{lrd(2, 1), sd(5, 1, 64), scd(3, 1, 4)}, 0, 99},
		{"sc to other address fails", []uint32{lrd(2, 1), addi(6, 1, 64), scd(3, 6, 4)}, 1, 7},
		{"second sc fails", []uint32{lrd(2, 1), scd(3, 1, 4), scd(3, 1, 5)}, 1, 99},
		{"lr.w/sc.w", []uint32{lrw(2, 1), scw(3, 1, 4)}, 0, 99},
	}
	for _, tc := range tests {
		h := testHart(t)
		binary.LittleEndian.PutUint64(h.ram[data-ramBase:], 7)
		h.loadWords(ramBase, tc.prog...)
		h.SetX(1, data)
		h.SetX(4, 99)
		h.SetX(5, 5)
		h.Run(uint64(len(tc.prog)))
		if got := binary.LittleEndian.Uint64(h.ram[data-ramBase:]); h.X(3) != tc.wantSC || got != tc.wantMem {
			t.Errorf("%s: sc rd=%d mem=%d, want %d %d", tc.name, h.X(3), got, tc.wantSC, tc.wantMem)
		}
	}
}

func TestAMO(t *testing.T) {
	const data = ramBase + 0x2000
	neg := func(v int64) uint64 { return uint64(v) }
	tests := []struct {
		name     string
		f5, f3   uint32
		mem, src uint64
		wantMem  uint64
		wantRd   uint64
	}{
		{"amoswap.d", 0x01, 3, 1, 2, 2, 1},
		{"amoadd.d", 0x00, 3, 5, neg(-1), 4, 5},
		{"amoadd.w wraps, sign-extends", 0x00, 2, 0x7fffffff, 1, 0x80000000, 0x7fffffff},
		{"amoxor.d", 0x04, 3, 6, 3, 5, 6},
		{"amoand.d", 0x0c, 3, 6, 3, 2, 6},
		{"amoor.d", 0x08, 3, 6, 3, 7, 6},
		{"amomin.d", 0x10, 3, 5, neg(-1), neg(-1), 5},
		{"amomax.d", 0x14, 3, 5, neg(-1), 5, 5},
		{"amominu.d", 0x18, 3, 5, neg(-1), 5, 5},
		{"amomaxu.d", 0x1c, 3, 5, neg(-1), neg(-1), 5},
		{"amomin.w", 0x10, 2, 0x80000000, 1, 0x80000000, 0xffffffff80000000},
		{"amominu.w", 0x18, 2, 0x80000000, 1, 1, 0xffffffff80000000},
		{"amomaxu.w", 0x1c, 2, 0x80000000, 1, 0x80000000, 0xffffffff80000000},
	}
	for _, tc := range tests {
		h := testHart(t)
		binary.LittleEndian.PutUint64(h.ram[data-ramBase:], tc.mem)
		h.loadWords(ramBase, amo(tc.f5, tc.f3, 3, 1, 2))
		h.SetX(1, data)
		h.SetX(2, tc.src)
		h.Run(1)
		got := binary.LittleEndian.Uint64(h.ram[data-ramBase:])
		if tc.f3 == 2 {
			got &= 0xffffffff
		}
		if got != tc.wantMem || h.X(3) != tc.wantRd {
			t.Errorf("%s: mem %#x rd %#x, want %#x %#x", tc.name, got, h.X(3), tc.wantMem, tc.wantRd)
		}
	}
}

func TestMisalignedAMOTraps(t *testing.T) {
	h := testHart(t)
	h.csr.mtvec = ramBase + 0x400
	h.loadWords(ramBase, amoaddd(3, 1, 2))
	h.SetX(1, ramBase+0x2004)
	h.Run(1)
	if h.csr.mcause != excStoreMisaligned || h.csr.mtval != ramBase+0x2004 {
		t.Fatalf("mcause %d mtval %#x", h.csr.mcause, h.csr.mtval)
	}
}

func TestMinstret(t *testing.T) {
	h := testHart(t)
	h.csr.mtvec = ramBase + 0x400
	h.loadWords(ramBase+0x400, csrrs(5, csrMinstret, 0))
	h.loadWords(ramBase, nop, nop, csrrw(0, csrMinstret, 0), nop, ecall)
	h.Run(6)
	// minstret was written 0; one nop retired, the ecall did not.
	if h.X(5) != 1 {
		t.Fatalf("minstret read %d, want 1", h.X(5))
	}
}

func TestRunHugeMax(t *testing.T) {
	h := testHart(t)
	h.loadWords(ramBase, addi(1, 1, 1), wfiW)
	if n := h.Run(^uint64(0)); n != 2 || h.X(1) != 1 {
		t.Fatalf("Run(max uint64) = %d, x1 = %d", n, h.X(1))
	}
}
