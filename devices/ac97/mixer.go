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

// nam is BAR0. QEMU decodes only 16-bit accesses: byte and dword reads
// return all ones and such writes are dropped. Every access, of any width,
// releases the codec access semaphore.
type nam struct{ d *Device }

func (n nam) Read(off uint64, size int) uint64 {
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
		if v&eacsVRA == 0 {
			d.mixerStore(regFrontDACRate, 48000)
			d.mixerStore(regLRADCRate, 48000)
			d.ch[PI].setRate(48000)
			d.ch[PO].setRate(48000)
		}
		if v&eacsVRM == 0 {
			d.mixerStore(regMicADCRate, 48000)
			d.ch[MC].setRate(48000)
		}
		d.mixerStore(off, v)
	case regFrontDACRate, regLRADCRate:
		if d.mixerLoad(regExtAudioCtl)&eacsVRA != 0 {
			d.mixerStore(off, v)
			if off == regFrontDACRate {
				d.ch[PO].setRate(int(v))
			} else {
				d.ch[PI].setRate(int(v))
			}
		}
	case regMicADCRate:
		if d.mixerLoad(regExtAudioCtl)&eacsVRM != 0 {
			d.mixerStore(off, v)
			d.ch[MC].setRate(int(v))
		}
	case regHeadphoneVol, regMasterMono, regMasterTone, regPCBeepVol, regPhoneVol,
		regMicVol, regLineInVol, regCDVol, regVideoVol, regAuxVol, regRecordGainMic,
		regGeneralPurp, reg3DControl, regSigmaAnalog, regSigmaDac2Inv:
		// Features not emulated: read-only, as in QEMU.
	default:
		d.mixerStore(off, v)
	}
}

// mixerReset loads the codec's reset values (QEMU mixer_reset) and sets the
// three voices to 48 kHz, stopped.
func (d *Device) mixerReset() {
	d.mixer = [256]byte{}
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
		d.ch[i].setActive(false)
		d.ch[i].rate = 48000
	}
}

// setVolume stores a volume register with its mask and applies it.
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
	d.ch[PO].applyVolume()
	d.ch[PI].applyVolume()
}

// volume converts a volume register to QEMU's 0..255 levels
// (hw/audio/ac97.c get_volume): an attenuation field v of width mask gives
// 255 - 255*v/mask, so 0 is unity gain (not the +12 dB of the AC'97 spec); a
// gain field (record gain) gives 255*v/mask.
func volume(reg uint16, mask uint16, attenuation bool) (mute bool, l, r int) {
	mute = reg&muteBit != 0
	r = 255 * int(reg&mask) / int(mask)
	l = 255 * int(reg>>8&mask) / int(mask)
	if attenuation {
		l, r = 255-l, 255-r
	}
	return mute, l, r
}

// outputLevels combines master and PCM-out the way QEMU does
// (update_combined_volume_out): levels multiply, mutes OR.
func (d *Device) outputLevels() (mute bool, l, r int) {
	m, ml, mr := volume(d.mixerLoad(regMasterVol), 0x3f, true)
	p, pl, pr := volume(d.mixerLoad(regPCMOutVol), 0x1f, true)
	return m || p, ml * pl / 255, mr * pr / 255
}

// inputLevels is the record gain applied to PCM in (QEMU update_volume_in).
func (d *Device) inputLevels() (mute bool, l, r int) {
	return volume(d.mixerLoad(regRecordGain), 0x0f, false)
}
