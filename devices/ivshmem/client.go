package ivshmem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Client is the doorbell variant's connection to an ivshmem-server
// (`-chardev socket,path=P,id=ID -device ivshmem-doorbell,chardev=ID`).
//
// Threads: Dial runs the handshake on the caller's goroutine. Start then
// hands the socket to one goroutine that applies later messages, plus one
// goroutine per own vector that waits on its eventfd. They talk to the
// emulation goroutine only through atomics: the peer table is an immutable
// snapshot swapped with atomic.Pointer (Ring reads it), and own-vector
// interrupts are bits in an atomic word (TakePending drains it), followed
// by the notify callback (machine.Wake) so an idle machine polls at once.
type Client struct {
	ID  int     // our peer ID (IVPosition)
	Mem *Memory // the server's shared memory

	conn    *net.UnixConn
	rd      msgReader
	proto   Proto
	early   []Event // own vectors received before Start
	peers   atomic.Pointer[peerTable]
	pending atomic.Uint32
	own     []*os.File
	notify  func()
	log     rateLog
	errs    atomic.Uint64
	ended   bool // the connection ended while Dial settled

	mu     sync.Mutex // guards own (appended by the socket goroutine) against Close
	closed bool
	wg     sync.WaitGroup
}

// peerTable maps a peer ID to its vectors' eventfds. A table is never
// modified once published.
type peerTable map[int][]*os.File

// MaxVectors is the most interrupt vectors a doorbell device takes (one
// IntrStatus bit each in gemu's INTx fallback).
const MaxVectors = 32

// HandshakeTimeout bounds Dial as a whole: messages 1-3 and the settling
// that follows (docs/limits.md). A server that trickles bytes or keeps
// talking cannot hold gemu's start-up longer.
const HandshakeTimeout = 5 * time.Second

// maxBadMessages is how many unusable messages a server may send in the
// life of a connection; at the next one the client hangs up (peers already
// known keep working, no new one can join), so a server sending junk costs
// bounded CPU and log output.
const maxBadMessages = 1000

// maxLogBurst is how many protocol problems are logged per second; the
// rest are counted and summed up in one line.
const maxLogBurst = 5

// Dial connects to the server socket at path and reads the version, our ID
// and the shared memory, as QEMU does at realize. log receives one line per
// protocol problem after the handshake (it is called from the socket
// goroutine; nil discards).
func Dial(path string, vectors int, log func(string)) (*Client, error) {
	if vectors < 1 || vectors > MaxVectors {
		return nil, fmt.Errorf("ivshmem: vectors=%d: want 1..%d", vectors, MaxVectors)
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("ivshmem: chardev socket: %w", err)
	}
	if log == nil {
		log = func(string) {}
	}
	c := &Client{conn: conn, rd: msgReader{conn: conn}, proto: Proto{Vectors: vectors}, log: rateLog{out: log}}
	c.peers.Store(&peerTable{})
	deadline := time.Now().Add(HandshakeTimeout)
	_ = conn.SetReadDeadline(deadline)
	for !c.proto.Ready() {
		m, err := c.rd.read()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("ivshmem: %s: %w", path, err)
		}
		ev, err := c.proto.Handle(m)
		if err != nil {
			closeFD(ev.FD)
			conn.Close()
			return nil, fmt.Errorf("ivshmem: %s: %w", path, err)
		}
		if ev.Kind == EvShm {
			c.Mem, err = mapServerMemory(ev.FD)
			if err != nil {
				conn.Close()
				return nil, fmt.Errorf("ivshmem: %s: %w", path, err)
			}
		}
	}
	c.ID = c.proto.ID()
	// Settle: the server sends the peers that already exist and then our
	// own vectors right after the memory (contrib/ivshmem-server order).
	// Taking them now means a guest's first doorbell to an existing peer
	// is not lost to the start-up race QEMU has (it reads them later, and
	// drops doorbells to peers it does not know yet). Stop at our last
	// vector, when the server pauses, or at the overall deadline.
	for c.proto.own < vectors {
		d := time.Now().Add(SettleTimeout)
		if d.After(deadline) {
			d = deadline
		}
		_ = conn.SetReadDeadline(d)
		m, err := c.rd.read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if !c.handle(m, err) {
			c.ended = true
			break
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	return c, nil
}

// SettleTimeout is how long Dial waits for each message after the
// handshake while collecting the existing peers and its own vectors.
const SettleTimeout = 200 * time.Millisecond

// mapServerMemory maps the memory fd (its size from fstat) and closes it.
func mapServerMemory(fd int) (*Memory, error) {
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	return MapFD(fd, uint64(st.Size))
}

// Start runs the socket goroutine. notify (may be nil) is called, from any
// goroutine, after an own vector fired.
func (c *Client) Start(notify func()) {
	if notify == nil {
		notify = func() {}
	}
	c.notify = notify
	for _, ev := range c.early {
		c.apply(ev)
	}
	c.early = nil
	if c.ended {
		return
	}
	c.wg.Add(1)
	go c.serve()
}

// Errors counts protocol problems seen after the handshake.
func (c *Client) Errors() uint64 { return c.errs.Load() }

// Peers returns the IDs of the peers currently known, and how many vectors
// each has (for tests and traces; safe from any goroutine).
func (c *Client) Peers() map[int]int {
	t := *c.peers.Load()
	out := make(map[int]int, len(t))
	for id, v := range t {
		out[id] = len(v)
	}
	return out
}

func (c *Client) serve() {
	defer c.wg.Done()
	for {
		m, err := c.rd.read()
		if !c.handle(m, err) {
			return
		}
	}
}

// handle applies one message (or read error); it returns false when the
// connection has ended.
func (c *Client) handle(m Msg, err error) bool {
	if errors.Is(err, errBadMsg) {
		return c.bad(err.Error())
	}
	if err != nil {
		if !errors.Is(err, net.ErrClosed) {
			c.log.log(fmt.Sprintf("ivshmem: server connection ended (%v); peers keep working, none can join", err))
		}
		return false
	}
	if m.FD >= 0 && m.Val >= 0 && !isEventfd(m.FD) {
		// Vectors must be eventfds: a regular file would read as an
		// endless stream of interrupts.
		closeFD(m.FD)
		return c.bad(fmt.Sprintf("ivshmem-server: descriptor for peer %d is not an eventfd (closed)", m.Val))
	}
	ev, err := c.proto.Handle(m)
	if err != nil {
		closeFD(ev.FD)
		return c.bad(err.Error())
	}
	c.apply(ev)
	return true
}

// bad counts and logs an unusable message; at maxBadMessages it hangs up
// and returns false.
func (c *Client) bad(msg string) bool {
	n := c.errs.Add(1)
	c.log.log(msg)
	if n < maxBadMessages {
		return true
	}
	c.log.flush()
	c.log.out(fmt.Sprintf("ivshmem-server: %d bad messages; disconnected (peers keep working, none can join)", n))
	c.conn.Close()
	return false
}

// rateLog passes at most maxLogBurst lines a second to out and sums up
// the rest. It is used by one goroutine at a time (Dial, then serve).
type rateLog struct {
	out        func(string)
	since      time.Time
	n          int
	suppressed int
}

func (l *rateLog) log(s string) {
	if now := time.Now(); now.Sub(l.since) >= time.Second {
		l.flush()
		l.since, l.n = now, 0
	}
	if l.n < maxLogBurst {
		l.n++
		l.out(s)
		return
	}
	l.suppressed++
}

func (l *rateLog) flush() {
	if l.suppressed > 0 {
		l.out(fmt.Sprintf("ivshmem-server: %d more problems not shown", l.suppressed))
		l.suppressed = 0
	}
}

// apply carries out one event on the socket goroutine.
func (c *Client) apply(ev Event) {
	switch ev.Kind {
	case EvOwnVector:
		if c.notify == nil { // Dial is still settling: watch from Start on
			c.early = append(c.early, ev)
			return
		}
		if err := unix.SetNonblock(ev.FD, true); err != nil {
			closeFD(ev.FD)
			return
		}
		f := os.NewFile(uintptr(ev.FD), fmt.Sprintf("ivshmem-vector-%d", ev.Vector))
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			f.Close()
			return
		}
		c.own = append(c.own, f)
		c.wg.Add(1)
		c.mu.Unlock()
		go c.watch(f, ev.Vector)
	case EvPeerAdd:
		f := os.NewFile(uintptr(ev.FD), fmt.Sprintf("ivshmem-peer-%d-%d", ev.Peer, ev.Vector))
		old := *c.peers.Load()
		t := make(peerTable, len(old)+1)
		for k, v := range old {
			t[k] = v
		}
		t[ev.Peer] = append(append([]*os.File(nil), old[ev.Peer]...), f)
		c.peers.Store(&t)
	case EvPeerGone:
		old := *c.peers.Load()
		t := make(peerTable, len(old))
		for k, v := range old {
			if k != ev.Peer {
				t[k] = v
			}
		}
		c.peers.Store(&t)
		// A Ring racing with this sees a closed file and fails cleanly.
		for _, f := range old[ev.Peer] {
			f.Close()
		}
	case EvDrop:
		closeFD(ev.FD)
	}
}

// watch waits on one own-vector eventfd and marks the vector pending.
func (c *Client) watch(f *os.File, vector int) {
	defer c.wg.Done()
	var b [8]byte
	for {
		n, err := f.Read(b[:])
		if err != nil {
			return
		}
		if n == 8 {
			c.pending.Or(1 << uint(vector))
			c.notify()
		}
	}
}

// TakePending returns and clears the own vectors that fired since the last
// call (bit v = vector v).
func (c *Client) TakePending() uint32 { return c.pending.Swap(0) }

// ErrNoPeer is returned by Ring for an unknown peer or vector.
var ErrNoPeer = errors.New("ivshmem: no such peer or vector")

// Ring interrupts vector of peer by adding 1 to its eventfd
// (ivshmem-spec.rst, "The ivshmem Client-Client Protocol": write the
// 8-byte integer 1 to the peer's eventfd). It never blocks.
func (c *Client) Ring(peer, vector int) error {
	fds := (*c.peers.Load())[peer]
	if vector < 0 || vector >= len(fds) {
		return ErrNoPeer
	}
	rc, err := fds[vector].SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = rc.Control(func(fd uintptr) {
		var one [8]byte
		binary.LittleEndian.PutUint64(one[:], 1)
		_, werr = unix.Write(int(fd), one[:])
	})
	if err != nil {
		return err
	}
	return werr
}

// Close ends the connection, closes every eventfd, waits for the
// goroutines and unmaps the memory.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true // from now on apply adds no own vector
	own := c.own
	c.mu.Unlock()
	for _, ev := range c.early { // never started
		closeFD(ev.FD)
	}
	c.conn.Close()
	for _, f := range own {
		f.Close() // ends its watch goroutine
	}
	c.wg.Wait()
	for _, fs := range *c.peers.Load() {
		for _, f := range fs {
			f.Close()
		}
	}
	return c.Mem.Close()
}

// msgReader reads 8-byte messages and the descriptors that came with
// them. A stream socket may split or merge messages, so bytes are gathered
// up to 8; descriptors received while gathering belong to this message. A
// message with more than one descriptor (or with descriptors the kernel
// had to drop) is read whole, its descriptors closed, and errBadMsg
// returned, so the stream stays in step. A read deadline that expires in
// the middle of a message keeps what was gathered for the next call.
type msgReader struct {
	conn      *net.UnixConn
	buf       [8]byte
	have      int
	fds       []int
	truncated bool
	oob       []byte
}

func (r *msgReader) read() (Msg, error) {
	if r.oob == nil {
		r.oob = make([]byte, unix.CmsgSpace(4*8))
	}
	for r.have < 8 {
		n, oobn, flags, _, err := r.conn.ReadMsgUnix(r.buf[r.have:], r.oob)
		if oobn > 0 {
			got, _ := parseRights(r.oob[:oobn])
			r.fds = append(r.fds, got...)
		}
		if flags&unix.MSG_CTRUNC != 0 {
			r.truncated = true
		}
		if n > 0 { // n is -1 with an error (a timeout included)
			r.have += n
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return Msg{}, err
		}
		if err == nil && n == 0 {
			err = errors.New("ivshmem-server: connection closed")
		}
		if err != nil {
			r.reset(true)
			return Msg{}, err
		}
	}
	m := Msg{Val: int64(binary.LittleEndian.Uint64(r.buf[:])), FD: -1}
	nfds, truncated := len(r.fds), r.truncated
	if nfds == 1 && !truncated {
		m.FD = r.fds[0]
	}
	r.reset(m.FD < 0)
	if nfds > 1 || truncated {
		return Msg{}, fmt.Errorf("%w: value %d with %d descriptors (truncated: %v; closed)", errBadMsg, m.Val, nfds, truncated)
	}
	return m, nil
}

// reset starts a new message, closing the gathered descriptors if asked.
func (r *msgReader) reset(closeFDs bool) {
	if closeFDs {
		for _, fd := range r.fds {
			closeFD(fd)
		}
	}
	r.fds = r.fds[:0]
	r.have = 0
	r.truncated = false
}

// errBadMsg marks a message that was read whole but cannot be used; the
// connection goes on.
var errBadMsg = errors.New("ivshmem-server: bad message")

// isEventfd reports whether fd is an eventfd (Linux names its anonymous
// inode "anon_inode:[eventfd]").
func isEventfd(fd int) bool {
	var buf [64]byte
	n, err := unix.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd), buf[:])
	return err == nil && string(buf[:n]) == "anon_inode:[eventfd]"
}

// parseRights extracts SCM_RIGHTS descriptors from control messages.
func parseRights(oob []byte) ([]int, error) {
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range cmsgs {
		got, err := unix.ParseUnixRights(&cmsgs[i])
		if err != nil {
			continue // not SCM_RIGHTS
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}
