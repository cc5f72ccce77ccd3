// Package guests embeds the guest program gemu ships: the sound demo that
// `go run ./cmd/gemu` plays when given no -kernel. Its sources are in
// demo/ (with the drivers' headers it shares in ac97/, virtiosnd/ and
// ivshmem/, and the start-up code in common/), built by the Makefile here
// like every other guest in the repository; tests/guests checks that the
// committed ELF is what the sources build, tests/demo that it plays what
// it should.
package guests

import _ "embed"

// Demo is demo/demo.elf: about 15 s of music (the opening of the Ode to
// Joy) in three voices, the melody on an AC97, the bass on virtio-sound
// and a counter-voice on ivshmem, 48 kHz 16-bit stereo each, then
// power-off. Voices whose device is missing are left out (the console
// says so).
//
//go:embed demo/demo.elf
var Demo []byte

// The devices the demo is written for: one sound device of each kind gemu
// has (an AC97, a virtio-sound and an ivshmem with 1 MiB of shared memory),
// all on the audiodev with id DemoAudiodev, as -object, -device and
// -global arguments. The demo's virtio-sound driver speaks the modern
// virtio-mmio interface only, which QEMU's virt board (and gemu's) offers
// when DemoGlobals asks for it. gemu adds them when it runs the demo with no devices of the
// user's; tests give them to check what it plays.
const (
	DemoAudiodev = "demo"
	DemoMemdev   = "demo-shm"
)

var (
	DemoGlobals = []string{"virtio-mmio.force-legacy=false"}
	DemoObjects = []string{"memory-backend-ram,id=" + DemoMemdev + ",size=1M"}
	DemoDevices = []string{
		"AC97,audiodev=" + DemoAudiodev,
		"virtio-sound-device,audiodev=" + DemoAudiodev,
		"ivshmem-plain,memdev=" + DemoMemdev + ",audiodev=" + DemoAudiodev,
	}
)
