package cpu

import "testing"

// intLoop is an integer loop: a CRC-like mix of shifts, xors, adds and a
// counted branch (8 instructions per iteration).
func intLoop() []uint32 {
	return []uint32{
		addi(10, 0, 0),     // a0 = acc
		lui(11, 0x10000),   // a1 = counter (large)
		addi(12, 0, 0x123), // a2
		// loop:
		slli(13, 10, 5),   // t = acc << 5
		xor(10, 10, 13),   // acc ^= t
		srli(13, 10, 7),   // t = acc >> 7
		add(10, 10, 13),   // acc += t
		xor(10, 10, 12),   // acc ^= a2
		addi(12, 12, 3),   // a2 += 3
		addi(11, 11, -1),  // counter--
		bne(11, 0, -7*4),  // loop
		jal(0, 0),
	}
}

func benchLoop(b *testing.B, h *Hart) {
	b.ResetTimer()
	var n uint64
	for n < uint64(b.N) {
		k := uint64(b.N) - n
		if k > 1<<20 {
			k = 1 << 20
		}
		n += h.Run(k)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "MIPS")
}

// BenchmarkIntLoop: integer loop, paging off (M mode).
func BenchmarkIntLoop(b *testing.B) {
	h := testHart(b)
	h.loadWords(ramBase, intLoop()...)
	benchLoop(b, h)
}

// memLoop sums and rewrites an array of 512 doublewords (loads, stores,
// pointer increments) forever.
func memLoop() []uint32 {
	return []uint32{
		// s0 = base of array (pc-relative: 0x8000 above code)
		auipc(8, 0x8000),
		addi(9, 0, 512), // count
		addi(10, 8, 0),  // p
		addi(11, 0, 0),  // sum
		// loop: (at index 4)
		ld(12, 10, 0),
		add(11, 11, 12),
		addi(12, 12, 1),
		sd(12, 10, 0),
		addi(10, 10, 8),
		addi(9, 9, -1),
		bne(9, 0, -6*4),
		jal(0, -10*4), // restart: back to addi x9
	}
}

// BenchmarkMemLoop: loads and stores with paging off.
func BenchmarkMemLoop(b *testing.B) {
	h := testHart(b)
	h.loadWords(ramBase, memLoop()...)
	benchLoop(b, h)
}
