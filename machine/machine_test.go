package machine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gemu/cpu"
	"gemu/machine/fdt"
	"gemu/qemuopt"
)

// bare returns a config that runs code as a raw -bios none kernel at
// 0x80000000, deterministically.
func bare(code []byte, console *bytes.Buffer) Config {
	return Config{
		BIOS: "none", Kernel: "test", KernelData: code,
		Deterministic: true, Shift: DefaultShift,
		Console: console,
	}
}

func run(t *testing.T, cfg Config) (Exit, *Machine) {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.CloseInput()
	watchdog := time.AfterFunc(20*time.Second, m.Stop)
	defer watchdog.Stop()
	ex, err := m.Run()
	if ex.Reason == "quit" {
		t.Fatalf("guest still running after 20 s (pc %#x)", m.Hart.PC())
	}
	if err != nil {
		t.Fatalf("Run: %v (exit %+v, pc %#x)", err, ex, m.Hart.PC())
	}
	return ex, m
}

func TestPowerOff(t *testing.T) {
	tests := []struct {
		name string
		code int32
		want Exit
	}{
		{"pass", 0x5555, Exit{0, "power off"}},
		{"fail 7", 7<<16 | 0x3333, Exit{7, "power off with failure code 7"}},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		p := (&prog{}).puts("OK\n").finish(tc.code)
		ex, _ := run(t, bare(p.bytes(), &out))
		if diff := cmp.Diff(tc.want, ex); diff != "" {
			t.Errorf("%s: exit (-want +got):\n%s", tc.name, diff)
		}
		if out.String() != "OK\n" {
			t.Errorf("%s: console %q, want %q", tc.name, out.String(), "OK\n")
		}
	}
}

// TestBootROM checks the registers the ROM hands over (a0 = hart ID,
// a1 = FDT address, a2 = fw_dynamic info) and the info record itself.
func TestBootROM(t *testing.T) {
	const save = RAMBase + 0x2000
	p := (&prog{}).la(t0, save).sd(a0, t0, 0).sd(a1, t0, 8).sd(a2, t0, 16).finish(0x5555)
	_, m := run(t, bare(p.bytes(), nil))
	var regs []uint64
	for i := uint64(0); i < 3; i++ {
		v, _ := m.Bus.Read64(save + 8*i)
		regs = append(regs, v)
	}
	if diff := cmp.Diff([]uint64{0, m.DTBAddr(), MROMBase + romInfoOff}, regs); diff != "" {
		t.Errorf("a0, a1, a2 (-want +got):\n%s", diff)
	}
	// QEMU: 128 MiB of RAM puts the FDT at the last 2 MiB boundary.
	if want := uint64(RAMBase + DefaultRAMSize - 2<<20); m.DTBAddr() != want {
		t.Errorf("FDT at %#x, want %#x", m.DTBAddr(), want)
	}
	var info []uint64
	for i := uint64(0); i < 6; i++ {
		v, _ := m.Bus.Load(MROMBase+romInfoOff+8*i, 8)
		info = append(info, v)
	}
	if diff := cmp.Diff([]uint64{0x4942534f, 2, RAMBase, 1, 0, 0}, info); diff != "" {
		t.Errorf("fw_dynamic info (-want +got):\n%s", diff)
	}
	dtb, _ := m.Bus.Slice(m.DTBAddr(), uint64(len(m.DTB())))
	if !bytes.Equal(dtb, m.DTB()) {
		t.Errorf("DTB in RAM differs from DTB()")
	}
}

func TestToHost(t *testing.T) {
	tests := []struct {
		name string
		val  int32
		want Exit
	}{
		{"pass", 1, Exit{0, "tohost: pass"}},
		{"fail 3", 3<<1 | 1, Exit{3, "tohost: test 3 failed"}},
		{"fail 300", 300<<1 | 1, Exit{255, "tohost: test 300 failed"}},
	}
	const tohost = RAMBase + 0x1000
	for _, tc := range tests {
		p := (&prog{}).la(t0, tohost).li(t1, tc.val).sd(t1, t0, 0).loop()
		cfg := bare(elf64(p.bytes(), RAMBase, map[string]uint64{"tohost": tohost, "other": 4}), nil)
		ex, m := run(t, cfg)
		if diff := cmp.Diff(tc.want, ex); diff != "" {
			t.Errorf("%s: exit (-want +got):\n%s", tc.name, diff)
		}
		if m.tohost != tohost {
			t.Errorf("%s: tohost symbol at %#x, want %#x", tc.name, m.tohost, uint64(tohost))
		}
	}
}

// TestReset: the first boot asks for a reset; after it the boot ROM runs
// again (RAM outside the images survives, as on QEMU) and powers off.
func TestReset(t *testing.T) {
	const flag = RAMBase + 0x3000
	p := &prog{}
	p.la(t2, flag).lw(t3, t2, 0)
	// if flag != 0 goto second
	br := len(p.words)
	p.bne(t3, zero, 0)
	p.addi(t3, zero, 1).sw(t3, t2, 0).puts("1").finish(0x7777)
	second := len(p.words)
	p.words[br] = (&prog{}).bne(t3, zero, int32(4*(second-br))).words[0]
	p.puts("2").finish(0x5555)

	var out bytes.Buffer
	ex, _ := run(t, bare(p.bytes(), &out))
	if ex.Code != 0 || out.String() != "12" {
		t.Errorf("exit %+v, console %q; want power off after \"12\"", ex, out.String())
	}

	cfg := bare(p.bytes(), &out)
	cfg.NoReboot = true
	out.Reset()
	ex, _ = run(t, cfg)
	if ex.Reason != "reset (with -no-reboot)" || out.String() != "1" {
		t.Errorf("-no-reboot: exit %+v, console %q", ex, out.String())
	}
}

// timerProgram arms mtimecmp = mtime + delta, sleeps in WFI with MTIE
// enabled (global MIE off, so WFI just returns), then stores the mtime it
// sees and the compare value.
func timerProgram(delta int32) []byte {
	const save = RAMBase + 0x2000
	p := &prog{}
	p.lui(t0, (CLINTBase+0x4000)>>12) // mtimecmp
	p.lui(t2, (CLINTBase+0xc000)>>12) // 0x200c000
	p.addi(t2, t2, -8)                // mtime at 0x200bff8
	p.ld(t1, t2, 0).li(t3, delta).add(t1, t1, t3).sd(t1, t0, 0)
	p.addi(t4, zero, 0x80).csrw(0x304, t4) // mie = MTIE
	p.wfi()
	p.ld(t5, t2, 0)
	p.la(t0, save).sd(t5, t0, 0).sd(t1, t0, 8)
	return p.finish(0x5555).bytes()
}

func TestTimerWFIDeterministic(t *testing.T) {
	var got [][2]uint64
	for i := 0; i < 2; i++ {
		_, m := run(t, bare(timerProgram(50000), nil)) // 5 ms of guest time
		now, _ := m.Bus.Read64(RAMBase + 0x2000)
		cmpv, _ := m.Bus.Read64(RAMBase + 0x2008)
		got = append(got, [2]uint64{now, cmpv})
		if now < cmpv || now > cmpv+2 {
			t.Errorf("woke at mtime %d, mtimecmp %d: want just after", now, cmpv)
		}
		if m.Hart.Instret() > 1000 {
			t.Errorf("%d instructions retired: WFI should skip time, not spin", m.Hart.Instret())
		}
	}
	if got[0] != got[1] {
		t.Errorf("deterministic runs differ: %v", got)
	}
}

// TestTimerWFIIcountSleep: with -icount sleep=on an idle hart waits on the
// host for the virtual time it skips (here 30 ms), and still wakes exactly
// at mtimecmp as without sleep.
func TestTimerWFIIcountSleep(t *testing.T) {
	cfg := bare(timerProgram(300000), nil) // 30 ms of guest time
	cfg.IcountSleep = true
	start := time.Now()
	_, m := run(t, cfg)
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("run took %v of host time: the 30 ms idle wait was skipped", took)
	}
	now, _ := m.Bus.Read64(RAMBase + 0x2000)
	cmpv, _ := m.Bus.Read64(RAMBase + 0x2008)
	if now < cmpv || now > cmpv+2 {
		t.Errorf("woke at mtime %d, mtimecmp %d: want just after", now, cmpv)
	}
}

func TestTimerWFIRealtime(t *testing.T) {
	cfg := bare(timerProgram(20000), nil) // 2 ms
	cfg.Deterministic = false
	_, m := run(t, cfg)
	now, _ := m.Bus.Read64(RAMBase + 0x2000)
	cmpv, _ := m.Bus.Read64(RAMBase + 0x2008)
	if now < cmpv {
		t.Errorf("woke at mtime %d before mtimecmp %d", now, cmpv)
	}
}

func TestDeadlock(t *testing.T) {
	p := (&prog{}).addi(t4, zero, 0x80).csrw(0x304, t4).wfi().finish(0x5555)
	m, err := New(bare(p.bytes(), nil))
	if err != nil {
		t.Fatal(err)
	}
	m.CloseInput()
	if _, err := m.Run(); !errors.Is(err, ErrDeadlock) {
		t.Errorf("Run = %v, want ErrDeadlock", err)
	}
}

func TestStopAndInput(t *testing.T) {
	// Echo: wait for a byte (polling LSR.DR), print it, power off.
	p := &prog{}
	p.lui(t0, UARTBase>>12)
	p.load(4, t1, t0, 5).addi(t1, t1, 0)          // lbu t1, 5(t0)
	p.emit(1<<20 | t1<<15 | 7<<12 | t1<<7 | 0x13) // andi t1, t1, 1
	p.words = append(p.words, 0)                  // patched: beq t1, zero, -8
	p.load(4, t1, t0, 0).sb(t1, t0, 0).finish(0x5555)
	// beq t1, x0, -12 (back to the lbu)
	off := uint32(-12 & 0x1fff)
	p.words[4] = (off>>12&1)<<31 | (off>>5&0x3f)<<25 | 0<<20 | t1<<15 | 0<<12 | (off>>1&0xf)<<8 | (off>>11&1)<<7 | 0x63
	var out bytes.Buffer
	cfg := bare(p.bytes(), &out)
	cfg.Deterministic = false
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go m.SendInput([]byte("Q"))
	watchdog := time.AfterFunc(20*time.Second, m.Stop)
	defer watchdog.Stop()
	ex, err := m.Run()
	if err != nil || ex.Code != 0 || out.String() != "Q" {
		t.Errorf("exit %+v err %v console %q; want echo of Q", ex, err, out.String())
	}
	// Stop from another goroutine ends a spinning guest.
	m, err = New(bare((&prog{}).loop().bytes(), nil))
	if err != nil {
		t.Fatal(err)
	}
	go m.Stop()
	if ex, err := m.Run(); err != nil || ex.Reason != "quit" {
		t.Errorf("after Stop: exit %+v err %v", ex, err)
	}
}

func TestUnknownDevice(t *testing.T) {
	cfg := bare((&prog{}).loop().bytes(), nil)
	cfg.Devices = qemuopt.MustParseFlag("-device", "nosuch,x=1")
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), `unknown device "nosuch"`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("New = %v, want a one-line unknown-device error", err)
	}
}

func TestLoadErrors(t *testing.T) {
	big := make([]byte, DefaultRAMSize+1)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{BIOS: "none"}, "needs -kernel"},
		{"too big", Config{BIOS: "none", KernelData: big}, "does not fit in RAM"},
		{"missing file", Config{BIOS: "none", Kernel: "/nonexistent/k"}, "no such file"},
		{"bad ram", Config{RAMSize: 1000, BIOS: "none", KernelData: []byte{0}}, "RAM size"},
		{"elf outside RAM", Config{BIOS: "none", KernelData: elf64([]byte{1, 2, 3, 4}, 0x1000, nil)}, "does not fit"},
		{"truncated elf", Config{BIOS: "none", KernelData: elf64([]byte{1, 2, 3, 4}, RAMBase, nil)[:70]}, "kernel"},
		{"missing bios", Config{BIOS: "/nonexistent/fw.bin"}, "no such file"},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want containing %q", tc.name, err, tc.want)
		}
	}
}

// TestDeviceTable adds a device type to the table the way machine/audio.go
// and friends have theirs, and checks property checking, the FDT hook, the
// reset and exit hooks, and their order.
func TestDeviceTable(t *testing.T) {
	var order []string
	deviceTypes["test-dev"] = deviceType{"Misc devices", "none", "test", []prop{{"val", "str", "a value"}},
		func(m *Machine, o *qemuopt.Opts) error {
			v, _ := o.Get("val")
			order = append(order, "dev "+v)
			m.AddFDTNode(func(root *fdt.Node) {
				n := root.Lookup("/soc").AddNode("testdev@5000000" + v)
				n.SetString("compatible", "gemu,test")
				n.SetU32("interrupt-parent", m.PhandlePLIC())
				n.SetU32("phandle", m.NewPhandle())
			})
			m.OnReset(func() { order = append(order, "reset") })
			m.AtExit(func() error { order = append(order, "exit"); return nil })
			return nil
		}}
	t.Cleanup(func() { delete(deviceTypes, "test-dev") })

	cfg := bare((&prog{}).finish(0x5555).bytes(), nil)
	cfg.Devices = qemuopt.MustParseFlag("-device", "test-dev,val=a", "driver=test-dev,val=b")
	_, m := run(t, cfg)
	if diff := cmp.Diff([]string{"dev a", "dev b", "reset", "reset", "exit", "exit"}, order); diff != "" {
		t.Errorf("hook order (-want +got):\n%s", diff)
	}
	root := fdtParse(t, m.DTB())
	if n := root.Lookup("/soc/testdev@5000000b"); n == nil {
		t.Errorf("FDT hook node missing")
	}

	cfg.Devices = qemuopt.MustParseFlag("-device", "test-dev,typo=1")
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), `"typo"`) {
		t.Errorf("New with typo = %v", err)
	}
	help, err := DevicePropsHelp("test-dev")
	if want := "test-dev options:\n  val=<str>              - a value\n"; err != nil || help != want {
		t.Errorf("DevicePropsHelp = %q, %v; want %q", help, err, want)
	}
}

// fdtParse reads a blob back into a tree (independently of package fdt's
// writer) for structural checks.
func fdtParse(t *testing.T, b []byte) *fdt.Node {
	t.Helper()
	be := binary.BigEndian
	st := b[be.Uint32(b[8:]):]
	strs := b[be.Uint32(b[12:]):]
	cstr := func(x []byte) string { return string(x[:bytes.IndexByte(x, 0)]) }
	var stack []*fdt.Node
	var root *fdt.Node
	for pos := 0; ; {
		tok := be.Uint32(st[pos:])
		pos += 4
		switch tok {
		case 1:
			name := cstr(st[pos:])
			pos += (len(name) + 4) &^ 3
			n := &fdt.Node{Name: name}
			if root == nil {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case 2:
			stack = stack[:len(stack)-1]
		case 3:
			l, off := int(be.Uint32(st[pos:])), be.Uint32(st[pos+4:])
			pos += 8
			n := stack[len(stack)-1]
			n.Props = append(n.Props, fdt.Prop{Name: cstr(strs[off:]), Value: st[pos : pos+l]})
			pos += (l + 3) &^ 3
		case 4:
		case 9:
			return root
		default:
			t.Fatalf("bad token %d", tok)
		}
	}
}

// FuzzLoad feeds arbitrary kernel images (ELF or raw) to the loader: it
// must return an error or images that lie in RAM without overlapping,
// never panic. It runs on a machine that has only 1 MiB of RAM and no
// devices (a whole board per input made it crawl: issue 10, item 8);
// TestLoadSeedsOnBoard runs the seeds through New.
func FuzzLoad(f *testing.F) {
	for _, s := range loadSeeds() {
		f.Add(s)
	}
	m := cheapMachine(1 << 20)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoadOne(t, m, data) })
}

func loadSeeds() [][]byte {
	code := (&prog{}).finish(0x5555).bytes()
	return [][]byte{elf64(code, RAMBase, map[string]uint64{"tohost": RAMBase + 0x1000}), code}
}

// TestLoadSeedsOnBoard: FuzzLoad's seeds build a whole board.
func TestLoadSeedsOnBoard(t *testing.T) {
	for _, data := range loadSeeds() {
		m, err := New(Config{RAMSize: 16 << 20, BIOS: "none", Kernel: "fuzz", KernelData: data})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.DTB()[:4], []byte{0xd0, 0x0d, 0xfe, 0xed}) {
			t.Errorf("machine built without a device tree")
		}
	}
}

// TestExitHooksOnFailedNew: what was opened before a later step of New
// failed is closed.
func TestExitHooksOnFailedNew(t *testing.T) {
	dir := t.TempDir()
	cfg := bare((&prog{}).loop().bytes(), nil)
	cfg.Audiodevs = qemuopt.MustParseFlag("-audiodev", "wav,id=a,path="+dir+"/a.wav")
	cfg.Devices = qemuopt.MustParseFlag("-device", "nosuch")
	if _, err := New(cfg); err == nil {
		t.Fatal("New succeeded with an unknown device")
	}
	// Close completes the WAV header: a 44-byte file, not an empty one.
	if fi, err := os.Stat(dir + "/a.wav"); err != nil || fi.Size() != 44 {
		t.Errorf("a.wav after the failed New: %v, %v; want a complete empty WAV", fi, err)
	}
}

// TestRefusedOptions: options parsed into Config that the board cannot
// honour yet are refused with one line naming what is missing.
func TestRefusedOptions(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Drives: qemuopt.MustParseFlag("-drive", "file=/nonexistent/a.img,if=none,id=d")}, "-drive file=/nonexistent/a.img,if=none,id=d: could not open"},
		{Config{Drives: qemuopt.MustParseFlag("-drive", "file=a.img,if=none,format=qcow2")}, "-drive file=a.img,if=none,format=qcow2: a.img: qcow2 images are not supported"},
		{Config{Devices: qemuopt.MustParseFlag("-device", "virtio-blk-device,drive=nosuch")}, "-device virtio-blk-device,drive=nosuch: Property 'virtio-blk-device.drive' can't find value 'nosuch'"},
		{Config{Globals: qemuopt.MustParseFlag("-global", "AC97.nosuch=a")}, "-global AC97.nosuch=a: can't apply global AC97.nosuch=a: property 'AC97.nosuch' not found"},
		{Config{Globals: qemuopt.MustParseFlag("-global", "virtio-mmio.force-legacy=maybe")}, "-global virtio-mmio.force-legacy=maybe: can't apply global virtio-mmio.force-legacy=maybe: parameter 'force-legacy' expects 'on' or 'off'"},
		{Config{Globals: qemuopt.MustParseFlag("-global", "isa-fdc.driveA=x")}, `-global isa-fdc.driveA=x: gemu has no global properties for "isa-fdc"`},
		{Config{Objects: qemuopt.MustParseFlag("-object", "rng-random,id=r")}, `-object rng-random,id=r: unsupported object type "rng-random"`},
		{Config{Chardevs: qemuopt.MustParseFlag("-chardev", "socket,path=/x")}, "-chardev socket,path=/x: missing id="},
		{Config{Audiodevs: qemuopt.MustParseFlag("-audiodev", "none")}, "-audiodev none: missing id="},
		{Config{Audiodevs: qemuopt.MustParseFlag("-audiodev", "pulse,id=a")}, `-audiodev pulse,id=a: unknown driver "pulse"`},
	} {
		tc.cfg.BIOS, tc.cfg.KernelData = "none", (&prog{}).loop().bytes()
		_, err := New(tc.cfg)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("New = %v, want one line starting %q", err, tc.want)
		}
	}
}

// TestTraceInt: -d int prints one line per trap in QEMU's layout.
func TestTraceInt(t *testing.T) {
	var log bytes.Buffer
	p := &prog{}
	p.li(t0, 0x100).csrw(0x305, t0) // mtvec = 0x100, where nothing is mapped
	epc := RAMBase + 4*uint64(len(p.words))
	cfg := bare(p.emit(0x00000073).bytes(), nil) // ecall
	cfg.Trace, cfg.TraceOut = []string{"int"}, &log
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Hart.Run(20)
	first, _, _ := strings.Cut(log.String(), "\n")
	want := fmt.Sprintf("riscv_cpu_do_interrupt: hart:0, async:0, cause:000000000000000b, epc:0x%016x, tval:0x0000000000000000, desc=machine_ecall, priv:M->M", epc)
	if first != want { // no time stamp, as QEMU prints it
		t.Errorf("first -d int line %q, want %q", first, want)
	}
	if got := trapLine(cpu.Trap{Hart: 1, Interrupt: true, Cause: 7, EPC: 0x80001000, From: 1, To: 3}); got != "riscv_cpu_do_interrupt: hart:1, async:1, cause:0000000000000007, epc:0x0000000080001000, tval:0x0000000000000000, desc=m_timer, priv:S->M" {
		t.Errorf("trapLine = %q", got)
	}
	if !strings.HasPrefix(TraceHelp(), "Log items (comma separated):\nin_asm          show target assembly code for each compiled TB\nint ") {
		t.Errorf("TraceHelp = %q", TraceHelp())
	}
}

// TestVirtualEntryELF: an ELF linked at virtual addresses (like vmlinux)
// loads at its physical addresses and is entered at the physical alias of
// its entry point.
func TestVirtualEntryELF(t *testing.T) {
	var out bytes.Buffer
	img := elf64((&prog{}).puts("V").finish(0x5555).bytes(), RAMBase, nil)
	const virt = 0xffffffff80000000
	binary.LittleEndian.PutUint64(img[24:], virt)    // e_entry
	binary.LittleEndian.PutUint64(img[64+16:], virt) // p_vaddr
	ex, m := run(t, bare(img, &out))
	if ex.Code != 0 || out.String() != "V" || m.Entry() != RAMBase {
		t.Errorf("exit %+v console %q entry %#x", ex, out.String(), m.Entry())
	}
}

// TestHostInputWakesIdleHart: a device fed by a host goroutine (OnPoll,
// Wake, AddHostInput) raises a PLIC line that wakes a hart waiting in WFI
// with no timer armed, in both clock modes.
func TestHostInputWakesIdleHart(t *testing.T) {
	const src = 5
	p := &prog{}
	p.lui(t0, PLICBase>>12).li(t1, 1).sw(t1, t0, 4*src)           // priority 1
	p.lui(t0, (PLICBase+0x2000)>>12).li(t1, 1<<src).sw(t1, t0, 0) // enable, context 0
	p.li(t4, 1<<11).csrw(0x304, t4)                               // mie = MEIE
	p.wfi().puts("W").finish(0x5555)
	for _, det := range []bool{false, true} {
		var out bytes.Buffer
		cfg := bare(p.bytes(), &out)
		cfg.Deterministic = det
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m.CloseInput()
		var pending atomic.Bool
		m.OnPoll(func() {
			if pending.Load() {
				m.PLIC.SetLevel(src, true)
			}
		})
		done := m.AddHostInput()
		go func() {
			time.Sleep(20 * time.Millisecond)
			pending.Store(true)
			m.Wake()
			done()
		}()
		watchdog := time.AfterFunc(20*time.Second, m.Stop)
		ex, err := m.Run()
		watchdog.Stop()
		if err != nil || ex.Code != 0 || out.String() != "W" {
			t.Errorf("deterministic=%v: exit %+v err %v console %q", det, ex, err, out.String())
		}
	}
}
