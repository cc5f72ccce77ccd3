package ac97

// QEMU's voice rule. QEMU's AC97 owns one audio-layer voice per channel
// (hw/audio/ac97.c open_voice; audio/audio_template.h AUD_open_out/in) and
// that voice, not the codec's registers, decides what is heard:
//
//   - A voice is (re)opened by every codec reset (mixer_reset ->
//     reset_voices), by a rate register write accepted under VRA/VRM, and by
//     an EXT_AUDIO_CTRL write that clears VRA/VRM (the rates return to
//     48 kHz). Opening at the rate the voice already has changes nothing.
//     Opening at another rate re-creates it: its volume returns to unity
//     (sw->vol = nominal_volume, unmuted) and it is inactive until the guest
//     sets RPBM again. A rate of 0 closes it; nothing plays until a rate is
//     written again.
//   - Only writes to MASTER_VOL and PCM_OUT_VOL (PO), and RECORD_GAIN (PI),
//     set a voice's volume (set_volume -> AUD_set_volume_out/in); MIC in
//     keeps unity.
//   - The volume is applied in QEMU's integer mixing engine
//     (audio/mixeng.c mixeng_volume, audio.c audio_set_volume_out): a level
//     v of 0..255 becomes the 32.32 factor (1<<32)*v/255, and a 16-bit
//     sample s leaves as floor(s*factor / 2^32) (conv << 16, multiply,
//     >> 32, clip >> 16); mute gives zeros.
//
// So a guest that mutes Master and then changes the DAC rate plays at full
// level on QEMU until it writes a volume register again. gemu follows the
// rule and applies the gain itself, so its streams stay at unity and the
// sink sees QEMU's samples bit for bit.

// voiceVolume is a voice's volume in QEMU's 0..255 levels.
type voiceVolume struct {
	mute bool
	l, r uint8
}

var unityVolume = voiceVolume{l: 255, r: 255}

// unity reports whether the volume leaves samples unchanged.
func (v voiceVolume) unity() bool { return v == unityVolume }

// openVoice is QEMU's open_voice for this channel at rate freq (a codec
// rate register value).
func (c *channel) openVoice(freq int) {
	if freq <= 0 {
		c.setActive(false)
		c.vopen = false
		c.rate = 0
		return
	}
	if c.vopen && c.rate == freq {
		return
	}
	if c.vopen && !c.vol.unity() && c.idx != MC {
		c.d.guestError(warnReopen, "%s voice re-opened at %d Hz by a rate change: QEMU and gemu reset its volume to unity (the %s register no longer applies until written again); real hardware keeps the volume",
			voiceNames[c.idx], freq, map[int]string{PO: "MASTER_VOL/PCM_OUT_VOL", PI: "RECORD_GAIN"}[c.idx])
	}
	c.setActive(false)
	c.vopen = true
	c.rate = freq
	c.vol = unityVolume
}

// setVoiceVolume is AUD_set_volume_out/in: it reaches the voice only while
// one is open.
func (c *channel) setVoiceVolume(mute bool, l, r uint8) {
	if !c.vopen {
		return
	}
	c.vol = voiceVolume{mute: mute, l: l, r: r}
}

// applyGain applies the voice's volume to S16LE stereo frames in place,
// with QEMU's integer arithmetic (see the top of this file).
func applyGain(p []byte, v voiceVolume) {
	if v.unity() {
		return
	}
	if v.mute {
		clear(p)
		return
	}
	fl := int64((uint64(1) << 32) * uint64(v.l) / 255)
	fr := int64((uint64(1) << 32) * uint64(v.r) / 255)
	for i := 0; i+3 < len(p); i += 4 {
		for j, f := range [2]int64{fl, fr} {
			s := int64(int16(uint16(p[i+2*j]) | uint16(p[i+2*j+1])<<8))
			s = s * f >> 32
			p[i+2*j], p[i+2*j+1] = byte(s), byte(s>>8)
		}
	}
}

// Departures from the hardware that gemu reports once per run with
// -d guest_errors (each is QEMU's behaviour, which gemu keeps).
const (
	warnVRA = iota
	warnVRM
	warnReopen
	warnWidth
	warnMuted
	nWarn
)

// guestError logs a departure from the datasheet once per device lifetime
// on the GuestError trace (-d guest_errors).
func (d *Device) guestError(kind int, format string, args ...any) {
	if d.GuestError == nil || d.warned[kind] {
		return
	}
	d.warned[kind] = true
	d.GuestError(format, args...)
}
