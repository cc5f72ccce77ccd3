// Package virtiosnd holds the end-to-end tests of the virtio-sound device:
// our freestanding driver (guests/virtiosnd, built here with the
// cross compiler) runs on gemu in deterministic mode with the wav
// audiodev, and what it played or recorded is compared frame by frame with
// what it should be, on virtio-mmio and virtio-pci. QEMU 7.2 (Debian 12)
// has no virtio-sound; qemu10_test.go runs the same guest on QEMU 10.0.2
// and compares. The board wiring (slots, empty slots, placement) is
// checked against QEMU's rules.
//
//	go test ./tests/virtiosnd
package virtiosnd

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gemu/devices/virtio"
	"gemu/machine"
	"gemu/tests/pcm"
	"gemu/tests/rig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// guestELFPath builds guests/virtiosnd once (the ELF is not committed).
func guestELFPath(t *testing.T) string {
	t.Helper()
	return rig.Guest(t, "guests/virtiosnd/virtiosnd.elf")
}

// source is the capture input: distinct, never zero, unlike the pattern.
func source(n int) []pcm.Frame {
	f := make([]pcm.Frame, n)
	for i := range f {
		l := int16((i*11+5)%30011 + 1)
		f[i] = pcm.Frame{l, -l / 3}
	}
	return f
}

// config is a deterministic machine running the guest with one audiodev
// and the given -device arguments.
func config(t *testing.T, audiodev, appendArgs string, devices ...string) machine.Config {
	t.Helper()
	return machine.Config{
		BIOS: "none", Kernel: guestELFPath(t), Append: appendArgs,
		Devices: rig.Devices(t, devices...), Audiodevs: rig.Audiodevs(t, audiodev),
		Deterministic: true, Shift: machine.DefaultShift,
		// The guest's driver speaks modern virtio-mmio, which QEMU's virt
		// (and gemu's) offers only with this global.
		Globals: rig.Opts(t, "-global", "virtio-mmio.force-legacy=false"),
	}
}

// runGuest runs the guest to completion and returns its console output.
func runGuest(t *testing.T, audiodev, appendArgs string, devices ...string) string {
	t.Helper()
	return rig.MachineOK(t, config(t, audiodev, appendArgs, devices...), "virtiosnd: done")
}

// TestPlayback plays 250 ms at several rates and requires the WAV sink to
// hold exactly the guest's frames: nothing missing, repeated or padded.
// The guest itself checks that its buffers came back no faster than real
// time.
func TestPlayback(t *testing.T) {
	for _, rate := range []int{48000, 44100, 8000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			wav := filepath.Join(t.TempDir(), "out.wav")
			out := runGuest(t, fmt.Sprintf("wav,id=snd0,path=%s,out.frequency=%d,out.channels=2,out.format=s16", wav, rate),
				fmt.Sprintf("rate=%d ms=250 recframes=0", rate), "virtio-sound-device,audiodev=snd0")
			n := rate / 4
			rig.Contains(t, out, fmt.Sprintf("virtiosnd: played %d frames at %d Hz", n, rate))
			pcm.Equal(t, "WAV sink", pcm.Pattern(rate, n), pcm.ReadWAV(t, wav, rate))
		})
	}
}

// TestCapture records 2048 frames from an in.path WAV, through virtio-mmio
// and virtio-pci, and requires the guest's buffers to hold exactly the
// source's frames from the first one.
func TestCapture(t *testing.T) {
	for _, tc := range []struct {
		rate   int
		device string
	}{{48000, "virtio-sound-device"}, {16000, "virtio-sound-device"}, {48000, "virtio-sound-pci"}} {
		t.Run(fmt.Sprintf("%s/%d", tc.device, tc.rate), func(t *testing.T) {
			dir := t.TempDir()
			src := source(2048)
			if err := pcm.WriteWAV(filepath.Join(dir, "src.wav"), tc.rate, src); err != nil {
				t.Fatal(err)
			}
			out := runGuest(t, fmt.Sprintf("none,id=snd0,in.path=%s", filepath.Join(dir, "src.wav")),
				fmt.Sprintf("rate=%d ms=0 recframes=2048", tc.rate), tc.device+",audiodev=snd0")
			rig.Contains(t, out, fmt.Sprintf("virtiosnd: recorded 2048 frames at %d Hz", tc.rate))
			pcm.Equal(t, "recording", src, pcm.Dump(out, "REC"))
		})
	}
}

var slotLine = regexp.MustCompile(`virtiosnd: device in slot (\d) at 0x([0-9a-f]+)`)

// TestPlacement: without bus= the device goes where QEMU puts the first
// virtio-mmio device (slot 7, 0x10008000); bus=virtio-mmio-bus.N puts it
// in slot N; the guest finds it there by probing every slot.
func TestPlacement(t *testing.T) {
	tests := []struct {
		dev  string
		slot string
		addr string
	}{
		{"virtio-sound-device,audiodev=snd0", "7", "10008000"},
		{"virtio-sound-device,audiodev=snd0,bus=virtio-mmio-bus.0", "0", "10001000"},
		{"virtio-sound-device,audiodev=snd0,bus=virtio-mmio-bus.3", "3", "10004000"},
	}
	for _, tc := range tests {
		t.Run(tc.dev, func(t *testing.T) {
			out := runGuest(t, "none,id=snd0", "ms=20 recframes=256", tc.dev)
			m := slotLine.FindStringSubmatch(out)
			if m == nil || m[1] != tc.slot || m[2] != tc.addr {
				t.Errorf("guest found %v, want slot %s at %s", m, tc.slot, tc.addr)
			}
		})
	}
}

// TestSlots checks the board's virtio-mmio slots from Go: every slot
// answers the magic; empty ones have device ID 0; the sound device has 25;
// two devices fill slots 7 and 6; bad bus= options are errors.
func TestSlots(t *testing.T) {
	m, _ := rig.Boot(t, config(t, "none,id=snd0", "", "virtio-sound-device,audiodev=snd0", "virtio-sound-device,audiodev=snd0"))
	var ids []uint32
	for n := 0; n < machine.VirtioCount; n++ {
		s := m.VirtioSlot(n)
		if s == nil {
			t.Fatalf("slot %d missing", n)
		}
		if v := s.Read(virtio.RegMagic, 4); v != virtio.Magic {
			t.Errorf("slot %d magic %#x", n, v)
		}
		ids = append(ids, uint32(s.Read(virtio.RegDeviceID, 4)))
	}
	if d := cmp.Diff([]uint32{0, 0, 0, 0, 0, 0, 25, 25}, ids); d != "" {
		t.Errorf("device IDs by slot (-want +got):\n%s", d)
	}
	for _, tc := range []struct{ devs []string }{
		{[]string{"virtio-sound-device,bus=virtio-mmio-bus.8"}},
		{[]string{"virtio-sound-device,bus=pcie.0"}},
		{[]string{"virtio-sound-device,bus=virtio-mmio-bus.2", "virtio-sound-device,bus=virtio-mmio-bus.2"}},
		{[]string{"virtio-sound-device,audiodev=nosuch"}},
		{[]string{"virtio-sound-device,streams=11"}},
		{[]string{"virtio-sound-device,jacks=9"}},
		{func() []string {
			var d []string
			for i := 0; i < 9; i++ {
				d = append(d, "virtio-sound-device")
			}
			return d
		}()},
	} {
		_, err := machine.New(machine.Config{BIOS: "none", KernelData: []byte{0x6f, 0, 0, 0}, Devices: rig.Devices(t, tc.devs...)})
		if err == nil {
			t.Errorf("%v: no error", tc.devs)
		}
	}
}

// TestGuestErrors runs the guest with -d guest_errors on both transports:
// the one thing it does that the spec's lifecycle forbids (START before
// PREPARE, to check the device refuses it) is the only line, named by the
// transport it came through.
func TestGuestErrors(t *testing.T) {
	for _, tc := range []struct{ device, prefix string }{
		{"virtio-sound-device,audiodev=snd0", "virtio-mmio.7"},
		{"virtio-sound-pci,audiodev=snd0", "virtio-sound-pci"},
	} {
		t.Run(tc.device, func(t *testing.T) {
			var log strings.Builder
			cfg := config(t, "none,id=snd0", "ms=20 recframes=256", tc.device)
			cfg.Trace, cfg.TraceOut = []string{"guest_errors"}, &log
			rig.MachineOK(t, cfg, "virtiosnd: done")
			want := tc.prefix + ": sound: stream 0: PCM_START in state initial answered NOT_SUPP (VirtIO 1.2 5.14.6.6.1, PCM command lifecycle)\n"
			if d := cmp.Diff(want, log.String()); d != "" {
				t.Errorf("-d guest_errors (-want +got):\n%s", d)
			}
		})
	}
}
