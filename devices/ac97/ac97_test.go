package ac97

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/devices/pci"
)

func TestPCIIdentity(t *testing.T) {
	r := newRig(t)
	got := []uint64{r.cfgRead(pci.VendorID, 4), r.cfgRead(pci.Command, 4), r.cfgRead(pci.RevisionID, 4),
		r.cfgRead(pci.SubVendorID, 4), r.cfgRead(pci.InterruptLine, 2)}
	want := []uint64{0x2415_8086, 0x0280_0005, 0x0401_0001, 0x1100_1af4, 0x0100}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("config header (-want +got):\n%s", d)
	}
	// BAR sizes: 1024 and 256 ports.
	r.cfg(pci.BAR0, 4, 0xffff_ffff)
	r.cfg(pci.BAR0+4, 4, 0xffff_ffff)
	if got := []uint64{r.cfgRead(pci.BAR0, 4), r.cfgRead(pci.BAR0+4, 4)}; !cmp.Equal(got, []uint64{0xffff_fc01, 0xffff_ff01}) {
		t.Errorf("BAR masks %#x", got)
	}
}

func TestCodecResetValues(t *testing.T) {
	r := newRig(t)
	want := map[uint64]uint16{
		0x00: 0, 0x02: 0x8000, 0x04: 0, 0x18: 0x8808, 0x1a: 0, 0x1c: 0x8808, 0x26: 0x000f,
		0x28: 0x0809, 0x2a: 0x0009, 0x2c: 0xbb80, 0x2e: 0xbb80, 0x30: 0xbb80, 0x32: 0xbb80,
		0x34: 0xbb80, 0x7c: 0x8384, 0x7e: 0x7600, 0xfe: 0, 0x100: 0xffff,
	}
	got := map[uint64]uint16{}
	for reg := range want {
		got[reg] = r.mixer(reg)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("codec registers (-want +got):\n%s", d)
	}
}

func TestCodecWrites(t *testing.T) {
	tests := []struct {
		name   string
		writes [][2]uint16 // reg, value
		reg    uint64
		want   uint16
	}{
		{"master mask", [][2]uint16{{0x02, 0xffff}}, 0x02, 0xbf3f},
		{"pcm mask", [][2]uint16{{0x18, 0xffff}}, 0x18, 0x9f1f},
		{"record gain round trip (Linux probe)", [][2]uint16{{0x1c, 0x8a05}}, 0x1c, 0x8a05},
		{"record gain mask", [][2]uint16{{0x1c, 0xffff}}, 0x1c, 0x8f0f},
		{"record select", [][2]uint16{{0x1a, 0xffff}}, 0x1a, 0x0707},
		{"powerdown keeps ready bits, drops EAPD", [][2]uint16{{0x26, 0xff00}}, 0x26, 0x7f0f},
		{"vendor id read-only", [][2]uint16{{0x7c, 0}}, 0x7c, 0x8384},
		{"ext id read-only", [][2]uint16{{0x28, 0}}, 0x28, 0x0809},
		{"headphone read-only", [][2]uint16{{0x04, 0x1234}}, 0x04, 0},
		{"VRA rate accepted", [][2]uint16{{0x2c, 44100}}, 0x2c, 44100},
		{"VRA off forces 48k", [][2]uint16{{0x2c, 8000}, {0x2a, 0x0008}}, 0x2c, 48000},
		{"VRA off ignores rate", [][2]uint16{{0x2a, 0}, {0x32, 8000}}, 0x32, 48000},
		{"VRM gates mic rate", [][2]uint16{{0x2a, 1}, {0x34, 8000}}, 0x34, 48000},
		{"continuous rate probe 11000 sticks", [][2]uint16{{0x2c, 11000}}, 0x2c, 11000},
		{"other registers stored", [][2]uint16{{0x3a, 0x1234}}, 0x3a, 0x1234},
		{"reset restores", [][2]uint16{{0x02, 0}, {0x2c, 8000}, {0x00, 1}}, 0x2c, 48000},
		{"reset restores master", [][2]uint16{{0x02, 0}, {0x00, 1}}, 0x02, 0x8000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			for _, w := range tc.writes {
				r.setMixer(uint64(w[0]), w[1])
			}
			if got := r.mixer(tc.reg); got != tc.want {
				t.Errorf("reg %#x = %#04x, want %#04x", tc.reg, got, tc.want)
			}
		})
	}
}

func TestNAMWidthsAndCAS(t *testing.T) {
	r := newRig(t)
	r.setMixer(0x02, 0)
	r.out(namPort+0x02, 1, 0x55) // dropped
	r.out(namPort+0x02, 4, 0x55) // dropped
	got := []uint64{r.in(namPort+0x7c, 1), r.in(namPort+0x7c, 4), uint64(r.mixer(0x02)),
		r.bm(regCAS, 1), r.bm(regCAS, 1)}
	r.mixer(0x7c)
	got = append(got, r.bm(regCAS, 1))
	want := []uint64{0xff, 0xffff_ffff, 0, 0, 1, 0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestNABMRegisters(t *testing.T) {
	r := newRig(t)
	type read struct {
		off  uint64
		size int
	}
	reads := []read{{regGlobSta, 4}, {regGlobSta, 2}, {regGlobSta + 1, 1}, {regGlobCnt, 4},
		{0x16, 2}, {0x14, 4}, {0x18, 4}, {0x10, 4}, {0x3c, 4}}
	got := func() []uint64 {
		var v []uint64
		for _, rd := range reads {
			v = append(v, r.bm(rd.off, rd.size))
		}
		return v
	}
	// QEMU decodes GLOB_STA only as a dword: a word or byte read is all ones.
	if d := cmp.Diff([]uint64{0x100, 0xffff, 0xff, 0, 1, 0x0001_0000, 0, 0, 0xffff_ffff}, got()); d != "" {
		t.Errorf("reset state (-want +got):\n%s", d)
	}
	r.setBM(regGlobCnt, 1, 0x02) // xv6: byte write COLD, dropped as in QEMU
	if v := r.bm(regGlobCnt, 4); v != 0 {
		t.Errorf("GLOB_CNT after a byte write = %#x, want 0 (dropped)", v)
	}
	r.setBM(regGlobCnt, 4, 0x06) // asks for a warm reset: ignored whole (QEMU)
	r.setBM(regGlobCnt, 4, 0x30)
	r.setBM(regGlobSta, 4, 0x3_0000)
	r.setBM(0x10, 4, 0x8000_1237)
	r.setBM(0x15, 1, 0x25) // LVI mod 32
	r.setBM(0x1b, 1, 0x1c) // CR without RPBM
	want := []uint64{0x3_0100, 0xffff, 0xff, 0x30, 1, 0x0001_0500, 0x1c00_0000, 0x8000_1234, 0xffff_ffff}
	if d := cmp.Diff(want, got()); d != "" {
		t.Errorf("after writes (-want +got):\n%s", d)
	}
	// RR: registers cleared, interrupt enables kept, RR reads 0.
	r.setBM(0x1b, 1, crRR)
	if d := cmp.Diff([]uint64{0, 0x0001_0000, 0x1c00_0000}, []uint64{r.bm(0x10, 4), r.bm(0x14, 4), r.bm(0x18, 4)}); d != "" {
		t.Errorf("after RR (-want +got):\n%s", d)
	}
	// A dword write at B+08 is not decoded by QEMU: CR keeps its value.
	r.setBM(0x18, 4, 0x1000_0000)
	if v := r.bm(0x1b, 1); v != 0x1c {
		t.Errorf("CR after dword write at +8 = %#x, want 0x1c (dropped)", v)
	}
}

// TestNABMWidths checks every register at every width against QEMU's
// decoding (hw/audio/ac97.c nabm_readb/readw/readl): undecoded widths read
// all ones and have no side effect.
func TestNABMWidths(t *testing.T) {
	r := newRig(t)
	r.setBM(0x10, 4, 0x1234_5678)
	r.setBM(0x15, 1, 7)
	r.setBM(0x16, 2, 0xff00) // bits above the five defined ones are stored
	tests := []struct {
		off  uint64
		size int
		want uint64
	}{
		{0x10, 1, 0xff}, {0x10, 2, 0xffff}, {0x10, 4, 0x1234_5678},
		{0x14, 1, 0}, {0x14, 2, 0xffff}, {0x14, 4, 0xff01_0700},
		// misaligned: byte accesses (measured on QEMU 7.2)
		{0x15, 1, 7}, {0x15, 2, 0x0107}, {0x15, 4, 0xffff_0107},
		{0x16, 1, 0x01}, {0x16, 2, 0xff01}, {0x16, 4, 0xffff_ff01},
		{0x17, 1, 0xff},
		{0x18, 1, 0xff}, {0x18, 2, 0}, {0x18, 4, 0},
		{0x1a, 1, 0}, {0x1a, 2, 0xffff}, {0x1a, 4, 0xffff_0000},
		{0x1b, 1, 0}, {0x1b, 2, 0xff00},
		{regGlobCnt, 1, 0xff}, {regGlobCnt, 2, 0xffff}, {regGlobCnt, 4, 0},
		{regGlobSta, 1, 0xff}, {regGlobSta, 2, 0xffff}, {regGlobSta, 4, 0x100},
		{regCAS, 2, 0xffff}, {regCAS, 4, 0xffff_ffff},
		{0x40, 1, 0xff}, {0xfc, 4, 0xffff_ffff},
	}
	for _, tc := range tests {
		if got := r.bm(tc.off, tc.size); got != tc.want {
			t.Errorf("read %#x/%d = %#x, want %#x", tc.off, tc.size, got, tc.want)
		}
	}
	if v := r.bm(regCAS, 1); v != 0 {
		t.Errorf("CAS = %d after undecoded reads, want 0", v)
	}
}

// playList plays frames through PO as BDs of the given sample lengths with
// IOC on each, returning the device output and the pattern played.
func TestPlaybackBitExact(t *testing.T) {
	for _, rate := range []int{48000, 44100, 8000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			r := newRig(t)
			r.unmute()
			r.setMixer(regFrontDACRate, uint16(rate))
			const list, buf = ramBase + 0x1000, ramBase + 0x10000
			lens := []uint16{960, 2, 7, 1, 3000, 0, 962}
			total := 0
			for _, l := range lens {
				total += int(l)
			}
			// The pattern is one sample stream cut into the descriptors'
			// buffers; each buffer starts 8-byte aligned (QEMU ignores
			// address bits 1:0), so odd sample counts split frames.
			pcm := pattern(1, total/2)
			a, k := uint32(buf), 0
			for i, l := range lens {
				r.bus.WriteDMA(uint64(a), pcm[k:k+2*int(l)])
				r.bd(list, i, a, l, bdIOC)
				k += 2 * int(l)
				a += (uint32(l)*2 + 7) &^ 7
			}
			r.setBM(0x10, 4, list)
			r.setBM(0x15, 1, uint64(len(lens)-1))
			r.setBM(0x1b, 1, crRPBM|crIOCE|crLVBIE)
			out := r.be.out()
			if out.spec.Freq != rate {
				t.Fatalf("voice opened at %d Hz", out.spec.Freq)
			}
			// 10 ms of playing moves 10 ms of frames (one 1 ms tick of slack).
			r.run(10_000_000)
			if n, want := len(out.data)/4, rate/100; n < want-rate/1000 || n > want {
				t.Errorf("after 10 ms: %d frames, want about %d", n, want)
			}
			for i := 0; i < 200 && r.bm(0x16, 2)&srDCH == 0; i++ {
				r.run(10_000_000)
				r.setBM(0x16, 2, srBCIS) // acknowledge like a driver
			}
			// The halted engine (RPBM still set) then feeds zeros (BUP clear).
			if len(out.data) < len(pcm) || !bytes.Equal(out.data[:len(pcm)], pcm) {
				t.Fatalf("played PCM differs at byte %d", firstDiff(pcm, out.data))
			}
			if tail := out.data[len(pcm):]; len(tail) == 0 || !bytes.Equal(tail, make([]byte, len(tail))) {
				t.Errorf("underrun fill after the last buffer: %d bytes, not all zero", len(tail))
			}
			sr := r.bm(0x16, 2)
			if sr != srDCH|srCELV|srLVBCI {
				t.Errorf("SR at end = %#x", sr)
			}
			if !r.plic.level[33] || r.bm(regGlobSta, 4)&gsPOINT == 0 {
				t.Error("LVBCI interrupt not raised on PLIC 33 / GLOB_STA.POINT")
			}
			r.setBM(0x16, 1, srLVBCI)
			if r.plic.level[33] || r.bm(regGlobSta, 4)&gsPOINT != 0 {
				t.Error("interrupt still pending after W1C")
			}
			r.setBM(0x1b, 1, 0)
			if out.active {
				t.Error("output still active after CR=0")
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestPositionAdvancesSmoothly(t *testing.T) {
	r := newRig(t)
	const list, buf = ramBase + 0x1000, ramBase + 0x10000
	r.bd(list, 0, buf, 48000, 0) // 0.5 s
	r.setBM(0x10, 4, list)
	r.setBM(0x1b, 1, crRPBM)
	var picb []uint64
	for i := 0; i < 5; i++ {
		r.ns += 250_000 // a quarter tick: reads bring the engine up to date
		picb = append(picb, r.bm(0x18, 2))
	}
	want := []uint64{48000 - 24, 48000 - 48, 48000 - 72, 48000 - 96, 48000 - 120}
	if d := cmp.Diff(want, picb); d != "" {
		t.Errorf("PICB every 250 us (-want +got):\n%s", d)
	}
}

func TestBackPressure(t *testing.T) {
	r := newRig(t)
	r.be.outCap = 100
	r.setMixer(regFrontDACRate, 44100) // a new rate opens a new voice...
	r.setMixer(regFrontDACRate, 48000) // ...with the small ring
	const list, buf = ramBase + 0x1000, ramBase + 0x10000
	r.bd(list, 0, buf, 4000, 0)
	r.setBM(0x10, 4, list)
	r.setBM(0x1b, 1, crRPBM)
	r.run(20_000_000)
	if got := r.bm(0x18, 2); got != 4000-200 {
		t.Errorf("PICB = %d with a full 100-frame output, want %d", got, 4000-200)
	}
	out := r.be.out()
	out.pending = 0 // the sink drains
	r.run(1_000_000)
	if got := r.bm(0x18, 2); got != 4000-400 {
		t.Errorf("PICB = %d after the sink drained, want %d", got, 4000-400)
	}
}

func TestCaptureNoStaleFrames(t *testing.T) {
	for _, ch := range []struct {
		name  string
		base  uint64
		voice string
		rate  uint64
	}{{"PCM in", 0x00, "ac97.pi", regLRADCRate}, {"MIC in", 0x20, "ac97.mc", regMicADCRate}} {
		t.Run(ch.name, func(t *testing.T) {
			r := newRig(t)
			r.setMixer(regRecordGain, 0x0f0f) // unity gain
			r.setMixer(ch.rate, 8000)
			const list, buf = ramBase + 0x1000, ramBase + 0x10000
			for i := 0; i < 4; i++ {
				r.bd(list, i, uint32(buf+uint64(i)*400), 200, bdIOC)
			}
			r.setBM(ch.base, 4, list)
			r.setBM(ch.base+5, 1, 3)
			r.setBM(ch.base+0xb, 1, crRPBM|crIOCE)
			in := r.be.in(ch.voice)
			if in.spec.Freq != 8000 || !in.active {
				t.Fatalf("input voice %v active=%v", in.spec, in.active)
			}
			r.run(50_000_000)
			if got := r.bm(ch.base+8, 2); got != 200 {
				t.Fatalf("PICB moved to %d with no captured data", got)
			}
			src := pattern(7, 400)
			in.avail = append(in.avail, src[:1000]...)
			r.run(50_000_000)
			in.avail = append(in.avail, src[1000:]...)
			for i := 0; i < 100 && r.bm(ch.base+6, 2)&srDCH == 0; i++ {
				r.run(10_000_000)
			}
			got := make([]byte, len(src))
			r.bus.ReadDMA(buf, got)
			if !bytes.Equal(got, src) {
				t.Fatalf("recorded PCM differs at byte %d", firstDiff(src, got))
			}
		})
	}
}

// qemuGain is QEMU's integer volume path step by step (audio/mixeng.c
// conv, mixeng_volume, clip; audio.c audio_set_volume_out).
func qemuGain(s int16, level uint8) int16 {
	x := int64(s) << 16
	vol := int64((uint64(1) << 32) * uint64(level) / 255)
	x = x * vol >> 32
	if x >= 0x7fffffff {
		return 32767
	}
	return int16(x >> 16)
}

func TestApplyGainMatchesQEMU(t *testing.T) {
	for _, level := range []uint8{0, 1, 65, 127, 190, 254, 255} {
		p := make([]byte, 4*65536)
		for i := 0; i < 65536; i++ {
			s := uint16(i)
			p[4*i], p[4*i+1], p[4*i+2], p[4*i+3] = byte(s), byte(s>>8), byte(s), byte(s>>8)
		}
		applyGain(p, voiceVolume{l: level, r: 255})
		for i := 0; i < 65536; i++ {
			l := int16(uint16(p[4*i]) | uint16(p[4*i+1])<<8)
			r := int16(uint16(p[4*i+2]) | uint16(p[4*i+3])<<8)
			if want := qemuGain(int16(i), level); l != want || r != int16(i) {
				t.Fatalf("level %d sample %d: got %d,%d want %d,%d", level, int16(i), l, r, want, int16(i))
			}
		}
	}
}

// playOne plays one 960-frame buffer through PO after the given codec
// writes and returns what the voice received.
func playOne(t *testing.T, r *rig, writes [][2]uint16) (played, pcm []byte) {
	t.Helper()
	for _, w := range writes {
		r.setMixer(uint64(w[0]), w[1])
	}
	const list, buf = ramBase + 0x1000, ramBase + 0x10000
	pcm = pattern(3, 960)
	r.bus.WriteDMA(buf, pcm)
	r.bd(list, 0, buf, 2*960, 0)
	r.setBM(0x10, 4, list)
	r.setBM(0x15, 1, 0)
	r.setBM(0x1b, 1, crRPBM)
	rate := int(r.mixer(regFrontDACRate))
	r.run(uint64(960*1e9/rate) + 2_000_000)
	out := r.be.out()
	if len(out.data) < len(pcm) {
		t.Fatalf("played %d bytes, want %d", len(out.data), len(pcm))
	}
	return out.data[:len(pcm)], pcm
}

func gainedCopy(p []byte, v voiceVolume) []byte {
	g := append([]byte(nil), p...)
	applyGain(g, v)
	return g
}

// TestVoiceVolumeRule checks QEMU 7.2's rule for the volume a voice plays
// at (voice.go): registers reach an open voice; a rate change re-opens it
// at unity; re-opening at the same rate keeps it.
func TestVoiceVolumeRule(t *testing.T) {
	reset := voiceVolume{mute: true, l: 190, r: 190}
	tests := []struct {
		name   string
		writes [][2]uint16
		want   voiceVolume
		warn   string
	}{
		{"power-on: registers applied (muted)", nil, reset, ""},
		{"unmuted at -6 dB", [][2]uint16{{0x02, 0}, {0x18, 0x0808}}, voiceVolume{l: 190, r: 190}, ""},
		{"xv6: mute then 44.1 kHz plays at unity", [][2]uint16{{0x02, 0x8000}, {0x2c, 44100}}, unityVolume,
			"FRONT_DAC_RATE written (44100 Hz) with VRA never enabled by the guest; QEMU and gemu accept it (VRA is on at reset), real hardware keeps 48000"},
		{"xv6: mute then 48 kHz stays muted", [][2]uint16{{0x02, 0x8000}, {0x2c, 48000}}, voiceVolume{mute: true, l: 190, r: 190}, ""},
		{"volume write after the rate change applies", [][2]uint16{{0x2c, 44100}, {0x02, 0x0000}, {0x18, 0x0808}}, voiceVolume{l: 190, r: 190}, ""},
		{"master left fully attenuated", [][2]uint16{{0x02, 0x3f00}, {0x18, 0}}, voiceVolume{l: 0, r: 255}, ""},
		{"VRA set by the guest: no warning", [][2]uint16{{0x2a, 1}, {0x2c, 44100}, {0x02, 0}, {0x18, 0x0101}}, voiceVolume{l: 247, r: 247}, ""},
		{"EXT_CTRL without VRA re-opens a 44.1 kHz voice at 48 kHz, unity", [][2]uint16{{0x2c, 44100}, {0x02, 0x8000}, {0x2a, 0}}, unityVolume, ""},
		{"codec reset at 48 kHz keeps the voice (muted)", [][2]uint16{{0x02, 0}, {0x18, 0}, {0x00, 0}}, reset, ""},
		{"codec reset from 44.1 kHz re-opens at unity", [][2]uint16{{0x2c, 44100}, {0x00, 0}}, unityVolume, ""},
		{"rate 0 closes, a rate re-opens at unity", [][2]uint16{{0x2c, 0}, {0x02, 0x8000}, {0x2c, 48000}}, unityVolume, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var lines []string
			r.d.GuestError = func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }
			played, pcm := playOne(t, r, tc.writes)
			if want := gainedCopy(pcm, tc.want); !bytes.Equal(want, played) {
				t.Errorf("played samples differ from volume %+v at byte %d", tc.want, firstDiff(want, played))
			}
			if tc.warn != "" && (len(lines) == 0 || lines[0] != tc.warn) {
				t.Errorf("guest_errors %q, want first %q", lines, tc.warn)
			}
		})
	}
}

// TestGuestErrorsOnce: each departure is reported once per run.
func TestGuestErrorsOnce(t *testing.T) {
	r := newRig(t)
	var lines []string
	r.d.GuestError = func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }
	for i := 0; i < 3; i++ {
		r.setMixer(regMasterVol, 0x8000)
		r.setMixer(regFrontDACRate, 44100)
		r.setMixer(regFrontDACRate, 48000)
		r.bm(regGlobSta, 2)
		r.setBM(regGlobCnt, 1, 2)
	}
	want := []string{
		"FRONT_DAC_RATE written (44100 Hz) with VRA never enabled by the guest; QEMU and gemu accept it (VRA is on at reset), real hardware keeps 48000",
		"ac97.po voice re-opened at 44100 Hz by a rate change: QEMU and gemu reset its volume to unity (the MASTER_VOL/PCM_OUT_VOL register no longer applies until written again); real hardware keeps the volume",
		"2-byte read of GLOB_STA returns all ones in QEMU and gemu (QEMU decodes only some widths per bus-master register); real hardware accepts any width",
	}
	if d := cmp.Diff(want, lines); d != "" {
		t.Errorf("guest_errors (-want +got):\n%s", d)
	}
}

// TestGuestErrorMuted: starting PCM out with Master or PCM out muted is
// reported once, with what QEMU and gemu do (QEMU's voice rule); an
// unmuted start is not.
func TestGuestErrorMuted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes [][2]uint16
		want   []string
	}{
		{"muted, 48 kHz", [][2]uint16{{0x02, 0x8000}, {0x2c, 48000}}, []string{
			"PCM out started (PO_CR.RPBM) with MASTER_VOL = 0x8000 and PCM_OUT_VOL = 0x8808 muted (bit 15): a real codec plays silence until the driver clears the mute bit (AC'97 2.3 section 5.7, Master Volume index 02h, PCM Out Volume index 18h); QEMU and gemu play silence too"}},
		{"PCM out left at its muted reset value", [][2]uint16{{0x02, 0}}, []string{
			"PCM out started (PO_CR.RPBM) with PCM_OUT_VOL = 0x8808 muted (bit 15): a real codec plays silence until the driver clears the mute bit (AC'97 2.3 section 5.7, Master Volume index 02h, PCM Out Volume index 18h); QEMU and gemu play silence too"}},
		{"muted, 44.1 kHz", [][2]uint16{{0x02, 0x8000}, {0x18, 0x8808}, {0x2c, 44100}}, []string{
			"FRONT_DAC_RATE written (44100 Hz) with VRA never enabled by the guest; QEMU and gemu accept it (VRA is on at reset), real hardware keeps 48000",
			"ac97.po voice re-opened at 44100 Hz by a rate change: QEMU and gemu reset its volume to unity (the MASTER_VOL/PCM_OUT_VOL register no longer applies until written again); real hardware keeps the volume",
			"PCM out started (PO_CR.RPBM) with MASTER_VOL = 0x8000 and PCM_OUT_VOL = 0x8808 muted (bit 15): a real codec plays silence until the driver clears the mute bit (AC'97 2.3 section 5.7, Master Volume index 02h, PCM Out Volume index 18h); QEMU and gemu play it anyway, because a rate change re-opened the voice at unity volume"}},
		{"unmuted", [][2]uint16{{0x02, 0}, {0x18, 0x0808}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var lines []string
			r.d.GuestError = func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }
			playOne(t, r, tc.writes)
			playOne(t, r, nil) // a second start: reported once
			if d := cmp.Diff(tc.want, lines); d != "" {
				t.Errorf("guest_errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestDMAFaults(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *rig)
	}{
		{"BD list outside RAM", func(r *rig) { r.setBM(0x10, 4, 0x1000) }},
		{"buffer outside RAM", func(r *rig) {
			r.bd(ramBase, 0, 0x7fff_fff0, 100, 0)
			r.setBM(0x10, 4, ramBase)
		}},
		{"buffer runs off the end of RAM", func(r *rig) {
			r.bd(ramBase, 0, ramBase+ramSize-8, 0xffff, 0)
			r.setBM(0x10, 4, ramBase)
		}},
		{"bus mastering off", func(r *rig) {
			r.bd(ramBase, 0, ramBase+0x1000, 100, 0)
			r.setBM(0x10, 4, ramBase)
			r.cfg(pci.Command, 2, pci.CmdIO)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			tc.setup(r)
			r.setBM(0x1b, 1, crRPBM|crFEIE)
			r.run(10_000_000)
			if sr := r.bm(0x16, 2); sr&(srFIFOE|srDCH) != srFIFOE|srDCH {
				t.Errorf("SR = %#x, want FIFOE and DCH", sr)
			}
			if !r.d.IRQ() {
				t.Error("FIFOE with FEIE did not interrupt")
			}
			// Reset recovers the channel.
			r.cfg(pci.Command, 2, pci.CmdIO|pci.CmdBusMaster)
			r.setBM(0x1b, 1, crRR)
			if sr := r.bm(0x16, 2); sr != srDCH || r.d.IRQ() {
				t.Errorf("after RR: SR = %#x irq=%v", sr, r.d.IRQ())
			}
			checkPlaysAfterReset(t, r)
		})
	}
}

// checkPlaysAfterReset plays one small buffer and checks it arrives intact.
func checkPlaysAfterReset(t *testing.T, r *rig) {
	t.Helper()
	r.unmute()
	const list, buf = ramBase + 0x2000, ramBase + 0x20000
	pcm := pattern(99, 64)
	r.bus.WriteDMA(buf, pcm)
	r.bd(list, 0, buf, 128, 0)
	r.setBM(0x10, 4, list)
	r.setBM(0x1b, 1, crRPBM)
	start := len(r.be.out().data)
	r.run(5_000_000)
	got := r.be.out().data[start:]
	// After the buffer, the halted engine fills with zeros.
	if len(got) < len(pcm) || !bytes.Equal(got[:len(pcm)], pcm) {
		t.Errorf("after reset played %d bytes, first difference at %d", len(got), firstDiff(pcm, got))
	}
}

func TestLVIRestartAndUnderrunFill(t *testing.T) {
	r := newRig(t)
	r.unmute()
	const list, buf = ramBase + 0x1000, ramBase + 0x10000
	pcm := pattern(1, 96)
	r.bus.WriteDMA(buf, pcm)
	r.bd(list, 0, buf, 96, bdBUP) // 48 frames each
	r.bd(list, 1, buf+192, 96, 0)
	r.setBM(0x10, 4, list)
	r.setBM(0x1b, 1, crRPBM)
	r.run(2_000_000)
	out := r.be.out()
	if sr := r.bm(0x16, 2); sr&srDCH == 0 {
		t.Fatalf("not halted at LVI 0: SR %#x", sr)
	}
	// Halted with RPBM: BUP repeats the last frame.
	n := len(out.data)
	r.run(1_000_000)
	fill := out.data[n:]
	if len(fill) == 0 || !bytes.Equal(fill[:4], pcm[188:192]) {
		t.Errorf("underrun fill % x, want repeats of % x", fill[:min(8, len(fill))], pcm[188:192])
	}
	// Writing LVI resumes with BD 1.
	r.setBM(0x15, 1, 1)
	if civ := r.bm(0x14, 1); civ != 1 {
		t.Errorf("CIV after LVI restart = %d", civ)
	}
	n = len(out.data)
	r.run(3_000_000)
	if !bytes.Equal(out.data[n:n+192], pcm[192:]) {
		t.Error("BD 1 not played after LVI restart")
	}
}

func TestZeroLengthAndLoopingLists(t *testing.T) {
	r := newRig(t)
	// All 32 descriptors empty, LVI never reached by a completion.
	r.setBM(0x10, 4, ramBase)
	r.setBM(0x15, 1, 31)
	r.setBM(0x1b, 1, crRPBM|crIOCE|crLVBIE)
	r.run(100_000_000)
	if sr := r.bm(0x16, 2); sr&srDCH == 0 || sr&(srBCIS|srLVBCI) != 0 {
		t.Errorf("empty list: SR = %#x, want halted without interrupts", sr)
	}
	if civ := r.bm(0x14, 1); civ != 31 {
		t.Errorf("CIV = %d, want 31", civ)
	}
}

func TestRateChangeAndInvalidRate(t *testing.T) {
	r := newRig(t)
	r.setMixer(regFrontDACRate, 0)
	const list = ramBase + 0x1000
	for i := 0; i < 32; i++ {
		r.bd(list, i, ramBase+0x10000, 10000, 0)
	}
	r.setBM(0x10, 4, list)
	r.setBM(0x15, 1, 31)
	r.setBM(0x1b, 1, crRPBM)
	r.run(10_000_000)
	if picb := r.bm(0x18, 2); picb != 10000 || len(r.be.outs) != 0 {
		t.Errorf("rate 0: PICB %d, %d voices opened; want no transfer, no voice", picb, len(r.be.outs))
	}
	// A valid rate while running: the voice stops (QEMU reinitialises it)
	// until the guest writes CR again, then opens at the new rate.
	r.setMixer(regFrontDACRate, 22050)
	r.setBM(0x1b, 1, crRPBM)
	r.run(10_000_000)
	o := r.be.out()
	if o.spec.Freq != 22050 || len(o.data)/4 != 220 {
		t.Errorf("voice at %d Hz moved %d frames in 10 ms, want 22050 Hz, 220", o.spec.Freq, len(o.data)/4)
	}
	r.setMixer(regFrontDACRate, 8000)
	if !o.closed {
		t.Error("rate change did not stop the running voice")
	}
	picb := r.bm(0x18, 2)
	r.run(10_000_000)
	if r.bm(0x18, 2) != picb {
		t.Error("DMA moved after a rate change without a restart")
	}
}

func BenchmarkPlayback48k(b *testing.B) {
	r := newRig(b)
	r.unmute()
	const list, buf = ramBase + 0x1000, ramBase + 0x10000
	for i := 0; i < 32; i++ {
		r.bd(list, i, uint32(buf+uint64(i)*8192), 4096, bdIOC)
	}
	r.setBM(0x10, 4, list)
	r.setBM(0x15, 1, 31)
	r.setBM(0x1b, 1, crRPBM)
	out := r.be.out()
	moved := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// One second of audio per iteration; the sink drains as it goes and
		// the guest keeps LVI 31 descriptors ahead.
		for ms := 0; ms < 1000; ms++ {
			r.run(1_000_000)
			moved += out.pending
			out.pending = 0
			out.data = out.data[:0]
			r.setBM(0x15, 1, (r.bm(0x14, 1)+31)%32)
		}
	}
	b.StopTimer()
	if moved != 48000*b.N {
		b.Fatalf("moved %d frames in %d s of audio", moved, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/s-of-audio")
}

// TestXV6Sequence follows xv6-mp3's kernel/ac97.c (OS2022-MP3/xv6-mp3):
// 16-bit GLOB_STA poll, a byte write to GLOB_CNT, the DAC rate written
// without touching VRA, 32 descriptors of 0x1000 samples with IOC, LVI 31,
// CR = RPBM|LVBIE only; on the LVBCI interrupt a 16-bit SR read and
// write-back, then CR = 0x05 again, which must restart at descriptor 0.
func TestXV6Sequence(t *testing.T) {
	r := newRig(t)
	r.setBM(regGlobCnt, 1, 0x02)
	if r.bm(regGlobSta, 2)&0x100 == 0 {
		t.Fatal("16-bit GLOB_STA read lacks codec ready")
	}
	r.setMixer(regMasterVol, 0x8000)
	if r.mixer(regMasterVol) != 0x8000 {
		t.Fatal("master volume does not hold 0x8000")
	}
	r.setMixer(regMasterVol, 0)
	r.setMixer(regPCMOutVol, 0)
	r.setBM(0x1b, 1, 0)
	r.setMixer(regFrontDACRate, 44100)
	r.setMixer(regSurrDACRate, 44100)
	r.setMixer(regLFEDACRate, 44100)
	const list, buf = ramBase + 0x1000, ramBase + 0x10000
	round := func(seed int) []byte {
		pcm := pattern(seed, 32*0x800)
		r.bus.WriteDMA(buf, pcm)
		for i := 0; i < 32; i++ {
			r.bd(list, i, uint32(buf+uint64(i)*0x2000), 0x1000, bdIOC)
		}
		return pcm
	}
	first := round(1)
	r.setBM(0x10, 4, list)
	r.setBM(0x15, 1, 0x1f)
	r.setBM(0x1b, 1, 0x05)
	out := r.be.out()
	for i := 0; i < 3000 && !r.plic.level[33]; i++ {
		r.run(1_000_000)
	}
	if !r.plic.level[33] {
		t.Fatal("no LVBCI interrupt after 32 buffers")
	}
	sr := r.bm(0x16, 2)
	r.setBM(0x16, 2, sr)
	if r.plic.level[33] {
		t.Error("interrupt still pending after the 16-bit SR write-back")
	}
	if !bytes.Equal(out.data[:len(first)], first) {
		t.Fatalf("first round differs at byte %d", firstDiff(first, out.data))
	}
	second := round(500)
	n := len(out.data)
	r.setBM(0x1b, 1, 0x05)
	if civ := r.bm(0x14, 1); civ != 0 {
		t.Errorf("restart at CIV %d, want 0", civ)
	}
	for i := 0; i < 3000 && !r.plic.level[33]; i++ {
		r.run(1_000_000)
	}
	// Between the rounds the halted engine fed silence (BUP clear).
	got := out.data[n:]
	if len(got) < len(second) || !bytes.Equal(got[:len(second)], second) {
		t.Fatalf("second round differs at byte %d", firstDiff(second, got))
	}
	if gap := out.data[len(first):n]; !bytes.Equal(gap, make([]byte, len(gap))) {
		t.Error("non-silent gap between the rounds")
	}
}
