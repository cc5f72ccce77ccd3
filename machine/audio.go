package machine

import (
	"fmt"
	"sort"
	"strings"

	"gemu/devices/ac97"
	"gemu/devices/audio"
)

// Audio backends (-audiodev) and the AC97 sound device (-device AC97).

func init() {
	RegisterTrace("ac97", "AC97 register accesses, descriptors, interrupts and DMA errors")
	RegisterBoard("audio", openAudiodevs)
	RegisterDevice("AC97", addAC97)
}

var audiodevs = map[*Machine]map[string]*audio.Audiodev{}

// openAudiodevs opens every -audiodev on the machine clock; they are closed
// (WAV files completed, statistics written) when Run returns.
func openAudiodevs(m *Machine) error {
	devs := map[string]*audio.Audiodev{}
	audiodevs[m] = devs
	m.AtExit(func() error { delete(audiodevs, m); return nil })
	for _, arg := range m.Config.Audiodevs {
		a, err := audio.Open(arg, m.Clock)
		if err != nil {
			return fmt.Errorf("-audiodev %s: %v", arg, err)
		}
		id := a.ID()
		if id == "" {
			a.Close()
			return fmt.Errorf("-audiodev %s: missing id=", arg)
		}
		if devs[id] != nil {
			a.Close()
			return fmt.Errorf("-audiodev %s: duplicate id %q", arg, id)
		}
		devs[id] = a
		m.AtExit(a.Close)
	}
	return nil
}

// Audiodev returns the -audiodev with the given id.
func (m *Machine) Audiodev(id string) (*audio.Audiodev, error) {
	devs := audiodevs[m]
	if a := devs[id]; a != nil {
		return a, nil
	}
	var ids []string
	for k := range devs {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return nil, fmt.Errorf("no -audiodev with id %q (none given; add e.g. -audiodev oto,id=%s)", id, id)
	}
	return nil, fmt.Errorf("no -audiodev with id %q (have: %s)", id, strings.Join(ids, ", "))
}

// deviceAudiodev resolves a sound device's audiodev= option. Without it, as
// QEMU 7.2 still allows with a warning, the only -audiodev is used, or a
// silent "none" backend when there is none.
func (m *Machine) deviceAudiodev(opt DeviceOpt) (*audio.Audiodev, error) {
	if id, ok := opt.Get("audiodev"); ok {
		a, err := m.Audiodev(id)
		if err != nil {
			return nil, fmt.Errorf("-device %s: %v", opt.Raw, err)
		}
		return a, nil
	}
	if devs := audiodevs[m]; len(devs) == 1 {
		for _, a := range devs {
			return a, nil
		}
	}
	a, err := audio.Open("none,id=none-"+opt.Name, m.Clock)
	if err != nil {
		return nil, err
	}
	m.AtExit(a.Close)
	return a, nil
}

// addAC97 is `-device AC97,audiodev=ID[,addr=SLOT]`.
func addAC97(m *Machine, opt DeviceOpt) error {
	if err := opt.Check("audiodev", "addr", "id", "bus"); err != nil {
		return err
	}
	a, err := m.deviceAudiodev(opt)
	if err != nil {
		return err
	}
	d := ac97.New(m.Clock, nil)
	d.UseAudiodev(a)
	if tr := m.Tracer("ac97"); tr != nil {
		d.Trace = func(s string) { tr("%s", s) }
	}
	if err := m.attachPCI(opt, d.PCI()); err != nil {
		return err
	}
	m.AtExit(func() error { d.Close(); return nil })
	return nil
}
