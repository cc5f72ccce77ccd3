package virtiosnd

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gemu/devices/audio"
	"gemu/machine"
	"gemu/tests/linux/guest"
	"gemu/tests/rig"
)

// TestLinux boots the stock Debian kernel (tests/linux builds and caches
// it) on gemu with a virtio-sound device instead of AC97, loads Linux's
// own virtio_mmio and virtio_snd modules, and plays and records with
// aplay/arecord: the output must be the file's frames exactly, the
// recording the capture source's frames exactly. About a minute of host
// time per scenario, so it only runs with GEMU_LINUX=1:
//
//	GEMU_LINUX=1 go test ./tests/virtiosnd -run Linux -v
func TestLinux(t *testing.T) {
	if os.Getenv("GEMU_LINUX") != "1" {
		t.Skip("set GEMU_LINUX=1 to boot Debian's kernel with virtio_snd (about a minute per scenario)")
	}
	g := linuxGuest(t)
	t.Run("play48", func(t *testing.T) { linuxPlay(t, g, "play48", "/wav/s16-48000.wav", 48000) })
	t.Run("play44", func(t *testing.T) { linuxPlay(t, g, "play44", "/wav/s16-44100.wav", 44100) })
	t.Run("record", func(t *testing.T) { linuxRecord(t, g) })
}

var (
	linuxOnce sync.Once
	linuxG    *guest.Guest
	linuxErr  error
)

func linuxGuest(t *testing.T) *guest.Guest {
	t.Helper()
	linuxOnce.Do(func() { linuxG, linuxErr = guest.Build(context.Background(), guest.Options{}) })
	if linuxErr != nil {
		t.Fatalf("building the Linux guest: %v", linuxErr)
	}
	return linuxG
}

// bootLinux runs one scenario on gemu (-icount shift=3, as tests/linux)
// with -device virtio-sound-device and returns the console.
func bootLinux(t *testing.T, g *guest.Guest, scenario, audiodev string) string {
	t.Helper()
	r := rig.Machine(t, machine.Config{
		RAMSize: 512 << 20, Kernel: g.Image, Initrd: g.Initrd,
		Append:    "console=ttyS0 earlycon gemu.scenario=" + scenario + " gemu.modules=virtio_mmio,virtio_snd",
		Audiodevs: rig.Audiodevs(t, audiodev), Devices: rig.Devices(t, "virtio-sound-device,audiodev=snd0"),
		// Linux's virtio_snd refuses a legacy device ("does not comply
		// with spec version 1.x"): the modern interface, as on QEMU.
		Globals:       rig.Opts(t, "-global", "virtio-mmio.force-legacy=false"),
		Deterministic: true, Shift: 3,
	})
	if r.Code != 0 {
		t.Fatalf("gemu: exit status %d; console tail:\n%s", r.Code, rig.Tail(r.Out, 30))
	}
	for _, want := range []string{"VirtIO SoundCard", "@@gemu poweroff"} {
		if !strings.Contains(r.Out, want) {
			t.Fatalf("console lacks %q; tail:\n%s", want, rig.Tail(r.Out, 30))
		}
	}
	return r.Out
}

var playedOK = regexp.MustCompile(`(?m)^@@gemu play-done \S+ rc=0$`)

func linuxPlay(t *testing.T, g *guest.Guest, scenario, file string, rate int) {
	wav := filepath.Join(t.TempDir(), "out.wav")
	out := bootLinux(t, g, scenario, guest.WAVAudiodev(wav, rate))
	if !playedOK.MatchString(out) {
		t.Errorf("aplay did not finish cleanly; tail:\n%s", rig.Tail(out, 20))
	}
	b, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	got, err := guest.ParseWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	src, err := guest.TestWAV(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := guest.Stereo16(src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := guest.Compare(got, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %+v", scenario, m)
	if !m.Exact() || m.Offset != 0 {
		t.Errorf("%s: output is not the file's frames exactly from frame 0: %+v", scenario, m)
	}
}

func linuxRecord(t *testing.T, g *guest.Guest) {
	dir := t.TempDir()
	src := guest.Generate(guest.Format{Rate: 48000, Channels: 2, Bits: 16}, 24000)
	w, err := audio.CreateWAV(filepath.Join(dir, "src.wav"), audio.Spec{Freq: 48000, Format: audio.S16LE, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(src.Data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := bootLinux(t, g, "record", fmt.Sprintf("none,id=snd0,in.path=%s,in.loop=on", filepath.Join(dir, "src.wav")))
	_, rest, ok := strings.Cut(out, "@@gemu-b64-begin\n")
	b64, _, ok2 := strings.Cut(rest, "@@gemu-b64-end")
	if !ok || !ok2 {
		t.Fatalf("no recording on the console; tail:\n%s", rig.Tail(out, 20))
	}
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(b64, "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := guest.ParseWAV(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec.Data, src.Data) {
		n := 0
		for n < min(len(rec.Data), len(src.Data)) && rec.Data[n] == src.Data[n] {
			n++
		}
		t.Errorf("recording: %d bytes, want the source's %d exactly; first difference at byte %d", len(rec.Data), len(src.Data), n)
	}
}
