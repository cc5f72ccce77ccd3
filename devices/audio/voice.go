package audio

// Output is a playback voice as a device model uses it: the producer side of
// a Stream, plus Close to hand the voice back. Device models depend on this
// interface (not on *Stream) so their tests can use fakes.
type Output interface {
	Free() int          // frames that fit now
	Write(p []byte) int // whole frames taken
	Buffered() int      // frames not yet pulled by the sink
	SetVolume(left, right float64, mute bool)
	SetActive(on bool)
	Close()
}

// Input is a capture voice as a device model uses it: the consumer side of
// a Stream fed by the audiodev's capture source, plus Close.
type Input interface {
	Buffered() int     // frames available
	Read(p []byte) int // whole frames read
	SetActive(on bool)
	Close()
}

// Backend opens a device's voices, like QEMU's AUD_open_out/AUD_open_in on
// an -audiodev. *Audiodev is the real one.
type Backend interface {
	OpenOutput(name string, spec Spec) (Output, error)
	OpenInput(name string, spec Spec) (Input, error)
}

// openVoice is a Stream that Close removes from its Audiodev (an output's
// buffered frames still play).
type openVoice struct {
	*Stream
	a *Audiodev
}

func (v openVoice) Close() { v.a.Remove(v.Stream) }

// OpenOutput is NewOutput as a Backend: Close on the result removes it.
func (a *Audiodev) OpenOutput(name string, spec Spec) (Output, error) {
	s, err := a.NewOutput(name, spec)
	if err != nil {
		return nil, err
	}
	return openVoice{s, a}, nil
}

// OpenInput is NewInput as a Backend: Close on the result removes it.
func (a *Audiodev) OpenInput(name string, spec Spec) (Input, error) {
	s, err := a.NewInput(name, spec)
	if err != nil {
		return nil, err
	}
	return openVoice{s, a}, nil
}
