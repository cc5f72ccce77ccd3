package ac97

import "gemu/devices/audio"

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

// nabm is BAR1. Accesses are decoded by byte lanes, so every width reaches
// the registers it covers (a superset of QEMU, which honours only some
// widths; docs/devices/ac97.md lists them), with QEMU's side
// effects: reading CAS sets it, writing CR/LVI/SR acts as in QEMU.
type nabm struct{ d *Device }

func (n nabm) Read(off uint64, size int) uint64 {
	if size == 8 {
		return n.Read(off, 4) | n.Read(off+4, 4)<<32
	}
	d := n.d
	// Position reads first bring the channel up to the present.
	for i := off; i < off+uint64(size); i++ {
		if i < 0x30 && i&0xf >= offCIV && i&0xf <= offPIV+1 && i&0xf != offLVI {
			d.ch[i>>4].sync(d.clk.Now())
			break
		}
	}
	var v uint64
	for i := int(size) - 1; i >= 0; i-- {
		v = v<<8 | uint64(d.readByte(off+uint64(i)))
	}
	for i := off; i < off+uint64(size); i++ {
		if i == regCAS {
			d.cas = 1 // the semaphore is now owned by whoever read 0
		}
	}
	d.tracef("read  %s/%d -> %#x", busMasterName(off), size, v)
	return v
}

// readByte returns one byte lane of the register file without side effects.
func (d *Device) readByte(off uint64) byte {
	if off < 0x30 && off&0xf <= offCR && off < 0x2c {
		c := &d.ch[off>>4]
		switch o := off & 0xf; o {
		case 0, 1, 2, 3:
			return byte(c.bdbar >> (8 * o))
		case offCIV:
			return c.civ
		case offLVI:
			return c.lvi
		case offSR, offSR + 1:
			return byte(c.sr >> (8 * (o - offSR)))
		case offPICB, offPICB + 1:
			return byte(c.picb >> (8 * (o - offPICB)))
		case offPIV:
			return c.piv
		case offCR:
			return c.cr
		}
	}
	switch {
	case off >= regGlobCnt && off < regGlobCnt+4:
		return byte(d.globCnt >> (8 * (off - regGlobCnt)))
	case off >= regGlobSta && off < regGlobSta+4:
		return byte((d.globSta | gsS0CR) >> (8 * (off - regGlobSta)))
	case off == regCAS:
		return d.cas
	}
	return 0xff
}

func (n nabm) Write(off uint64, size int, val uint64) {
	if size == 8 {
		n.Write(off, 4, val&0xffffffff)
		n.Write(off+4, 4, val>>32)
		return
	}
	d := n.d
	d.tracef("write %s/%d <- %#x", busMasterName(off), size, val&ones(size))
	end := off + uint64(size)
	// lane returns the written byte at register offset r (and whether the
	// access covered it).
	lane := func(r uint64) (byte, bool) {
		if r >= off && r < end {
			return byte(val >> (8 * (r - off))), true
		}
		return 0, false
	}
	// merge builds a register value from the written lanes over cur.
	merge := func(base uint64, width int, cur uint32) (uint32, bool) {
		hit := false
		for i := 0; i < width; i++ {
			if b, ok := lane(base + uint64(i)); ok {
				cur = cur&^(0xff<<(8*i)) | uint32(b)<<(8*i)
				hit = true
			}
		}
		return cur, hit
	}
	for ci := uint64(0); ci < 3; ci++ {
		base := ci << 4
		if end <= base || off >= base+0x10 {
			continue
		}
		c := &d.ch[ci]
		if v, ok := merge(base+offBDBAR, 4, c.bdbar); ok {
			c.bdbar = v &^ 3 // QEMU keeps bits 1:0 clear (Intel: 2:0)
		}
		if b, ok := lane(base + offLVI); ok {
			c.writeLVI(b)
		}
		if v, ok := merge(base+offSR, 2, 0); ok {
			c.writeSR(uint16(v))
		}
		if b, ok := lane(base + offCR); ok && base+offCR < regGlobCnt {
			c.writeCR(b)
		}
	}
	if v, ok := merge(regGlobCnt, 4, d.globCnt); ok {
		// COLD is stored as written (0 holds the codec link in reset, which
		// nothing here models); WARM completes at once, so it reads back 0.
		d.globCnt = v & gcMask &^ gcWarm
	}
	if v, ok := merge(regGlobSta, 4, 0); ok {
		d.globSta &^= v & gsW1C
		d.globSta |= v & gsSetOnly
	}
	// CAS, CIV, PICB, PIV are read-only.
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

	rate      int // codec rate register for this voice
	out       audio.Output
	in        audio.Input
	active    bool         // QEMU's voice "active": the engine is clocked
	pace      *audio.Pacer // the engine's clock, started with the voice
	carry     [2]byte      // a sample that did not complete a frame
	ncarry    int
	incarry   [2]byte // second half of a captured frame owed to the guest
	nincarry  int
	bupLast   bool // last completed BD had BUP: fill with its last frame
	lastFrame [4]byte
	buf       []byte
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

func (c *channel) writeSR(v uint16) {
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
	if on == c.active {
		return
	}
	c.active = on
	if !on {
		c.pace.Stop()
		c.closeVoice()
		return
	}
	c.openVoice()
	pc := c.d.Pacing
	if c.idx != PO {
		pc.Lead = 0 // capture cannot run ahead of its source
	}
	now := c.d.clk.Now()
	c.pace.Start(now, c.rate, pc)
	c.sync(now) // with a Lead, the output gets it before anything pulls
}

// setRate records the codec rate register of the channel's voice. As in
// QEMU (open_voice reinitialises the voice), a new rate leaves the voice
// stopped until the guest starts the channel again.
func (c *channel) setRate(rate int) {
	if rate == c.rate {
		return
	}
	c.rate = rate
	c.setActive(false)
}

// openVoice opens the channel's stream on the backend at the current rate.
// Without a backend, or when it refuses, playback is consumed at the DAC
// rate and discarded, and capture produces nothing.
func (c *channel) openVoice() {
	if c.d.Backend == nil || !validRate(c.rate) {
		return
	}
	spec := streamSpec(c.rate)
	var err error
	if c.idx == PO {
		c.out, err = c.d.Backend.OpenOutput(voiceNames[c.idx], spec)
		if err == nil {
			c.applyVolume()
			c.out.SetActive(true)
		}
	} else {
		c.in, err = c.d.Backend.OpenInput(voiceNames[c.idx], spec)
	}
	if err != nil {
		c.d.tracef("%s: cannot open voice at %d Hz: %v", voiceNames[c.idx], c.rate, err)
		c.out, c.in = nil, nil
	}
}

func (c *channel) closeVoice() {
	if c.out != nil {
		c.out.SetActive(false)
		c.out.Close()
		c.out = nil
	}
	if c.in != nil {
		c.in.Close()
		c.in = nil
	}
}

// applyVolume passes the codec's output volume to the PO stream.
func (c *channel) applyVolume() {
	if c.idx != PO || c.out == nil {
		return
	}
	mute, l, r := c.d.outputLevels()
	c.out.SetVolume(float64(l)/255, float64(r)/255, mute)
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
