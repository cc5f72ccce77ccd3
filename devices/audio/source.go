package audio

import (
	"fmt"
	"math"
)

// capture produces frames for one input voice, in virtual time.
type capture struct {
	s    *Stream
	spec Spec
	t0   int64  // virtual time of the anchor
	made uint64 // frames produced since t0

	tone  float64 // Hz, 0 = not a tone
	phase uint64  // frames produced in total (tone phase)

	data  []byte // file samples (fspec), nil = not a file
	fspec Spec
	pos   int // next file frame
	loop  bool

	rs   *resampler // file rate -> voice rate, nil when equal
	fbuf []float64  // decoded file frames
	rbuf []float64  // resampled frames (file channels)
	obuf []float64  // voice channels
	nbuf []byte     // native bytes
}

// ToneAmplitude is the peak of the in.tone sine (-6 dBFS).
const ToneAmplitude = 0.5

// inFile is the in.path WAV file, read and checked once when the audiodev
// opens (a bad file is an -audiodev error, not a capture that silently
// fails later), and shared read-only by every capture voice.
type inFile struct {
	spec Spec
	data []byte
}

// readInFile loads opt.InPath, or returns nil when there is none.
func readInFile(opt Options) (*inFile, error) {
	if opt.InPath == "" {
		return nil, nil
	}
	fs, data, err := ReadWAVFile(opt.InPath)
	if err != nil {
		return nil, fmt.Errorf("audiodev: in.path: %w", err)
	}
	return &inFile{fs, data}, nil
}

func newCapture(s *Stream, opt Options, in *inFile) *capture {
	sp := s.spec
	c := &capture{s: s, spec: sp, tone: opt.InTone, loop: opt.InLoop,
		obuf: make([]float64, mixChunk*sp.Channels),
		nbuf: make([]byte, mixChunk*sp.FrameBytes()),
	}
	if in != nil {
		fs := in.spec
		c.data, c.fspec = in.data, fs
		inChunk := mixChunk
		if fs.Freq != sp.Freq {
			c.rs = newResampler(tableFor(fs.Freq, sp.Freq), fs.Channels)
			inChunk = resamplerChunk
			c.rbuf = make([]float64, mixChunk*fs.Channels)
		}
		c.fbuf = make([]float64, inChunk*fs.Channels)
	}
	return c
}

func (c *capture) anchor(t int64) { c.t0, c.made = t, 0 }

// run produces every frame due by virtual time now.
func (c *capture) run(now int64) {
	due := framesAt(c.spec.Freq, now-c.t0) - c.made
	c.made += due
	if c.s.gone.Load() {
		return
	}
	for n := int(due); n > 0; {
		k := min(n, mixChunk)
		if c.rs != nil {
			k = min(k, c.rs.maxOut())
		}
		buf := c.nbuf[:k*c.s.fb]
		c.generate(buf, k)
		c.s.Write(buf) // what does not fit is lost: a capture overrun
		n -= k
	}
}

// generate writes k frames of the source into buf (voice format).
func (c *capture) generate(buf []byte, k int) {
	sp := c.spec
	switch {
	case c.data != nil:
		out := c.obuf[:k*sp.Channels]
		clear(out)
		fch := c.fspec.Channels
		if c.rs == nil {
			in := c.fbuf[:k*fch]
			c.readFile(in, k)
			mapAdd(in, fch, out, sp.Channels, k)
		} else {
			need := c.rs.need(k)
			in := c.fbuf[:need*fch]
			c.readFile(in, need)
			c.rs.push(in)
			r := c.rbuf[:k*fch]
			c.rs.process(r, k)
			mapAdd(r, fch, out, sp.Channels, k)
		}
		encode(sp, out, buf)
	case c.tone > 0:
		out := c.obuf[:k*sp.Channels]
		w := 2 * math.Pi * c.tone / float64(sp.Freq)
		for i := range k {
			v := ToneAmplitude * math.Sin(w*float64(c.phase+uint64(i)))
			for j := range sp.Channels {
				out[i*sp.Channels+j] = v
			}
		}
		encode(sp, out, buf)
	default:
		sp.FillSilence(buf)
	}
	c.phase += uint64(k)
}

// readFile decodes n file frames at the cursor into dst, looping or padding
// with silence at the end.
func (c *capture) readFile(dst []float64, n int) {
	fb := c.fspec.FrameBytes()
	fch := c.fspec.Channels
	total := len(c.data) / fb
	for n > 0 {
		if c.pos >= total {
			if c.loop && total > 0 {
				c.pos = 0
			} else {
				clear(dst[:n*fch])
				return
			}
		}
		k := min(n, total-c.pos)
		decode(c.fspec, c.data[c.pos*fb:(c.pos+k)*fb], dst[:k*fch])
		dst = dst[k*fch:]
		c.pos += k
		n -= k
	}
}
