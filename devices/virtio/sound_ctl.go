package virtio

import "fmt"

// Jacks, channel maps, control elements and the event queue of the sound
// device (VirtIO 1.2 5.14.6.2, 5.14.6.4, 5.14.6.7; VirtIO 1.3 5.14.6.10 for
// the controls, which Debian's 6.12 kernel drives in
// sound/virtio/virtio_kctl.c).

// jack is one jack's run-time state; its kind follows from its index.
type jack struct{ connected bool }

// HDA pin configuration defaults and capabilities (Intel High Definition
// Audio spec 1.0a, 7.3.3.31 and 7.3.4.9) that describe the jacks to the
// driver; Linux's virtio_jack.c names and types the ALSA jack from the
// default device field ("Headphone", "Mic").
const (
	// Jack, front, headphone out, 1/8" stereo, green, association 1.
	hdaDefconfHeadphone = 0x0<<30 | 0x02<<24 | 0x2<<20 | 0x1<<16 | 0x4<<12 | 0x1<<4
	// Jack, front, mic in, 1/8" stereo, pink, association 2.
	hdaDefconfMic = 0x0<<30 | 0x02<<24 | 0xa<<20 | 0x1<<16 | 0x9<<12 | 0x2<<4
	// Presence detect, headphone drive, output capable.
	hdaCapsHeadphone = 1<<2 | 1<<3 | 1<<4
	// Presence detect, input capable.
	hdaCapsMic = 1<<2 | 1<<5
)

// jackInfo fills a virtio_snd_jack_info (5.14.6.4.1.1) for jack i: even
// jacks are headphone outputs, odd ones microphone inputs; no jack can be
// remapped (features 0).
func (s *Sound) jackInfo(i int, p []byte) {
	put32(p[0:], 0) // hda_fn_nid: the PCM streams' function
	put32(p[4:], 0)
	if i%2 == 0 {
		put32(p[8:], hdaDefconfHeadphone)
		put32(p[12:], hdaCapsHeadphone)
	} else {
		put32(p[8:], hdaDefconfMic)
		put32(p[12:], hdaCapsMic)
	}
	if s.jacks[i].connected {
		p[16] = 1
	}
}

// Channel positions (5.14.6.7.1.1).
const (
	chmapMono = 2
	chmapFL   = 3
	chmapFR   = 4
)

// chmapInfo fills a virtio_snd_chmap_info (5.14.6.7.1) for map i: the first
// half of the maps (rounded up) describe output, the rest input; in each
// direction they alternate stereo (FL, FR) and mono.
func (s *Sound) chmapInfo(i int, p []byte) {
	outs := (s.chmaps + 1) / 2
	dir, k := uint8(dirOutput), i
	if i >= outs {
		dir, k = dirInput, i-outs
	}
	put32(p[0:], 0)
	p[4] = dir
	if k%2 == 0 {
		p[5], p[6], p[7] = 2, chmapFL, chmapFR
	} else {
		p[5], p[6] = 1, chmapMono
	}
}

// Jacks returns how many jacks the device has.
func (s *Sound) Jacks() int { return len(s.jacks) }

// JackConnected reports jack i's state.
func (s *Sound) JackConnected(i int) bool {
	return i >= 0 && i < len(s.jacks) && s.jacks[i].connected
}

// SetJack plugs (connected) or unplugs jack i, as a user does with a
// cable, and tells the driver with a JACK_CONNECTED or JACK_DISCONNECTED
// event (5.14.6.4). The audio itself is not affected. Call it on the
// emulation goroutine.
func (s *Sound) SetJack(i int, connected bool) error {
	if i < 0 || i >= len(s.jacks) {
		return fmt.Errorf("%s: no jack %d (the device has %d; jacks=N adds them)", s.Name, i, len(s.jacks))
	}
	if s.jacks[i].connected == connected {
		return nil
	}
	s.jacks[i].connected = connected
	code := uint32(evtJackDisconnected)
	if connected {
		code = evtJackConnected
	}
	s.tracef("jack %d connected=%v", i, connected)
	s.event(code, uint32(i))
	return nil
}

// event is one notification waiting for an event queue buffer.
type event struct{ code, data uint32 }

// event queues a notification (5.14.6.2: virtio_snd_event) and delivers
// it if the driver has given the device an event buffer. Events are sent
// only to a running driver; a reset drops the ones not yet delivered.
func (s *Sound) event(code, data uint32) {
	if !s.live() {
		return
	}
	if len(s.events) >= maxEventBacklog {
		s.Errors++
		s.tracef("event %#x dropped: %d events wait for event buffers", code, len(s.events))
		return
	}
	s.events = append(s.events, event{code, data})
	s.deliverEvents()
}

// deliverEvents writes waiting events into the driver's event buffers.
func (s *Sound) deliverEvents() {
	q := s.t.Queue(QueueEvent)
	for len(s.events) > 0 && s.live() {
		ok, err := q.Pop(&s.evChain)
		if err != nil {
			s.fail(err)
			return
		}
		if !ok {
			return
		}
		c := &s.evChain
		if c.WLen < eventSize {
			s.Errors++
			s.tracef("event buffer %d holds %d bytes, want %d: returned empty", c.Head, c.WLen, eventSize)
			if err := q.Push(c.Head, 0); err != nil {
				s.fail(err)
				return
			}
			continue
		}
		e := s.events[0]
		s.events = s.events[1:]
		var b [eventSize]byte
		put32(b[0:], e.code)
		put32(b[4:], e.data)
		if _, err := c.WriteAt(s.t.Bus(), b[:], 0); err != nil {
			s.fail(err)
			return
		}
		if err := q.Push(c.Head, eventSize); err != nil {
			s.fail(err)
			return
		}
	}
}

// Control element types, roles and access bits (5.14.6.10.1).
const (
	ctlTypeBoolean = 0
	ctlTypeInteger = 1

	ctlRoleVolume = 1
	ctlRoleMute   = 2

	ctlAccessRead    = 1 << 0
	ctlAccessWrite   = 1 << 1
	ctlAccessTLVRead = 1 << 4
)

// ALSA's dB-linear TLV (include/uapi/sound/tlv.h: SNDRV_CTL_TLVT_DB_LINEAR,
// SNDRV_CTL_TLVD_DB_GAIN_MUTE): the value scales the amplitude linearly
// from silence to 0 dB, which is what QEMU's AC97 volume rule does.
const (
	tlvDBLinear   = 2
	tlvDBGainMute = -9999999
)

// ctl is one control element. Volumes hold AC97-style steps (max = unity),
// switches 1 (sound on) or 0 (muted).
type ctl struct {
	name  string
	index int
	max   uint32 // 1 for a switch
	vals  []uint32
	reset uint32
}

func (c *ctl) isSwitch() bool { return c.max == 1 }

// info fills a virtio_snd_ctl_info (96 bytes; the value union is 8-byte
// aligned, at offset 72).
func (c *ctl) info(p []byte) {
	put32(p[0:], 0)
	if c.isSwitch() {
		put32(p[4:], ctlRoleMute)
		put32(p[8:], ctlTypeBoolean)
		put32(p[12:], ctlAccessRead|ctlAccessWrite)
	} else {
		put32(p[4:], ctlRoleVolume)
		put32(p[8:], ctlTypeInteger)
		put32(p[12:], ctlAccessRead|ctlAccessWrite|ctlAccessTLVRead)
	}
	put32(p[16:], uint32(len(c.vals)))
	put32(p[20:], uint32(c.index))
	copy(p[24:68], c.name)
	put32(p[72:], 0)
	put32(p[76:], c.max)
	put32(p[80:], 1)
}

// mixer is the playback mixer: AC97's master and PCM-out volume and mute
// (hw/audio/ac97.c: 6-bit master, 5-bit PCM attenuation, one mute bit
// each), the PCM pair once per output stream.
type mixer struct {
	ctls     []*ctl
	master   *ctl
	masterOn *ctl
	pcm      []*ctl // by output stream ordinal
	pcmOn    []*ctl
}

func (m *mixer) init(outs int) {
	*m = mixer{}
	if outs == 0 {
		return
	}
	add := func(name string, index int, max uint32, n int) *ctl {
		c := &ctl{name: name, index: index, max: max, vals: make([]uint32, n), reset: max}
		m.ctls = append(m.ctls, c)
		return c
	}
	m.master = add("Master Playback Volume", 0, 63, 2)
	m.masterOn = add("Master Playback Switch", 0, 1, 1)
	for k := range outs {
		m.pcm = append(m.pcm, add("PCM Playback Volume", k, 31, 2))
		m.pcmOn = append(m.pcmOn, add("PCM Playback Switch", k, 1, 1))
	}
	m.reset()
}

// reset puts every control at unity and sound on.
func (m *mixer) reset() {
	for _, c := range m.ctls {
		for i := range c.vals {
			c.vals[i] = c.reset
		}
	}
}

// acLevel is QEMU's AC97 get_volume for one channel (hw/audio/ac97.c): an
// attenuation field a of width mask gives 255 - 255*a/mask. The control's
// value v is the inverse (max - a), so the top of the range is 255.
func acLevel(v, max uint32) int {
	a := max - min(v, max)
	return 255 - int(255*a/max)
}

// levels combines master and the stream's PCM volume as QEMU's
// update_combined_volume_out does: levels multiply, mutes OR.
func (m *mixer) levels(ord int) (mute bool, l, r int) {
	if m.master == nil || ord >= len(m.pcm) {
		return false, 255, 255
	}
	mute = m.masterOn.vals[0] == 0 || m.pcmOn[ord].vals[0] == 0
	l = acLevel(m.master.vals[0], 63) * acLevel(m.pcm[ord].vals[0], 31) / 255
	r = acLevel(m.master.vals[1], 63) * acLevel(m.pcm[ord].vals[1], 31) / 255
	return mute, l, r
}

// applyVolume passes the mixer to the stream's voice, as AC97 passes its
// codec volume to AUD_set_volume_out: at unity the samples pass bit-exact.
func (st *pcmStream) applyVolume() {
	if st.dir != dirOutput || st.out == nil {
		return
	}
	mute, l, r := st.s.mixer.levels(st.ord)
	st.out.SetVolume(float64(l)/255, float64(r)/255, mute)
}

// ctlRequest answers CTL_ENUM_ITEMS, CTL_READ, CTL_WRITE and the TLV
// requests (5.14.6.10.2-4) once VIRTIO_SND_F_CTLS is negotiated.
func (s *Sound) ctlRequest(ch *Chain, code uint32, req []byte) uint32 {
	if len(req) < 8 {
		return s.respond(ch, sndBadMsg, nil)
	}
	id := le32(req[4:])
	if id >= uint32(len(s.mixer.ctls)) {
		s.tracef("%s: no control %d", reqName(code), id)
		return s.respond(ch, sndBadMsg, nil)
	}
	c := s.mixer.ctls[id]
	switch code {
	case reqCtlEnumItems:
		return s.respond(ch, sndBadMsg, nil) // no enumerated controls
	case reqCtlRead:
		if ch.WLen < hdrSize+ctlValueSize {
			return s.respond(ch, sndBadMsg, nil)
		}
		v := make([]byte, ctlValueSize)
		for i, x := range c.vals {
			put32(v[4*i:], x)
		}
		s.tracef("CTL_READ %s %d -> %v", c.name, c.index, c.vals)
		return s.respond(ch, sndOK, v)
	case reqCtlWrite:
		if len(req) < 8+4*len(c.vals) {
			return s.respond(ch, sndBadMsg, nil)
		}
		vals := make([]uint32, len(c.vals))
		for i := range vals {
			vals[i] = le32(req[8+4*i:])
			if vals[i] > c.max {
				s.tracef("CTL_WRITE %s %d: value %d above %d", c.name, c.index, vals[i], c.max)
				return s.respond(ch, sndBadMsg, nil)
			}
		}
		copy(c.vals, vals)
		s.tracef("CTL_WRITE %s %d <- %v", c.name, c.index, c.vals)
		for _, st := range s.streams {
			st.applyVolume()
		}
		return s.respond(ch, sndOK, nil)
	case reqCtlTLVRead:
		if c.isSwitch() {
			return s.respond(ch, sndNotSupp, nil)
		}
		tlv := make([]byte, 16)
		put32(tlv[0:], tlvDBLinear)
		put32(tlv[4:], 8)
		gain := int32(tlvDBGainMute)
		put32(tlv[8:], uint32(gain))
		put32(tlv[12:], 0)
		if ch.WLen < hdrSize+uint64(len(tlv)) {
			return s.respond(ch, sndBadMsg, nil)
		}
		return s.respond(ch, sndOK, tlv)
	}
	// TLV_WRITE, TLV_COMMAND: no control has those access rights.
	return s.respond(ch, sndNotSupp, nil)
}
