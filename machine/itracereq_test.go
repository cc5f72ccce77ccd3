package machine

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingLog is a -D log that the test can watch while the machine runs.
type countingLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *countingLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *countingLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestRequestITraceDump asks for ring-buffer dumps from another goroutine
// (the console's Ctrl-A t) while a guest spins: each is printed whole, by
// the emulation goroutine. Under -race (tests/ci.sh), a dump made on the
// calling goroutine reads the hart's state and the ring while the hart
// runs, and fails.
func TestRequestITraceDump(t *testing.T) {
	log := &countingLog{}
	cfg := bare((&prog{}).loop().bytes(), nil)
	cfg.ITrace, cfg.TraceOut = 4, log
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.CloseInput()
	watchdog := time.AfterFunc(60*time.Second, m.Stop)
	defer watchdog.Stop()
	const presses = 3
	fail := make(chan string, 1)
	go func() {
		defer m.Stop()
		for i := 1; i <= presses; i++ {
			if !m.RequestITraceDump("Ctrl-A t") {
				fail <- "RequestITraceDump = false with -itrace 4"
				return
			}
			deadline := time.Now().Add(20 * time.Second)
			for strings.Count(log.String(), "itrace: Ctrl-A t\n") < i {
				if time.Now().After(deadline) {
					fail <- "no dump after 20 s"
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		fail <- ""
	}()
	if _, err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if msg := <-fail; msg != "" {
		t.Fatalf("%s; log:\n%s", msg, log.String())
	}
	got := log.String()
	whole := strings.Count(got, "itrace: Ctrl-A t\nitrace: hart 0, last 4 instructions:\n")
	if whole != presses || strings.Count(got, "\npc: [M] 0x") != presses {
		t.Errorf("%d whole dumps, want %d:\n%s", whole, presses, got)
	}

	// Without a ring buffer there is nothing to ask for.
	m, err = New(bare((&prog{}).loop().bytes(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if m.RequestITraceDump("Ctrl-A t") {
		t.Error("RequestITraceDump = true without -itrace")
	}
}
