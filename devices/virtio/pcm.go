package virtio

import (
	"fmt"

	"gemu/devices/audio"
)

// pcmState is a stream's place in the command lifecycle (5.14.6.6.1).
type pcmState int

const (
	stateInitial  pcmState = iota // never configured
	stateParams                   // SET_PARAMS done
	statePrepared                 // PREPARE done
	stateStarted                  // START done: data flows
	stateStopped                  // STOP done
	stateReleased                 // RELEASE done
)

func (p pcmState) String() string {
	switch p {
	case stateInitial:
		return "initial"
	case stateParams:
		return "params"
	case statePrepared:
		return "prepared"
	case stateStarted:
		return "started"
	case stateStopped:
		return "stopped"
	case stateReleased:
		return "released"
	}
	return fmt.Sprintf("pcmState(%d)", int(p))
}

// legal lists, per request, the states it may be sent in (5.14.6.6.1's
// lifecycle diagram, 5.14.6.6.1's driver requirements). A duplicate START or STOP is
// answered OK as a no-op rather than refused (QEMU and Linux tolerate it;
// NuttX needed that).
var legal = map[uint32][]pcmState{
	reqPCMSetParams: {stateInitial, stateParams, statePrepared, stateReleased},
	reqPCMPrepare:   {stateParams, statePrepared, stateReleased},
	reqPCMStart:     {statePrepared, stateStopped, stateStarted},
	reqPCMStop:      {stateStarted, stateStopped},
	reqPCMRelease:   {statePrepared, stateStopped},
}

// ioMsg is one tx or rx message held by the device.
type ioMsg struct {
	Chain
	q   *Queue
	off uint64 // PCM bytes consumed (tx, after the header) or written (rx)
}

// pcmStream is one PCM stream with its parameters, voice and messages.
type pcmStream struct {
	s     *Sound
	id    int
	dir   uint8
	ord   int // index among the streams of its direction
	state pcmState
	xrun  bool // an XRUN was reported and no data has moved since

	bufferBytes, periodBytes, features uint32
	spec                               audio.Spec
	fb                                 int // bytes per frame

	out audio.Output
	in  audio.Input

	pending []*ioMsg     // FIFO of messages not yet returned
	pace    *audio.Pacer // the stream's clock, from START to STOP
	carry   [16]byte
	ncarry  int // bytes of a frame split across tx messages
	scratch []byte
}

func (st *pcmStream) name() string {
	n := st.s.Name + ".out"
	if st.dir == dirInput {
		n = st.s.Name + ".in"
	}
	if st.ord > 0 {
		n += fmt.Sprint(st.ord)
	}
	return n
}

// reset drops everything: voice closed, messages forgotten (the transport
// reset already took the queues away), state initial.
func (st *pcmStream) reset() {
	st.stop()
	st.pending = nil
	st.state = stateInitial
	st.ncarry = 0
	st.spec = audio.Spec{}
	st.xrun = false
}

// pcmInfo fills a virtio_snd_pcm_info (5.14.6.6.2) of len(p) >= 32 bytes.
func (st *pcmStream) pcmInfo(p []byte) {
	put32(p[0:], 0)            // hda_fn_nid: Linux uses it as the ALSA device number
	put32(p[4:], pcmFEvtXruns) // XRUN events; no shared memory, no polling
	put64(p[8:], formatMask())
	put64(p[16:], rateMask())
	p[24] = st.dir
	p[25] = channelsMin
	p[26] = channelsMax
}

// request applies one PCM control request and returns its status.
func (st *pcmStream) request(code uint32, req []byte) uint32 {
	ok := false
	for _, s := range legal[code] {
		ok = ok || s == st.state
	}
	if !ok {
		st.s.guestError(fmt.Sprintf("state%d:%d:%d", st.id, code, st.state),
			"stream %d: %s in state %v answered NOT_SUPP (VirtIO 1.2 5.14.6.6.1, PCM command lifecycle)", st.id, reqName(code), st.state)
		return sndNotSupp
	}
	switch code {
	case reqPCMSetParams:
		return st.setParams(req)
	case reqPCMPrepare:
		st.state = statePrepared
	case reqPCMStart:
		if st.state != stateStarted && !st.start() {
			// The audiodev refused the voice (its voice limit,
			// docs/limits.md): the request fails with IO_ERR
			// (5.14.6.1) and the stream stays where it was, so the
			// driver may START again or RELEASE.
			return sndIOErr
		}
	case reqPCMStop:
		if st.state == stateStarted {
			st.sync(st.s.clk.Now())
			st.stop()
			st.state = stateStopped
		}
	case reqPCMRelease:
		// Every pending message is returned before RELEASE completes
		// (5.14.6.6.5.1).
		st.flush()
		st.ncarry = 0
		st.state = stateReleased
	}
	return sndOK
}

// setParams checks and stores virtio_snd_pcm_set_params (5.14.6.6.3): a
// malformed request (sizes zero or inconsistent, padding set) is BAD_MSG,
// a well-formed one the device cannot do is NOT_SUPP.
func (st *pcmStream) setParams(req []byte) uint32 {
	buffer, period, features := le32(req[8:]), le32(req[12:]), le32(req[16:])
	channels, fmtBit, rateBit, pad := req[20], req[21], req[22], req[23]
	f, okFmt := formatBits[fmtBit]
	switch {
	case pad != 0 || buffer == 0 || period == 0 || buffer%period != 0:
		return sndBadMsg
	case !okFmt || int(rateBit) >= len(rateBits) || features&^pcmFEvtXruns != 0 ||
		channels < channelsMin || channels > channelsMax:
		return sndNotSupp
	}
	spec := audio.Spec{Freq: rateBits[rateBit], Format: f, Channels: int(channels)}
	if spec.Validate() != nil {
		return sndNotSupp
	}
	if period%uint32(spec.FrameBytes()) != 0 {
		return sndBadMsg
	}
	st.bufferBytes, st.periodBytes, st.features = buffer, period, features
	st.spec, st.fb = spec, spec.FrameBytes()
	st.state = stateParams
	return sndOK
}

// start opens the voice and starts the pacing clock, as an AC97 channel
// does when its DMA starts: the backend's sink and source are anchored at
// the same moment as the stream. It reports false, changing nothing, if
// the backend refuses the voice.
func (st *pcmStream) start() bool {
	if !st.open() {
		return false
	}
	st.state = stateStarted
	pc := st.s.Pacing
	if st.dir == dirInput {
		pc.Lead = 0 // capture cannot run ahead of its source
	}
	now := st.s.clk.Now()
	st.pace.Start(now, st.spec.Freq, pc)
	st.sync(now)
	return true
}

// stop closes the voice (buffered output still plays) and stops the clock.
func (st *pcmStream) stop() {
	st.pace.Stop()
	if st.out != nil {
		st.out.SetActive(false)
		st.out.Close()
		st.out = nil
	}
	if st.in != nil {
		st.in.SetActive(false)
		st.in.Close()
		st.in = nil
	}
}

// open opens the stream's voice; false if the backend refused it.
func (st *pcmStream) open() bool {
	be := st.s.Backend
	if be == nil {
		return true
	}
	var err error
	if st.dir == dirOutput {
		st.out, err = be.OpenOutput(st.name(), st.spec)
		if err == nil {
			st.applyVolume()
			st.out.SetActive(true)
		} else {
			st.out = nil
		}
	} else {
		st.in, err = be.OpenInput(st.name(), st.spec)
		if err == nil {
			st.in.SetActive(true)
		} else {
			st.in = nil
		}
	}
	if err != nil {
		st.s.tracef("stream %d: cannot open voice %v: %v", st.id, st.spec, err)
		return false
	}
	return true
}

// sync moves the data due at time at: the stream's clock (audio.Pacer)
// calls it 1 ns before each grid point of Tick from START, and queued
// messages and STOP with the current time. Capture moves what the source
// has produced.
func (st *pcmStream) sync(at int64) {
	if st.state != stateStarted || !st.s.live() {
		return
	}
	if st.dir == dirInput {
		st.capture()
		return
	}
	budget := st.pace.Due(at)
	if budget <= 0 {
		return
	}
	moved, starved := st.play(budget)
	if moved > 0 {
		st.xrun = false
	} else if starved {
		// A whole tick with nothing to play: an underrun. (The tick
		// that returns the last message is not one, so a draining
		// driver has a tick to stop the stream first.)
		st.reportXrun()
	}
	if starved {
		// No message queued: the time passes in silence (an underrun the
		// sink counts); later messages play from then on, not in a burst.
		st.pace.Skip()
	} else {
		st.pace.Moved(moved)
	}
}

func (st *pcmStream) buf(n int) []byte {
	if cap(st.scratch) < n {
		st.scratch = make([]byte, n)
	}
	return st.scratch[:n]
}

// play hands up to n frames from the pending tx messages to the output and
// returns the frames taken, and whether it ran out of messages. A message
// is returned when its last byte has been taken (5.14.6.8.1.1: "totally
// consumed"), with latency_bytes = what the output still holds.
func (st *pcmStream) play(n int) (moved int, starved bool) {
	b := st.s.t.Bus()
	fb := st.fb
	if st.out != nil {
		n = min(n, st.out.Free())
	}
	for n > 0 {
		if len(st.pending) == 0 {
			return moved, true
		}
		m := st.pending[0]
		remain := m.RLen - xferSize - m.off
		want := min(remain, uint64(n*fb-st.ncarry))
		data := st.buf(st.ncarry + int(want))
		copy(data, st.carry[:st.ncarry])
		if _, err := m.ReadAt(b, data[st.ncarry:], xferSize+m.off); err != nil {
			st.s.fail(err)
			return moved, false
		}
		nf := len(data) / fb
		w := nf
		if st.out != nil && nf > 0 {
			w = st.out.Write(data[:nf*fb])
		}
		blocked := w < nf
		if !blocked {
			m.off += want
			st.ncarry = copy(st.carry[:], data[nf*fb:])
		} else {
			m.off += uint64(w*fb - st.ncarry)
			st.ncarry = 0
		}
		n -= w
		moved += w
		if m.off == m.RLen-xferSize {
			st.pending = st.pending[1:]
			st.complete(m, 0)
		}
		if blocked {
			break
		}
	}
	return moved, false
}

// complete returns a message with status OK.
func (st *pcmStream) complete(m *ioMsg, pcm uint64) {
	latency := 0
	switch {
	case st.out != nil:
		latency = st.out.Buffered() * st.fb
	case st.in != nil:
		latency = st.in.Buffered() * st.fb
	}
	st.s.completeIO(m.q, m, sndOK, uint32(latency), pcm)
}

// capture fills the pending rx messages, in order, with the frames the
// source has produced; a message is returned when its PCM area is full
// (5.14.6.8.2.1). The status goes at the end of the writable part, after
// the data.
func (st *pcmStream) capture() {
	b := st.s.t.Bus()
	fb := uint64(st.fb)
	if len(st.pending) == 0 && st.in != nil && st.in.Buffered() > 0 {
		// Frames arrive with no buffer to put them in: an overrun.
		st.reportXrun()
	}
	for len(st.pending) > 0 {
		m := st.pending[0]
		room := (m.WLen - pcmStatusSize - m.off) / fb
		if room > 0 && st.in != nil {
			k := min(room, uint64(st.in.Buffered()))
			if k > 0 {
				data := st.buf(int(k * fb))
				got := uint64(st.in.Read(data))
				if _, err := m.WriteAt(b, data[:got*fb], m.off); err != nil {
					st.s.fail(err)
					return
				}
				m.off += got * fb
				room -= got
				if got > 0 {
					st.xrun = false
				}
			}
		}
		if room > 0 {
			return
		}
		st.pending = st.pending[1:]
		st.complete(m, m.off)
	}
}

// flush returns every pending message (RELEASE): tx messages unplayed, rx
// messages with what they hold.
func (st *pcmStream) flush() {
	for len(st.pending) > 0 {
		m := st.pending[0]
		st.pending = st.pending[1:]
		pcm := uint64(0)
		if st.dir == dirInput {
			pcm = m.off
		}
		st.complete(m, pcm)
	}
}

// reportXrun sends one VIRTIO_SND_EVT_PCM_XRUN per underrun or overrun
// (5.14.6.2) if the driver asked for them in SET_PARAMS.
func (st *pcmStream) reportXrun() {
	if st.xrun || st.features&pcmFEvtXruns == 0 {
		return
	}
	st.xrun = true
	st.s.tracef("stream %d: XRUN", st.id)
	st.s.event(evtPCMXrun, uint32(st.id))
}
