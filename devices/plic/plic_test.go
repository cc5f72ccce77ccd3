package plic

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func setup() (*PLIC, *[2]bool) {
	var out [2]bool
	p := New([]func(bool){
		func(l bool) { out[0] = l },
		func(l bool) { out[1] = l },
	})
	return p, &out
}

const (
	ctxM = 0
	ctxS = 1
)

func enable(p *PLIC, ctx int, src int) {
	off := uint64(EnableBase + EnableStride*ctx + 4*(src/32))
	p.Write(off, 4, p.Read(off, 4)|1<<(src%32))
}
func claimReg(ctx int) uint64 { return uint64(ContextBase + ContextSize*ctx + 4) }

func TestClaimComplete(t *testing.T) {
	p, out := setup()
	p.Write(4*10, 4, 1) // priority(10) = 1
	p.Write(4*33, 4, 5) // priority(33) = 5
	enable(p, ctxS, 10)
	enable(p, ctxS, 33)

	p.SetLevel(10, true)
	if !out[ctxS] || out[ctxM] {
		t.Fatalf("outputs %v, want S only", *out)
	}
	p.SetLevel(33, true)
	if got := p.Read(PendingBase+4, 4); got != 1<<1 {
		t.Errorf("pending word 1 = %#x, want 0x2", got)
	}
	// Highest priority first.
	if got := p.Read(claimReg(ctxS), 4); got != 33 {
		t.Errorf("claim = %d, want 33", got)
	}
	if got := p.Read(claimReg(ctxS), 4); got != 10 {
		t.Errorf("second claim = %d, want 10", got)
	}
	if out[ctxS] {
		t.Errorf("output still high with everything claimed")
	}
	if got := p.Read(claimReg(ctxS), 4); got != 0 {
		t.Errorf("claim with nothing pending = %d, want 0", got)
	}
	// Source 33 still high at completion: QEMU's gateway does not pend it
	// again; only a new signal does.
	p.Write(claimReg(ctxS), 4, 33)
	if out[ctxS] {
		t.Errorf("stuck level re-pended at completion")
	}
	// Source 10 signalled again while claimed: offered after completion.
	p.SetLevel(10, false)
	p.SetLevel(10, true)
	if out[ctxS] {
		t.Errorf("claimed source offered before its completion")
	}
	p.Write(claimReg(ctxS), 4, 10)
	if got := p.Read(claimReg(ctxS), 4); got != 10 {
		t.Errorf("claim = %d, want 10", got)
	}
	p.Write(claimReg(ctxS), 4, 10)
	p.SetLevel(10, false)
	p.SetLevel(33, false)
	if got := p.Read(PendingBase, 8); got != 0 || out[ctxS] {
		t.Errorf("pending = %#x, out = %v; want all clear", got, *out)
	}
}

// TestStuckLevel is xv6's UART: the THR-empty condition stays asserted
// because the driver never reads IIR. The stuck level interrupts once; the
// next signal from the device (a received byte, a THR write: on QEMU every
// serial_update_irq) interrupts again.
func TestStuckLevel(t *testing.T) {
	p, out := setup()
	p.Write(4*10, 4, 1)
	enable(p, ctxS, 10)
	p.SetLevel(10, true) // THRE
	for i := range 3 {
		if !out[ctxS] {
			t.Fatalf("round %d: no interrupt after the device signalled", i)
		}
		if got := p.Read(claimReg(ctxS), 4); got != 10 {
			t.Fatalf("round %d: claim = %d, want 10", i, got)
		}
		p.Write(claimReg(ctxS), 4, 10) // the line stays high
		if out[ctxS] {
			t.Fatalf("round %d: the stuck level fired again without a new signal", i)
		}
		if got := p.Read(claimReg(ctxS), 4); got != 0 {
			t.Fatalf("round %d: claim with nothing new = %d", i, got)
		}
		p.SetLevel(10, true) // a new signal, line still high
	}
}

// TestLatch: a forwarded request stays pending after its line drops, until
// claimed (the scenario of tests/isa/plic_latch.S).
func TestLatch(t *testing.T) {
	p, out := setup()
	p.Write(4*10, 4, 1)
	enable(p, ctxM, 10)
	p.Write(ContextBase, 4, 1) // threshold masks priority 1
	p.SetLevel(10, true)
	p.SetLevel(10, false)
	if out[ctxM] {
		t.Errorf("output high while masked by threshold")
	}
	p.Write(ContextBase, 4, 0)
	if !out[ctxM] || p.Read(PendingBase, 4) != 1<<10 {
		t.Errorf("request lost when the line dropped: out=%v pending=%#x", out[ctxM], p.Read(PendingBase, 4))
	}
	if got := p.Read(claimReg(ctxM), 4); got != 10 {
		t.Errorf("claim = %d, want 10", got)
	}
	p.Write(claimReg(ctxM), 4, 10)
	if out[ctxM] || p.Read(PendingBase, 4) != 0 {
		t.Errorf("source pends again after completion with its line low")
	}
}

func TestThresholdAndTies(t *testing.T) {
	p, out := setup()
	for _, s := range []int{3, 7, 40} {
		p.Write(uint64(4*s), 4, 2)
		enable(p, ctxM, s)
		p.SetLevel(s, true)
	}
	p.Write(ContextBase, 4, 2) // threshold 2: priority 2 is masked
	if out[ctxM] {
		t.Errorf("output high with all priorities <= threshold")
	}
	p.Write(ContextBase, 4, 1)
	if !out[ctxM] {
		t.Errorf("output low with priority above threshold")
	}
	var got []uint64
	for i := 0; i < 4; i++ {
		got = append(got, p.Read(claimReg(ctxM), 4))
	}
	if diff := cmp.Diff([]uint64{3, 7, 40, 0}, got); diff != "" {
		t.Errorf("claim order (-want +got):\n%s", diff)
	}
}

func TestWARLAndIgnored(t *testing.T) {
	p, out := setup()
	p.Write(4*5, 4, 0xffffffff)
	if got := p.Read(4*5, 4); got != MaxPriority {
		t.Errorf("priority = %d, want clamped %d", got, MaxPriority)
	}
	p.Write(0, 4, 3) // source 0 has no priority
	if got := p.Read(0, 4); got != 0 {
		t.Errorf("priority(0) = %d, want 0", got)
	}
	p.Write(EnableBase, 4, 0xffffffff)
	if got := p.Read(EnableBase, 4); got != 0xfffffffe {
		t.Errorf("enable word 0 = %#x, want bit 0 clear", got)
	}
	p.Write(PendingBase, 4, 0xffffffff) // read-only
	if got := p.Read(PendingBase, 4); got != 0 {
		t.Errorf("pending writable: %#x", got)
	}
	p.SetLevel(0, true)
	p.SetLevel(NumSources, true)
	p.SetLevel(-1, true)
	// Complete of a source not enabled for the context is ignored.
	p.SetLevel(5, true)
	if got := p.Read(claimReg(ctxM), 4); got != 5 {
		t.Fatalf("claim = %d, want 5", got)
	}
	p.Write(claimReg(ctxS), 4, 5) // S context: 5 not enabled there
	if got := p.Read(PendingBase, 4); got != 0 {
		t.Errorf("complete from wrong context re-pended: %#x", got)
	}
	// Contexts that do not exist read as 0.
	if got := p.Read(claimReg(7), 4); got != 0 {
		t.Errorf("claim on missing context = %d", got)
	}
	_ = out
}

func TestReset(t *testing.T) {
	p, out := setup()
	p.Write(4*9, 4, 1)
	enable(p, ctxM, 9)
	p.SetLevel(9, true)
	p.Reset()
	if out[ctxM] {
		t.Errorf("output high after reset")
	}
	// QEMU's sifive_plic_reset clears pending bits; the device signals
	// again if it must.
	if got := p.Read(PendingBase, 4); got != 0 {
		t.Errorf("pending after reset = %#x, want 0", got)
	}
	p.SetLevel(9, true)
	if got := p.Read(PendingBase, 4); got != 1<<9 || out[ctxM] {
		t.Errorf("signal after reset: pending = %#x, output %v; want %#x, false (enables reset)", got, out[ctxM], 1<<9)
	}
}

// FuzzMMIO drives random register traffic and line changes: no panic, and
// the outputs always match a recomputation from the register state.
func FuzzMMIO(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, out := setup()
		for len(data) >= 7 {
			op, a, v := data[0], uint64(data[1])<<16|uint64(data[2])<<8|uint64(data[3]), uint64(data[4])<<8|uint64(data[5])
			data = data[7:]
			sizes := []int{1, 2, 4, 8}
			size := sizes[op>>6]
			off := a % (Size + 16)
			switch op % 3 {
			case 0:
				p.Read(off, size)
			case 1:
				p.Write(off, size, v)
			case 2:
				p.SetLevel(int(v%(NumSources+4))-2, op&8 != 0)
			}
			for i, c := range p.ctx {
				if want := p.best(c) != 0; out[i] != want {
					t.Fatalf("context %d output %v, want %v", i, out[i], want)
				}
			}
		}
	})
}
