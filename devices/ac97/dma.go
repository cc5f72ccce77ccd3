package ac97

import "gemu/devices/audio"

// The DMA engine proper: one step moves up to a budget of frames between
// guest buffers and the channel's voice, walking the buffer descriptor list
// exactly as QEMU's transfer_audio does (hw/audio/ac97.c; docs/devices/ac97.md).
// Guest data is treated as a stream of 16-bit samples: a descriptor with an
// odd sample count leaves half a frame that the next descriptor completes.

// streamSpec is the voice format: the AC97 link carries 16-bit stereo.
func streamSpec(rate int) audio.Spec {
	return audio.Spec{Freq: rate, Format: audio.S16LE, Channels: 2}
}

const frameBytes = 4

// transfer moves up to frames frames and returns how many frames' worth of
// time it used (for pacing: a halted engine uses its whole budget).
func (c *channel) transfer(frames int) int {
	if c.sr&srDCH != 0 || c.voiceRefused() {
		if c.idx == PO && c.cr&crRPBM != 0 {
			c.underrunFill(frames)
		}
		return frames
	}
	if c.idx == PO && c.out != nil {
		frames = min(frames, c.out.Free())
	}
	budget := frames * frameBytes
	moved := 0
	for budget >= 2 {
		if !c.bdValid && !c.fetch() {
			break
		}
		if c.picb == 0 {
			// An empty descriptor: halt if it is the last valid one (no
			// interrupt, no CELV), else skip it and end this step.
			if c.civ == c.lvi {
				c.sr |= srDCH
				c.bupLast = false
				break
			}
			c.sr &^= srCELV
			c.advance()
			break
		}
		want := min(int(c.picb)*2, budget)
		var got int
		var ok bool
		if c.idx == PO {
			got, ok = c.play(want)
		} else {
			got, ok = c.record(want)
		}
		if !ok {
			break
		}
		c.bdAddr += uint32(got)
		c.picb -= uint16(got / 2)
		budget -= got
		moved += got
		if c.picb == 0 {
			if c.complete() {
				break
			}
		}
		if got < want {
			break // the voice took or gave less: try again next tick
		}
	}
	return moved / frameBytes
}

// complete finishes the current descriptor and reports whether the channel
// halted (it was the last valid one).
func (c *channel) complete() bool {
	sr := c.sr &^ srCELV
	if c.bdCtl&bdIOC != 0 {
		sr |= srBCIS
	}
	last := c.civ == c.lvi
	if last {
		sr |= srLVBCI | srDCH | srCELV
		c.bupLast = c.bdCtl&bdBUP != 0
	}
	c.setSR(sr)
	if !last {
		c.advance()
	}
	return last || c.sr&srDCH != 0
}

func (c *channel) scratch(n int) []byte {
	if cap(c.buf) < n {
		c.buf = make([]byte, n+256)
	}
	return c.buf[:n]
}

// play reads want bytes of the current buffer and offers the whole frames to
// the output; it returns how many guest bytes were consumed.
func (c *channel) play(want int) (int, bool) {
	data := c.scratch(c.ncarry + want)
	copy(data, c.carry[:c.ncarry])
	if err := c.d.fn.ReadDMA(uint64(c.bdAddr), data[c.ncarry:]); err != nil {
		c.fault("buffer BD %d at %#x+%d: %v", c.civ, c.bdAddr, want, err)
		return 0, false
	}
	nf := len(data) / frameBytes
	w := nf
	if c.out != nil && nf > 0 {
		w = c.out.Write(c.gained(data[:nf*frameBytes]))
	}
	if w > 0 {
		copy(c.lastFrame[:], data[w*frameBytes-frameBytes:w*frameBytes])
	}
	switch {
	case w == nf:
		c.ncarry = copy(c.carry[:], data[nf*frameBytes:])
		return want, true
	case w == 0:
		return 0, true
	default:
		used := w*frameBytes - c.ncarry
		c.ncarry = 0
		return used, true
	}
}

// record fills want bytes of the current buffer with captured frames, as
// many as the source has produced; it returns the bytes written.
func (c *channel) record(want int) (int, bool) {
	if c.in == nil && c.nincarry == 0 {
		return 0, true
	}
	data := c.scratch(want + frameBytes)
	// want >= 2 always, so the owed half frame (2 bytes) fits.
	k := copy(data, c.incarry[:c.nincarry])
	if c.in != nil && k < want {
		need := (want - k + frameBytes - 1) / frameBytes
		got := c.in.Read(data[k : k+need*frameBytes])
		applyGain(data[k:k+got*frameBytes], c.vol) // PI: RECORD_GAIN; MC: unity
		k += got * frameBytes
	}
	n := min(k, want)
	if err := c.d.fn.WriteDMA(uint64(c.bdAddr), data[:n]); err != nil {
		c.fault("buffer BD %d at %#x+%d: %v", c.civ, c.bdAddr, n, err)
		return 0, false
	}
	// Keep what was captured but did not fit (half a frame at most).
	c.nincarry = 0
	if k > want {
		c.nincarry = copy(c.incarry[:], data[want:k])
	}
	return n, true
}

// levelSetter is an output that applies QEMU's volume levels itself
// (audio.Stream.SetLevels: one converted by QEMU's resampler, where the
// gain must act before the interpolation).
type levelSetter interface {
	SetLevels(mute bool, l, r uint8) bool
}

// gained returns frames with the voice's volume applied (a copy, so the
// guest's data stays available for BUP's last frame and the carry), or p
// itself when the output applies the volume.
func (c *channel) gained(p []byte) []byte {
	if o, ok := c.out.(levelSetter); ok && o.SetLevels(c.vol.mute, c.vol.l, c.vol.r) {
		return p
	}
	if c.vol.unity() {
		return p
	}
	if cap(c.gbuf) < len(p) {
		c.gbuf = make([]byte, len(p)+256)
	}
	g := c.gbuf[:len(p)]
	copy(g, p)
	applyGain(g, c.vol)
	return g
}

// underrunFill feeds the output while the engine is halted but still
// enabled: zeros, or the last frame again when the last descriptor had BUP
// set (QEMU write_bup; the Intel PRM has the opposite polarity).
func (c *channel) underrunFill(frames int) {
	if c.out == nil {
		return
	}
	frames = min(frames, c.out.Free())
	if frames <= 0 {
		return
	}
	data := c.scratch(frames * frameBytes)
	var f [4]byte
	if c.bupLast {
		f = c.lastFrame
	}
	for i := 0; i < len(data); i += frameBytes {
		copy(data[i:], f[:])
	}
	c.out.Write(c.gained(data))
}
