package ivshmem

import (
	"errors"
	"fmt"
)

// The ivshmem-server protocol (QEMU docs/specs/ivshmem-spec.rst, "The
// ivshmem Client-Server Protocol"; contrib/ivshmem-server). The server talks, the client only
// listens. Every message is one 8-byte little-endian signed integer,
// optionally carrying one file descriptor (SCM_RIGHTS):
//
//	1. the protocol version, 0                    no fd
//	2. the client's own ID (0..65535)             no fd
//	3. -1                                         the shared memory
//	then, in any order and at any time:
//	   a peer ID with an fd: that peer's next interrupt vector (an eventfd
//	   to write to), in vector order 0, 1, ...; the own ID with an fd: the
//	   client's own next vector (an eventfd to poll)
//	   a peer ID without an fd: the peer left; close its eventfds
//
// Proto is that grammar as a state machine over already-received messages,
// with no I/O, so that it can be fuzzed: everything the server says is
// untrusted. It never panics; a message it cannot use yields an error and,
// past the handshake, the connection goes on.

// ProtocolVersion is the only version this client speaks (QEMU 2.5+).
const ProtocolVersion = 0

// MaxPeerID is the largest peer ID (IVPosition and the doorbell's
// destination field are 16 bits).
const MaxPeerID = 0xffff

// MaxPeers bounds the peer table a server can make us hold.
const MaxPeers = 4096

// Msg is one server message: Val, and FD (-1 when none came with it).
type Msg struct {
	Val int64
	FD  int
}

// EventKind says what a message means.
type EventKind int

const (
	EvNone      EventKind = iota // handshake step accepted, nothing to do
	EvShm                        // FD is the shared memory
	EvOwnVector                  // FD is own vector Vector: poll it
	EvPeerAdd                    // FD is vector Vector of peer Peer: ring it
	EvPeerGone                   // peer Peer left: close its eventfds
	EvDrop                       // FD is not needed (extra vector): close it
)

// Event is the action a message asks of the client.
type Event struct {
	Kind   EventKind
	Peer   int
	Vector int
	FD     int
}

// ErrHandshake wraps errors that end the connection (bad version, ID or
// memory message during the first three messages).
var ErrHandshake = errors.New("ivshmem-server handshake")

// Proto tracks where a client is in the protocol.
type Proto struct {
	Vectors int // vectors this device has (extra eventfds are dropped)

	step  int // 0 version, 1 id, 2 shm, 3 running
	id    int
	own   int         // own vectors received
	peers map[int]int // peer ID -> vectors received
}

// ID returns the client's own ID (valid once Ready).
func (p *Proto) ID() int { return p.id }

// Ready reports whether the handshake (messages 1-3) is complete.
func (p *Proto) Ready() bool { return p.step == 3 }

// Peers returns how many peers are known.
func (p *Proto) Peers() int { return len(p.peers) }

// Handle interprets one message. On error the returned Event is EvDrop with
// the message's fd (if any), so the caller can close it; errors wrapping
// ErrHandshake mean the connection must be dropped.
func (p *Proto) Handle(m Msg) (Event, error) {
	drop := Event{Kind: EvDrop, FD: m.FD}
	switch p.step {
	case 0:
		if m.Val != ProtocolVersion {
			return drop, fmt.Errorf("%w: server speaks protocol version %d, want %d", ErrHandshake, m.Val, ProtocolVersion)
		}
		if m.FD >= 0 {
			return drop, fmt.Errorf("%w: version message carries a file descriptor", ErrHandshake)
		}
		p.step = 1
		return Event{Kind: EvNone, FD: -1}, nil
	case 1:
		if m.Val < 0 || m.Val > MaxPeerID || m.FD >= 0 {
			return drop, fmt.Errorf("%w: bad own ID message (value %d, fd %v)", ErrHandshake, m.Val, m.FD >= 0)
		}
		p.id = int(m.Val)
		p.step = 2
		return Event{Kind: EvNone, FD: -1}, nil
	case 2:
		if m.Val != -1 || m.FD < 0 {
			return drop, fmt.Errorf("%w: want the shared memory (-1 with an fd), got value %d (fd %v)", ErrHandshake, m.Val, m.FD >= 0)
		}
		p.step = 3
		return Event{Kind: EvShm, FD: m.FD}, nil
	}
	if m.Val < 0 || m.Val > MaxPeerID {
		return drop, fmt.Errorf("ivshmem-server: peer ID %d out of range 0..%d", m.Val, MaxPeerID)
	}
	id := int(m.Val)
	if m.FD < 0 {
		if id == p.id {
			return drop, fmt.Errorf("ivshmem-server: told that we (peer %d) left", id)
		}
		if _, ok := p.peers[id]; !ok {
			return drop, fmt.Errorf("ivshmem-server: unknown peer %d left", id)
		}
		delete(p.peers, id)
		return Event{Kind: EvPeerGone, Peer: id, FD: -1}, nil
	}
	if id == p.id {
		v := p.own
		if v >= p.Vectors {
			return drop, fmt.Errorf("ivshmem-server: own vector %d beyond the %d configured (closed)", v, p.Vectors)
		}
		p.own++
		return Event{Kind: EvOwnVector, Peer: id, Vector: v, FD: m.FD}, nil
	}
	n, known := p.peers[id]
	if !known && len(p.peers) >= MaxPeers {
		return drop, fmt.Errorf("ivshmem-server: more than %d peers", MaxPeers)
	}
	if p.peers == nil {
		p.peers = map[int]int{}
	}
	if n >= p.Vectors {
		p.peers[id] = n
		return drop, fmt.Errorf("ivshmem-server: peer %d vector %d beyond the %d configured (closed)", id, n, p.Vectors)
	}
	p.peers[id] = n + 1
	return Event{Kind: EvPeerAdd, Peer: id, Vector: n, FD: m.FD}, nil
}
