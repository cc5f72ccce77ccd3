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
	proto   Proto
	peers   atomic.Pointer[peerTable]
	pending atomic.Uint32
	own     []*os.File
	notify  func()
	log     func(string)
	errs    atomic.Uint64

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

// HandshakeTimeout bounds how long Dial waits for messages 1-3.
const HandshakeTimeout = 5 * time.Second

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
	c := &Client{conn: conn, proto: Proto{Vectors: vectors}, log: log}
	c.peers.Store(&peerTable{})
	_ = conn.SetReadDeadline(time.Now().Add(HandshakeTimeout))
	for !c.proto.Ready() {
		m, err := readMsg(conn)
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
	_ = conn.SetReadDeadline(time.Time{})
	c.ID = c.proto.ID()
	return c, nil
}

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
		m, err := readMsg(c.conn)
		if errors.Is(err, errBadMsg) {
			c.errs.Add(1)
			c.log(err.Error())
			continue
		}
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.log(fmt.Sprintf("ivshmem: server connection ended (%v); peers keep working, none can join", err))
			}
			return
		}
		if m.FD >= 0 && m.Val >= 0 && !isEventfd(m.FD) {
			// Vectors must be eventfds: a regular file would read as
			// an endless stream of interrupts.
			closeFD(m.FD)
			c.errs.Add(1)
			c.log(fmt.Sprintf("ivshmem-server: descriptor for peer %d is not an eventfd (closed)", m.Val))
			continue
		}
		ev, err := c.proto.Handle(m)
		if err != nil {
			c.errs.Add(1)
			c.log(err.Error())
			closeFD(ev.FD)
			continue
		}
		c.apply(ev)
	}
}

// apply carries out one event on the socket goroutine.
func (c *Client) apply(ev Event) {
	switch ev.Kind {
	case EvOwnVector:
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
// (device-reference.md 3.3: "ring a peer"). It never blocks.
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

// readMsg reads one 8-byte message and the descriptors that came with it.
// A stream socket may split or merge messages, so bytes are gathered up to
// 8; descriptors received while gathering belong to this message. A
// message with more than one descriptor (or with descriptors the kernel
// had to drop) is read whole, its descriptors closed, and errBadMsg
// returned, so the stream stays in step.
func readMsg(conn *net.UnixConn) (Msg, error) {
	var buf [8]byte
	oob := make([]byte, unix.CmsgSpace(4*8))
	have := 0
	var fds []int
	truncated := false
	for have < 8 {
		n, oobn, flags, _, err := conn.ReadMsgUnix(buf[have:], oob)
		if oobn > 0 {
			got, _ := parseRights(oob[:oobn])
			fds = append(fds, got...)
		}
		if flags&unix.MSG_CTRUNC != 0 {
			truncated = true
		}
		if err == nil && n == 0 {
			err = errors.New("ivshmem-server: connection closed")
		}
		if err != nil {
			for _, fd := range fds {
				closeFD(fd)
			}
			return Msg{}, err
		}
		have += n
	}
	m := Msg{Val: int64(binary.LittleEndian.Uint64(buf[:])), FD: -1}
	if len(fds) == 1 && !truncated {
		m.FD = fds[0]
		return m, nil
	}
	if len(fds) == 0 && !truncated {
		return m, nil
	}
	for _, fd := range fds {
		closeFD(fd)
	}
	return Msg{}, fmt.Errorf("%w: value %d with %d descriptors (truncated: %v; closed)", errBadMsg, m.Val, len(fds), truncated)
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
