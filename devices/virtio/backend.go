package virtio

import "gemu/devices/audio"

// AudiodevBackend adapts an -audiodev to the sound device: each stream's
// voice is an audio.Stream opened at START and removed at STOP (an
// output's buffered frames still play).
func AudiodevBackend(a *audio.Audiodev) Backend { return audiodev{a} }

type audiodev struct{ a *audio.Audiodev }

func (b audiodev) OpenOutput(name string, spec audio.Spec) (Output, error) {
	s, err := b.a.NewOutput(name, spec)
	if err != nil {
		return nil, err
	}
	return voice{b.a, s}, nil
}

func (b audiodev) OpenInput(name string, spec audio.Spec) (Input, error) {
	s, err := b.a.NewInput(name, spec)
	if err != nil {
		return nil, err
	}
	return voice{b.a, s}, nil
}

type voice struct {
	a *audio.Audiodev
	*audio.Stream
}

func (v voice) Close() { v.a.Remove(v.Stream) }
