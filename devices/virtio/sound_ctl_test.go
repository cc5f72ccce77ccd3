package virtio

import (
	"bytes"
	"testing"
)

func ctlReq(code, id uint32, vals ...uint32) []byte {
	b := le(code, id)
	if code == reqCtlWrite {
		v := make([]byte, ctlValueSize)
		for i, x := range vals {
			put32(v[4*i:], x)
		}
		b = append(b, v...)
	}
	return b
}

func TestControls(t *testing.T) {
	r := newRig(t)
	r.feat = FeatureCtls
	r.setup(32)
	if n := r.rd(RegConfig + 12); n != 4 {
		t.Fatalf("config controls = %d, want 4", n)
	}
	st, p := r.ctl(le(reqCtlInfo, 0, 4, ctlInfoSize), 4*ctlInfoSize)
	if st != sndOK {
		t.Fatalf("CTL_INFO status %#x", st)
	}
	want := []struct {
		name       string
		typ, count uint32
		max        uint32
	}{
		{"Master Playback Volume", ctlTypeInteger, 2, 63},
		{"Master Playback Switch", ctlTypeBoolean, 1, 1},
		{"PCM Playback Volume", ctlTypeInteger, 2, 31},
		{"PCM Playback Switch", ctlTypeBoolean, 1, 1},
	}
	for i, w := range want {
		it := p[i*ctlInfoSize:]
		name := string(bytes.TrimRight(it[24:68], "\x00"))
		if name != w.name || le32(it[8:]) != w.typ || le32(it[16:]) != w.count || le32(it[76:]) != w.max {
			t.Errorf("control %d: %q type %d count %d max %d, want %+v", i, name, le32(it[8:]), le32(it[16:]), le32(it[76:]), w)
		}
	}
	st, v := r.ctl(ctlReq(reqCtlRead, 0), ctlValueSize)
	if st != sndOK || le32(v) != 63 || le32(v[4:]) != 63 {
		t.Errorf("CTL_READ master: %#x %v", st, v[:8])
	}
	// Play: the voice opens at unity.
	r.mustOK(params(0, 4096, 1024, 2, 5, 7))
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	r.mustOK(pcmReq(reqPCMStart, 0))
	o := r.be.outs[0]
	if o.vol != [2]float64{1, 1} || o.mute {
		t.Errorf("voice volume %v mute %v at unity", o.vol, o.mute)
	}
	// PCM volume 15 of 31 on the left, as AC97's PCM-out register 16<<8.
	r.mustOK(ctlReq(reqCtlWrite, 2, 15, 31))
	wantL := float64(255*(255-255*16/31)/255) / 255
	if o.vol != [2]float64{wantL, 1} {
		t.Errorf("voice volume %v, want [%v 1]", o.vol, wantL)
	}
	r.mustOK(ctlReq(reqCtlWrite, 1, 0))
	if !o.mute {
		t.Errorf("master switch off did not mute")
	}
	if st, _ := r.ctl(ctlReq(reqCtlWrite, 2, 32, 0), 0); st != sndBadMsg {
		t.Errorf("value above max: %#x, want BAD_MSG", st)
	}
	if st, _ := r.ctl(ctlReq(reqCtlRead, 4), ctlValueSize); st != sndBadMsg {
		t.Errorf("control 4: %#x, want BAD_MSG", st)
	}
	st, tlv := r.ctl(ctlReq(reqCtlTLVRead, 0), 16)
	if st != sndOK || le32(tlv) != tlvDBLinear || le32(tlv[4:]) != 8 {
		t.Errorf("TLV read %#x %x", st, tlv)
	}
	if st, _ := r.ctl(ctlReq(reqCtlTLVRead, 1), 16); st != sndNotSupp {
		t.Errorf("TLV of a switch: %#x, want NOT_SUPP", st)
	}
	// A device reset puts the controls back at unity.
	r.setup(32)
	if _, v := r.ctl(ctlReq(reqCtlRead, 2), ctlValueSize); le32(v) != 31 {
		t.Errorf("after reset PCM volume %d, want 31", le32(v))
	}
}

func TestControlsNeedFeature(t *testing.T) {
	r := newRig(t)
	r.setup(32)
	for _, code := range []uint32{reqCtlInfo, reqCtlRead, reqCtlWrite, reqCtlEnumItems, reqCtlTLVRead} {
		if st, _ := r.ctl(le(code, 0, 1, ctlInfoSize), 0); st != sndNotSupp {
			t.Errorf("%s without VIRTIO_SND_F_CTLS: %#x, want NOT_SUPP", reqName(code), st)
		}
	}
}

func (r *rig) events(n int) map[uint16]chain {
	m := map[uint16]chain{}
	for range n {
		c := r.submit(QueueEvent, []buf{{writable: 8}}, true)
		m[c.head] = c
	}
	return m
}

func (r *rig) nextEvents(chains map[uint16]chain) [][2]uint32 {
	var out [][2]uint32
	for _, u := range r.used(QueueEvent, nil) {
		c := chains[u.head]
		code, _ := r.bus.Read32(c.bufs[0])
		data, _ := r.bus.Read32(c.bufs[0] + 4)
		out = append(out, [2]uint32{code, data})
	}
	return out
}

func TestJacks(t *testing.T) {
	r := newRig(t)
	if err := r.snd.SetLayout(2, 2, 3); err != nil {
		t.Fatal(err)
	}
	r.setup(32)
	if r.rd(RegConfig) != 2 || r.rd(RegConfig+8) != 3 {
		t.Errorf("config jacks %d chmaps %d", r.rd(RegConfig), r.rd(RegConfig+8))
	}
	st, p := r.ctl(le(reqJackInfo, 0, 2, 24), 48)
	if st != sndOK || le32(p[8:]) != hdaDefconfHeadphone || le32(p[24+8:]) != hdaDefconfMic || p[16] != 1 || p[24+16] != 1 {
		t.Errorf("JACK_INFO %#x %x", st, p)
	}
	if st, _ := r.ctl(le(reqJackRemap, 0, 1, 0), 0); st != sndNotSupp {
		t.Errorf("JACK_REMAP: %#x, want NOT_SUPP", st)
	}
	st, p = r.ctl(le(reqChmapInfo, 0, 3, 24), 72)
	if st != sndOK || p[4] != dirOutput || p[5] != 2 || p[24+4] != dirOutput || p[24+5] != 1 || p[48+4] != dirInput {
		t.Errorf("CHMAP_INFO %#x %x", st, p)
	}
	// An unplug before any event buffer waits; one after is delivered.
	if err := r.snd.SetJack(0, false); err != nil {
		t.Fatal(err)
	}
	ev := r.events(2)
	if got := r.nextEvents(ev); len(got) != 1 || got[0] != [2]uint32{evtJackDisconnected, 0} {
		t.Errorf("events %x", got)
	}
	r.snd.SetJack(1, false)
	r.snd.SetJack(1, true)
	if got := r.nextEvents(ev); len(got) != 1 || got[0] != [2]uint32{evtJackDisconnected, 1} {
		t.Errorf("events %x", got)
	}
	if _, p := r.ctl(le(reqJackInfo, 0, 2, 24), 48); p[16] != 0 || p[24+16] != 1 {
		t.Errorf("JACK_INFO connected %d %d, want 0 1", p[16], p[24+16])
	}
	if r.snd.SetJack(2, true) == nil {
		t.Errorf("jack 2 of 2 accepted")
	}
}

func TestLayoutStreams(t *testing.T) {
	r := newRig(t)
	if err := r.snd.SetLayout(3, 0, 0); err != nil {
		t.Fatal(err)
	}
	r.setup(32)
	st, p := r.ctl(le(reqPCMInfo, 0, 3, 32), 96)
	if st != sndOK || p[24] != dirOutput || p[32+24] != dirOutput || p[64+24] != dirInput {
		t.Errorf("PCM_INFO %#x dirs %d %d %d", st, p[24], p[32+24], p[64+24])
	}
	if r.snd.streams[1].name() != "virtio-snd.out1" || r.snd.streams[2].name() != "virtio-snd.in" {
		t.Errorf("names %s %s", r.snd.streams[1].name(), r.snd.streams[2].name())
	}
	for _, l := range [][3]int{{0, 0, 0}, {11, 0, 0}, {2, 9, 0}, {2, 0, 19}} {
		if r.snd.SetLayout(l[0], l[1], l[2]) == nil {
			t.Errorf("layout %v accepted", l)
		}
	}
}

// TestXrun: a stream that asked for XRUN events gets one when a tick
// passes with nothing to play, once per underrun, not on the tick that
// consumes the last buffer.
func TestXrun(t *testing.T) {
	r := newRig(t)
	r.setup(32)
	ev := r.events(4)
	req := params(0, 4096, 1024, 2, 5, 7)
	put32(req[16:], pcmFEvtXruns)
	r.mustOK(req)
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	tx := r.submit(QueueTx, []buf{{data: le(0)}, {data: pattern(256, 1)}, {writable: 8}}, true)
	r.mustOK(pcmReq(reqPCMStart, 0))
	for i := 0; ; i++ {
		r.run(1e5)
		if u := r.used(QueueTx, map[uint16]chain{tx.head: tx}); len(u) == 1 {
			break
		}
		if i > 1000 {
			t.Fatalf("tx not returned")
		}
	}
	if got := r.nextEvents(ev); len(got) != 0 {
		t.Errorf("events right after the last buffer: %x", got)
	}
	r.run(50e6)
	if got := r.nextEvents(ev); len(got) != 1 || got[0] != [2]uint32{evtPCMXrun, 0} {
		t.Errorf("events %x, want one XRUN of stream 0", got)
	}
}
