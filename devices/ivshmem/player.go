package ivshmem

import (
	"errors"

	"gemu/clock"
	"gemu/devices/audio"
)

// Player consumes the audio ring in shared memory (ring.go) and plays it,
// paced like a DAC by an audio.Pacer: every Tick of virtual time it moves
// the frames due at the ring's rate since the stream started, at most what
// the ring holds and what the output accepts (back-pressure as in
// devices/ac97: the read index advances only by what the stream took). It
// runs on the emulation goroutine, on clock timers.
type Player struct {
	consumer // Link (UseAudiodev, Backend, Tick, Lead), IdleTick, Trace
	state    int
	reason   Reason
	hdr      Header
	format   [formatEnd - OffRate]byte // format fields as attached
	epoch    uint32
	read     uint64

	// Counters (also mirrored into the header's consumer words).
	Errors   uint64 // rings found broken
	Starved  uint64 // ticks on which the ring held less than was due
	Consumed uint64 // frames played
}

// NewPlayer starts watching mem for a ring. be may be nil (frames are then
// consumed at the ring's rate and discarded).
func NewPlayer(mem *Memory, clk *clock.Clock, be audio.Backend) *Player {
	p := &Player{}
	p.init(mem, clk, be, p, "ivshmem: ring: ")
	return p
}

func (p *Player) attached() bool { return p.state == RingPlaying }

// State returns RingIdle, RingPlaying or RingBroken, and the reason.
func (p *Player) State() (int, Reason) { return p.state, p.reason }

// Reset stops playback and forgets the ring (board reset); the ring is
// looked for again from the next tick.
func (p *Player) Reset() {
	p.reset()
	p.state, p.reason = RingIdle, ReasonNone
}

// look examines an idle or broken ring and attaches when it is active.
func (p *Player) look(now int64) {
	h, ok, err := ParseHeader(p.mem.b, p.mem.Size())
	if !ok {
		p.state, p.reason = RingIdle, ReasonNone
		return
	}
	if p.state == RingBroken && h.Epoch == p.epoch && h.Active {
		return // wait for a restart
	}
	if !h.Active {
		p.setState(RingIdle, ReasonNone)
		return
	}
	p.epoch = h.Epoch
	if err != nil {
		p.broken(err)
		return
	}
	read := p.mem.Read(OffRead, 8)
	if _, err := CheckIndices(p.mem.Read(OffWrite, 8), read, h.Capacity); err != nil {
		p.broken(err)
		return
	}
	p.hdr, p.read = h, read
	copy(p.format[:], p.mem.b[OffRate:formatEnd])
	if err := p.attach(now, h.Spec); err != nil {
		// Broken until the producer restarts, like a malformed ring.
		p.broken(&RingError{ReasonVoice, err.Error()})
		return
	}
	p.setState(RingPlaying, ReasonNone)
	p.tracef("playing %v, %d-byte ring at %#x, epoch %d, read index %d", h.Spec, h.Capacity, h.DataOffset, h.Epoch, read)
	p.play(now)
}

func (p *Player) setState(s int, r Reason) {
	p.state, p.reason = s, r
	p.mem.Write(OffStatus, 4, uint64(s)|uint64(r)<<8)
}

func (p *Player) broken(err error) {
	p.stop()
	r := ReasonNone
	var re *RingError
	if errors.As(err, &re) {
		r = re.Reason
	}
	p.Errors++
	p.mem.Write(OffErrors, 4, p.Errors)
	p.setState(RingBroken, r)
	p.tracef("broken: %v", err)
}

// play moves the frames due at now (plus Lead), or notices that the ring
// stopped, restarted or broke.
func (p *Player) play(now int64) {
	m := p.mem
	if m.Read(OffMagic, 4) != RingMagic || m.Read(OffActive, 4) == 0 || uint32(m.Read(OffEpoch, 4)) != p.epoch {
		p.stop()
		p.setState(RingIdle, ReasonNone)
		p.tracef("stopped after %d frames", p.Consumed)
		p.look(now) // a restart (new epoch) attaches at once
		return
	}
	if string(m.b[OffRate:formatEnd]) != string(p.format[:]) {
		p.broken(&RingError{ReasonFormatChanged, "while active"})
		return
	}
	write := m.Read(OffWrite, 8)
	fill, err := CheckIndices(write, p.read, p.hdr.Capacity)
	if err != nil {
		p.broken(err)
		return
	}
	budget := uint64(p.pace.Due(now))
	if budget == 0 {
		return
	}
	fb := uint64(p.hdr.FrameBytes)
	n := min(budget, fill/fb)
	if n < budget {
		p.Starved++
		m.Write(OffStarved, 4, p.Starved)
	}
	if n = p.room(n); n == 0 {
		return
	}
	data := p.scratch(int(n * fb))
	base := p.hdr.DataOffset
	pos := p.read & (p.hdr.Capacity - 1)
	k := copy(data, m.b[base+pos:base+p.hdr.Capacity])
	copy(data[k:], m.b[base:])
	w := p.write(data, n)
	p.read += w * fb
	m.Write(OffRead, 8, p.read)
	p.pace.Moved(int(w))
	p.Consumed += w
}
