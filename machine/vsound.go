package machine

import (
	"fmt"

	"gemu/devices/virtio"
	"gemu/qemuopt"
)

// The virtio sound card on either transport: -device virtio-sound-device
// (virtio-mmio, machine/virtio.go) and -device virtio-sound-pci (the
// virtio 1.x PCI transport on the PCIe host, QEMU 10's 1af4:1059 with
// class 0x040100 and two MSI-X vectors). Both take QEMU's streams=, jacks=
// and chmaps=; the jacks can be plugged and unplugged at run time with the
// monitor's jack command (monitor.go).

// Properties of both virtio sound devices (QEMU 10 hw/audio/virtio-snd.c
// virtio_snd_properties).
var soundProps = []prop{
	{"streams", "uint32", "number of PCM streams, 1..10, the first half playback (default 2)"},
	{"jacks", "uint32", "number of jacks, 0..8: headphone, mic, ... (default 0)"},
	{"chmaps", "uint32", "number of channel maps, 0..18 (default 0)"},
}

// newSound creates a virtio sound device from the options common to both
// transports.
func (m *Machine) newSound(o *qemuopt.Opts) (*virtio.Sound, error) {
	a, err := m.deviceAudiodev(o)
	if err != nil {
		return nil, err
	}
	streams, err := o.Uint("streams", 2)
	if err != nil {
		return nil, err
	}
	jacks, err := o.Uint("jacks", 0)
	if err != nil {
		return nil, err
	}
	chmaps, err := o.Uint("chmaps", 0)
	if err != nil {
		return nil, err
	}
	d := virtio.NewSound(m.Clock, nil)
	if err := d.SetLayout(int(min(streams, 1<<20)), int(min(jacks, 1<<20)), int(min(chmaps, 1<<20))); err != nil {
		return nil, o.Errorf("%v", err)
	}
	d.UseAudiodev(a)
	d.Trace = m.Tracer("virtio")
	// Voice names (per-stream WAV files, statistics): virtio-snd, then
	// virtio-snd1, virtio-snd2, ... for further sound devices.
	if m.sounds > 0 {
		d.Name = fmt.Sprintf("virtio-snd%d", m.sounds)
	}
	m.sounds++
	m.AtExit(func() error { d.Close(); return nil })
	m.monitor().addSound(o.String("id", ""), d)
	return d, nil
}

// addVirtioSoundPCI is `-device virtio-sound-pci,audiodev=ID[,addr=SLOT]`.
func addVirtioSoundPCI(m *Machine, o *qemuopt.Opts) error {
	d, err := m.newSound(o)
	if err != nil {
		return err
	}
	// QEMU: PCI_CLASS_MULTIMEDIA_AUDIO and vectors=2
	// (hw/audio/virtio-snd-pci.c).
	vectors, err := o.Uint("vectors", 2)
	if err != nil {
		return err
	}
	if vectors > 64 {
		return o.Errorf("vectors=%d: at most 64", vectors)
	}
	p := virtio.NewPCI(m.Bus, d, virtio.PCIConfig{Class: 0x040100, Vectors: int(vectors)})
	p.Trace = m.Tracer("virtio")
	p.GuestErrors = m.GuestError("virtio-sound-pci")
	return m.attachPCI(o, p.Function())
}
