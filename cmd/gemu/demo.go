package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"gemu/clock"
	"gemu/devices/audio"
	"gemu/guests"
	"gemu/machine"
	"gemu/qemuopt"
)

// The embedded sound demo, gemu's main job: with no -kernel and no -bios,
// the demo guest runs bare metal and plays music through one sound device
// of each kind gemu has, all on one audiodev.
const (
	demoWAV    = "gemu-demo.wav"         // where the music goes without speakers
	demoKernel = "(embedded demo guest)" // the kernel's name in messages
)

// demoAudiodev is the -audiodev configureDemo adds: the speakers.
//
// The voices are 48 kHz; so is the speakers' stream, so nothing is
// resampled on the way (QEMU's default output rate is 44.1 kHz).
var demoAudiodev = "oto,id=" + guests.DemoAudiodev + ",out.frequency=48000"

// configureDemo sets cfg up for the demo: elf runs bare metal, and unless
// the command line already chose devices or audio, an AC97, a virtio-sound
// and an ivshmem play through the host speakers (oto), or into demoWAV
// where the host has no audio device, which one line on log announces. The
// guest plays what it finds, so a user who gives their own devices hears
// the voices those carry.
func configureDemo(cfg *machine.Config, elf []byte, log io.Writer) {
	cfg.KernelData = elf
	cfg.Kernel = demoKernel
	cfg.BIOS = "none"
	if len(cfg.Audiodevs) > 0 || len(cfg.Devices) > 0 {
		return
	}
	cfg.Audiodevs = qemuopt.MustParseFlag("-audiodev", demoAudiodev)
	cfg.Objects = append(cfg.Objects, qemuopt.MustParseFlag("-object", guests.DemoObjects...)...)
	cfg.Devices = qemuopt.MustParseFlag("-device", guests.DemoDevices...)
	cfg.Globals = append(cfg.Globals, qemuopt.MustParseFlag("-global", guests.DemoGlobals...)...)
	cfg.OpenAudiodev = func(opt audio.Options, clk *clock.Clock) (*audio.Audiodev, error) {
		return openDemoAudiodev(opt, clk, log)
	}
}

// openDemoAudiodev opens the demo's oto audiodev, falling back to a WAV
// file rather than to the silence audio.OpenOptions falls back to.
func openDemoAudiodev(opt audio.Options, clk *clock.Clock, log io.Writer) (*audio.Audiodev, error) {
	var why strings.Builder
	a, err := audio.OpenOptions(opt, clk, &why)
	if err != nil {
		return nil, err
	}
	if a.Options().Driver == opt.Driver {
		// The speakers opened: the summary (stats=on) and limit
		// messages go to the user, not to the buffer that caught why,
		// and so do the notes the driver wrote while opening (stats=on:
		// the priority its threads got).
		io.WriteString(log, why.String())
		a.SetLog(log)
		return a, nil
	}
	a.Close()
	wav, err := audio.ParseOptions(fmt.Sprintf("wav,id=%s,path=%s,out.frequency=48000", guests.DemoAudiodev, demoWAV))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "gemu: no audio output on this machine; the demo's sound goes to %s instead\n", demoWAV)
	return audio.OpenOptions(wav, clk, os.Stderr)
}
