package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gemu/devices/audio"
	"gemu/machine"
	"gemu/qemuopt"
)

// flags is qemuopt.MustParseFlag, short for the tables below.
var flags = qemuopt.MustParseFlag

// defaults is what parseArgs gives with no arguments, changed by fn.
func defaults(fn func(o *options)) options {
	o := options{serial: "mon:stdio", mux: true}
	if fn != nil {
		fn(&o)
	}
	return o
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		want options
	}{
		{nil, defaults(nil)},
		{[]string{"-machine", "virt", "-m", "512M", "-nographic", "-bios", "none", "-kernel", "k.elf",
			"-initrd", "i", "-append", "console=ttyS0 earlycon", "-smp", "1", "-no-reboot"},
			defaults(func(o *options) {
				o.cfg = machine.Config{RAMSize: 512 << 20, Harts: 1, BIOS: "none",
					Kernel: "k.elf", Initrd: "i", Append: "console=ttyS0 earlycon", NoReboot: true}
			})},
		// -m: a plain number is MiB; suffixes and fractions as qemu_strtosz.
		{[]string{"-m", "512"}, defaults(func(o *options) { o.cfg.RAMSize = 512 << 20 })},
		{[]string{"-m", "1G"}, defaults(func(o *options) { o.cfg.RAMSize = 1 << 30 })},
		{[]string{"-m", "1.5G"}, defaults(func(o *options) { o.cfg.RAMSize = 3 << 29 })},
		{[]string{"-m", "size=64M"}, defaults(func(o *options) { o.cfg.RAMSize = 64 << 20 })},
		{[]string{"-m", "262144K"}, defaults(func(o *options) { o.cfg.RAMSize = 256 << 20 })},
		{[]string{"-m", "1G", "-serial", "stdio", "-icount", "shift=5"},
			options{serial: "stdio", cfg: machine.Config{RAMSize: 1 << 30, Deterministic: true, Shift: 5}}},
		{[]string{"-m", "256", "-icount", "auto", "-serial", "none"},
			options{serial: "none", mux: true, cfg: machine.Config{RAMSize: 256 << 20, Deterministic: true, Shift: machine.DefaultShift}}},
		{[]string{"-icount", "shift=auto,sleep=off", "-d", "uart,plic,int", "-D", "log"},
			defaults(func(o *options) {
				o.traceFile = "log"
				o.cfg = machine.Config{Deterministic: true, Shift: machine.DefaultShift, Trace: []string{"uart", "plic", "int"}}
			})},
		{[]string{"-icount", "shift=3,sleep=on,align=off"},
			defaults(func(o *options) { o.cfg = machine.Config{Deterministic: true, Shift: 3, IcountSleep: true} })},
		{[]string{"-icount", "0,sleep=yes"},
			defaults(func(o *options) { o.cfg = machine.Config{Deterministic: true, Shift: 0, IcountSleep: true} })},
		{[]string{"-M", "virt,dumpdtb=x.dtb", "-smp", "cpus=1", "-icount", "3"},
			defaults(func(o *options) { o.dumpDTB = "x.dtb"; o.cfg = machine.Config{Harts: 1, Deterministic: true, Shift: 3} })},
		{[]string{"-machine", "type=virt,accel=tcg,dumpdtb=a,,b.dtb"}, defaults(func(o *options) { o.dumpDTB = "a,b.dtb" })},
		{[]string{"-machine", "dumpdtb=x"}, defaults(func(o *options) { o.dumpDTB = "x" })},
		{[]string{"-smp", "1,sockets=1,dies=1,clusters=1,cores=1,threads=1,maxcpus=1"}, defaults(func(o *options) { o.cfg.Harts = 1 })},
		// QEMU's smp_parse: missing members computed, cores preferred.
		{[]string{"-smp", "3"}, defaults(func(o *options) { o.cfg.Harts = 3 })},
		{[]string{"-smp", "cores=2,threads=2"}, defaults(func(o *options) { o.cfg.Harts = 4 })},
		{[]string{"-smp", "4,maxcpus=8"}, defaults(func(o *options) { o.cfg.Harts = 4 })},
		{[]string{"-smp", "maxcpus=8"}, defaults(func(o *options) { o.cfg.Harts = 8 })},
		{[]string{"-smp", "0"}, defaults(func(o *options) { o.cfg.Harts = 1 })},
		// The options machine.New interprets are parsed here, once.
		{[]string{"-audiodev", "wav,id=a,path=o.wav", "-device", "AC97,audiodev=a", "-device", "driver=ivshmem-plain,memdev=m,master",
			"-object", "memory-backend-file,id=m,size=1M,mem-path=/dev/shm/a,,b", "-chardev", "socket,id=c,path=/s",
			"-drive", "file=d.img,if=none,id=d0", "-global", "AC97.x=1", "-global", "driver=AC97,property=y,value=2"},
			defaults(func(o *options) {
				o.cfg = machine.Config{
					Audiodevs: flags("-audiodev", "wav,id=a,path=o.wav"),
					Devices:   flags("-device", "AC97,audiodev=a", "driver=ivshmem-plain,memdev=m,master"),
					Objects:   flags("-object", "memory-backend-file,id=m,size=1M,mem-path=/dev/shm/a,,b"),
					Chardevs:  flags("-chardev", "socket,id=c,path=/s"),
					Drives:    flags("-drive", "file=d.img,if=none,id=d0"),
					Globals:   flags("-global", "AC97.x=1", "driver=AC97,property=y,value=2"),
				}
			})},
		{[]string{"-nodefaults", "-no-user-config", "-name", "vm1"}, options{serial: "none", mux: true}},
		{[]string{"-nodefaults", "-serial", "stdio"}, options{serial: "stdio"}},
		{[]string{"-rtc", "base=2020-01-02T03:04:05,clock=vm"},
			defaults(func(o *options) { o.cfg.RTCBase = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC) })},
		{[]string{"--cpu", "rv64", "-accel", "tcg", "-s", "-S"},
			defaults(func(o *options) { o.gdb, o.gdbWait = "tcp::1234", true })},
		{[]string{"-accel", "tcg,jit=off"}, defaults(func(o *options) { o.cfg.Engine = machine.EngineInterp })},
		{[]string{"-accel", "tcg,jit=on"}, defaults(func(o *options) { o.cfg.Engine = machine.EngineJIT })},
		{[]string{"-accel", "tcg,jit=on,jit=off"}, defaults(func(o *options) { o.cfg.Engine = machine.EngineInterp })},
	}
	for _, tc := range tests {
		got, err := parseArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(options{}), cmpopts.IgnoreUnexported(qemuopt.Opts{}), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.args, diff)
		}
	}
}

// TestParseArgsHelp: help anywhere prints what QEMU would and nothing runs.
func TestParseArgsHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string // the whole text, or its start when it ends in "..."
	}{
		{[]string{"-device", "help"}, "Misc devices:\n" +
			`name "ivshmem-doorbell", bus PCI, desc "Inter-VM shared memory"` + "\n" +
			`name "ivshmem-plain", bus PCI, desc "Inter-VM shared memory"` + "\n\nSound devices:\n" +
			`name "AC97", bus PCI, desc "Intel 82801AA AC97 Audio"` + "\n" +
			`name "virtio-sound-device", bus virtio-bus, desc "Virtio Sound"` + "\n" +
			`name "virtio-sound-pci", bus PCI, desc "Virtio Sound"` + "\n\nStorage devices:\n" +
			`name "virtio-blk-device", bus virtio-bus, desc "Virtio Block"` + "\n" +
			`name "virtio-blk-pci", bus PCI, desc "Virtio Block"` + "\n"},
		{[]string{"-device", "AC97,help"}, "AC97 options:\n" +
			"  addr=<int32>           - Slot and optional function number, example: 06.0 or 06\n" +
			"  audiodev=<str>         - ID of an audiodev to use as a backend\n" +
			"  bus=<str>              - the PCI bus (pcie.0, the only one)\n" +
			"  id=<str>               - device name\n"},
		{[]string{"-device", "?"}, "Misc devices:\n..."},
		{[]string{"-device", "driver=virtio-sound-device,help"}, "virtio-sound-device options:\n  audiodev=<str> ..."},
		{[]string{"-audiodev", "help"}, "Available audio drivers:\nnone\noto\nwav\n"},
		{[]string{"-audiodev", "wav,help"}, "wav options:\n  id=<str>               - name the sound devices refer to with audiodev=\n..."},
		{[]string{"-machine", "help"}, "Supported machines are:\nvirt                 RISC-V VirtIO board\n"},
		{[]string{"-M", "?"}, "Supported machines are:\n..."},
		{[]string{"-machine", "virt,help"}, "virt options:\n  accel=<str>            - accelerator: tcg (the only one)\n..."},
		{[]string{"-d", "help"}, "Log items (comma separated):\nin_asm          show target assembly code for each compiled TB\nint             show interrupts/exceptions in short format\n..."},
		{[]string{"-d", "trace:help"}, "boot            image loading, device tree, boot ROM, resets\n..."},
		{[]string{"-trace", "help"}, "boot            image loading, device tree, boot ROM, resets\n..."},
		{[]string{"-cpu", "help"}, "Available CPUs:\n  max\n  rv64\n"},
		{[]string{"-accel", "help"}, "Accelerators supported in QEMU binary:\ntcg\n"},
		{[]string{"-accel", "tcg,help"}, "tcg-accel options:\n  jit=<bool>  ..."},
		{[]string{"-object", "help"}, "List of user creatable objects:\n  memory-backend-file\n..."},
		{[]string{"-chardev", "help"}, "Available chardev backend types:\n  socket\n"},
		{[]string{"-help"}, "usage: gemu [options]\n..."},
	}
	for _, tc := range tests {
		got, err := parseArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if prefix, ok := strings.CutSuffix(tc.want, "..."); ok {
			if !strings.HasPrefix(got.help, prefix) {
				t.Errorf("%q: help %q, want it to start %q", tc.args, got.help, prefix)
			}
		} else if d := cmp.Diff(tc.want, got.help); d != "" {
			t.Errorf("%q: help (-want +got):\n%s", tc.args, d)
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
		{[]string{"-m", "12Q"}, "-m 12Q: invalid size"},
		{[]string{"-m", "0"}, "-m 0: size 0"},
		{[]string{"-m", "-1"}, "-m -1: invalid size"},
		{[]string{"-m", "1G,slots=2,maxmem=4G"}, "-m 1G,slots=2,maxmem=4G: slots= and maxmem= (memory hotplug) are not supported"},
		{[]string{"-m", "maxmem=4G"}, "-m maxmem=4G: slots= and maxmem="},
		{[]string{"-m", "1G,colour=red"}, `-m 1G,colour=red: unknown parameter "colour"`},
		{[]string{"-smp", "9"}, "-smp 9: 9 CPUs: gemu emulates at most 8 harts"},
		{[]string{"-smp", "4,sockets=2"}, "-smp 4,sockets=2: sockets=2: gemu emulates one socket"},
		{[]string{"-smp", "4,cores=3"}, "-smp 4,cores=3: Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * cores (3) * threads (1) != maxcpus (4)"},
		{[]string{"-smp", "4,maxcpus=2"}, "-smp 4,maxcpus=2: Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * cores (2) * threads (1) == maxcpus (2) < smp_cpus (4)"},
		{[]string{"-smp", "4,dies=2"}, "-smp 4,dies=2: dies not supported by this machine's CPU topology"},
		{[]string{"-smp", "x"}, "-smp x: cpus=x:"},
		{[]string{"-machine", "sifive_u"}, `-machine sifive_u: unknown machine "sifive_u"`},
		{[]string{"-machine", "virt,aia=aplic"}, `-machine virt,aia=aplic: unknown parameter "aia"`},
		{[]string{"-accel", "tcg,jit=maybe"}, `-accel tcg,jit=maybe: unknown property "jit=maybe" (only jit=on|off)`},
		{[]string{"-machine", "virt,accel=kvm"}, "-machine virt,accel=kvm: accel=kvm: only tcg"},
		{[]string{"-M", "virt,dumpdtb=a,b"}, `-machine virt,dumpdtb=a,b: unknown parameter "b"`},
		{[]string{"-icount", "shift=99"}, "-icount shift=99:"},
		{[]string{"-icount", "foo=1"}, `-icount foo=1: unknown parameter "foo"`},
		{[]string{"-icount", "3,sleep=maybe"}, "-icount 3,sleep=maybe: sleep=maybe:"},
		{[]string{"-serial", "pty"}, "-serial pty:"},
		{[]string{"-device", ",x=1"}, "-device ,x=1: no device name"},
		{[]string{"-device", "AC97,=1"}, "-device AC97,=1: empty parameter name"},
		{[]string{"-device", "nosuch,help"}, `-device nosuch,help: unknown device "nosuch"`},
		{[]string{"-audiodev", "wav,id=a,flag"}, "-audiodev wav,id=a,flag: expected '='"},
		{[]string{"-audiodev", "pulse,id=a"}, `-audiodev pulse,id=a: unknown driver "pulse"`},
		{[]string{"-audiodev", "wav,id=a,stats=1"}, "-audiodev wav,id=a,stats=1: stats=1:"},
		{[]string{"-object", "memory-backend-ram,share"}, "-object memory-backend-ram,share: expected '='"},
		{[]string{"kernel.elf"}, "kernel.elf: unexpected argument"},
		{[]string{"-rtc", "base=yesterday"}, "-rtc base=yesterday:"},
		{[]string{"-rtc", "utc"}, `-rtc utc: unknown parameter "utc"`},
		{[]string{"-cpu", "sifive-u54"}, "-cpu sifive-u54: only rv64"},
		{[]string{"-S"}, "-S: needs -s or -gdb"},
	}
	for _, tc := range tests {
		_, err := parseArgs(tc.args)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: err = %v, want one line starting %q", tc.args, err, tc.want)
		}
	}
}

func TestEscaperMonitor(t *testing.T) {
	var help bytes.Buffer
	var lines []string
	e := &escaper{quit: func() {}, help: &help, monitor: func(l string) string {
		lines = append(lines, l)
		return "done\n"
	}}
	out := e.filter([]byte("ab\x01cjack 0 offx\x7f\r\x01cz"))
	if string(out) != "abz" {
		t.Errorf("guest got %q, want %q", out, "abz")
	}
	if len(lines) != 1 || lines[0] != "jack 0 off" {
		t.Errorf("monitor lines %q", lines)
	}
	if !strings.Contains(help.String(), "(gemu) ") || !strings.Contains(help.String(), "done\r\n") {
		t.Errorf("monitor output %q", help.String())
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
	if !strings.Contains(errOut.String(), "the demo's sound goes to "+demoWAV) {
		t.Errorf("no notice naming %s: %q", demoWAV, errOut.String())
	}
	spec, data, err := audio.ReadWAVFile(demoWAV)
	if err != nil {
		t.Fatalf("demo output: %v", err)
	}
	// 68 eighth notes at 132 bpm, 10909 frames each (about 15 s); the
	// three voices start within a few milliseconds of each other, and the
	// wav sink's last 1 ms pull may pad the end with silence.
	const frames = 68 * 10909
	if d := cmp.Diff([]any{48000, 2}, []any{spec.Freq, spec.Channels}); d != "" {
		t.Errorf("demo WAV format (-want +got):\n%s", d)
	}
	if n := len(data) / spec.FrameBytes(); n < frames || n > frames+48000/50 {
		t.Errorf("%s holds %d frames, want %d (+ at most 20 ms): the whole tune", demoWAV, n, frames)
	}
	if bytes.Count(data, []byte{0, 0, 0, 0}) > len(data)/16 {
		t.Errorf("%s is mostly silence", demoWAV)
	}
}

func TestRunErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-device", "nosuch"}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), `unknown device "nosuch"`) {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-kernel", "x.elf", "-drive", "file=x.img,if=virtio"}, "could not open 'x.img'"},
		{[]string{"-kernel", "x.elf", "-global", "AC97.x=1"}, "property 'AC97.x' not found"},
		{[]string{"-kernel", "x.elf", "-global", "nosuch.x=1"}, `no global properties for "nosuch"`},
	} {
		args := tc.args
		errOut.Reset()
		if code := run(args, strings.NewReader(""), &out, &errOut); code != 1 ||
			!strings.Contains(errOut.String(), tc.want) || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
	}
	errOut.Reset()
	if code := run([]string{"-bios", "none"}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "needs -kernel") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}
