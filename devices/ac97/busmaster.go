package ac97

import (
	"fmt"
	"strings"

	"gemu/devices/audio"
)

// Native Audio Bus Master registers (BAR1): three DMA channel blocks and the
// global registers (82801AA datasheet 11.2; QEMU hw/audio/ac97.c nabm_*).

// Per-channel register offsets inside a 16-byte block.
const (
	offBDBAR = 0x0
	offCIV   = 0x4
	offLVI   = 0x5
	offSR    = 0x6
	offPICB  = 0x8
	offPIV   = 0xa
	offCR    = 0xb
)

// Global registers.
const (
	regGlobCnt = 0x2c
	regGlobSta = 0x30
	regCAS     = 0x34
)

// SR bits.
const (
	srDCH   = 1 << 0 // DMA controller halted (RO)
	srCELV  = 1 << 1 // current equals last valid (RO)
	srLVBCI = 1 << 2 // last valid buffer completion interrupt (W1C)
	srBCIS  = 1 << 3 // buffer completion interrupt status (W1C)
	srFIFOE = 1 << 4 // FIFO error (W1C)
	srW1C   = srLVBCI | srBCIS | srFIFOE
)

// CR bits.
const (
	crRPBM  = 1 << 0 // run/pause bus master
	crRR    = 1 << 1 // reset registers
	crLVBIE = 1 << 2
	crFEIE  = 1 << 3
	crIOCE  = 1 << 4
	crMask  = 0x1f
	crKeep  = crIOCE | crFEIE | crLVBIE // survive RR (QEMU reset_bm_regs)
)

// GLOB_CNT bits.
const (
	gcCold    = 1 << 1
	gcWarm    = 1 << 2
	gcMask    = 0x3f
	gsPIINT   = 1 << 5
	gsPOINT   = 1 << 6
	gsMCINT   = 1 << 7
	gsS0CR    = 1 << 8 // primary codec ready: always on
	gsW1C     = 1<<0 | 1<<10 | 1<<11 | 1<<15
	gsSetOnly = 1<<16 | 1<<17 // AD3, MD3: QEMU can set but never clear them
)

var chanIntBit = [3]uint32{gsPIINT, gsPOINT, gsMCINT}

// Buffer descriptor control bits (dword 1).
const (
	bdIOC = 1 << 31
	bdBUP = 1 << 30
)

// nabm is BAR1. Each register answers only at the widths QEMU decodes
// (hw/audio/ac97.c nabm_readb/readw/readl, nabm_writeb/writew/writel):
//
//	byte  read  CIV LVI SR(low byte) PIV CR CAS    write LVI SR CR
//	word  read  SR PICB                            write SR
//	dword read  BDBAR, CIV|LVI<<8|SR<<16,          write BDBAR GLOB_CNT GLOB_STA
//	            PICB|PIV<<16|CR<<24, GLOB_CNT, GLOB_STA
//
// Any other read returns all ones and any other write is dropped, so, as on
// QEMU, a misaligned access is made of byte accesses (splitRead), and a 16-bit read of GLOB_STA returns 0xffff and a byte write to
// GLOB_CNT does nothing (the Intel datasheet lets every register be accessed
// at any width; -d guest_errors says so once). An 8-byte access is two
// 4-byte ones.
type nabm struct{ d *Device }

func (n nabm) Read(off uint64, size int) uint64 {
	if size == 8 {
		return n.Read(off, 4) | n.Read(off+4, 4)<<32
	}
	if off%uint64(size) != 0 {
		return splitRead(n, off, size)
	}
	d := n.d
	v, ok := d.nabmRead(off, size)
	if !ok {
		v = ones(size)
		d.widthError("read", off, size)
	}
	d.tracef("read  %s/%d -> %#x", busMasterName(off), size, v)
	return v
}

// nabmRead decodes a read the way QEMU does; ok is false for an access QEMU
// does not decode.
func (d *Device) nabmRead(off uint64, size int) (uint64, bool) {
	if off < regGlobCnt {
		c := &d.ch[off>>4]
		o := off & 0xf
		// Position reads first bring the channel up to the present.
		if o == offCIV || o == offSR || o == offPICB || o == offPIV {
			c.sync(d.clk.Now())
		}
		switch {
		case size == 1 && o == offCIV:
			return uint64(c.civ), true
		case size == 1 && o == offLVI:
			return uint64(c.lvi), true
		case size == 1 && o == offSR:
			return uint64(c.sr & 0xff), true
		case size == 1 && o == offPIV:
			return uint64(c.piv), true
		case size == 1 && o == offCR:
			return uint64(c.cr), true
		case size == 2 && o == offSR:
			return uint64(c.sr), true
		case size == 2 && o == offPICB:
			return uint64(c.picb), true
		case size == 4 && o == offBDBAR:
			return uint64(c.bdbar), true
		case size == 4 && o == offCIV:
			return uint64(c.civ) | uint64(c.lvi)<<8 | uint64(c.sr)<<16, true
		case size == 4 && o == offPICB:
			return uint64(c.picb) | uint64(c.piv)<<16 | uint64(c.cr)<<24, true
		}
		return 0, false
	}
	switch {
	case size == 1 && off == regCAS:
		v := d.cas
		d.cas = 1 // the semaphore is now owned by whoever read 0
		return uint64(v), true
	case size == 4 && off == regGlobCnt:
		return uint64(d.globCnt), true
	case size == 4 && off == regGlobSta:
		return uint64(d.globSta | gsS0CR), true
	}
	return 0, false
}

func (n nabm) Write(off uint64, size int, val uint64) {
	if size == 8 {
		n.Write(off, 4, val&0xffffffff)
		n.Write(off+4, 4, val>>32)
		return
	}
	if off%uint64(size) != 0 {
		splitWrite(n, off, size, val)
		return
	}
	d := n.d
	val &= ones(size)
	d.tracef("write %s/%d <- %#x", busMasterName(off), size, val)
	if off < regGlobCnt {
		c := &d.ch[off>>4]
		switch o := off & 0xf; {
		case size == 1 && o == offLVI:
			c.writeLVI(uint8(val))
		case size == 1 && o == offCR:
			c.writeCR(uint8(val))
		case (size == 1 || size == 2) && o == offSR:
			c.writeSR(uint16(val))
		case size == 4 && o == offBDBAR:
			c.bdbar = uint32(val) &^ 3 // QEMU keeps bits 1:0 clear (Intel: 2:0)
		default:
			d.widthError("write", off, size)
		}
		return
	}
	switch {
	case size == 4 && off == regGlobCnt:
		// QEMU ignores a whole write that asks for a cold or warm reset
		// (nabm_writel; its TODO), so COLD and WARM always read 0, which
		// Linux's warm reset takes as completed.
		if uint32(val)&(gcCold|gcWarm) == 0 {
			d.globCnt = uint32(val) & gcMask
		}
	case size == 4 && off == regGlobSta:
		d.globSta &^= uint32(val) & gsW1C
		d.globSta |= uint32(val) & gsSetOnly
	default:
		// CAS is read-only; everything else is not decoded.
		d.widthError("write", off, size)
	}
}

// splitRead performs a misaligned access as byte accesses, least
// significant first, as QEMU 7.2 does for these BARs (measured on
// qemu-system-riscv64: a 32-bit read at PO_LVI returns LVI, SR's low byte
// and two undecoded 0xff bytes).
func splitRead(dev interface{ Read(uint64, int) uint64 }, off uint64, size int) uint64 {
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | dev.Read(off+uint64(i), 1)&0xff
	}
	return v
}

func splitWrite(dev interface{ Write(uint64, int, uint64) }, off uint64, size int, val uint64) {
	for i := 0; i < size; i++ {
		dev.Write(off+uint64(i), 1, val>>(8*i)&0xff)
	}
}

// widthError reports, once per run, the first access to a register at a
// width QEMU does not decode.
func (d *Device) widthError(op string, off uint64, size int) {
	if off >= regCAS+1 {
		return // unassigned ports: nothing to explain
	}
	res := "returns all ones"
	if op == "write" {
		res = "is dropped"
	}
	d.guestError(warnWidth, "%d-byte %s of %s %s in QEMU and gemu (QEMU decodes only some widths per bus-master register); real hardware accepts any width",
		size, op, busMasterName(off), res)
}

// channel is one bus-master DMA engine with its voice.
type channel struct {
	d   *Device
	idx int

	bdbar         uint32
	civ, lvi, piv uint8
	cr            uint8
	sr, picb      uint16
	bdValid       bool
	bdAddr, bdCtl uint32

	rate      int         // the voice's rate (QEMU open_voice), 0 = closed
	vopen     bool        // QEMU's voice exists (rate > 0)
	vol       voiceVolume // the voice's volume (voice.go)
	out       audio.Output
	in        audio.Input
	active    bool         // QEMU's voice "active": the engine is clocked
	refused   error        // the backend refused the voice (voiceRefused)
	pace      *audio.Pacer // the engine's clock, started with the voice
	carry     [2]byte      // a sample that did not complete a frame
	ncarry    int
	incarry   [2]byte // second half of a captured frame owed to the guest
	nincarry  int
	bupLast   bool // last completed BD had BUP: fill with its last frame
	lastFrame [4]byte
	buf       []byte
	gbuf      []byte
}

// interrupting reports whether SR holds an enabled interrupt cause.
func (c *channel) interrupting() bool {
	return c.sr&srBCIS != 0 && c.cr&crIOCE != 0 ||
		c.sr&srLVBCI != 0 && c.cr&crLVBIE != 0 ||
		c.sr&srFIFOE != 0 && c.cr&crFEIE != 0
}

// setSR replaces SR and re-evaluates the interrupt line.
func (c *channel) setSR(v uint16) {
	c.sr = v
	c.d.updateIRQ()
}

// resetRegs is CR.RR (QEMU reset_bm_regs): registers to zero, halted, the
// interrupt enables kept, voice stopped.
func (c *channel) resetRegs() {
	c.bdbar, c.civ, c.lvi, c.picb, c.piv = 0, 0, 0, 0, 0
	c.cr &= crKeep
	c.bdValid = false
	c.ncarry, c.nincarry = 0, 0
	c.bupLast = false
	c.lastFrame = [4]byte{}
	c.setActive(false)
	c.setSR(srDCH)
}

func (c *channel) writeCR(v uint8) {
	if v&crRR != 0 {
		c.resetRegs()
		return
	}
	c.cr = v & crMask
	if c.cr&crRPBM == 0 {
		c.setActive(false)
		c.sr |= srDCH // synchronously: Linux spins on DCH after CR=0
		c.d.updateIRQ()
		return
	}
	// QEMU restarts from PIV on every write with RPBM set, even while
	// running or resuming from a pause (hw/audio/ac97.c nabm_writeb, CR).
	c.sr &^= srDCH
	c.advance() // a descriptor fault halts the channel again
	c.d.updateIRQ()
	c.setActive(true)
	if c.idx == PO {
		c.checkMuted()
	}
}

// checkMuted reports (-d guest_errors, once) PCM out started while the
// codec's MASTER_VOL or PCM_OUT_VOL has its mute bit (15) set: a real
// codec plays silence (AC'97 2.3 section 5.7, index 02h and 18h). What
// QEMU and gemu play depends on QEMU's voice rule (voice.go).
func (c *channel) checkMuted() {
	d := c.d
	if d.GuestError == nil || d.warned[warnMuted] {
		return
	}
	var regs []string
	for _, r := range []uint64{regMasterVol, regPCMOutVol} {
		if v := d.mixerLoad(r); v&muteBit != 0 {
			regs = append(regs, fmt.Sprintf("%s = %#04x", codecName(r), v))
		}
	}
	if len(regs) == 0 {
		return
	}
	here := "QEMU and gemu play silence too"
	if !c.vol.mute {
		here = "QEMU and gemu play it anyway, because a rate change re-opened the voice at unity volume"
	}
	d.guestError(warnMuted, "PCM out started (PO_CR.RPBM) with %s muted (bit 15): a real codec plays silence until the driver clears the mute bit (AC'97 2.3 section 5.7, Master Volume index 02h, PCM Out Volume index 18h); %s",
		strings.Join(regs, " and "), here)
}

func (c *channel) writeLVI(v uint8) {
	if c.cr&crRPBM != 0 && c.sr&srDCH != 0 {
		// Halted at the end of the list with the engine still enabled:
		// new buffers resume playback (rule 4).
		c.sr &^= srDCH | srCELV
		c.advance() // a descriptor fault halts the channel again
		c.d.updateIRQ()
	}
	c.lvi = v % 32
}

// writeSR is QEMU's SR write: bits above the five defined ones are stored
// as written, the W1C bits are cleared.
func (c *channel) writeSR(v uint16) {
	c.sr |= v &^ (srDCH | srCELV | srW1C)
	c.setSR(c.sr &^ (v & srW1C))
}

// advance moves to the prefetched descriptor: CIV = PIV, PIV+1, fetch.
func (c *channel) advance() {
	c.civ = c.piv
	c.piv = (c.piv + 1) % 32
	c.fetch()
}

// fetch reads BD[CIV]. A descriptor the device cannot read (outside RAM,
// or bus mastering off) is a FIFO error: the channel halts.
func (c *channel) fetch() bool {
	var b [8]byte
	addr := uint64(c.bdbar) + 8*uint64(c.civ)
	if err := c.d.fn.ReadDMA(addr, b[:]); err != nil {
		c.fault("BD %d at %#x: %v", c.civ, addr, err)
		return false
	}
	c.bdValid = true
	c.bdAddr = (uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24) &^ 3
	c.bdCtl = uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
	c.picb = uint16(c.bdCtl)
	c.d.tracef("%s BD %d addr=%#x len=%d ioc=%v bup=%v", voiceNames[c.idx], c.civ, c.bdAddr,
		c.picb, c.bdCtl&bdIOC != 0, c.bdCtl&bdBUP != 0)
	return true
}

// fault is the channel's error state: FIFOE set (interrupt if FEIE), DMA
// halted. The guest recovers with CR.RR, or by restarting with CR/LVI.
func (c *channel) fault(format string, args ...any) {
	c.d.Errors++
	c.d.tracef(voiceNames[c.idx]+" DMA error: "+format, args...)
	c.bdValid = false
	c.picb = 0
	c.setSR(c.sr | srFIFOE | srDCH)
}

// setActive starts or stops the channel (QEMU voice_set_active). A voice is
// open on the backend only while its channel runs: the backend's sink and
// capture source then start exactly when the guest starts the DMA, so the
// first frames the guest plays are the first the sink pulls, and the first
// frame recorded is the source's first frame.
func (c *channel) setActive(on bool) {
	if on == c.active || on && !c.vopen {
		return // no voice: AUD_set_active_out(NULL) does nothing
	}
	c.active = on
	if !on {
		c.pace.Stop()
		c.closeStream()
		return
	}
	c.openStream() // refused: the channel's first transfer faults (FIFOE)
	pc := c.d.Pacing
	if c.idx != PO {
		pc.Lead = 0 // capture cannot run ahead of its source
	}
	now := c.d.clk.Now()
	c.pace.Start(now, c.rate, pc)
	c.sync(now) // with a Lead, the output gets it before anything pulls
}

// openStream opens the channel's stream on the backend at the voice's rate.
// The stream stays at unity volume: the device applies the voice's volume
// itself (voice.go).
// Without a backend, playback is consumed at the DAC rate and discarded,
// and capture produces nothing. When the backend refuses the voice (the
// audiodev's voice limit, docs/limits.md) the channel is marked refused:
// its next transfer, and every one after the guest resumes it, tries the
// open again and, refused again, puts the channel in its FIFO error state
// (voiceRefused).
func (c *channel) openStream() {
	c.refused = nil
	if c.d.Backend == nil || !validRate(c.rate) {
		return
	}
	spec := streamSpec(c.rate)
	var err error
	if c.idx == PO {
		c.out, err = c.d.Backend.OpenOutput(voiceNames[c.idx], spec)
		if err == nil {
			c.out.SetActive(true)
		}
	} else {
		c.in, err = c.d.Backend.OpenInput(voiceNames[c.idx], spec)
	}
	if err != nil {
		c.d.tracef("%s: cannot open voice at %d Hz: %v", voiceNames[c.idx], c.rate, err)
		c.out, c.in = nil, nil
		c.refused = err
	}
}

// voiceRefused is the channel's state while the backend refuses its voice,
// checked before every transfer of a running channel: it retries the open
// and, refused again, faults (FIFOE, DMA halted, no data moved), as the
// 82801AA does when its FIFO cannot be serviced (datasheet 11.2, x_SR bit 4 "FIFO
// error"). A guest recovers as from any FIFO error: clear FIFOE and set
// RPBM again (or reset the channel with CR.RR and restart it); the open is
// tried again then. QEMU's AUD_open_out/in returns NULL (hw/audio/ac97.c
// open_voice) and, since its DMA runs from the voice's callback, the
// channel then never advances, with no status a guest can see.
func (c *channel) voiceRefused() bool {
	if c.refused == nil {
		return false
	}
	c.openStream()
	if c.refused == nil {
		return false
	}
	c.fault("voice refused by the audiodev: %v", c.refused)
	return true
}

func (c *channel) closeStream() {
	if c.out != nil {
		c.out.SetActive(false)
		c.out.Close()
		c.out = nil
	}
	if c.in != nil {
		c.in.Close()
		c.in = nil
	}
	c.refused = nil
}

// sync transfers the frames due at time at (playback: plus Lead; see
// audio.Pacer for the grid the engine's clock steps on); capture takes what
// the source has produced. Register reads that show the position call it
// with the current time. A halted engine uses its whole budget (transfer).
func (c *channel) sync(at int64) {
	if !c.active || !validRate(c.rate) {
		return
	}
	if budget := c.pace.Due(at); budget > 0 {
		c.pace.Moved(c.transfer(budget))
	}
}

func validRate(r int) bool { return r >= 1000 && r <= 65535 }
