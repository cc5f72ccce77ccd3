package cpu

//go:generate make -s -C ../guests

import (
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time consumed by the calling OS thread. The
// machine is shared, so besides wall-clock MIPS the benchmarks report MIPS
// per CPU-second of the emulating thread ("cpuMIPS"), which other load does
// not distort.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// intLoop is an integer loop: a CRC-like mix of shifts, xors, adds and a
// counted branch (8 instructions per iteration).
func intLoop() []uint32 {
	return []uint32{
		addi(10, 0, 0),     // a0 = acc
		lui(11, 0x10000),   // a1 = counter (large)
		addi(12, 0, 0x123), // a2
		// loop:
		slli(13, 10, 5),  // t = acc << 5
		xor(10, 10, 13),  // acc ^= t
		srli(13, 10, 7),  // t = acc >> 7
		add(10, 10, 13),  // acc += t
		xor(10, 10, 12),  // acc ^= a2
		addi(12, 12, 3),  // a2 += 3
		addi(11, 11, -1), // counter--
		bne(11, 0, -7*4), // loop
		jal(0, 0),
	}
}

func benchLoop(b *testing.B, h *Hart) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0 := threadCPU()
	var n uint64
	for n < uint64(b.N) {
		k := uint64(b.N) - n
		if k > 1<<20 {
			k = 1 << 20
		}
		n += h.Run(k)
	}
	b.StopTimer()
	cpu := threadCPU() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "MIPS")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds()/1e6, "cpuMIPS")
	}
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

// sv39Hart runs prog in S mode under Sv39: virtual 0x10000-0x1ffff maps to
// the first 64 KiB of RAM with 4 KiB pages.
func sv39Hart(b *testing.B, prog []uint32) *Hart {
	h := testHart(b)
	p := newPageTables(h, 3)
	for off := uint64(0); off < 0x10000; off += 4096 {
		p.mapPage(0x10000+off, ramBase+off, pteR|pteW|pteX|pteA|pteD, 0)
	}
	p.enable(h)
	h.loadWords(ramBase, prog...)
	h.priv, h.pc = PrivS, 0x10000
	return h
}

// BenchmarkIntLoopSv39: the integer loop in S mode with Sv39 on.
func BenchmarkIntLoopSv39(b *testing.B) { benchLoop(b, sv39Hart(b, intLoop())) }

// BenchmarkMemLoopSv39: loads and stores through the TLB with Sv39 on.
func BenchmarkMemLoopSv39(b *testing.B) { benchLoop(b, sv39Hart(b, memLoop())) }

// The C benchmark guest (guests/cpubench/bench.c, built by guests/Makefile
// into testdata/bench.bin; tests/guests checks the committed image): entry
// 0 runs CRC-32, entry 4 runs an insertion sort, both forever.
const (
	benchCRC  = 0
	benchSort = 4
)

func benchImage(b *testing.B) []byte {
	img, err := os.ReadFile("testdata/bench.bin")
	if err != nil {
		b.Fatal(err)
	}
	return img
}

func benchGuest(b *testing.B, entry uint64, sv39 bool) {
	img := benchImage(b)
	words := make([]uint32, (len(img)+3)/4)
	for i := range img {
		words[i/4] |= uint32(img[i]) << (8 * (i % 4))
	}
	var h *Hart
	if sv39 {
		h = sv39Hart(b, words)
		h.pc = 0x10000 + entry
	} else {
		h = testHart(b)
		h.loadWords(ramBase, words...)
		h.pc = ramBase + entry
	}
	benchLoop(b, h)
	if h.csr.mcause != 0 || h.priv == PrivM && sv39 {
		b.Fatalf("guest trapped: mcause %d mtval %#x", h.csr.mcause, h.csr.mtval)
	}
}

// BenchmarkCRC32: gcc -O2 RV64GC code, bitwise CRC-32, paging off.
func BenchmarkCRC32(b *testing.B) { benchGuest(b, benchCRC, false) }

// BenchmarkSort: gcc -O2 RV64GC code, insertion sort, paging off.
func BenchmarkSort(b *testing.B) { benchGuest(b, benchSort, false) }

// BenchmarkCRC32Sv39 and BenchmarkSortSv39: the same in S mode under Sv39.
func BenchmarkCRC32Sv39(b *testing.B) { benchGuest(b, benchCRC, true) }
func BenchmarkSortSv39(b *testing.B)  { benchGuest(b, benchSort, true) }

// BenchmarkSyscall: a U-mode loop touching 8 data pages and doing ECALL to an
// S-mode handler that returns with SRET (Sv39 on): the cost of privilege
// switches and the TLB refills they cause.
func BenchmarkSyscall(b *testing.B) {
	h := testHart(b)
	p := newPageTables(h, 3)
	for off := uint64(0); off < 0x10000; off += 4096 {
		p.mapPage(0x10000+off, ramBase+off, pteR|pteW|pteX|pteA|pteD|pteU, 0)
		p.mapPage(0x100000+off, ramBase+off, pteR|pteW|pteX|pteA|pteD, 0)
	}
	p.enable(h)
	prog := []uint32{
		lui(1, 0x18000),
		ld(2, 1, 0), ld(2, 1, 0x1000-8), ld(2, 1, 0x2000-8), ld(2, 1, 0x3000-8),
		sd(2, 1, 0x400), sd(2, 1, 0x1400), sd(2, 1, 0x2400), sd(2, 1, 0x3400),
		ecall,
		jal(0, -9*4),
	}
	h.loadWords(ramBase, prog...)
	// S handler at virtual 0x100000+0x800: sepc += 4; sret
	h.loadWords(ramBase+0x800, csrrs(5, csrSepc, 0), addi(5, 5, 4), csrrw(0, csrSepc, 5), sretW)
	h.csr.stvec = 0x100800
	h.csr.medeleg = 1 << excEcallU
	h.priv, h.pc = PrivU, 0x10000
	benchLoop(b, h)
	if h.csr.mcause != 0 {
		b.Fatalf("mcause %d", h.csr.mcause)
	}
}
