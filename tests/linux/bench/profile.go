package main

import (
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"gemu/machine"
	"gemu/tests/linux/guest"
)

// stampWriter prints console lines with the wall time since start.
type stampWriter struct {
	mu      sync.Mutex
	start   time.Time
	line    []byte
	instret func() uint64
}

func (w *stampWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range p {
		if b == '\n' {
			s := strings.TrimRight(string(w.line), "\r")
			if strings.Contains(s, "@@gemu") || strings.Contains(s, "Linux version") || strings.Contains(s, "Run /init") {
				var n uint64
				if w.instret != nil {
					n = w.instret() // UART output runs on the emulation goroutine
				}
				fmt.Fprintf(os.Stderr, "%8.3fs %6dM insns | %s\n", time.Since(w.start).Seconds(), n/1e6, s)
			}
			w.line = w.line[:0]
			continue
		}
		w.line = append(w.line, b)
	}
	return len(p), nil
}

// profile boots the "boot" scenario (modules loaded, aplay -l, power off)
// in this process under the CPU profiler.
func profile(g *guest.Guest, out string, shift string) error {
	var sh uint
	if _, err := fmt.Sscan(shift, &sh); err != nil {
		return err
	}
	argv := g.Argv("gemu", "boot", "")
	sw := &stampWriter{start: time.Now()}
	cfg := machine.Config{RAMSize: 512 << 20, BIOS: guest.Firmware, Kernel: g.Image, Initrd: g.Initrd,
		Append: appendOf(argv), Deterministic: true, Shift: sh,
		Console: sw}
	m, err := machine.New(cfg)
	if err != nil {
		return err
	}
	sw.instret = m.Hart.Instret
	m.CloseInput()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	start := time.Now()
	ex, err := m.Run()
	pprof.StopCPUProfile()
	wall := time.Since(start)
	n := m.Hart.Instret()
	log.Printf("gemu exit %+v err %v after %v: %d instructions retired, %.0f MIPS wall (guest time %.2f s)",
		ex, err, wall.Round(time.Millisecond), n, float64(n)/wall.Seconds()/1e6, float64(m.Clock.Now())/1e9)
	log.Printf("profile in %s (go tool pprof -top %s)", out, out)
	return nil
}

func appendOf(argv []string) string {
	for i, a := range argv {
		if a == "-append" && i+1 < len(argv) {
			return argv[i+1]
		}
	}
	return ""
}
