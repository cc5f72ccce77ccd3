package virtio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/bus"
)

// TestRegisters reads the identity and queue registers of a sound slot and
// of an empty slot, as a probing driver does.
func TestRegisters(t *testing.T) {
	r := newRig(t)
	empty := NewMMIO(r.bus, bus.IRQ{}, nil)
	type reg struct {
		name string
		off  uint64
		sel  uint32 // QueueSel / DeviceFeaturesSel written first
	}
	regs := []reg{
		{"magic", RegMagic, 0}, {"version", RegVersion, 0}, {"device", RegDeviceID, 0},
		{"vendor", RegVendorID, 0}, {"features0", RegDeviceFeatures, 0}, {"features1", RegDeviceFeatures, 1},
		{"numMax0", RegQueueNumMax, 0}, {"numMax3", RegQueueNumMax, 3}, {"numMax4", RegQueueNumMax, 4},
		{"ready0", RegQueueReady, 0}, {"status", RegStatus, 0}, {"isr", RegInterruptStatus, 0},
		{"shmLen", RegSHMLenLow, 0}, {"generation", RegConfigGeneration, 0},
		{"jacks", RegConfig, 0}, {"streams", RegConfig + 4, 0}, {"chmaps", RegConfig + 8, 0},
		{"controls", RegConfig + 12, 0},
	}
	read := func(m *MMIO) map[string]uint32 {
		got := map[string]uint32{}
		for _, g := range regs {
			m.Write(RegQueueSel, 4, uint64(g.sel))
			m.Write(RegDeviceFeatSel, 4, uint64(g.sel))
			got[g.name] = uint32(m.Read(g.off, 4))
		}
		return got
	}
	want := map[string]uint32{
		"magic": 0x74726976, "version": 2, "device": 25, "vendor": 0x554d4551,
		"features0": 1<<29 | 1<<28 | 1, "features1": 1<<8 | 1, "numMax0": QueueNumMax, "numMax3": QueueNumMax, "numMax4": 0,
		"ready0": 0, "status": 0, "isr": 0, "shmLen": 0xffffffff, "generation": 0,
		"jacks": 0, "streams": 2, "chmaps": 0, "controls": 4,
	}
	if d := cmp.Diff(want, read(r.m)); d != "" {
		t.Errorf("sound slot (-want +got):\n%s", d)
	}
	wantEmpty := map[string]uint32{"magic": 0x74726976, "version": 2, "vendor": 0x554d4551}
	for _, g := range regs {
		if _, ok := wantEmpty[g.name]; !ok {
			wantEmpty[g.name] = 0
		}
	}
	if d := cmp.Diff(wantEmpty, read(empty)); d != "" {
		t.Errorf("empty slot (-want +got):\n%s", d)
	}
	// Config space takes byte accesses too.
	if v := r.m.Read(RegConfig+4, 1); v != 2 {
		t.Errorf("byte read of streams = %d, want 2", v)
	}
	// Registers ignore accesses that are not 32 bits wide.
	if v := r.m.Read(RegMagic, 2); v != 0 {
		t.Errorf("16-bit read of magic = %#x, want 0", v)
	}
}

// TestFeatureNegotiation: FEATURES_OK is refused when the driver accepts a
// feature that was not offered; a reset clears everything.
func TestFeatureNegotiation(t *testing.T) {
	tests := []struct {
		name     string
		lo, hi   uint32
		accepted bool
	}{
		{"version1", 0, 1, true},
		{"version1+indirect", 1 << 28, 1, true},
		{"none (legacy virtio-drivers)", 0, 0, true},
		{"event idx", 1 << 29, 1, true},
		{"ring reset", 0, 1<<8 | 1, true},
		{"notification data not offered (bit 38)", 0, 1<<6 | 1, false},
		{"sound ctls", 1, 1, true},
		{"sound bit 1 not offered", 2, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.wr(RegStatus, StatusAcknowledge|StatusDriver)
			r.wr(RegDriverFeatSel, 0)
			r.wr(RegDriverFeatures, tc.lo)
			r.wr(RegDriverFeatSel, 1)
			r.wr(RegDriverFeatures, tc.hi)
			r.wr(RegStatus, StatusAcknowledge|StatusDriver|StatusFeaturesOK)
			if got := r.rd(RegStatus)&StatusFeaturesOK != 0; got != tc.accepted {
				t.Errorf("FEATURES_OK = %v, want %v", got, tc.accepted)
			}
			r.wr(RegStatus, 0)
			if s := r.rd(RegStatus); s != 0 || r.m.Negotiated() != 0 {
				t.Errorf("after reset: status %#x, features %#x", s, r.m.Negotiated())
			}
		})
	}
}

func pcmInfoItem(dir uint8) []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint64(b[8:], 1<<3|1<<4|1<<5|1<<6|1<<17|1<<19)
	binary.LittleEndian.PutUint64(b[16:], 1<<14-1)
	binary.LittleEndian.PutUint32(b[4:], 1<<4) // EVT_XRUNS
	b[24], b[25], b[26] = dir, 1, 2
	return b
}

// TestControlRequests sends each control request the way Linux and
// virtio-drivers do and checks status and payload.
func TestControlRequests(t *testing.T) {
	info := func(code, start, count, size uint32) []byte { return le(code, start, count, size) }
	padded := append(pcmInfoItem(1), make([]byte, 8)...)
	tests := []struct {
		name    string
		chmaps  bool
		req     []byte
		extra   uint32
		status  uint32
		payload []byte
	}{
		{"PCM_INFO both", false, info(reqPCMInfo, 0, 2, 32), 64, sndOK, append(pcmInfoItem(0), pcmInfoItem(1)...)},
		{"PCM_INFO stream 1, larger item", false, info(reqPCMInfo, 1, 1, 40), 40, sndOK, padded},
		{"PCM_INFO past the end", false, info(reqPCMInfo, 1, 2, 32), 64, sndBadMsg, make([]byte, 64)},
		{"PCM_INFO item too small", false, info(reqPCMInfo, 0, 1, 16), 16, sndBadMsg, make([]byte, 16)},
		{"PCM_INFO response too small", false, info(reqPCMInfo, 0, 2, 32), 32, sndBadMsg, make([]byte, 32)},
		{"PCM_INFO count 0", false, info(reqPCMInfo, 0, 0, 32), 0, sndOK, nil},
		{"PCM_INFO short request", false, le(reqPCMInfo, 0, 2), 64, sndBadMsg, make([]byte, 64)},
		{"JACK_INFO none (virtio-drivers)", false, info(reqJackInfo, 0, 0, 24), 0, sndOK, nil},
		{"JACK_INFO one", false, info(reqJackInfo, 0, 1, 24), 24, sndBadMsg, make([]byte, 24)},
		{"JACK_REMAP", false, le(reqJackRemap, 0, 0, 0), 0, sndBadMsg, nil},
		{"CHMAP_INFO without chmaps", false, info(reqChmapInfo, 0, 1, 24), 24, sndBadMsg, make([]byte, 24)},
		{"CHMAP_INFO", true, info(reqChmapInfo, 0, 2, 24), 48, sndOK,
			append(append([]byte{0, 0, 0, 0, 0, 2, 3, 4}, make([]byte, 16)...), append([]byte{0, 0, 0, 0, 1, 2, 3, 4}, make([]byte, 16)...)...)},
		{"unknown code", false, le(0x0300, 0), 0, sndNotSupp, nil},
		{"empty request", false, []byte{1, 0}, 0, sndBadMsg, nil},
		{"PREPARE no stream 2", false, pcmReq(reqPCMPrepare, 2), 0, sndBadMsg, nil},
		{"PREPARE short", false, le(reqPCMPrepare), 0, sndBadMsg, nil},
		{"SET_PARAMS short", false, le(reqPCMSetParams, 0, 4096, 1024), 0, sndBadMsg, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if tc.chmaps {
				r.snd.SetLayout(2, 0, 2)
			}
			r.setup(16)
			if got := r.rd(RegConfig + 8); tc.chmaps && got != 2 {
				t.Errorf("config chmaps = %d, want 2", got)
			}
			st, payload := r.ctl(tc.req, tc.extra)
			if st != tc.status {
				t.Errorf("status %#x, want %#x", st, tc.status)
			}
			if d := cmp.Diff(tc.payload, payload); d != "" {
				t.Errorf("payload (-want +got):\n%s", d)
			}
			if r.rd(RegStatus)&StatusNeedsReset != 0 {
				t.Errorf("device needs reset: %v", r.m.Err)
			}
		})
	}
}

// TestControlOneBuffer: virtio-drivers puts the whole response in one
// 4096-byte writable buffer.
func TestControlOneBuffer(t *testing.T) {
	r := newRig(t)
	r.setup(32)
	c := r.submit(QueueControl, []buf{{data: le(reqPCMInfo, 0, 2, 32)}, {writable: 4096}}, true)
	u := r.used(QueueControl, nil)
	if len(u) != 1 || u[0] != (usedElem{c.head, 68}) {
		t.Fatalf("used %+v, want head %d len 68", u, c.head)
	}
	got := make([]byte, 68)
	r.bus.ReadDMA(c.bufs[1], got)
	want := append(le(sndOK), append(pcmInfoItem(0), pcmInfoItem(1)...)...)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
}

// stateReqs are the PCM requests of the lifecycle, by name.
var stateReqs = []struct {
	name string
	code uint32
}{
	{"SET_PARAMS", reqPCMSetParams}, {"PREPARE", reqPCMPrepare}, {"START", reqPCMStart},
	{"STOP", reqPCMStop}, {"RELEASE", reqPCMRelease},
}

// TestStateMachine sends every request in every state and checks the
// status and the state it leaves, against the lifecycle of VirtIO 1.2
// 5.14.6.6.1 written out here (duplicate START/STOP are harmless no-ops).
func TestStateMachine(t *testing.T) {
	// How to reach each state from a fresh device.
	reach := map[string][]uint32{
		"initial":  nil,
		"params":   {reqPCMSetParams},
		"prepared": {reqPCMSetParams, reqPCMPrepare},
		"started":  {reqPCMSetParams, reqPCMPrepare, reqPCMStart},
		"stopped":  {reqPCMSetParams, reqPCMPrepare, reqPCMStart, reqPCMStop},
		"released": {reqPCMSetParams, reqPCMPrepare, reqPCMRelease},
	}
	const ok, no = sndOK, sndNotSupp
	// want[state][request] = status, next state.
	type res struct {
		status uint32
		next   string
	}
	want := map[string]map[string]res{
		"initial":  {"SET_PARAMS": {ok, "params"}, "PREPARE": {no, "initial"}, "START": {no, "initial"}, "STOP": {no, "initial"}, "RELEASE": {no, "initial"}},
		"params":   {"SET_PARAMS": {ok, "params"}, "PREPARE": {ok, "prepared"}, "START": {no, "params"}, "STOP": {no, "params"}, "RELEASE": {no, "params"}},
		"prepared": {"SET_PARAMS": {ok, "params"}, "PREPARE": {ok, "prepared"}, "START": {ok, "started"}, "STOP": {no, "prepared"}, "RELEASE": {ok, "released"}},
		"started":  {"SET_PARAMS": {no, "started"}, "PREPARE": {no, "started"}, "START": {ok, "started"}, "STOP": {ok, "stopped"}, "RELEASE": {no, "started"}},
		"stopped":  {"SET_PARAMS": {no, "stopped"}, "PREPARE": {no, "stopped"}, "START": {ok, "started"}, "STOP": {ok, "stopped"}, "RELEASE": {ok, "released"}},
		"released": {"SET_PARAMS": {ok, "params"}, "PREPARE": {ok, "prepared"}, "START": {no, "released"}, "STOP": {no, "released"}, "RELEASE": {no, "released"}},
	}
	for state, seq := range reach {
		for _, rq := range stateReqs {
			for stream := uint32(0); stream < 2; stream++ {
				t.Run(fmt.Sprintf("%s/%s/stream%d", state, rq.name, stream), func(t *testing.T) {
					r := newRig(t)
					r.setup(16)
					send := func(code uint32) uint32 {
						req := pcmReq(code, stream)
						if code == reqPCMSetParams {
							req = params(stream, 8192, 2048, 2, 5, 7)
						}
						st, _ := r.ctl(req, 0)
						return st
					}
					for _, c := range seq {
						if st := send(c); st != sndOK {
							t.Fatalf("reaching %s: %s -> %#x", state, reqName(c), st)
						}
					}
					w := want[state][rq.name]
					if st := send(rq.code); st != w.status {
						t.Errorf("status %s, want %s", statusName(st), statusName(w.status))
					}
					if got := r.snd.streams[stream].state.String(); got != w.next {
						t.Errorf("state %s, want %s", got, w.next)
					}
					if other := r.snd.streams[1-stream].state; other != stateInitial {
						t.Errorf("the other stream moved to %v", other)
					}
				})
			}
		}
	}
}

// TestSetParams checks parameter validation: malformed -> BAD_MSG,
// unsupported -> NOT_SUPP.
func TestSetParams(t *testing.T) {
	tests := []struct {
		name   string
		req    []byte
		status uint32
	}{
		{"s16 stereo 48k", params(0, 8192, 2048, 2, 5, 7), sndOK},
		{"u8 mono 8k", params(0, 800, 80, 1, 4, 1), sndOK},
		{"s32 stereo 192k", params(1, 76800, 7680, 2, 17, 12), sndOK},
		{"float stereo 44.1k", params(0, 17600, 1760, 2, 19, 6), sndOK},
		{"s8 5512", params(0, 100, 50, 1, 3, 0), sndOK},
		{"u16 22050", params(0, 4000, 400, 2, 6, 4), sndOK},
		{"buffer not a multiple of period", params(0, 8000, 3000, 2, 5, 7), sndBadMsg},
		{"zero period", params(0, 8192, 0, 2, 5, 7), sndBadMsg},
		{"zero buffer", params(0, 0, 2048, 2, 5, 7), sndBadMsg},
		{"period not whole frames", params(0, 8190, 2730, 2, 5, 7), sndBadMsg},
		{"padding set", append(params(0, 8192, 2048, 2, 5, 7)[:23], 1), sndBadMsg},
		{"3 channels", params(0, 6144, 1536, 3, 5, 7), sndNotSupp},
		{"0 channels", params(0, 8192, 2048, 0, 5, 7), sndNotSupp},
		{"mu-law", params(0, 8192, 2048, 2, 1, 7), sndNotSupp},
		{"float64", params(0, 8192, 2048, 2, 20, 7), sndNotSupp},
		{"format 255", params(0, 8192, 2048, 2, 255, 7), sndNotSupp},
		{"rate bit 14 (none)", params(0, 8192, 2048, 2, 5, 14), sndNotSupp},
		{"features set", func() []byte { p := params(0, 8192, 2048, 2, 5, 7); p[16] = 1 << 2; return p }(), sndNotSupp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.setup(16)
			st, _ := r.ctl(tc.req, 0)
			if st != tc.status {
				t.Errorf("status %s, want %s", statusName(st), statusName(tc.status))
			}
			wantState := stateInitial
			if tc.status == sndOK {
				wantState = stateParams
			}
			if got := r.snd.streams[tc.req[4]].state; got != wantState {
				t.Errorf("state %v, want %v", got, wantState)
			}
		})
	}
}

// pattern is n frames of S16 stereo, every sample distinct and non-zero.
func pattern(n, seed int) []byte {
	b := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		l := uint16((i+seed)%32767 + 1)
		binary.LittleEndian.PutUint16(b[4*i:], l)
		binary.LittleEndian.PutUint16(b[4*i+2:], -l)
	}
	return b
}

// TestPlaybackPaced queues periods of a pattern on the tx queue and checks
// that the output got them bit-exact, in order, and that each message came
// back only once its last frame was accepted, no sooner than its frames
// were due.
func TestPlaybackPaced(t *testing.T) {
	for _, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("split=%v", split), func(t *testing.T) {
			r := newRig(t)
			r.setup(64)
			const period = 480 // frames: 10 ms at 48 kHz
			r.mustOK(params(0, 4*period*4, 4*period, 2, 5, 7))
			r.mustOK(pcmReq(reqPCMPrepare, 0))
			pcm := pattern(8*period, 5)
			chains, all := map[uint16]chain{}, map[uint16]chain{}
			queue := func(k int) {
				p := pcm[k*4*period : (k+1)*4*period]
				bufs := []buf{{data: append(le(0), p...)}, {writable: 8}}
				if split { // Linux: header, PCM in pieces, status
					bufs = []buf{{data: le(0)}, {data: p[:1001]}, {data: p[1001:]}, {writable: 8}}
				}
				c := r.submit(QueueTx, bufs, true)
				chains[c.head] = c
				all[c.head] = c
			}
			for k := 0; k < 4; k++ { // pre-buffer before START
				queue(k)
			}
			r.mustOK(pcmReq(reqPCMStart, 0))
			var done []usedElem
			next := 4
			for step := 0; step < 200 && len(done) < 8; step++ {
				r.run(1_000_000)
				for _, u := range r.used(QueueTx, chains) {
					c := all[u.head]
					done = append(done, u)
					// The fake output is never drained: latency_bytes is
					// everything accepted so far.
					if lat, _ := r.bus.Read32(c.bufs[len(c.bufs)-1] + 4); lat != uint32(len(done)*4*period) {
						t.Errorf("message %d: latency_bytes %d, want %d", len(done), lat, len(done)*4*period)
					}
					// Message k is complete only once all its frames are due.
					due := uint64(len(done)) * period * 1e9 / 48000
					if r.now+1 < due {
						t.Errorf("message %d returned at %d ns, its frames are due at %d", len(done), r.now, due)
					}
					if u.len != 8 {
						t.Errorf("used len %d, want 8", u.len)
					}
					if next < 8 {
						queue(next)
						next++
					}
				}
			}
			if len(done) != 8 {
				t.Fatalf("%d of 8 messages returned", len(done))
			}
			if !r.irq.level {
				t.Errorf("no interrupt after returning buffers")
			}
			r.mustOK(pcmReq(reqPCMStop, 0))
			r.mustOK(pcmReq(reqPCMRelease, 0))
			if got := r.be.played(); !bytes.Equal(got, pcm) {
				t.Errorf("output differs: %d bytes, want %d", len(got), len(pcm))
			}
		})
	}
}

// TestPlaybackBackPressure: with a full output the device stops taking
// frames and returns nothing, then resumes where it stopped.
func TestPlaybackBackPressure(t *testing.T) {
	r := newRig(t)
	r.be.outCap = 100
	r.setup(16)
	r.mustOK(params(0, 4096, 1024, 2, 5, 7)) // 256 frames per period
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	pcm := pattern(512, 9)
	chains := map[uint16]chain{}
	for k := 0; k < 2; k++ {
		c := r.submit(QueueTx, []buf{{data: append(le(0), pcm[k*1024:(k+1)*1024]...)}, {writable: 8}}, true)
		chains[c.head] = c
	}
	r.mustOK(pcmReq(reqPCMStart, 0))
	r.run(20_000_000)
	if u := r.used(QueueTx, chains); len(u) != 0 {
		t.Fatalf("returned %d messages while the output holds only 100 frames", len(u))
	}
	o := r.be.outs[0]
	if o.pending != 100 {
		t.Fatalf("output holds %d frames, want 100", o.pending)
	}
	var got []usedElem
	for i := 0; i < 50 && len(got) < 2; i++ {
		o.pending = 0 // the sink drains
		r.run(1_000_000)
		got = append(got, r.used(QueueTx, chains)...)
	}
	if len(got) != 2 || !bytes.Equal(o.data, pcm) {
		t.Fatalf("returned %d, output %d bytes bit-exact=%v", len(got), len(o.data), bytes.Equal(o.data, pcm))
	}
}

// TestReleaseFlushes: pending tx messages come back (status OK) before the
// RELEASE response.
func TestReleaseFlushes(t *testing.T) {
	r := newRig(t)
	r.setup(16)
	r.mustOK(params(0, 4096, 1024, 2, 5, 7))
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	var cs []chain
	for k := 0; k < 3; k++ {
		cs = append(cs, r.submit(QueueTx, []buf{{data: append(le(0), pattern(256, k)...)}, {writable: 8}}, true))
	}
	c := r.submit(QueueControl, []buf{{data: pcmReq(reqPCMRelease, 0)}, {writable: 4}}, true)
	// The control response is already there, so the tx ones must be too.
	if u := r.used(QueueControl, nil); len(u) != 1 || u[0].head != c.head {
		t.Fatalf("RELEASE not answered: %+v", u)
	}
	u := r.used(QueueTx, nil)
	if len(u) != 3 {
		t.Fatalf("%d tx messages returned by RELEASE, want 3", len(u))
	}
	for i, e := range u {
		st, _ := r.bus.Read32(cs[i].bufs[1])
		if e.head != cs[i].head || e.len != 8 || st != sndOK {
			t.Errorf("message %d: %+v status %#x", i, e, st)
		}
	}
	if len(r.be.played()) != 0 {
		t.Errorf("RELEASE played %d bytes of never-started audio", len(r.be.played()))
	}
}

// TestIOBadMessages: wrong stream or direction, missing header, and I/O in
// the wrong state are answered BAD_MSG at once.
func TestIOBadMessages(t *testing.T) {
	tests := []struct {
		name string
		q    int
		bufs []buf
		len  uint32
	}{
		{"tx for the input stream", QueueTx, []buf{{data: le(1, 0)}, {writable: 8}}, 8},
		{"tx for stream 7", QueueTx, []buf{{data: le(7, 0)}, {writable: 8}}, 8},
		{"tx short header", QueueTx, []buf{{data: []byte{0, 0}}, {writable: 8}}, 8},
		{"rx for the output stream", QueueRx, []buf{{data: le(0)}, {writable: 64}}, 8},
		{"tx in state params", QueueTx, []buf{{data: le(0, 0)}, {writable: 8}}, 8},
		{"tx without status room", QueueTx, []buf{{data: le(0, 0)}, {writable: 4}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.setup(16)
			r.mustOK(params(0, 4096, 1024, 2, 5, 7))
			r.mustOK(params(1, 4096, 1024, 2, 5, 7))
			if tc.name != "tx in state params" {
				r.mustOK(pcmReq(reqPCMPrepare, 0))
				r.mustOK(pcmReq(reqPCMPrepare, 1))
			}
			c := r.submit(tc.q, tc.bufs, true)
			u := r.used(tc.q, nil)
			if len(u) != 1 || u[0] != (usedElem{c.head, tc.len}) {
				t.Fatalf("used %+v, want head %d len %d", u, c.head, tc.len)
			}
			if tc.len == 8 {
				last := len(c.bufs) - 1
				st, _ := r.bus.Read32(c.bufs[last] + uint64(tc.bufs[last].writable) - 8)
				if st != sndBadMsg {
					t.Errorf("status %#x, want BAD_MSG", st)
				}
			}
			if r.rd(RegStatus)&StatusNeedsReset != 0 {
				t.Errorf("needs reset: %v", r.m.Err)
			}
		})
	}
}

// TestCaptureFake: rx messages are filled only with produced frames and
// returned full; RELEASE returns a partial one with what it holds, status
// at the end of the writable part.
func TestCaptureFake(t *testing.T) {
	r := newRig(t)
	r.setup(16)
	src := pattern(300, 77)
	r.be.inData = src[:4*250]
	r.mustOK(params(1, 4000, 400, 2, 5, 7)) // 100 frames per period
	r.mustOK(pcmReq(reqPCMPrepare, 1))
	var cs []chain
	for k := 0; k < 3; k++ {
		cs = append(cs, r.submit(QueueRx, []buf{{data: le(1)}, {writable: 400}, {writable: 8}}, true))
	}
	r.mustOK(pcmReq(reqPCMStart, 1))
	r.run(5_000_000)
	u := r.used(QueueRx, nil)
	if len(u) != 2 {
		t.Fatalf("%d rx messages returned with 250 frames produced, want 2", len(u))
	}
	for i, e := range u {
		got := make([]byte, 400)
		r.bus.ReadDMA(cs[i].bufs[1], got)
		st, _ := r.bus.Read32(cs[i].bufs[2])
		if e.len != 408 || st != sndOK || !bytes.Equal(got, src[i*400:(i+1)*400]) {
			t.Errorf("message %d: len %d status %#x data equal %v", i, e.len, st, bytes.Equal(got, src[i*400:(i+1)*400]))
		}
	}
	r.mustOK(pcmReq(reqPCMStop, 1))
	r.mustOK(pcmReq(reqPCMRelease, 1))
	u = r.used(QueueRx, nil)
	if len(u) != 1 || u[0].len != 50*4+8 {
		t.Fatalf("RELEASE returned %+v, want one message of 208 bytes", u)
	}
	got := make([]byte, 200)
	r.bus.ReadDMA(cs[2].bufs[1], got)
	if !bytes.Equal(got, src[800:1000]) {
		t.Errorf("partial message data differs")
	}
	if st, _ := r.bus.Read32(cs[2].bufs[2]); st != sndOK {
		t.Errorf("partial message status %#x", st)
	}
}

// TestPauseResume: STOP keeps the queued messages (Linux's pause), nothing
// moves while stopped, and START resumes exactly where playback stopped.
func TestPauseResume(t *testing.T) {
	r := newRig(t)
	r.setup(16)
	const period = 480
	r.mustOK(params(0, 4*period*4, 4*period, 2, 5, 7))
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	pcm := pattern(4*period, 21)
	for k := 0; k < 4; k++ {
		r.submit(QueueTx, []buf{{data: append(le(0), pcm[k*4*period:(k+1)*4*period]...)}, {writable: 8}}, true)
	}
	r.mustOK(pcmReq(reqPCMStart, 0))
	r.run(15_000_000)
	back := len(r.used(QueueTx, nil))
	r.mustOK(pcmReq(reqPCMStop, 0))
	played := len(r.be.played())
	r.run(50_000_000)
	if n := len(r.be.played()); n != played || len(r.used(QueueTx, nil)) != 0 {
		t.Fatalf("while stopped: output grew %d -> %d bytes or messages came back", played, n)
	}
	if back != 1 || played != 4*720 {
		t.Fatalf("after 15 ms: %d messages back, %d bytes played; want 1 and %d", back, played, 4*720)
	}
	r.mustOK(pcmReq(reqPCMStart, 0))
	r.run(40_000_000)
	if n := len(r.used(QueueTx, nil)); n != 3 {
		t.Errorf("after resuming: %d more messages back, want 3", n)
	}
	if got := r.be.played(); !bytes.Equal(got, pcm) {
		t.Errorf("output across the pause differs (%d bytes, want %d)", len(got), len(pcm))
	}
	if len(r.be.outs) != 2 || !r.be.outs[0].closed {
		t.Errorf("want the voice closed at STOP and reopened at START, got %d voices", len(r.be.outs))
	}
}

// TestSplitFrames: messages whose PCM is not a whole number of frames
// still give a bit-exact stream (the partial frame waits for the next
// message).
func TestSplitFrames(t *testing.T) {
	r := newRig(t)
	r.setup(16)
	r.mustOK(params(0, 8192, 2048, 2, 5, 7))
	r.mustOK(pcmReq(reqPCMPrepare, 0))
	pcm := pattern(1024, 3)
	cuts := []int{0, 1001, 1003, 2048, 4095, 4096}
	for i := 0; i+1 < len(cuts); i++ {
		r.submit(QueueTx, []buf{{data: append(le(0), pcm[cuts[i]:cuts[i+1]]...)}, {writable: 8}}, true)
	}
	r.mustOK(pcmReq(reqPCMStart, 0))
	r.run(30_000_000)
	if n := len(r.used(QueueTx, nil)); n != 5 {
		t.Errorf("%d messages back, want 5", n)
	}
	if got := r.be.played(); !bytes.Equal(got, pcm) {
		t.Errorf("output differs (%d bytes, want %d)", len(got), len(pcm))
	}
}
