package ivshmem

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gemu/devices/ivshmem/server"
)

// socketReader returns a msgReader on one end of a stream socketpair and
// the raw other end.
func socketReader(t *testing.T) (*msgReader, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skip(err)
	}
	file := os.NewFile(uintptr(fds[0]), "reader")
	conn, err := net.FileConn(file)
	file.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); unix.Close(fds[1]) })
	return &msgReader{conn: conn.(*net.UnixConn)}, fds[1]
}

// An expired read deadline must not corrupt the reader: ReadMsgUnix
// returns n = -1 with the timeout, which was once added to the fill
// count, so that the next read sliced buf[-1:] and panicked (issue 10,
// defect 1).
func TestMsgReaderDeadline(t *testing.T) {
	r, w := socketReader(t)
	msg := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	// Nothing sent: time out, then read a message whole.
	_ = r.conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := r.read(); !isTimeout(err) {
		t.Fatalf("read with nothing sent: %v, want a timeout", err)
	}
	unix.Write(w, msg(7))
	_ = r.conn.SetReadDeadline(time.Time{})
	if m, err := r.read(); err != nil || m.Val != 7 {
		t.Fatalf("after a timeout: %+v, %v; want 7", m, err)
	}
	// Half a message, a timeout, then the rest: one message.
	b := msg(0x0102030405060708)
	unix.Write(w, b[:3])
	_ = r.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := r.read(); !isTimeout(err) {
		t.Fatalf("read of a partial message: %v, want a timeout", err)
	}
	unix.Write(w, b[3:])
	_ = r.conn.SetReadDeadline(time.Time{})
	if m, err := r.read(); err != nil || m.Val != 0x0102030405060708 {
		t.Fatalf("message split by a timeout: %#x, %v", m.Val, err)
	}
}

func isTimeout(err error) bool { return err != nil && os.IsTimeout(err) }

// logSink collects a client's log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) log(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }
func (l *logSink) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// A server with fewer vectors than the device (ivshmem-server -n 1,
// ivshmem-doorbell,vectors=2): Dial settles on a read deadline; the socket
// goroutine must go on reading afterwards (it panicked 200 ms after start).
func TestClientServerFewerVectors(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ivshmem_socket")
	srv, err := server.New(sock, 1<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var logs logSink
	a, err := Dial(sock, 2, logs.log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Start(nil)
	b, err := Dial(sock, 2, logs.log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Start(nil)
	waitFor(t, "peers to meet", func() bool { return a.Peers()[1] == 1 && b.Peers()[0] == 1 })
	if err := b.Ring(0, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a's vector 0", func() bool { return a.TakePending() == 1 })
	if a.Errors() != 0 || b.Errors() != 0 {
		t.Errorf("protocol errors %d, %d: %q", a.Errors(), b.Errors(), logs.all())
	}
}

// Servers that misbehave after a correct handshake: gemu logs, keeps the
// device and never panics.
func TestHostileServerAfterHandshake(t *testing.T) {
	hello := [][2]int64{{0, 0}, {3, 0}, {-1, 1}}
	regular := func(c *net.UnixConn) {
		f, err := os.CreateTemp(t.TempDir(), "vector")
		if err != nil {
			return
		}
		defer f.Close()
		server.Send(c, 3, int(f.Fd()))             // a regular file as own vector
		server.Send(c, 5, int(f.Fd()))             // ... and as a peer's
		time.Sleep(2 * SettleTimeout)              // past the settle deadline
		server.Send(c, 3, int(f.Fd()))             // and once the device runs
		c.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}) // garbage, a split message
	}
	garbage := func(c *net.UnixConn) {
		c.Write([]byte{0xde, 0xad})
		time.Sleep(2 * SettleTimeout)
		c.Write([]byte{0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7})
		time.Sleep(SettleTimeout)
		c.Write([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	}
	for _, tc := range []struct {
		name  string
		extra func(c *net.UnixConn)
	}{
		{"closes after handshake", nil},
		{"pauses then closes", func(c *net.UnixConn) { time.Sleep(2 * SettleTimeout); c.Close() }},
		{"garbage", garbage},
		{"regular file as vector", regular},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logSink
			c, err := Dial(hostile(t, hello, tc.extra), 2, logs.log)
			if err != nil {
				t.Fatal(err)
			}
			c.Start(nil)
			time.Sleep(5 * SettleTimeout)
			if len(c.Peers()) != 0 {
				t.Errorf("peers %v", c.Peers())
			}
			c.Close()
			t.Logf("log: %q", logs.all())
		})
	}
}

// A server that never stops talking after the handshake must not hold
// Dial (and so gemu's start-up) for ever, nor fill stderr: Dial returns
// within HandshakeTimeout, the log is rate-limited, and after
// maxBadMessages unusable messages the client hangs up.
func TestDialJunkStorm(t *testing.T) {
	hello := [][2]int64{{0, 0}, {3, 0}, {-1, 1}}
	junk := func(c *net.UnixConn) {
		for i := 0; ; i++ {
			// an unknown peer leaving: a well-formed but bad message
			if server.Send(c, int64(100+i%1000), -1) != nil {
				return
			}
		}
	}
	churn := func(c *net.UnixConn) {
		// valid messages for ever: peer 5 joins and leaves
		for {
			fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
			if err != nil {
				return
			}
			err = server.Send(c, 5, fd)
			unix.Close(fd)
			if err != nil || server.Send(c, 5, -1) != nil {
				return
			}
		}
	}
	for _, tc := range []struct {
		name  string
		extra func(c *net.UnixConn)
	}{{"junk", junk}, {"churn", churn}} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logSink
			start := time.Now()
			c, err := Dial(hostile(t, hello, tc.extra), 1, logs.log)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if took > HandshakeTimeout+time.Second {
				t.Errorf("Dial took %v", took)
			}
			c.Start(nil)
			time.Sleep(3 * SettleTimeout)
			c.Close()
			if n := len(logs.all()); n > 2*maxLogBurst+5 {
				t.Errorf("%d log lines, want a rate-limited few: %q...", n, logs.all()[:5])
			}
			if c.Errors() > maxBadMessages {
				t.Errorf("%d bad messages read; the client should stop at %d", c.Errors(), maxBadMessages)
			}
			t.Logf("Dial took %v; log %q", took, strings.Join(logs.all(), " | "))
		})
	}
}

// Shrinking the file behind a mapping makes the next access to a page past
// its new end fault (SIGBUS). That killed gemu with "fatal error: fault" in
// the memory accessors (issue 10, defect 4); now the memory is marked
// broken, reported once, and reads 0 while everything else goes on.
func TestMemoryShrinks(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (*Memory, func())
	}{
		{"memory-backend-file", func(t *testing.T) (*Memory, func()) {
			path := filepath.Join(t.TempDir(), "shm")
			m, err := OpenFile(path, 64<<10, true)
			if err != nil {
				t.Fatal(err)
			}
			return m, func() { os.Truncate(path, 0) }
		}},
		{"server memfd", func(t *testing.T) (*Memory, func()) {
			fd, err := unix.MemfdCreate("t", unix.MFD_CLOEXEC)
			if err != nil {
				t.Skip(err)
			}
			t.Cleanup(func() { unix.Close(fd) })
			unix.Ftruncate(fd, 64<<10)
			m, err := MapFD(fd, 64<<10)
			if err != nil {
				t.Fatal(err)
			}
			return m, func() { unix.Ftruncate(fd, 4096) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, shrink := tc.open(t)
			defer m.Close()
			var faults []error
			m.OnFault = func(err error) { faults = append(faults, err) }
			m.Write(0x2000, 4, 0x11223344)
			if m.Read(0x2000, 4) != 0x11223344 || m.Broken() {
				t.Fatal("memory does not work before the shrink")
			}
			shrink()
			if got := m.Read(0x2000, 4); got != 0 {
				t.Errorf("read past the new end = %#x, want 0", got)
			}
			m.Write(0x3000, 8, 1)
			m.Read(0x10, 2) // below the new end (memfd case): broken anyway
			if !m.Broken() || len(faults) != 1 {
				t.Errorf("Broken %v, %d reports (%v); want true, 1", m.Broken(), len(faults), faults)
			}
			if m.Guard(func() { _ = m.Bytes()[0x5000] }) {
				t.Error("Guard ran on broken memory")
			}
		})
	}
}

// The audio player reads the ring straight from the mapping: a shrink
// while it plays stops it instead of crashing gemu.
func TestPlayerMemoryShrinks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shm")
	mem, err := OpenFile(path, 64<<10, true)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	faults := 0
	mem.OnFault = func(error) { faults++ }
	r := newPlayerRig(t, 1<<20)
	r.mem = mem
	r.p = NewPlayer(mem, r.clk, r.be)
	r.p.IdleTick = 10e6
	initRing(mem, ringSpec{48000, 2, RingFormatS16LE, 4, HeaderSize, 16384}, 1)
	r.produce(8000)
	r.advance(50e6)
	if st, _ := r.status(); st != RingPlaying {
		t.Fatalf("status %d before the shrink, want playing", st)
	}
	os.Truncate(path, 0)
	r.advance(200e6)
	if !mem.Broken() || faults != 1 {
		t.Errorf("Broken %v after %d reports", mem.Broken(), faults)
	}
	if r.p.attached() {
		t.Error("still playing broken memory")
	}
}
