// Package gdbstub is a GDB remote stub for RISC-V RV64 harts: the Remote
// Serial Protocol of the GDB manual, appendix E, over TCP, in all-stop mode
// with one thread per hart (see Threads). It knows the RISC-V register set (x, pc, f, the
// CSRs its user lists, and GDB's virtual "priv") and nothing of any
// particular emulator: the hart and its memory are behind Target.
//
// Threads (the rule of package machine: one emulation goroutine owns the
// hart and devices, host goroutines only hand it work): a reader goroutine per
// connection splits the byte stream into packets, acknowledges them and
// queues them on a channel; a Ctrl-C (or a new connection) only sets an
// atomic flag and calls the notify function. The emulation goroutine polls
// Interrupted at batch boundaries and, whenever the machine stops, calls
// Serve, which reports the stop to gdb and executes gdb's commands on that
// goroutine (so the Target needs no locks) until gdb resumes the target.
//
// Supported: qSupported (PacketSize, qXfer:features:read, swbreak,
// hwbreak, QStartNoAckMode, multiprocess with QEMU's p01.0N thread ids), ?, g/G, p/P, m/M/X, c/s/C/S, vCont (c, C, s,
// S), Z0/Z1 and whatever watchpoints the Target implements (Z2-Z4), Ctrl-C,
// k/vKill, D, qAttached, qC, qfThreadInfo/qsThreadInfo, qThreadExtraInfo,
// H, T and the
// target description with the org.gnu.gdb.riscv.cpu, .fpu, .csr and
// .virtual features. Everything received is untrusted: malformed packets
// get an error reply, never a panic.
package gdbstub

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Stub is a GDB server. Create it with Listen (TCP) or New plus Attach
// (any net.Conn, for tests).
type Stub struct {
	desc      *description
	notify    func()
	events    chan event
	interrupt atomic.Bool // Ctrl-C or a new connection: stop at the next boundary
	ctrlC     atomic.Bool // the interrupt is gdb's Ctrl-C
	attached  atomic.Bool // a connection is open
	ln        net.Listener
	closed    atomic.Bool
	wg        sync.WaitGroup

	// Owned by the goroutine that calls Serve.
	cur      *conn
	waiting  bool // gdb sent a resume and waits for a stop reply
	last     Stop
	swbreak  bool // gdb understands swbreak/hwbreak stop reasons
	hwbreak  bool
	inserted map[bpKey]bool
	multi    bool // gdb understands multiprocess+ thread ids (pPID.TID)
	gThread  int  // Hg: registers and memory (1..n)
	cThread  int  // Hc: s and c (0: any, the Hg one)
}

type bpKey struct {
	kind         BreakKind
	addr, length uint64
}

type eventKind uint8

const (
	evConnect eventKind = iota
	evPacket
	evClose
	evInterrupt
)

type event struct {
	kind eventKind
	c    *conn
	data []byte
}

// New returns a stub with no connection for a target with the given CSRs
// (besides the FP ones). notify is called from host goroutines when the
// emulation goroutine should look at Interrupted soon (it may be asleep
// waiting for a timer): the machine's Wake.
func New(notify func(), csrs []CSR) *Stub {
	if notify == nil {
		notify = func() {}
	}
	return &Stub{
		desc:     describe(csrs),
		notify:   notify,
		events:   make(chan event, 64),
		inserted: map[bpKey]bool{},
		last:     Stop{Kind: StopAttach},
		gThread:  1,
	}
}

// Listen opens a TCP listener on addr (host:port; port 0 picks a free one)
// and accepts one gdb connection at a time; a second one while the first is
// open is refused (closed at once).
func Listen(addr string, notify func(), csrs []CSR) (*Stub, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gdbstub: %w", err)
	}
	s := New(notify, csrs)
	s.ln = ln
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr returns the listening address (nil without Listen).
func (s *Stub) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

func (s *Stub) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !s.Attach(c) {
			c.Close()
		}
	}
}

// Attach serves gdb on c. It returns false, leaving c alone, if another
// connection is open or the stub is closed. The running target is asked to
// stop, as gdb expects a stopped target when it connects.
func (s *Stub) Attach(c net.Conn) bool {
	if s.closed.Load() || !s.attached.CompareAndSwap(false, true) {
		return false
	}
	cn := &conn{c: c}
	// The flag first: Serve clears it when it handles the event, so a
	// connection made while the target is stopped does not stop it again
	// right after gdb's first continue.
	s.interrupt.Store(true)
	s.events <- event{kind: evConnect, c: cn}
	s.notify()
	s.wg.Add(1)
	go s.readLoop(cn)
	return true
}

// readLoop runs on its own goroutine per connection: framing, acks, Ctrl-C.
func (s *Stub) readLoop(cn *conn) {
	defer s.wg.Done()
	defer func() {
		s.attached.Store(false)
		// Stop the target (if it runs) so that Serve sees the close soon,
		// removes gdb's breakpoints and lets the guest run on freely.
		s.interrupt.Store(true)
		s.events <- event{kind: evClose, c: cn}
		s.notify()
	}()
	var d Decoder
	buf := make([]byte, 4096)
	for {
		n, err := cn.c.Read(buf)
		d.Feed(buf[:n], func(f Frame) {
			switch f.Kind {
			case FramePacket:
				if !cn.noAck.Load() {
					cn.write([]byte{'+'})
				}
				if bytes.Equal(f.Data, []byte("QStartNoAckMode")) {
					// From here on gdb sends no acks and expects none
					// (E.11.4); the reply OK is sent by Serve.
					cn.noAck.Store(true)
				}
				s.events <- event{kind: evPacket, c: cn, data: f.Data}
			case FrameBad:
				if !cn.noAck.Load() {
					cn.write([]byte{'-'})
				}
			case FrameNack:
				cn.resend()
			case FrameInterrupt:
				s.ctrlC.Store(true)
				s.interrupt.Store(true)
				s.events <- event{kind: evInterrupt, c: cn}
				s.notify()
			}
		})
		if err != nil {
			cn.c.Close()
			return
		}
	}
}

// Interrupted reports whether gdb asked the running target to stop (Ctrl-C,
// a new connection, a closed one), or anything else waits for Serve. It is
// an atomic load and a channel length, cheap enough for every batch
// boundary; the machine then calls Serve with StopInterrupt.
func (s *Stub) Interrupted() bool { return s.interrupt.Load() || len(s.events) > 0 }

// Attached reports whether a gdb connection is open.
func (s *Stub) Attached() bool { return s.attached.Load() }

// Serve reports the stop why to gdb, if gdb waits for one, and executes
// gdb's commands against t until gdb resumes the target, kills it, or
// detaches. With no connection open it waits for one (the -S
// start-up). Whenever wake receives, quit is called, and Serve returns Quit
// if it reports true (the user quit the emulator while gdb held it).
// Breakpoints inserted by gdb stay inserted across Serve calls; on detach
// or disconnect they are all removed and the target continues, as QEMU
// does.
func (s *Stub) Serve(t Target, why Stop, wake <-chan struct{}, quit func() bool) Resume {
	s.interrupt.Store(false)
	if !s.ctrlC.Swap(false) && why.Kind == StopInterrupt {
		why.Kind = StopAttach // stopped for a new connection, not for Ctrl-C
	}
	if why.Thread < 1 || why.Thread > threads(t) {
		why.Thread = s.gThread
	}
	// gdb switches to the thread that stopped; so do registers here.
	s.selectThread(t, why.Thread)
	s.cThread = 0
	s.last = why
	if s.waiting && s.cur != nil {
		s.waiting = false
		s.cur.send(s.stopReply(why))
	}
	for {
		select {
		case ev := <-s.events:
			if r, done := s.handle(t, ev); done {
				return r
			}
		case <-wake:
			if quit != nil && quit() {
				return Resume{Action: Quit}
			}
		}
	}
}

// threads returns how many threads t has.
func threads(t Target) int {
	if mt, ok := t.(Threads); ok {
		return max(mt.Threads(), 1)
	}
	return 1
}

// selectThread makes id the thread of g, m and the like.
func (s *Stub) selectThread(t Target, id int) {
	s.gThread = id
	if mt, ok := t.(Threads); ok {
		mt.SelectThread(id)
	}
}

// handle processes one event; done is true when the target must resume.
func (s *Stub) handle(t Target, ev event) (Resume, bool) {
	switch ev.kind {
	case evConnect, evInterrupt, evClose:
		// The target is stopped already, which is what the interrupt
		// that came with the event asked for (the reader raises it
		// before queueing the event): do not let it stop the next resume.
		s.interrupt.Store(false)
		s.ctrlC.Store(false)
	}
	switch ev.kind {
	case evConnect:
		s.cur = ev.c
		s.waiting = false
		s.swbreak, s.hwbreak, s.multi = false, false, false
		return Resume{}, false
	case evClose:
		if ev.c != s.cur {
			return Resume{}, false
		}
		s.cur = nil
		s.waiting = false
		s.removeAll(t)
		return Resume{Action: Detach}, true
	case evInterrupt:
		return Resume{}, false
	}
	if ev.c != s.cur {
		return Resume{}, false // left over from a closed connection
	}
	reply, r, done := s.command(t, ev.data)
	if reply != nil {
		ev.c.send(reply)
	}
	if done {
		if r.Action == Continue || r.Action == Step {
			s.waiting = true
		}
	}
	return r, done
}

// Exit tells gdb, if it waits for a stop reply, that the guest ended with
// status code (W packet), so a `continue` in gdb returns "exited normally"
// or "exited with code N".
func (s *Stub) Exit(code int) {
	if s.cur != nil && s.waiting {
		s.waiting = false
		s.cur.send([]byte("W" + hexByte(uint8(code))))
	}
}

// Close closes the listener and the connection and waits for the stub's
// goroutines. Call it from the goroutine that calls Serve, after the last
// Serve (the machine's exit).
func (s *Stub) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	if s.cur != nil {
		s.cur.c.Close()
	}
	// Readers block on s.events when it is full: drain it while they end.
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	for {
		select {
		case ev := <-s.events:
			if ev.kind == evConnect {
				ev.c.c.Close()
			}
		case <-done:
			return err
		}
	}
}

func (s *Stub) removeAll(t Target) {
	for k := range s.inserted {
		_ = t.Breakpoint(k.kind, k.addr, k.length, false)
		delete(s.inserted, k)
	}
}

// conn is one gdb connection; write and resend may be called from the
// reader goroutine (acks) and the Serve goroutine (replies).
type conn struct {
	c     net.Conn
	noAck atomic.Bool
	mu    sync.Mutex
	last  []byte // the last packet sent, for a - from gdb
}

func (c *conn) write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, _ = c.c.Write(p) // a dead connection shows up as EOF in the reader
}

func (c *conn) send(payload []byte) {
	pkt := AppendPacket(nil, payload)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.noAck.Load() {
		c.last = pkt
	}
	_, _ = c.c.Write(pkt)
}

func (c *conn) resend() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && !c.noAck.Load() {
		_, _ = c.c.Write(c.last)
	}
}

var _ io.Closer = (*Stub)(nil)
