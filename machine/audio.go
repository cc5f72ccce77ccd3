package machine

import (
	"fmt"
	"io"
	"os"
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

// audiodevsKey is the machine value holding its -audiodevs by id.
type audiodevsKey struct{}

func (m *Machine) audiodevs() map[string]*audio.Audiodev {
	devs, _ := m.Value(audiodevsKey{}).(map[string]*audio.Audiodev)
	return devs
}

// DemoAudiodevID names the audiodev ConfigureDemo adds, shared by its three
// sound devices. When its oto backend finds no sound device, the demo's
// sound goes to DemoWAV instead, and one line on stderr says so.
// DemoMemdevID names the shared memory of its ivshmem.
const (
	DemoAudiodevID = "demo"
	DemoMemdevID   = "demo-shm"
	DemoWAV        = "gemu-demo.wav"
)

// DemoDevices are the -object and -device arguments ConfigureDemo adds: one
// sound device of each kind gemu has, all on the DemoAudiodevID audiodev.
var (
	DemoObjects = []string{"memory-backend-ram,id=" + DemoMemdevID + ",size=1M"}
	DemoDevices = []string{
		"AC97,audiodev=" + DemoAudiodevID,
		"virtio-sound-device,audiodev=" + DemoAudiodevID,
		"ivshmem-plain,memdev=" + DemoMemdevID + ",audiodev=" + DemoAudiodevID,
	}
)

// ConfigureDemo sets cfg up for the embedded sound demo (gemu's main job):
// elf runs bare metal, and unless the command line already chose devices
// or audio, an AC97, a virtio-sound and an ivshmem (DemoDevices) play
// through the host speakers (oto), or into DemoWAV where the host has no
// audio device. The guest plays what it finds, so a user who gives their
// own devices hears the voices those carry.
func ConfigureDemo(cfg *Config, elf []byte) {
	cfg.KernelData = elf
	cfg.Kernel = "(embedded demo guest)"
	cfg.BIOS = "none"
	if len(cfg.Audiodevs) == 0 && len(cfg.Devices) == 0 {
		cfg.Audiodevs = []string{"oto,id=" + DemoAudiodevID}
		cfg.Objects = append(cfg.Objects, DemoObjects...)
		for _, d := range DemoDevices {
			opt, err := ParseDeviceOpt(d)
			if err != nil {
				panic("machine: bad DemoDevices entry: " + err.Error())
			}
			cfg.Devices = append(cfg.Devices, opt)
		}
	}
}

// demoLog is where the demo's fallback notice goes (a variable for tests).
var demoLog io.Writer = os.Stderr

// openAudiodev opens one -audiodev; the demo's oto backend falls back to a
// WAV file rather than to silence.
func openAudiodev(m *Machine, arg string) (*audio.Audiodev, error) {
	opt, err := audio.ParseOptions(arg)
	if err != nil {
		return nil, err
	}
	if opt.ID != DemoAudiodevID || opt.Driver != "oto" {
		return audio.OpenOptions(opt, m.Clock, os.Stderr)
	}
	var why strings.Builder
	a, err := audio.OpenOptions(opt, m.Clock, &why)
	if err != nil || a.Options().Driver == "oto" {
		return a, err
	}
	a.Close()
	wav, err := audio.ParseOptions(fmt.Sprintf("wav,id=%s,path=%s,out.frequency=48000", DemoAudiodevID, DemoWAV))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(demoLog, "gemu: no audio output on this machine; the demo's sound goes to %s instead\n", DemoWAV)
	return audio.OpenOptions(wav, m.Clock, os.Stderr)
}

// openAudiodevs opens every -audiodev on the machine clock; they are closed
// (WAV files completed, statistics written) when Run returns.
func openAudiodevs(m *Machine) error {
	devs := map[string]*audio.Audiodev{}
	m.SetValue(audiodevsKey{}, devs)
	for _, arg := range m.Config.Audiodevs {
		a, err := openAudiodev(m, arg)
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
	devs := m.audiodevs()
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
	if devs := m.audiodevs(); len(devs) == 1 {
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
	d.Trace = m.Tracer("ac97")
	if err := m.attachPCI(opt, d.PCI()); err != nil {
		return err
	}
	m.AtExit(func() error { d.Close(); return nil })
	return nil
}
