// Package ac97 models the Intel 82801AA (ICH) AC'97 audio controller with a
// SigmaTel STAC9700 codec, register for register as QEMU's `AC97` device
// (hw/audio/ac97.c) presents them, so guest drivers written against QEMU —
// Linux snd-intel8x0, teaching kernels — run unchanged.
//
// The controller is a PCI function with two I/O BARs:
//
//	BAR0 NAMBAR  (1024 ports) codec mixer registers        mixer.go
//	BAR1 NABMBAR ( 256 ports) bus-master registers PI/PO/MC
//	                          and global control/status    busmaster.go
//	descriptor walking and data movement                  dma.go
//
// Playback (PO) reads the guest's buffer descriptor list by DMA and pushes
// S16LE stereo frames into an audio output at the DAC rate; the guest-visible
// position (CIV, PICB) advances only by the frames the output accepted.
// Capture (PI: PCM in, MC: microphone) pulls frames from an audio input and
// writes them to guest buffers; it never writes frames the source has not
// produced. The engines are paced by audio.Pacer in steps of Tick (1 ms by
// default), and a guest that reads CIV, SR or PICB first brings its channel
// up to the current time, so positions move smoothly rather than in 10 ms
// bursts. A descriptor or buffer the device cannot reach (outside RAM, or
// bus mastering off) sets FIFOE and halts the channel; nothing a guest
// writes can make the device touch memory outside guest RAM.
//
// References: Intel 82801AA/AB I/O Controller Hub datasheet (section 11, AC'97
// audio); Intel ICH AC'97 Programmer's Reference Manual; AC'97 Component
// Specification 2.3; QEMU hw/audio/ac97.c; docs/devices/ac97.md (where gemu
// departs from QEMU, and why).
package ac97

import (
	"gemu/bus"
	"gemu/clock"
	"gemu/devices/audio"
	"gemu/devices/pci"
)

// PCI identity (82801AA datasheet, AC'97 function configuration registers;
// QEMU ac97_class_init).
const (
	VendorIntel = 0x8086
	Device82801 = 0x2415
	NAMSize     = 1024 // QEMU's BAR0 size (Intel: 256)
	NABMSize    = 256  // QEMU's BAR1 size (Intel: 64)
)

// Channel indexes (bus-master register blocks at 0x00, 0x10, 0x20).
const (
	PI = iota // PCM in
	PO        // PCM out
	MC        // microphone in
)

var voiceNames = [3]string{"ac97.pi", "ac97.po", "ac97.mc"}

// Device is one AC97 controller plus codec.
type Device struct {
	fn  *pci.Function
	clk *clock.Clock

	// Link holds the Backend the voices open on (an -audiodev, or a fake
	// in tests), like QEMU's AUD_open_out/AUD_open_in, and the pacing of
	// the DMA engines; the machine sets both with UseAudiodev. Either open
	// may fail (no such direction on this backend); the voice then moves
	// no data, as in QEMU. A capture source starts when its voice opens.
	//
	// A sink pulled by the machine clock (wav, none) gets no Lead, in real
	// time as in deterministic mode, so the DMA position runs at exactly
	// the DAC rate in guest time and Linux's 50 ms AC97 clock measurement
	// reads 48000. A host sink (oto) gets a lead (audio.RealTimeLead plus
	// the host's burst, 50 ms with oto's defaults); that lead
	// shows in the position, and the measurement then reads more than
	// 60 kHz, which the driver rejects (keeping the nominal 48 kHz clock)
	// instead of mistuning every rate, as a lead of 1..10 ms would.
	audio.Link
	// Trace, when set, receives one line per register access and DMA event.
	Trace bus.TraceFunc
	// GuestError, when set, receives one line per run for each QEMU rule
	// the guest relies on that real hardware does not have (-d guest_errors).
	GuestError bus.TraceFunc
	warned     [nWarn]bool
	// vraByGuest/vrmByGuest: the guest has set VRA/VRM since the codec reset
	// (they are on at reset in QEMU's codec, off in the AC'97 spec).
	vraByGuest, vrmByGuest bool

	mixer   [256]byte
	globCnt uint32
	globSta uint32
	cas     uint8
	ch      [3]channel
	irq     bool

	// Errors counts DMA faults (descriptor or buffer outside RAM, bus
	// mastering off, or a voice the audiodev refused): each sets FIFOE in
	// the channel's SR and halts it.
	Errors uint64
}

// New creates the controller. be may be nil: playback is then discarded at
// the DAC rate and capture never produces data.
func New(clk *clock.Clock, be audio.Backend) *Device {
	d := &Device{clk: clk, Link: audio.Link{Backend: be}}
	d.fn = pci.NewFunction(pci.ID{
		Vendor: VendorIntel, Device: Device82801, Revision: 0x01, Class: 0x040100,
		IntPin: 1, Status: pci.StatusFastB2B | pci.StatusDevselMed,
	})
	if err := d.fn.SetBAR(0, pci.BAR{Kind: pci.BARIO, Size: NAMSize, Dev: nam{d}}); err != nil {
		panic(err)
	}
	if err := d.fn.SetBAR(1, pci.BAR{Kind: pci.BARIO, Size: NABMSize, Dev: nabm{d}}); err != nil {
		panic(err)
	}
	d.fn.OnReset = d.Reset
	for i := range d.ch {
		c := &d.ch[i]
		c.d, c.idx = d, i
		c.pace = audio.NewPacer(clk, c.sync)
		// QEMU's realize opens every voice at 48 kHz and unity volume;
		// the reset that follows (system reset) then applies the volume
		// registers to them, so the PO voice starts muted.
		c.rate, c.vopen, c.vol = 48000, true, unityVolume
	}
	d.Reset()
	return d
}

// PCI returns the device's PCI function, to attach to a pci.Host.
func (d *Device) PCI() *pci.Function { return d.fn }

// Reset is the power-on/system reset: every bus-master block is reset and the
// codec returns to its reset values (QEMU ac97_on_reset).
func (d *Device) Reset() {
	for i := range d.ch {
		d.ch[i].resetRegs()
	}
	d.globCnt, d.globSta, d.cas = 0, 0, 0
	d.mixerReset()
	d.updateIRQ()
}

// Close releases the device's voices.
func (d *Device) Close() {
	for i := range d.ch {
		d.ch[i].setActive(false)
	}
}

func (d *Device) tracef(format string, args ...any) {
	if d.Trace != nil {
		d.Trace("ac97: "+format, args...)
	}
}

// updateIRQ drives INTx as a level: any channel whose SR holds an enabled
// interrupt cause keeps the line up, and GLOB_STA shows which channels those
// are (a level model; QEMU raises and lowers the line on transitions of the
// same conditions, docs/devices/ac97.md).
func (d *Device) updateIRQ() {
	level := false
	d.globSta &^= gsPIINT | gsPOINT | gsMCINT
	for i := range d.ch {
		if d.ch[i].interrupting() {
			level = true
			d.globSta |= chanIntBit[i]
		}
	}
	if level != d.irq {
		d.tracef("INTx %v", level)
	}
	d.irq = level
	d.fn.SetIRQ(level)
}

// IRQ reports the level of the device's INTx pin (for tests and traces).
func (d *Device) IRQ() bool { return d.irq }
