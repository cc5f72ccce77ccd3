package ac97

// Codec (mixer) registers behind NAMBAR, AC'97 Component Specification 2.3
// section 5.7, with QEMU's semantics (hw/audio/ac97.c nam_writew, mixer_reset).
const (
	regReset         = 0x00
	regMasterVol     = 0x02
	regHeadphoneVol  = 0x04
	regMasterMono    = 0x06
	regMasterTone    = 0x08
	regPCBeepVol     = 0x0a
	regPhoneVol      = 0x0c
	regMicVol        = 0x0e
	regLineInVol     = 0x10
	regCDVol         = 0x12
	regVideoVol      = 0x14
	regAuxVol        = 0x16
	regPCMOutVol     = 0x18
	regRecordSelect  = 0x1a
	regRecordGain    = 0x1c
	regRecordGainMic = 0x1e
	regGeneralPurp   = 0x20
	reg3DControl     = 0x22
	regPowerdown     = 0x26
	regExtAudioID    = 0x28
	regExtAudioCtl   = 0x2a
	regFrontDACRate  = 0x2c
	regSurrDACRate   = 0x2e
	regLFEDACRate    = 0x30
	regLRADCRate     = 0x32
	regMicADCRate    = 0x34
	regSigmaAnalog   = 0x6c
	regSigmaDac2Inv  = 0x6e
	regVendorID1     = 0x7c
	regVendorID2     = 0x7e
)

// Extended audio control bits (spec 5.8.3).
const (
	eacsVRA = 1 << 0 // variable rate PCM audio
	eacsVRM = 1 << 3 // variable rate mic
)

const muteBit = 1 << 15

// nam is BAR0. QEMU decodes only aligned 16-bit accesses: byte and dword
// reads return all ones and such writes are dropped; a misaligned access is
// made of byte accesses (splitRead). Every access, of any width,
// releases the codec access semaphore.
type nam struct{ d *Device }

func (n nam) Read(off uint64, size int) uint64 {
	if size > 1 && off%uint64(size) != 0 {
		return splitRead(n, off, size)
	}
	d := n.d
	d.cas = 0
	if size != 2 {
		return ones(size)
	}
	v := d.mixerLoad(off)
	d.tracef("read  %s -> %#04x", codecName(off), v)
	return uint64(v)
}

func (n nam) Write(off uint64, size int, val uint64) {
	if size > 1 && off%uint64(size) != 0 {
		splitWrite(n, off, size, val)
		return
	}
	d := n.d
	d.cas = 0
	if size != 2 {
		return
	}
	d.tracef("write %s <- %#04x", codecName(off), uint16(val))
	d.codecWrite(off, uint16(val))
}

func ones(size int) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*size) - 1
}

// mixerLoad reads a 16-bit codec register; offsets whose word does not fit
// in the 256-byte register file read 0xffff (QEMU mixer_load).
func (d *Device) mixerLoad(off uint64) uint16 {
	if off+2 > uint64(len(d.mixer)) {
		return 0xffff
	}
	return uint16(d.mixer[off]) | uint16(d.mixer[off+1])<<8
}

func (d *Device) mixerStore(off uint64, v uint16) {
	if off+2 > uint64(len(d.mixer)) {
		return
	}
	d.mixer[off], d.mixer[off+1] = byte(v), byte(v>>8)
}

// codecWrite applies a guest write to a codec register (QEMU nam_writew).
func (d *Device) codecWrite(off uint64, v uint16) {
	switch off {
	case regReset:
		d.mixerReset()
	case regPowerdown:
		// ADC/DAC/analog/Vref ready bits are read-only ones; EAPD is forced 0.
		d.mixerStore(off, v&^0x800f|d.mixerLoad(off)&0xf)
	case regMasterVol, regPCMOutVol, regRecordGain:
		d.setVolume(off, v)
	case regRecordSelect:
		d.mixerStore(off, (v>>8&7)<<8|v&7)
	case regVendorID1, regVendorID2, regExtAudioID:
		// read-only
	case regExtAudioCtl:
		// Turning VRA/VRM off forces the rates to 48 kHz and re-opens the
		// voices at that rate (QEMU nam_writew; open_voice).
		if v&eacsVRA == 0 {
			d.mixerStore(regFrontDACRate, 48000)
			d.mixerStore(regLRADCRate, 48000)
			d.ch[PI].openVoice(48000)
			d.ch[PO].openVoice(48000)
		} else {
			d.vraByGuest = true
		}
		if v&eacsVRM == 0 {
			d.mixerStore(regMicADCRate, 48000)
			d.ch[MC].openVoice(48000)
		} else {
			d.vrmByGuest = true
		}
		d.mixerStore(off, v)
	case regFrontDACRate, regLRADCRate:
		// Accepted while EXT_AUDIO_CTRL.VRA is set, which QEMU's codec has
		// from reset (mixer_reset stores 0x0009); AC'97 2.3 section 5.8.3
		// resets VRA to 0, so on real hardware a guest that never sets it
		// keeps 48 kHz.
		if d.mixerLoad(regExtAudioCtl)&eacsVRA != 0 {
			if !d.vraByGuest && v != 48000 {
				d.guestError(warnVRA, "%s written (%d Hz) with VRA never enabled by the guest; QEMU and gemu accept it (VRA is on at reset), real hardware keeps 48000",
					codecName(off), v)
			}
			d.mixerStore(off, v)
			if off == regFrontDACRate {
				d.ch[PO].openVoice(int(v))
			} else {
				d.ch[PI].openVoice(int(v))
			}
		}
	case regMicADCRate:
		if d.mixerLoad(regExtAudioCtl)&eacsVRM != 0 {
			if !d.vrmByGuest && v != 48000 {
				d.guestError(warnVRM, "MIC_ADC_RATE written (%d Hz) with VRM never enabled by the guest; QEMU and gemu accept it (VRM is on at reset), real hardware keeps 48000", v)
			}
			d.mixerStore(off, v)
			d.ch[MC].openVoice(int(v))
		}
	case regHeadphoneVol, regMasterMono, regMasterTone, regPCBeepVol, regPhoneVol,
		regMicVol, regLineInVol, regCDVol, regVideoVol, regAuxVol, regRecordGainMic,
		regGeneralPurp, reg3DControl, regSigmaAnalog, regSigmaDac2Inv:
		// Features not emulated: read-only, as in QEMU.
	default:
		d.mixerStore(off, v)
	}
}

// mixerReset loads the codec's reset values and re-opens the three voices
// at 48 kHz, stopped, in QEMU's order (mixer_reset): the volume registers
// are applied to the voices that are open first, then reset_voices re-opens
// each one, which keeps a voice already at 48 kHz (and its volume) and
// re-creates any other at unity volume.
func (d *Device) mixerReset() {
	d.mixer = [256]byte{}
	d.vraByGuest, d.vrmByGuest = false, false
	d.mixerStore(regPowerdown, 0x000f)
	d.mixerStore(regVendorID1, 0x8384) // "ST": SigmaTel
	d.mixerStore(regVendorID2, 0x7600) // STAC9700
	d.mixerStore(regExtAudioID, 0x0809)
	d.mixerStore(regExtAudioCtl, 0x0009) // VRA and VRM on (QEMU, unlike real codecs)
	for _, r := range []uint64{regFrontDACRate, regSurrDACRate, regLFEDACRate, regLRADCRate, regMicADCRate} {
		d.mixerStore(r, 48000)
	}
	d.setVolume(regMasterVol, 0x8000)
	d.setVolume(regPCMOutVol, 0x8808)
	d.setVolume(regRecordGain, 0x8808)
	for i := range d.ch {
		d.ch[i].openVoice(48000)
		d.ch[i].setActive(false)
	}
}

// setVolume stores a volume register with its mask and passes the result to
// the voice it controls (QEMU set_volume: update_combined_volume_out for PO,
// update_volume_in for PI; MIC in has no volume).
func (d *Device) setVolume(off uint64, v uint16) {
	switch off {
	case regMasterVol:
		v &= 0xbf3f
	case regPCMOutVol:
		v &= 0x9f1f
	case regRecordGain:
		v &= 0x8f0f
	}
	d.mixerStore(off, v)
	if off == regRecordGain {
		d.ch[PI].setVoiceVolume(d.inputLevels())
	} else {
		d.ch[PO].setVoiceVolume(d.outputLevels())
	}
}

// volume converts a volume register to QEMU's 0..255 levels
// (hw/audio/ac97.c get_volume, uint8_t arithmetic): an attenuation field v
// of width mask gives 255 - 255*v/mask, so 0 is unity gain (not the +12 dB
// of the AC'97 spec); a gain field (record gain) gives 255*v/mask.
func volume(reg uint16, mask uint16, attenuation bool) (mute bool, l, r uint8) {
	mute = reg&muteBit != 0
	r = uint8(255 * int(reg&mask) / int(mask))
	l = uint8(255 * int(reg>>8&mask) / int(mask))
	if attenuation {
		l, r = 255-l, 255-r
	}
	return mute, l, r
}

// outputLevels combines master and PCM-out the way QEMU does
// (update_combined_volume_out): levels multiply (integer, /255), mutes OR.
func (d *Device) outputLevels() (mute bool, l, r uint8) {
	m, ml, mr := volume(d.mixerLoad(regMasterVol), 0x3f, true)
	p, pl, pr := volume(d.mixerLoad(regPCMOutVol), 0x1f, true)
	return m || p, uint8(int(ml) * int(pl) / 255), uint8(int(mr) * int(pr) / 255)
}

// inputLevels is the record gain applied to PCM in (QEMU update_volume_in).
func (d *Device) inputLevels() (mute bool, l, r uint8) {
	return volume(d.mixerLoad(regRecordGain), 0x0f, false)
}
