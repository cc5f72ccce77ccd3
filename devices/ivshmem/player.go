package ivshmem

import (
	"errors"
	"time"

	"gemu/bus"
	"gemu/clock"
	"gemu/devices/audio"
)

// VoiceName is the name of the ring's audio voice (per-stream WAV files are
// called PATH-ivshmem.ring.wav).
const VoiceName = "ivshmem.ring"

// Player consumes the audio ring in shared memory (ring.go) and plays it,
// paced like a DAC by an audio.Pacer: every Tick of virtual time it moves
// the frames due at the ring's rate since the stream started, at most what
// the ring holds and what the output accepts (back-pressure as in
// devices/ac97: the read index advances only by what the stream took). It
// runs on the emulation goroutine, on clock timers.
type Player struct {
	mem *Memory
	clk *clock.Clock

	// Link holds the Backend the ring's voice opens on (an -audiodev, or
	// a fake in tests; nil: frames are consumed at the ring's rate and
	// discarded) and the pacing while playing (Tick, and Lead for
	// real-time sinks); the machine sets both with UseAudiodev.
	audio.Link
	// IdleTick is how often an idle or broken ring is looked at, in ns; 0
	// means only when kicked (a guest store into the header, see Kick) and
	// once at start. NewPlayer sets it to 10 ms on a real-time clock, where
	// another process may start a ring at any moment, and to 0 on a
	// deterministic clock, where a periodic look would keep a guest that
	// waits forever (WFI, nothing armed) spinning through virtual time
	// instead of ending the run.
	IdleTick int64
	// Trace receives one line per state change, when set.
	Trace bus.TraceFunc

	timer  *clock.Timer // looks for a ring while idle or broken
	pace   *audio.Pacer // plays while attached
	state  int
	reason Reason
	hdr    Header
	format [formatEnd - OffRate]byte // format fields as attached
	epoch  uint32
	read   uint64
	out    audio.Output
	buf    []byte

	// Counters (also mirrored into the header's consumer words).
	Errors   uint64 // rings found broken
	Starved  uint64 // ticks on which the ring held less than was due
	Consumed uint64 // frames played
}

// NewPlayer starts watching mem for a ring. be may be nil (frames are then
// consumed at the ring's rate and discarded).
func NewPlayer(mem *Memory, clk *clock.Clock, be audio.Backend) *Player {
	p := &Player{mem: mem, clk: clk, Link: audio.Link{Backend: be}}
	if !clk.Deterministic() {
		p.IdleTick = int64(firstLook)
	}
	p.timer = clk.NewTimer(p.tick)
	p.pace = audio.NewPacer(clk, p.step)
	p.timer.Set(clk.Now() + int64(firstLook))
	return p
}

// firstLook is when a new (or reset) player first looks for a ring.
const firstLook = 10 * time.Millisecond

// Kick makes an idle or broken player look at the ring at the next timer
// run. The device calls it for guest stores into the ring header.
func (p *Player) Kick() {
	if p.state != RingPlaying && !p.timer.Armed() {
		p.timer.Set(p.clk.Now())
	}
}

// State returns RingIdle, RingPlaying or RingBroken, and the reason.
func (p *Player) State() (int, Reason) { return p.state, p.reason }

func (p *Player) tracef(format string, args ...any) {
	if p.Trace != nil {
		p.Trace("ivshmem: ring: "+format, args...)
	}
}

// Reset stops playback and forgets the ring (board reset); the ring is
// looked for again from the next tick.
func (p *Player) Reset() {
	p.stop()
	p.state, p.reason = RingIdle, ReasonNone
	p.timer.Set(p.clk.Now() + int64(firstLook))
}

// Close stops playback and the timer.
func (p *Player) Close() {
	p.stop()
	p.timer.Stop()
}

// tick is the look timer: while idle or broken, look at the ring.
func (p *Player) tick() {
	now := p.clk.Now()
	p.look(now)
	p.idle(now)
}

// step is the pacer's: play what is due at at, and go back to looking if
// the ring stopped or broke.
func (p *Player) step(at int64) {
	p.play(at)
	p.idle(p.clk.Now())
}

// idle arms the next look, unless playing or looking only when kicked.
func (p *Player) idle(now int64) {
	if p.state != RingPlaying && p.IdleTick > 0 {
		p.timer.Set(now + p.IdleTick)
	}
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
	if p.Backend != nil {
		out, err := p.Backend.OpenOutput(VoiceName, h.Spec)
		if err != nil {
			p.tracef("cannot open voice %v: %v", h.Spec, err)
		} else {
			out.SetActive(true)
			p.out = out
		}
	}
	p.timer.Stop()
	p.pace.Start(now, h.Spec.Freq, p.Pacing)
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

func (p *Player) stop() {
	p.pace.Stop()
	if p.out != nil {
		p.out.SetActive(false)
		p.out.Close()
		p.out = nil
	}
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
	if p.out != nil {
		n = min(n, uint64(p.out.Free()))
	}
	if n == 0 {
		return
	}
	data := p.scratch(int(n * fb))
	base := p.hdr.DataOffset
	pos := p.read & (p.hdr.Capacity - 1)
	k := copy(data, m.b[base+pos:base+p.hdr.Capacity])
	copy(data[k:], m.b[base:])
	w := n
	if p.out != nil {
		w = uint64(p.out.Write(data))
	}
	p.read += w * fb
	m.Write(OffRead, 8, p.read)
	p.pace.Moved(int(w))
	p.Consumed += w
}

func (p *Player) scratch(n int) []byte {
	if cap(p.buf) < n {
		p.buf = make([]byte, n)
	}
	return p.buf[:n]
}
