package cpu

import (
	"testing"

	"gemu/bus"
	"gemu/clock"
)

func TestStoreByOtherHartInvalidatesCode(t *testing.T) {
	// h0 runs (and so decodes) an instruction, h1 overwrites it, h0 runs
	// the new one.
	_, h0, h1 := twoHarts(t)
	h0.loadWords(ramBase, addi(2, 0, 1), jal(0, -4))
	h1.loadWords(ramBase+0x100, sw(5, 1, 0), jal(0, 0))
	h1.SetX(1, ramBase)
	h1.SetX(5, uint64(addi(2, 0, 7)))
	h0.Run(2)
	if h0.X(2) != 1 {
		t.Fatalf("x2 = %d before the patch", h0.X(2))
	}
	h1.Run(1)
	h0.Run(1)
	if h0.X(2) != 7 {
		t.Fatalf("x2 = %d after another hart patched the code, want 7", h0.X(2))
	}
}

func TestDMAInvalidatesCode(t *testing.T) {
	b, h0, h1 := twoHarts(t)
	h0.loadWords(ramBase, addi(2, 0, 1), jal(0, -4))
	h1.loadWords(ramBase+0x100, addi(2, 0, 1), jal(0, -4))
	h0.Run(2)
	h1.Run(2)
	b.Write32(ramBase, addi(2, 0, 7))
	b.Write32(ramBase+0x100, addi(2, 0, 8))
	h0.Run(1)
	h1.Run(1)
	if h0.X(2) != 7 || h1.X(2) != 8 {
		t.Fatalf("x2 = %d, %d after DMA patched the code, want 7, 8", h0.X(2), h1.X(2))
	}
}

func TestCodePageFlagFollowsDecodedSlots(t *testing.T) {
	h := testHart(t)
	h.loadWords(ramBase+0x3000, addi(2, 0, 1), jal(0, 0))
	h.SetPC(ramBase + 0x3000)
	h.Run(2)
	const p = 3
	if !h.cl.code.isCode[p] {
		t.Fatal("page not marked as code after running it")
	}
	h.loadWords(ramBase+0x3000, 0, 0) // overwrites both decoded slots
	if h.cl.code.isCode[p] || h.cl.code.pages[p].valid != 0 {
		t.Fatalf("page still code after its only instructions were overwritten (valid %d)", h.cl.code.pages[p].valid)
	}
}

func TestNewTwiceOnOneBusPanics(t *testing.T) {
	b := bus.New(ramBase, 1<<16)
	clk := clock.NewDeterministic(0, nil)
	New(b, clk, 0)
	defer func() {
		if recover() == nil {
			t.Error("a second New on the same bus did not panic")
		}
	}()
	New(b, clk, 1)
}
