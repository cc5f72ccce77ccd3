package machine

import (
	"testing"
)

// BenchmarkRunLoop measures the whole run loop (batches, timer checks,
// device polling) around the hart on a counting loop, in both clock modes.
// It reports guest MIPS; compare with cpu's own benchmarks to see the
// loop's overhead.
func BenchmarkRunLoop(b *testing.B) {
	const iters = 20_000_000 // 2 instructions each
	p := (&prog{}).li(t3, iters)
	p.addi(t3, t3, -1).bne(t3, zero, -4)
	code := p.finish(0x5555).bytes()
	for _, det := range []bool{false, true} {
		name := "realtime"
		if det {
			name = "icount"
		}
		b.Run(name, func(b *testing.B) {
			var instr uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer() // building the board clears 128 MiB of RAM
				cfg := bare(code, nil)
				cfg.Deterministic = det
				m, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				m.CloseInput()
				b.StartTimer()
				if ex, err := m.Run(); err != nil || ex.Code != 0 {
					b.Fatalf("exit %+v, %v", ex, err)
				}
				instr += m.Hart.Instret()
			}
			b.ReportMetric(float64(instr)/b.Elapsed().Seconds()/1e6, "MIPS")
		})
	}
}
