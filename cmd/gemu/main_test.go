package main

import (
	"bytes"
	"gemu/devices/audio"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gemu/machine"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		want options
	}{
		{nil, options{serial: "mon:stdio", mux: true}},
		{[]string{"-machine", "virt", "-m", "512M", "-nographic", "-bios", "none", "-kernel", "k.elf",
			"-initrd", "i", "-append", "console=ttyS0 earlycon", "-smp", "1", "-no-reboot"},
			options{serial: "mon:stdio", mux: true, cfg: machine.Config{RAMSize: 512 << 20, BIOS: "none",
				Kernel: "k.elf", Initrd: "i", Append: "console=ttyS0 earlycon", NoReboot: true}}},
		{[]string{"-m", "1G", "-serial", "stdio", "-icount", "shift=5"},
			options{serial: "stdio", cfg: machine.Config{RAMSize: 1 << 30, Deterministic: true, Shift: 5}}},
		{[]string{"-m", "256", "-icount", "auto", "-serial", "none"},
			options{serial: "none", mux: true, cfg: machine.Config{RAMSize: 256 << 20, Deterministic: true, Shift: machine.DefaultShift}}},
		{[]string{"-m", "size=64M", "-icount", "shift=auto,sleep=off", "-d", "uart,plic", "-D", "log"},
			options{serial: "mon:stdio", mux: true, traceFile: "log", cfg: machine.Config{RAMSize: 64 << 20,
				Deterministic: true, Shift: machine.DefaultShift, Trace: []string{"uart", "plic"}}}},
		{[]string{"-icount", "shift=3,sleep=on"},
			options{serial: "mon:stdio", mux: true, cfg: machine.Config{Deterministic: true, Shift: 3, IcountSleep: true}}},
		{[]string{"-M", "virt,dumpdtb=x.dtb", "-smp", "cpus=1", "-icount", "3"},
			options{serial: "mon:stdio", mux: true, dumpDTB: "x.dtb", cfg: machine.Config{Deterministic: true, Shift: 3}}},
		{[]string{"-audiodev", "wav,id=a,path=o.wav", "-device", "AC97,audiodev=a", "-object", "o1", "-chardev", "c1"},
			options{serial: "mon:stdio", mux: true, cfg: machine.Config{
				Audiodevs: []string{"wav,id=a,path=o.wav"}, Objects: []string{"o1"}, Chardevs: []string{"c1"},
				Devices: []machine.DeviceOpt{{Name: "AC97", Keys: []string{"audiodev"},
					Props: map[string]string{"audiodev": "a"}, Raw: "AC97,audiodev=a"}}}}},
		{[]string{"-nodefaults", "-no-user-config", "-name", "vm1"}, options{serial: "none", mux: true}},
		{[]string{"-nodefaults", "-serial", "stdio"}, options{serial: "stdio"}},
		{[]string{"-rtc", "base=2020-01-02T03:04:05"},
			options{serial: "mon:stdio", mux: true, cfg: machine.Config{RTCBase: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}}},
	}
	for _, tc := range tests {
		got, err := parseArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(options{}), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.args, diff)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // the error must name the flag
	}{
		{[]string{"-bogus"}, "-bogus: invalid option"},
		{[]string{"-m"}, "-m: requires an argument"},
		{[]string{"-m", "12Q"}, "-m 12Q:"},
		{[]string{"-m", "0"}, "-m 0:"},
		{[]string{"-smp", "2"}, "-smp 2: gemu emulates a single hart"},
		{[]string{"-machine", "sifive_u"}, "-machine sifive_u:"},
		{[]string{"-machine", "virt,aia=aplic"}, "-machine virt,aia=aplic:"},
		{[]string{"-icount", "shift=99"}, "-icount shift=99:"},
		{[]string{"-icount", "foo=1"}, "-icount foo=1:"},
		{[]string{"-serial", "pty"}, "-serial pty:"},
		{[]string{"-device", ",x=1"}, "-device ,x=1:"},
		{[]string{"kernel.elf"}, "kernel.elf: unexpected argument"},
		{[]string{"-rtc", "base=yesterday"}, "-rtc base=yesterday:"},
	}
	for _, tc := range tests {
		_, err := parseArgs(tc.args)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: err = %v, want one line starting %q", tc.args, err, tc.want)
		}
	}
}

func TestEscaper(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		wantQuit bool
	}{
		{"abc", "abc", false},
		{"a\x01\x01b", "a\x01b", false},
		{"a\x01xb", "a", true},
		{"\x01zq", "q", false}, // unknown escape swallowed
	}
	for _, tc := range tests {
		quit := false
		var help bytes.Buffer
		e := &escaper{quit: func() { quit = true }, help: &help}
		got := string(e.filter([]byte(tc.in)))
		if got != tc.want || quit != tc.wantQuit {
			t.Errorf("%q: got %q quit=%v, want %q quit=%v", tc.in, got, quit, tc.want, tc.wantQuit)
		}
	}
	// An escape split across two reads still works.
	quit := false
	e := &escaper{quit: func() { quit = true }}
	e.filter([]byte("\x01"))
	e.filter([]byte("x"))
	if !quit {
		t.Errorf("split Ctrl-A x did not quit")
	}
}

// TestRunEmbedded runs the main job, the embedded sound demo, end to end in
// deterministic time. The test machine has no speakers, so the demo must say
// so and leave its music, played through all three sound devices, in
// gemu-demo.wav in the working directory.
func TestRunEmbedded(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	code := run([]string{"-nographic", "-icount", "auto"}, strings.NewReader(""), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), "gemu demo: done") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and the demo's last line", code, out.String(), errOut.String())
	}
	for _, want := range []string{"AC97 (Intel 82801AA) at PCI", "virtio-sound at virtio-mmio slot 7", "ivshmem at PCI",
		"(AC97 melody, virtio-sound bass, ivshmem counter-voice)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, out.String())
		}
	}
	spec, data, err := audio.ReadWAVFile(machine.DemoWAV)
	if err != nil {
		t.Fatalf("demo output: %v", err)
	}
	// The tune lasts about 15 s; anything under 15 s means playback stopped early.
	if secs := len(data) / spec.FrameBytes() / spec.Freq; secs < 15 {
		t.Errorf("%s holds %d s of audio, want the whole tune", machine.DemoWAV, secs)
	}
	silent := true
	for _, b := range data {
		if b != 0 {
			silent = false
			break
		}
	}
	if silent {
		t.Errorf("%s is all silence", machine.DemoWAV)
	}
}

func TestRunErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-device", "nosuch"}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), `unknown device "nosuch"`) {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"-bios", "none"}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "needs -kernel") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}
