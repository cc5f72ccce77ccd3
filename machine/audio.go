package machine

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"gemu/devices/ac97"
	"gemu/devices/audio"
	"gemu/qemuopt"
)

// Audio backends (-audiodev) and the AC97 sound device (-device AC97).

// openAudiodevs opens every -audiodev on the machine clock, with
// Config.OpenAudiodev when set; they are closed (WAV files completed,
// statistics written) when Run returns.
func (m *Machine) openAudiodevs() error {
	m.Audiodevs = map[string]*audio.Audiodev{}
	for _, o := range m.Config.Audiodevs {
		opt, err := audio.ParseOpts(o)
		if err != nil {
			return o.Errorf("%v", strings.TrimPrefix(err.Error(), "audiodev: "))
		}
		if opt.ID == "" {
			return o.Errorf("missing id=")
		}
		if m.Audiodevs[opt.ID] != nil {
			return o.Errorf("duplicate id %q", opt.ID)
		}
		var a *audio.Audiodev
		if m.Config.OpenAudiodev != nil {
			a, err = m.Config.OpenAudiodev(opt, m.Clock)
		} else {
			a, err = audio.OpenOptions(opt, m.Clock, os.Stderr)
		}
		if err != nil {
			return o.Errorf("%v", err)
		}
		m.Audiodevs[opt.ID] = a
		m.AtExit(a.Close)
	}
	return nil
}

// Audiodev returns the -audiodev with the given id.
func (m *Machine) Audiodev(id string) (*audio.Audiodev, error) {
	if a := m.Audiodevs[id]; a != nil {
		return a, nil
	}
	var ids []string
	for k := range m.Audiodevs {
		ids = append(ids, k)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return nil, fmt.Errorf("no -audiodev with id %q (none given; add e.g. -audiodev oto,id=%s)", id, id)
	}
	return nil, fmt.Errorf("no -audiodev with id %q (have: %s)", id, strings.Join(ids, ", "))
}

// deviceAudiodev resolves a sound device's audiodev= option. Without it, as
// QEMU 7.2 still allows with a warning, the only -audiodev is used, or a
// silent "none" backend when there is none.
func (m *Machine) deviceAudiodev(o *qemuopt.Opts) (*audio.Audiodev, error) {
	if id, ok := o.Get("audiodev"); ok {
		a, err := m.Audiodev(id)
		if err != nil {
			return nil, o.Errorf("%v", err)
		}
		return a, nil
	}
	if len(m.Audiodevs) == 1 {
		for _, a := range m.Audiodevs {
			return a, nil
		}
	}
	a, err := audio.OpenOptions(audio.Options{Driver: "none", ID: "none-" + o.String("driver", "")}, m.Clock, os.Stderr)
	if err != nil {
		return nil, err
	}
	m.AtExit(a.Close)
	return a, nil
}

// addAC97 is `-device AC97,audiodev=ID[,addr=SLOT]`.
func addAC97(m *Machine, o *qemuopt.Opts) error {
	a, err := m.deviceAudiodev(o)
	if err != nil {
		return err
	}
	d := ac97.New(m.Clock, nil)
	d.UseAudiodev(a)
	d.Trace = m.Tracer("ac97")
	d.GuestError = m.GuestError("ac97")
	if err := m.attachPCI(o, d.PCI()); err != nil {
		return err
	}
	m.AtExit(func() error { d.Close(); return nil })
	return nil
}
