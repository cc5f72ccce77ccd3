// Package server is an ivshmem server compatible with QEMU's
// contrib/ivshmem-server, which Debian does not ship (neither
// qemu-system-common nor qemu-utils contains it): cmd/ivshmem-server runs
// it, and the ivshmem tests use it in-process. It speaks protocol version 0
// (QEMU docs/specs/ivshmem-spec.rst, "The ivshmem Client-Server Protocol"): to each new
// client its version, its ID, the shared memory fd, then every existing
// peer's eventfds, then its own eventfds; to the others the newcomer's
// eventfds; and when a client disconnects, its ID without an fd to the
// rest.
package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"

	"golang.org/x/sys/unix"
)

// Server listens on a UNIX socket and hands out one shared memory.
type Server struct {
	ln      *net.UnixListener
	memFD   int
	vectors int

	mu     sync.Mutex
	peers  []*peer // in join order
	nextID int
	wg     sync.WaitGroup
}

type peer struct {
	id   int
	conn *net.UnixConn
	fds  []int // one eventfd per vector
}

// New creates size bytes of anonymous shared memory (memfd) and listens at
// sock. Clients get IDs 0, 1, 2, ... in connection order.
func New(sock string, size int64, vectors int) (*Server, error) {
	fd, err := unix.MemfdCreate("ivshmem", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("server: memfd: %w", err)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("server: ftruncate: %w", err)
	}
	return NewFD(sock, fd, vectors)
}

// NewFD serves an existing memory descriptor (the server owns it).
func NewFD(sock string, memFD, vectors int) (*Server, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		unix.Close(memFD)
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{ln: ln, memFD: memFD, vectors: vectors}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr returns the socket path.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, disconnects every client and frees the memory.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for _, p := range s.peers {
		p.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	unix.Close(s.memFD)
	return err
}

// Send writes one protocol message with an optional fd (fd < 0: none).
func Send(c *net.UnixConn, v int64, fd int) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	_, _, err := c.WriteMsgUnix(b[:], oob, nil)
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			return
		}
		if err := s.join(c); err != nil {
			c.Close()
			continue
		}
	}
}

// join runs the server side of the handshake for a new client.
func (s *Server) join(c *net.UnixConn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &peer{id: s.nextID, conn: c}
	for i := 0; i < s.vectors; i++ {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			p.close()
			return err
		}
		p.fds = append(p.fds, fd)
	}
	err := errors.Join(Send(c, 0, -1), Send(c, int64(p.id), -1), Send(c, -1, s.memFD))
	for _, q := range s.peers {
		for _, fd := range q.fds {
			err = errors.Join(err, Send(c, int64(q.id), fd))
		}
		for _, fd := range p.fds {
			_ = Send(q.conn, int64(p.id), fd) // a dead peer is dropped by its reader
		}
	}
	for _, fd := range p.fds {
		err = errors.Join(err, Send(c, int64(p.id), fd))
	}
	if err != nil {
		p.close()
		return err
	}
	s.nextID++
	s.peers = append(s.peers, p)
	s.wg.Add(1)
	go s.watch(p)
	return nil
}

// watch waits for the client to hang up (clients never send anything) and
// tells the others.
func (s *Server) watch(p *peer) {
	defer s.wg.Done()
	var b [64]byte
	for {
		if _, err := p.conn.Read(b[:]); err != nil {
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.peers {
		if q == p {
			s.peers = append(s.peers[:i], s.peers[i+1:]...)
			break
		}
	}
	for _, q := range s.peers {
		_ = Send(q.conn, int64(p.id), -1)
	}
	p.close()
}

func (p *peer) close() {
	p.conn.Close()
	for _, fd := range p.fds {
		unix.Close(fd)
	}
}
