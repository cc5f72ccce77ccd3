package uart

import (
	"sync/atomic"
	"time"
)

// Input carries bytes from one host goroutine (the console reader) to the
// emulation goroutine without locks: a single-producer single-consumer ring
// whose indices are atomics. The producer never drops bytes; when the ring
// is full (the guest is not reading) it waits, which is the back-pressure a
// real serial line gets from flow control.
type Input struct {
	buf  [4096]byte
	head atomic.Uint64 // next slot to read; written by the consumer only
	tail atomic.Uint64 // next slot to write; written by the producer only

	// C receives a token (non-blocking, capacity 1) whenever bytes are
	// pushed, so an idle machine can sleep until input arrives.
	C chan struct{}
}

// NewInput returns an empty queue.
func NewInput() *Input { return &Input{C: make(chan struct{}, 1)} }

// Push appends p, waiting while the ring is full. Producer side only.
func (q *Input) Push(p []byte) {
	for len(p) > 0 {
		t := q.tail.Load()
		free := uint64(len(q.buf)) - (t - q.head.Load())
		if free == 0 {
			q.notify()
			time.Sleep(time.Millisecond)
			continue
		}
		n := min(uint64(len(p)), free)
		for i := uint64(0); i < n; i++ {
			q.buf[(t+i)%uint64(len(q.buf))] = p[i]
		}
		q.tail.Store(t + n)
		p = p[n:]
	}
	q.notify()
}

// TryPush appends as much of p as fits without waiting and returns how
// many bytes it took. Producer side only. An interactive console uses it
// so that a guest that stops reading cannot block the Ctrl-A escapes
// typed after the overflow.
func (q *Input) TryPush(p []byte) int {
	t := q.tail.Load()
	free := uint64(len(q.buf)) - (t - q.head.Load())
	n := min(uint64(len(p)), free)
	for i := uint64(0); i < n; i++ {
		q.buf[(t+i)%uint64(len(q.buf))] = p[i]
	}
	q.tail.Store(t + n)
	if n > 0 {
		q.notify()
	}
	return int(n)
}

func (q *Input) notify() {
	select {
	case q.C <- struct{}{}:
	default:
	}
}

// Len is the number of bytes waiting. Either side may call it.
func (q *Input) Len() int { return int(q.tail.Load() - q.head.Load()) }

// pop removes one byte. Consumer side only.
func (q *Input) pop() (byte, bool) {
	h := q.head.Load()
	if h == q.tail.Load() {
		return 0, false
	}
	b := q.buf[h%uint64(len(q.buf))]
	q.head.Store(h + 1)
	return b, true
}
