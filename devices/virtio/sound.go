package virtio

import (
	"fmt"

	"gemu/bus"
	"gemu/clock"
	"gemu/devices/audio"
)

// The virtio sound device (VirtIO 1.2 section 5.14, controls from VirtIO
// 1.3 5.14.6.10; QEMU hw/audio/virtio-snd.c): device ID 25, four queues
// (control, event, tx, rx), QEMU's streams= PCM streams (default 2: the
// first half, rounded up, play, the rest record), jacks= jacks and chmaps=
// channel maps (default none, as QEMU), and with VIRTIO_SND_F_CTLS volume
// and mute controls on the playback streams (sound_ctl.go). Control requests are answered synchronously when the driver
// kicks the control queue (Linux waits at most 1 s for each). PCM data
// moves on the machine clock: tx buffers go into an audio output as fast as
// the audio is due and each is returned only once its last frame has been
// accepted by the output (5.14.6.8); rx buffers are returned only when full
// of frames the capture source has produced.

// SoundDeviceID is the virtio device type of a sound card (5, table of
// device IDs).
const SoundDeviceID = 25

// Queue indexes (5.14.2).
const (
	QueueControl = 0
	QueueEvent   = 1
	QueueTx      = 2
	QueueRx      = 3
)

// SoundQueueSize is the size of every queue (QEMU hw/audio/virtio-snd.c
// virtio_add_queue(vdev, 64, ...); virtio-drivers needs at least 32).
// virtio-pci reports it as queue_size; virtio-mmio reports QueueNumMax
// (1024) instead, as QEMU's does, and keeps 64 as the legacy default.
const SoundQueueSize = 64

// Feature bits (5.14.3).
const (
	// FeatureCtls is VIRTIO_SND_F_CTLS (VirtIO 1.3): control elements.
	FeatureCtls = 1 << 0
)

// Limits of the layout properties, QEMU 10's (virtio_snd_realize).
const (
	MaxStreams = 10
	MaxJacks   = 8
	MaxChmaps  = 18
)

// Request codes (5.14.6.1).
const (
	reqJackInfo     = 0x0001
	reqJackRemap    = 0x0002
	reqPCMInfo      = 0x0100
	reqPCMSetParams = 0x0101
	reqPCMPrepare   = 0x0102
	reqPCMRelease   = 0x0103
	reqPCMStart     = 0x0104
	reqPCMStop      = 0x0105
	reqChmapInfo    = 0x0200
	reqCtlInfo      = 0x0300
	reqCtlEnumItems = 0x0301
	reqCtlRead      = 0x0302
	reqCtlWrite     = 0x0303
	reqCtlTLVRead   = 0x0304
	reqCtlTLVWrite  = 0x0305
	reqCtlTLVCmd    = 0x0306
)

// Event codes (5.14.6.2, 5.14.6.10.3).
const (
	evtJackConnected    = 0x1000
	evtJackDisconnected = 0x1001
	evtPCMPeriodElapsed = 0x1100
	evtPCMXrun          = 0x1101
	evtCtlNotify        = 0x1200
	eventSize           = 8
	maxEventBacklog     = 64
)

// PCM stream feature bits (5.14.6.6.2).
const (
	pcmFEvtXruns = 1 << 4 // VIRTIO_SND_PCM_F_EVT_XRUNS
)

// Status codes (5.14.6.1).
const (
	sndOK      = 0x8000
	sndBadMsg  = 0x8001
	sndNotSupp = 0x8002
	sndIOErr   = 0x8003
)

// Stream directions (5.14.6.6.2).
const (
	dirOutput = 0
	dirInput  = 1
)

// Structure sizes (5.14.6).
const (
	hdrSize        = 4
	queryInfoSize  = 16
	pcmHdrSize     = 8
	setParamsSize  = 24
	pcmInfoSize    = 32
	chmapInfoSize  = 24
	jackInfoSize   = 24
	ctlInfoSize    = 96
	ctlValueSize   = 512
	xferSize       = 4
	pcmStatusSize  = 8
	maxInfoItem    = 4096 // largest info item size a driver may ask for
	maxRequestSize = 8 + ctlValueSize
)

// formatBits maps the PCM format bit indexes the device offers (5.14.6.6.3)
// to host sample formats.
var formatBits = map[uint8]audio.Format{
	3:  audio.S8,
	4:  audio.U8,
	5:  audio.S16LE,
	6:  audio.U16LE,
	17: audio.S32LE,
	19: audio.F32LE,
}

// rateBits lists the frame rates by bit index (VirtIO 1.2 5.14.6.6.3, bits
// 0..13, 5512 to 384000 Hz); the host mixer converts all of them (up to
// audio.MaxFreq), and QEMU 10 offers the same range (Linux 6.12 reports
// RATE [5512 384000] on both).
var rateBits = []int{5512, 8000, 11025, 16000, 22050, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000, 384000}

// Channel range offered for both streams.
const (
	channelsMin = 1
	channelsMax = 2
)

func formatMask() uint64 {
	var m uint64
	for b := range formatBits {
		m |= 1 << b
	}
	return m
}

func rateMask() uint64 { return 1<<len(rateBits) - 1 }

// Sound is the virtio-sound device model.
type Sound struct {
	t   Transport
	clk *clock.Clock

	// Link holds the Backend the voices open on (an -audiodev, or a fake
	// in tests), like QEMU's AUD_open_out/AUD_open_in, and the pacing of
	// the streams (a tick dividing the backend's timer period, a lead for
	// real-time sinks, as for AC97); the machine sets both with
	// UseAudiodev. When an open fails the stream still runs at its rate
	// and moves no data: playback is discarded, capture produces nothing.
	audio.Link

	// Name prefixes the voice names (NAME.out, NAME.in; further streams of
	// a direction NAME.out1, NAME.in1, ...).
	Name string
	// Trace, when set, receives one line per control request and I/O event.
	Trace bus.TraceFunc
	// NoControls withdraws VIRTIO_SND_F_CTLS (QEMU 10 does not offer it).
	NoControls bool

	streams []*pcmStream
	jacks   []jack
	chmaps  int
	mixer   mixer

	events  []event // waiting for an event queue buffer
	evChain Chain
	chain   Chain
	req     [maxRequestSize]byte
	resp    []byte

	// Errors counts malformed messages answered with BAD_MSG or dropped.
	Errors uint64
}

// NewSound creates the device; be may be nil (no audio).
func NewSound(clk *clock.Clock, be audio.Backend) *Sound {
	s := &Sound{clk: clk, Link: audio.Link{Backend: be}, Name: "virtio-snd"}
	if err := s.SetLayout(2, 0, 0); err != nil {
		panic(err)
	}
	return s
}

// SetLayout sets QEMU's streams=, jacks= and chmaps= before the device is
// attached to a transport: streams PCM streams (1..10; the first half,
// rounded up, are outputs, as QEMU's virtio_snd_pcm_prepare assigns
// them), jacks jacks (0..8; even ones headphone outputs, odd ones
// microphone inputs, all plugged in) and chmaps channel maps (0..18; the
// first half, rounded up, for output; per direction stereo, then mono,
// alternating).
func (s *Sound) SetLayout(streams, jacks, chmaps int) error {
	switch {
	case streams < 1 || streams > MaxStreams:
		return fmt.Errorf("virtio-snd: invalid number of streams: %d (1..%d)", streams, MaxStreams)
	case jacks < 0 || jacks > MaxJacks:
		return fmt.Errorf("virtio-snd: invalid number of jacks: %d (0..%d)", jacks, MaxJacks)
	case chmaps < 0 || chmaps > MaxChmaps:
		return fmt.Errorf("virtio-snd: invalid number of channel maps: %d (0..%d)", chmaps, MaxChmaps)
	}
	s.streams = nil
	outs := (streams + 1) / 2
	for i := range streams {
		st := &pcmStream{s: s, id: i, dir: dirOutput, ord: i}
		if i >= outs {
			st.dir, st.ord = dirInput, i-outs
		}
		st.pace = audio.NewPacer(s.clk, st.sync)
		s.streams = append(s.streams, st)
	}
	s.jacks = make([]jack, jacks)
	for i := range s.jacks {
		s.jacks[i].connected = true
	}
	s.chmaps = chmaps
	s.mixer.init(outs)
	return nil
}

// Transport returns the transport the device is attached to (nil before).
func (s *Sound) Transport() Transport { return s.t }

// DeviceID implements Device.
func (s *Sound) DeviceID() uint32 { return SoundDeviceID }

// Features implements Device: VIRTIO_SND_F_CTLS unless NoControls.
func (s *Sound) Features() uint64 {
	if s.NoControls {
		return 0
	}
	return FeatureCtls
}

// ctls reports whether the driver accepted VIRTIO_SND_F_CTLS.
func (s *Sound) ctls() bool { return s.t != nil && s.t.Negotiated()&FeatureCtls != 0 }

// QueueSizes implements Device.
func (s *Sound) QueueSizes() []uint16 {
	return []uint16{SoundQueueSize, SoundQueueSize, SoundQueueSize, SoundQueueSize}
}

// Attach implements Device.
func (s *Sound) Attach(t Transport) { s.t = t }

// config returns the configuration space (5.14.4): jacks, streams, chmaps
// and, with VIRTIO_SND_F_CTLS offered, controls.
func (s *Sound) config() [16]byte {
	var c [16]byte
	put32(c[0:], uint32(len(s.jacks)))
	put32(c[4:], uint32(len(s.streams)))
	put32(c[8:], uint32(s.chmaps))
	if !s.NoControls {
		put32(c[12:], uint32(len(s.mixer.ctls)))
	}
	return c
}

// ReadConfig implements Device.
func (s *Sound) ReadConfig(off uint64, size int) uint64 {
	c := s.config()
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v <<= 8
		if o := off + uint64(i); o < uint64(len(c)) {
			v |= uint64(c[o])
		}
	}
	return v
}

// WriteConfig implements Device: the configuration is read-only.
func (s *Sound) WriteConfig(off uint64, size int, val uint64) {}

// Reset implements Device: every stream back to its initial state, its
// voice closed and its messages dropped.
func (s *Sound) Reset() {
	for _, st := range s.streams {
		st.reset()
	}
	s.events = nil
	s.mixer.reset()
}

// ResetQueue drops the I/O messages of queue qi the streams hold: the
// driver reset that queue alone (VirtIO 1.2 2.6.1: the device returns
// none of its buffers). The streams keep their state.
func (s *Sound) ResetQueue(qi int) {
	for _, st := range s.streams {
		kept := st.pending[:0]
		for _, m := range st.pending {
			if m.q == nil || m.q.Index != qi {
				kept = append(kept, m)
			}
		}
		clear(st.pending[len(kept):])
		st.pending = kept
	}
}

// Close releases the device's voices.
func (s *Sound) Close() { s.Reset() }

func (s *Sound) tracef(format string, args ...any) {
	if s.Trace != nil {
		s.Trace("virtio-snd: "+format, args...)
	}
}

// Notify implements Device.
func (s *Sound) Notify(q int) {
	switch q {
	case QueueControl:
		s.drainControl()
	case QueueEvent:
		// Event buffers stay available until there is an event to
		// report.
		s.deliverEvents()
	case QueueTx, QueueRx:
		s.drainIO(q)
	}
}

// fail puts the device into NEEDS_RESET.
func (s *Sound) fail(err error) {
	s.Errors++
	if s.t != nil {
		s.t.Fail(err)
	}
}

// guestError reports a driver error on the transport's -d guest_errors
// hook (once per key).
func (s *Sound) guestError(key, format string, args ...any) {
	if s.t != nil {
		s.t.GuestError("snd:"+key, "sound: "+format, args...)
	}
}

func (s *Sound) live() bool { return s.t != nil && s.t.Live() }

// drainControl answers every available control request, in order.
func (s *Sound) drainControl() {
	q := s.t.Queue(QueueControl)
	// At most one queue's worth per kick: a driver whose rings overlap
	// could otherwise keep the device busy forever.
	for n := 0; n < int(q.Num) && s.live(); n++ {
		ok, err := q.Pop(&s.chain)
		if err != nil {
			s.fail(err)
			return
		}
		if !ok {
			return
		}
		n := s.control(&s.chain)
		if err := q.Push(s.chain.Head, n); err != nil {
			s.fail(err)
			return
		}
	}
}

// control handles one request chain and returns the bytes written into
// its response. A request too short for its code, or an unknown stream or
// item, is BAD_MSG; an unknown code or an illegal state transition is
// NOT_SUPP (5.14.6.1; the state table is in docs/devices/virtio-sound.md).
func (s *Sound) control(c *Chain) uint32 {
	b := s.t.Bus()
	if c.WLen < hdrSize {
		s.Errors++
		s.tracef("control message without room for a response: dropped")
		s.guestError("ctlnoresp", "control request %d has %d device-writable bytes, no room for the 4-byte virtio_snd_hdr response (VirtIO 1.2 5.14.6.1): dropped", c.Head, c.WLen)
		return 0
	}
	n, err := c.ReadAt(b, s.req[:], 0)
	if err != nil {
		return s.respond(c, sndIOErr, nil)
	}
	req := s.req[:n]
	if n < hdrSize {
		return s.respond(c, sndBadMsg, nil)
	}
	code := le32(req)
	switch code {
	case reqJackInfo, reqPCMInfo, reqChmapInfo:
		return s.info(c, code, req)
	case reqJackRemap:
		// No jack offers VIRTIO_SND_JACK_F_REMAP (5.14.6.4.2).
		if n < 16 {
			return s.respond(c, sndBadMsg, nil)
		}
		if id := le32(req[4:]); id >= uint32(len(s.jacks)) {
			return s.respond(c, sndBadMsg, nil)
		}
		return s.respond(c, sndNotSupp, nil)
	case reqCtlInfo, reqCtlEnumItems, reqCtlRead, reqCtlWrite, reqCtlTLVRead, reqCtlTLVWrite, reqCtlTLVCmd:
		if !s.ctls() {
			break
		}
		if code == reqCtlInfo {
			return s.info(c, code, req)
		}
		return s.ctlRequest(c, code, req)
	case reqPCMSetParams, reqPCMPrepare, reqPCMRelease, reqPCMStart, reqPCMStop:
		if n < pcmHdrSize || code == reqPCMSetParams && n < setParamsSize {
			return s.respond(c, sndBadMsg, nil)
		}
		id := le32(req[4:])
		if id >= uint32(len(s.streams)) {
			s.tracef("%s: no stream %d", reqName(code), id)
			return s.respond(c, sndBadMsg, nil)
		}
		st := s.streams[id]
		status := st.request(code, req)
		s.tracef("%s stream %d -> %s (state %v)", reqName(code), id, statusName(status), st.state)
		return s.respond(c, status, nil)
	}
	s.tracef("unknown request %#x", code)
	s.guestError(fmt.Sprintf("code%#x", code), "control request code %#x answered NOT_SUPP: not a request of the device or of a negotiated feature (VirtIO 1.2 5.14.6.1)", code)
	return s.respond(c, sndNotSupp, nil)
}

// respond writes the status header and payload into the writable part
// (across as many descriptors as the driver gave) and returns the length.
func (s *Sound) respond(c *Chain, status uint32, payload []byte) uint32 {
	if status == sndBadMsg {
		s.Errors++
	}
	s.resp = append(s.resp[:0], 0, 0, 0, 0)
	put32(s.resp, status)
	s.resp = append(s.resp, payload...)
	n, err := c.WriteAt(s.t.Bus(), s.resp, 0)
	if err != nil {
		s.fail(err)
	}
	return uint32(n)
}

// info answers JACK_INFO, PCM_INFO and CHMAP_INFO (5.14.6.1.1): count items
// from start_id, each padded with zeros to the driver's item size.
func (s *Sound) info(c *Chain, code uint32, req []byte) uint32 {
	if len(req) < queryInfoSize {
		return s.respond(c, sndBadMsg, nil)
	}
	start, count, size := le32(req[4:]), le32(req[8:]), le32(req[12:])
	var total uint32
	var item int
	switch code {
	case reqJackInfo:
		total, item = uint32(len(s.jacks)), jackInfoSize
	case reqPCMInfo:
		total, item = uint32(len(s.streams)), pcmInfoSize
	case reqChmapInfo:
		total, item = uint32(s.chmaps), chmapInfoSize
	case reqCtlInfo:
		total, item = uint32(len(s.mixer.ctls)), ctlInfoSize
	}
	switch {
	case uint64(start)+uint64(count) > uint64(total):
		s.tracef("%s %d+%d: only %d items", reqName(code), start, count, total)
		return s.respond(c, sndBadMsg, nil)
	case count > 0 && (size < uint32(item) || size > maxInfoItem):
		s.tracef("%s item size %d, want %d..%d", reqName(code), size, item, maxInfoItem)
		return s.respond(c, sndBadMsg, nil)
	case hdrSize+uint64(count)*uint64(size) > c.WLen:
		s.tracef("%s: response needs %d bytes, buffers hold %d", reqName(code), hdrSize+uint64(count)*uint64(size), c.WLen)
		return s.respond(c, sndBadMsg, nil)
	}
	payload := make([]byte, int(count)*int(size))
	for i := uint32(0); i < count; i++ {
		p := payload[int(i)*int(size):]
		switch code {
		case reqJackInfo:
			s.jackInfo(int(start+i), p)
		case reqPCMInfo:
			s.streams[start+i].pcmInfo(p)
		case reqChmapInfo:
			s.chmapInfo(int(start+i), p)
		case reqCtlInfo:
			s.mixer.ctls[start+i].info(p)
		}
	}
	s.tracef("%s %d+%d", reqName(code), start, count)
	return s.respond(c, sndOK, payload)
}

// drainIO takes every available tx or rx message: each is checked and
// queued on its stream (or answered at once with BAD_MSG), then the
// streams move what data is due.
func (s *Sound) drainIO(qi int) {
	q := s.t.Queue(qi)
	b := s.t.Bus()
	for n := 0; n < int(q.Num) && s.live(); n++ {
		m := &ioMsg{}
		ok, err := q.Pop(&m.Chain)
		if err != nil {
			s.fail(err)
			return
		}
		if !ok {
			break
		}
		if m.WLen < pcmStatusSize {
			// No room for a status: the message cannot be answered
			// properly; return it empty.
			s.Errors++
			s.tracef("I/O message %d without room for a status: returned empty", m.Head)
			s.guestError(fmt.Sprintf("nostatus%d", qi), "queue %d: I/O message %d has %d device-writable bytes, no room for the 8-byte virtio_snd_pcm_status (VirtIO 1.2 5.14.6.8): returned empty", qi, m.Head, m.WLen)
			if err := q.Push(m.Head, 0); err != nil {
				s.fail(err)
			}
			continue
		}
		var hdr [xferSize]byte
		n, err := m.ReadAt(b, hdr[:], 0)
		if err != nil {
			s.fail(err)
			return
		}
		want := uint32(dirOutput)
		if qi == QueueRx {
			want = dirInput
		}
		id := le32(hdr[:])
		if n < xferSize || id >= uint32(len(s.streams)) || s.streams[id].dir != uint8(want) {
			s.tracef("I/O message %d for stream %d on queue %d: BAD_MSG", m.Head, id, qi)
			s.Errors++
			why := "no such stream"
			switch {
			case n < xferSize:
				why = "no 4-byte virtio_snd_pcm_xfer header"
			case id < uint32(len(s.streams)) && qi == QueueTx:
				why = "an input stream on the tx queue"
			case id < uint32(len(s.streams)):
				why = "an output stream on the rx queue"
			}
			s.guestError(fmt.Sprintf("xfer%d", qi), "queue %d: I/O message %d for stream %d answered BAD_MSG: %s (VirtIO 1.2 5.14.6.8)", qi, m.Head, id, why)
			s.completeIO(q, m, sndBadMsg, 0, 0)
			continue
		}
		st := s.streams[id]
		if st.state != statePrepared && st.state != stateStarted && st.state != stateStopped {
			s.tracef("I/O message %d for stream %d in state %v: BAD_MSG", m.Head, id, st.state)
			s.Errors++
			s.guestError(fmt.Sprintf("xferstate%d", id), "queue %d: I/O message %d for stream %d in state %v answered BAD_MSG: the stream must be prepared first (VirtIO 1.2 5.14.6.6.1, 5.14.6.8)", qi, m.Head, id, st.state)
			s.completeIO(q, m, sndBadMsg, 0, 0)
			continue
		}
		m.q = q
		st.pending = append(st.pending, m)
		if s.Trace != nil {
			s.tracef("stream %d: message %d queued (%d bytes readable, %d writable; %d pending)",
				id, m.Head, m.RLen, m.WLen, len(st.pending))
		}
	}
	for _, st := range s.streams {
		if st.state == stateStarted {
			st.sync(s.clk.Now())
		}
	}
}

// completeIO writes the status (at the end of the writable part) and
// returns the message with used length = PCM bytes written + status.
func (s *Sound) completeIO(q *Queue, m *ioMsg, status, latency uint32, pcm uint64) {
	var st [pcmStatusSize]byte
	put32(st[0:], status)
	put32(st[4:], latency)
	if _, err := m.WriteAt(s.t.Bus(), st[:], m.WLen-pcmStatusSize); err != nil {
		s.fail(err)
		return
	}
	if err := q.Push(m.Head, uint32(pcm)+pcmStatusSize); err != nil {
		s.fail(err)
		return
	}
	if s.Trace != nil {
		s.tracef("queue %d: message %d returned: %s, %d PCM bytes, latency %d bytes", q.Index, m.Head, statusName(status), pcm, latency)
	}
}

func reqName(code uint32) string {
	switch code {
	case reqJackInfo:
		return "JACK_INFO"
	case reqJackRemap:
		return "JACK_REMAP"
	case reqPCMInfo:
		return "PCM_INFO"
	case reqPCMSetParams:
		return "PCM_SET_PARAMS"
	case reqPCMPrepare:
		return "PCM_PREPARE"
	case reqPCMRelease:
		return "PCM_RELEASE"
	case reqPCMStart:
		return "PCM_START"
	case reqPCMStop:
		return "PCM_STOP"
	case reqChmapInfo:
		return "CHMAP_INFO"
	case reqCtlInfo:
		return "CTL_INFO"
	case reqCtlEnumItems:
		return "CTL_ENUM_ITEMS"
	case reqCtlRead:
		return "CTL_READ"
	case reqCtlWrite:
		return "CTL_WRITE"
	case reqCtlTLVRead:
		return "CTL_TLV_READ"
	case reqCtlTLVWrite:
		return "CTL_TLV_WRITE"
	case reqCtlTLVCmd:
		return "CTL_TLV_COMMAND"
	}
	return fmt.Sprintf("request %#x", code)
}

func statusName(s uint32) string {
	switch s {
	case sndOK:
		return "OK"
	case sndBadMsg:
		return "BAD_MSG"
	case sndNotSupp:
		return "NOT_SUPP"
	case sndIOErr:
		return "IO_ERR"
	}
	return fmt.Sprintf("%#x", s)
}
