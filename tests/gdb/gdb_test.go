// Package gdb tests gemu's GDB stub end to end with the real gdb
// (gdb-multiarch, installed by tests/setup.sh): the session a student would
// type, on the hello guest, against gemu -S -gdb and, when it is installed,
// against qemu-system-riscv64 -S -gdb for comparison.
package gdb

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gemu/tests/rig"
)

const helloLine = "Hello from gemu: a freestanding RISC-V guest on the virt board."

var helloELF = rig.Path("guests/hello/hello.elf")

func TestMain(m *testing.M) { rig.Main(m) }

func gdbBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("gdb-multiarch"); err == nil {
		return p
	}
	if p, err := exec.LookPath("riscv64-unknown-elf-gdb"); err == nil {
		return p
	}
	return rig.Need(t, "gdb-multiarch")
}

// symbols returns the addresses of main and poweroff and the first 8 bytes
// of main, from the ELF.
func symbols(t *testing.T) (mainAddr, poweroff uint64, mainCode []byte) {
	t.Helper()
	f, err := elf.Open(helloELF)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		switch s.Name {
		case "main":
			mainAddr = s.Value
		case "poweroff":
			poweroff = s.Value
		}
	}
	if mainAddr == 0 || poweroff == 0 {
		t.Fatal("hello.elf lacks main or poweroff")
	}
	text := f.Section(".text")
	data, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	off := mainAddr - text.Addr
	return mainAddr, poweroff, data[off : off+8]
}

// session is the gdb command list: what a student types to look at main.
func session(port int) []string {
	return []string{
		"set pagination off",
		"set confirm off",
		"set arch riscv:rv64",
		fmt.Sprintf("target remote 127.0.0.1:%d", port),
		"info registers pc",
		"break *main",
		"continue",
		"info registers pc",
		"stepi",
		"info registers pc",
		"x/4i $pc",
		"print/x $a3",
		"print $a0",
		"x/2wx main",
		"info registers priv",
		"break *poweroff",
		"continue",
		// main returned 0; make the guest report failure 3 instead.
		"set $a0 = 3",
		"continue",
	}
}

// runGDB runs gdb in batch mode; with allowClose, gdb failing because the
// target closed the connection is not an error.
func runGDB(t *testing.T, gdb string, cmds []string, allowClose bool) string {
	t.Helper()
	return runGDBOn(t, gdb, helloELF, cmds, allowClose)
}

// runGDBOn is runGDB with another program's symbols.
func runGDBOn(t *testing.T, gdb, elfPath string, cmds []string, allowClose bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"-nx", "-batch"}
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	args = append(args, elfPath)
	out, err := exec.CommandContext(ctx, gdb, args...).CombinedOutput()
	if err != nil && !(allowClose && bytes.Contains(out, []byte("Remote connection closed"))) {
		t.Fatalf("gdb: %v\n%s", err, out)
	}
	return string(out)
}

// lockedBuffer collects an emulator's stderr, written by exec's copying
// goroutine (or the port scanner) and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// emulator is gemu or QEMU running hello.elf stopped for gdb.
type emulator struct {
	cmd    *exec.Cmd
	out    bytes.Buffer // guest console (stdout)
	errOut lockedBuffer // messages (stderr)
	port   int
	waitCh chan error
}

func (e *emulator) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-e.waitCh:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("emulator: %v", err)
		}
		return 0
	case <-time.After(time.Minute):
		e.cmd.Process.Kill()
		t.Fatalf("emulator still running a minute after gdb ended\n%s", e.errOut.String())
	}
	return -1
}

func start(t *testing.T, bin string, args []string, stderr io.Writer) *emulator {
	t.Helper()
	e := &emulator{cmd: exec.Command(bin, args...), waitCh: make(chan error, 1)}
	e.cmd.Stdout = &e.out
	e.cmd.Stderr = stderr
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { e.waitCh <- e.cmd.Wait() }()
	t.Cleanup(func() {
		if e.cmd.ProcessState == nil {
			e.cmd.Process.Kill()
		}
	})
	return e
}

// startGemu runs gemu -S -gdb tcp::0 and reads the port it prints.
func startGemu(t *testing.T) *emulator {
	t.Helper()
	return startGemuWith(t, "-kernel", helloELF)
}

// startGemuWith is startGemu with other arguments than -kernel hello.elf.
func startGemuWith(t *testing.T, args ...string) *emulator {
	t.Helper()
	bin := rig.Gemu(t)
	pr, pw := io.Pipe()
	e := start(t, bin, append([]string{"-S", "-gdb", "tcp::0", "-machine", "virt", "-bios", "none",
		"-nographic", "-serial", "stdio"}, args...), pw)
	portCh := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`waiting for gdb on 127\.0\.0\.1:(\d+)`)
		sent := false
		for sc.Scan() {
			fmt.Fprintln(&e.errOut, sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !sent {
				var p int
				fmt.Sscan(m[1], &p)
				portCh <- p
				sent = true
			}
		}
	}()
	select {
	case e.port = <-portCh:
	case <-time.After(time.Minute):
		t.Fatal("gemu did not say where it waits for gdb")
	}
	return e
}

// freePort asks the kernel for an unused loopback port (for QEMU, which
// cannot listen on port 0 and tell).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// listening reports whether a socket listens on the IPv4 port (from
// /proc/net/tcp: local address column, state 0A = LISTEN).
func listening(port int) bool {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	suffix := fmt.Sprintf(":%04X", port)
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 3 && strings.HasSuffix(f[1], suffix) && f[3] == "0A" {
			return true
		}
	}
	return false
}

// facts picks out of gdb's output the lines both emulators must agree on.
func facts(out string) []string {
	keep := []*regexp.Regexp{
		regexp.MustCompile(`^0x[0-9a-f]+ in \?\? \(\)$`),         // where -S stopped
		regexp.MustCompile(`^Breakpoint \d+, .*`),                // breakpoint hits
		regexp.MustCompile(`^pc +0x[0-9a-f]+`),                   // info registers pc
		regexp.MustCompile(`^0x[0-9a-f]+ in main \(\)$`),         // after stepi
		regexp.MustCompile(`^=> 0x[0-9a-f]+`),                    // x/4i
		regexp.MustCompile(`^\$\d+ = `),                          // print
		regexp.MustCompile(`^0x[0-9a-f]+ <main>:`),               // x/2wx
		regexp.MustCompile(`^\[Inferior 1 \(.*\) exited (.*)\]`), // the end
	}
	var got []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, " \r")
		for _, re := range keep {
			if re.MatchString(l) {
				got = append(got, strings.Join(strings.Fields(l), " "))
				break
			}
		}
	}
	return got
}

func TestGDBOnGemu(t *testing.T) {
	gdb := gdbBinary(t)
	mainAddr, poweroff, mainCode := symbols(t)
	e := startGemu(t)
	out := runGDB(t, gdb, session(e.port), false)
	code := e.wait(t)

	var want []string
	add := func(format string, args ...any) { want = append(want, fmt.Sprintf(format, args...)) }
	add("0x0000000000001000 in ?? ()") // -S: the boot ROM's first instruction
	add("pc 0x1000 0x1000")
	add("Breakpoint 1, 0x%016x in main ()", mainAddr)
	add("pc 0x%x 0x%x <main>", mainAddr, mainAddr)
	add("0x%016x in main ()", mainAddr+4) // stepi over the 4-byte auipc
	add("pc 0x%x 0x%x <main+4>", mainAddr+4, mainAddr+4)
	// main's second instruction is the addi that finishes the string
	// address; its immediate (bits 31:20) depends on the layout.
	add("=> 0x%x <main+4>: add a3,a3,%d", mainAddr+4, int32(binary.LittleEndian.Uint32(mainCode[4:]))>>20)
	add("$1 = 0x%x", mainAddr) // auipc a3,0 put main's address in a3
	add("$2 = 0")              // a0: the hart ID the boot ROM passed
	add("0x%x <main>: 0x%08x 0x%08x", mainAddr,
		binary.LittleEndian.Uint32(mainCode), binary.LittleEndian.Uint32(mainCode[4:]))
	add("Breakpoint 2, 0x%016x in poweroff ()", poweroff)
	add("[Inferior 1 (process 1) exited with code 03]")
	if diff := cmp.Diff(want, facts(out)); diff != "" {
		t.Errorf("gdb session on gemu (-want +got):\n%s\nfull gdb output:\n%s", diff, out)
	}
	if !regexp.MustCompile(`(?m)^priv +0x3\s+prv:3 \[Machine\]`).MatchString(out) {
		t.Errorf("info registers priv: no M mode in\n%s", out)
	}
	if code != 3 {
		t.Errorf("gemu exit status %d, want 3 (the a0 gdb set)\n%s", code, e.errOut.String())
	}
	if !strings.Contains(e.out.String(), helloLine) {
		t.Errorf("guest output %q lacks the greeting", e.out.String())
	}
}

// TestGDBSameAsQEMU runs the same gdb session against QEMU's stub: every
// line checked above must read the same, and both exit with status 3.
func TestGDBSameAsQEMU(t *testing.T) {
	gdb := gdbBinary(t)
	qemu := rig.Need(t, rig.QEMU)
	g := startGemu(t)
	gemuOut := runGDB(t, gdb, session(g.port), false)
	gemuCode := g.wait(t)

	port := freePort(t)
	var qerr lockedBuffer
	q := start(t, qemu, []string{"-S", "-gdb", fmt.Sprintf("tcp:127.0.0.1:%d", port), "-machine", "virt",
		"-bios", "none", "-kernel", helloELF, "-nographic", "-monitor", "none", "-serial", "stdio"}, &qerr)
	// Wait until QEMU listens, without connecting: QEMU starts the guest
	// when a gdb connection closes.
	for i := 0; !listening(port); i++ {
		if i == 300 {
			t.Fatalf("QEMU does not listen on %d\n%s", port, qerr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// QEMU 7.2's sifive_test finisher exits without telling gdb (no W
	// packet: gdb sees "Remote connection closed"); gemu sends W03. So the
	// last line is compared apart.
	qemuOut := runGDB(t, gdb, session(port), true)
	qemuCode := q.wait(t)

	gf, qf := facts(gemuOut), facts(qemuOut)
	if n := len(gf); n > 0 && strings.HasPrefix(gf[n-1], "[Inferior 1") {
		gf = gf[:n-1]
	}
	if n := len(qf); n > 0 && strings.HasPrefix(qf[n-1], "[Inferior 1") {
		qf = qf[:n-1] // a later QEMU that does send W
	}
	if len(qf) < 10 {
		t.Fatalf("QEMU's session has only %d comparable lines:\n%s", len(qf), qemuOut)
	}
	if diff := cmp.Diff(qf, gf); diff != "" {
		t.Errorf("gdb sessions differ (-qemu +gemu):\n%s\nQEMU:\n%s\ngemu:\n%s", diff, qemuOut, gemuOut)
	}
	if gemuCode != qemuCode {
		t.Errorf("exit status: gemu %d, QEMU %d", gemuCode, qemuCode)
	}
}

// smpSession debugs tests/isa/smp_wfi.S at -smp 2: hart 0 sleeps in WFI
// at once, hart 1 starts at `secondary`, later wakes hart 0, which ends at
// `pass`. Each hart is a thread, as in QEMU.
func smpSession(port int) []string {
	return []string{
		"set pagination off",
		"set confirm off",
		"set arch riscv:rv64",
		fmt.Sprintf("target remote 127.0.0.1:%d", port),
		"info threads",
		"break *secondary",
		"continue", // hart 1 hits it
		"info registers pc",
		"print $a0", // its hart ID
		"stepi",
		"info registers pc",
		"thread 1",
		"print $a0",
		"watch *(int *)&flag",
		"continue", // hart 1 writes flag
		"print $a0",
		"delete 2",
		"break *pass",
		"continue", // hart 0 hits it
		"info registers pc",
		"print $a0",
		"continue",
	}
}

// smpFacts picks the lines of smpSession that both emulators print the
// same (thread names included: both offer multiprocess+, so gdb says
// "Thread 1.2" for process 1, thread 2).
func smpFacts(out string) []string {
	keep := []*regexp.Regexp{
		regexp.MustCompile(`^[ *]+\d+ +Thread 1\.\d+ \(CPU#\d \[running\]\) 0x0+1000 in \?\? \(\)$`), // at -S
		regexp.MustCompile(`^\[Switching to Thread 1\.\d+\]$`),
		regexp.MustCompile(`^Thread \d+ hit (Breakpoint|Hardware watchpoint) \d+, .*`),
		regexp.MustCompile(`^Thread \d+ hit Hardware watchpoint \d+: .*`),
		regexp.MustCompile(`^(Old|New) value = .*`),
		regexp.MustCompile(`^pc +0x[0-9a-f]+`),
		regexp.MustCompile(`^0x[0-9a-f]+ in \w+ \(\)$`), // after stepi and the watchpoint
		regexp.MustCompile(`^\$\d+ = `),
		regexp.MustCompile(`^\[Inferior 1 \(.*\) exited (.*)\]`),
	}
	var got []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, " \r")
		for _, re := range keep {
			if re.MatchString(l) {
				got = append(got, strings.Join(strings.Fields(l), " "))
				break
			}
		}
	}
	return got
}

// TestGDBSMP: with two harts gdb lists two threads, a breakpoint hit on
// hart 1 stops the machine and names thread 2, stepi steps that hart,
// `thread 1` shows hart 0's registers, and a breakpoint hit on hart 0
// names thread 1; a write watchpoint hit by hart 1 names thread 2. The same
// session on QEMU -smp 2 must print the same.
func TestGDBSMP(t *testing.T) {
	gdb := gdbBinary(t)
	elfPath := rig.Guest(t, "guests/isa/smp_wfi.elf")
	f, err := elf.Open(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	addr := map[string]uint64{}
	for _, s := range syms {
		addr[s.Name] = s.Value
	}
	sec, pass, flagged := addr["secondary"], addr["pass"], addr["flagged"]
	if sec == 0 || pass == 0 || flagged == 0 {
		t.Fatal("smp_wfi.elf lacks secondary, pass or flagged")
	}

	e := startGemuWith(t, "-smp", "2", "-kernel", elfPath)
	out := runGDBOn(t, gdb, elfPath, smpSession(e.port), false)
	code := e.wait(t)
	var want []string
	add := func(format string, args ...any) { want = append(want, fmt.Sprintf(format, args...)) }
	add("* 1 Thread 1.1 (CPU#0 [running]) 0x0000000000001000 in ?? ()")
	add("2 Thread 1.2 (CPU#1 [running]) 0x0000000000001000 in ?? ()")
	add("[Switching to Thread 1.2]")
	add("Thread 2 hit Breakpoint 1, 0x%016x in secondary ()", sec)
	add("pc 0x%x 0x%x <secondary>", sec, sec)
	add("$1 = 1")
	add("0x%016x in secondary ()", sec+2) // li t0, 1 is compressed
	add("pc 0x%x 0x%x <secondary+2>", sec+2, sec+2)
	add("$2 = 0")
	add("[Switching to Thread 1.2]")
	add("Thread 2 hit Hardware watchpoint 2: *(int *)&flag")
	add("Old value = 0")
	add("New value = 90")
	add("0x%016x in flagged ()", flagged) // gdb stepped over the store
	add("$3 = 1")
	add("[Switching to Thread 1.1]")
	add("Thread 1 hit Breakpoint 3, 0x%016x in pass ()", pass)
	add("pc 0x%x 0x%x <pass>", pass, pass)
	add("$4 = 0")
	add("[Inferior 1 (process 1) exited normally]")
	gf := smpFacts(out)
	if diff := cmp.Diff(want, gf); diff != "" {
		t.Errorf("gdb session on gemu -smp 2 (-want +got):\n%s\nfull gdb output:\n%s", diff, out)
	}
	if code != 0 || !strings.Contains(e.out.String(), "PASS") {
		t.Errorf("gemu exit status %d, output %q", code, e.out.String())
	}

	qemu, err := exec.LookPath(rig.QEMU)
	if err != nil {
		return
	}
	port := freePort(t)
	var qerr lockedBuffer
	q := start(t, qemu, []string{"-S", "-gdb", fmt.Sprintf("tcp:127.0.0.1:%d", port), "-smp", "2",
		"-machine", "virt", "-bios", "none", "-kernel", elfPath, "-nographic", "-monitor", "none",
		"-serial", "stdio"}, &qerr)
	for i := 0; !listening(port); i++ {
		if i == 300 {
			t.Fatalf("QEMU does not listen on %d\n%s", port, qerr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	qout := runGDBOn(t, gdb, elfPath, smpSession(port), true)
	q.wait(t)
	qf := smpFacts(qout)
	// QEMU 7.2 sends no W packet when the finisher ends it (see
	// TestGDBSameAsQEMU): compare up to the end.
	if n := len(gf); n > 0 && strings.HasPrefix(gf[n-1], "[Inferior 1") {
		gf = gf[:n-1]
	}
	if diff := cmp.Diff(qf, gf); diff != "" {
		t.Errorf("gdb sessions at -smp 2 differ (-qemu +gemu):\n%s\nQEMU:\n%s\ngemu:\n%s", diff, qout, out)
	}
}
