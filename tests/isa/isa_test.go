// Package isa runs gemu's own ISA and privileged-architecture tests: the
// assembly files in this directory (riscv-tests style, see test.h), built
// with Debian's riscv64-unknown-elf-gcc, run on gemu and, as the reference,
// on qemu-system-riscv64.
package isa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	cc = "riscv64-unknown-elf-gcc"
	// runTimeout bounds one test run; a hang is a failure, not a wait.
	runTimeout = 2 * time.Minute
)

var ccFlags = []string{
	"-march=rv64imafdc_zicsr_zifencei", "-mabi=lp64d", "-mcmodel=medany",
	"-nostdlib", "-nostartfiles", "-static", "-I.", "-T", "link.ld",
	"-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments",
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	elfs      map[string]string // test name -> ELF path

	gemuOnce sync.Once
	gemuBin  string
	gemuErr  error
	gemuSkip string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	if gemuBin != "" {
		os.RemoveAll(filepath.Dir(gemuBin))
	}
	os.Exit(code)
}

// sources lists the *.S tests in this directory.
func sources(t *testing.T) []string {
	t.Helper()
	src, err := filepath.Glob("*.S")
	if err != nil || len(src) == 0 {
		t.Fatalf("no *.S tests found: %v", err)
	}
	sort.Strings(src)
	return src
}

// build assembles every test once per process.
func build(t *testing.T) map[string]string {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		t.Fatalf("%s not found: run tests/setup.sh to install the guest toolchain", cc)
	}
	src := sources(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "gemu-isa-")
		if buildErr != nil {
			return
		}
		elfs = map[string]string{}
		var msgs []string
		for _, s := range src {
			name := strings.TrimSuffix(s, ".S")
			out := filepath.Join(buildDir, name+".elf")
			args := append(append([]string{}, ccFlags...), "-o", out, s)
			if msg, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
				msgs = append(msgs, fmt.Sprintf("%s: %v\n%s", s, err, msg))
				continue
			}
			elfs[name] = out
		}
		if len(msgs) > 0 {
			buildErr = errors.New(strings.Join(msgs, "\n"))
		}
	})
	if buildErr != nil {
		t.Fatalf("building ISA tests: %v", buildErr)
	}
	return elfs
}

// qemuSkips reads "# qemu: skip <reason>" markers: tests that exercise
// documented differences between gemu and QEMU 7.2.
var qemuSkipRE = regexp.MustCompile(`(?m)^\s*(?:#|//|/?\*)\s*qemu: skip (.*?)\s*(?:\*/)?$`)

func qemuSkipReason(t *testing.T, name string) string {
	return marker(t, name, qemuSkipRE)
}

// gemuKnownRE reads "gemu: known-bug <what>" markers: tests that document
// a gemu bug someone is fixing. TestGemu skips them (naming the bug) unless
// GEMU_ISA_ALL=1; remove the marker with the fix.
var gemuKnownRE = regexp.MustCompile(`(?m)^\s*(?:#|//|/?\*)\s*gemu: known-bug (.*?)\s*(?:\*/)?$`)

func marker(t *testing.T, name string, re *regexp.Regexp) string {
	data, err := os.ReadFile(name + ".S")
	if err != nil {
		t.Fatal(err)
	}
	if m := re.FindSubmatch(data); m != nil {
		return strings.TrimSpace(string(m[1]))
	}
	return ""
}

// gemu builds ./cmd/gemu once. While cmd/gemu has no Go code yet (it is
// being written), the gemu runs are skipped with that reason.
func gemu(t *testing.T) string {
	t.Helper()
	gemuOnce.Do(func() {
		files, _ := filepath.Glob("../../cmd/gemu/*.go")
		if len(files) == 0 {
			gemuSkip = "cmd/gemu has no Go files yet"
			return
		}
		dir, err := os.MkdirTemp("", "gemu-bin-")
		if err != nil {
			gemuErr = err
			return
		}
		gemuBin = filepath.Join(dir, "gemu")
		if out, err := exec.Command("go", "build", "-o", gemuBin, "gemu/cmd/gemu").CombinedOutput(); err != nil {
			gemuErr = fmt.Errorf("go build ./cmd/gemu: %v\n%s", err, out)
		}
	})
	if gemuSkip != "" {
		t.Skip(gemuSkip)
	}
	if gemuErr != nil {
		t.Fatal(gemuErr)
	}
	return gemuBin
}

// run executes one emulator command line and requires exit status 0.
func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s hung (killed after %v); output:\n%s", filepath.Base(bin), runTimeout, out.String())
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			// Exit status n = test n failed (finisher/tohost convention).
			t.Fatalf("failed test %d (exit status); output:\n%s", ee.ExitCode(), out.String())
		}
		t.Fatalf("%s: %v\n%s", bin, err, out.String())
	}
	if !strings.Contains(out.String(), "PASS") {
		t.Fatalf("exit 0 but no PASS on the console; output:\n%s", out.String())
	}
}

// TestGemu runs every ISA test on gemu, with the real-time clock and with
// the deterministic one (time derived from retired instructions), since
// timer interrupts and WFI take different paths in the two.
func TestGemu(t *testing.T) {
	tests := build(t)
	bin := gemu(t)
	clocks := []struct {
		name  string
		flags []string
	}{
		{"realtime", nil},
		{"icount", []string{"-icount", "auto"}},
	}
	for _, name := range sortedKeys(tests) {
		elf := tests[name]
		for _, c := range clocks {
			args := append(append([]string{}, c.flags...), "-machine", "virt", "-bios", "none", "-kernel", elf, "-nographic")
			t.Run(name+"/"+c.name, func(t *testing.T) {
				if bug := marker(t, name, gemuKnownRE); bug != "" && os.Getenv("GEMU_ISA_ALL") != "1" {
					t.Skip("known gemu bug (GEMU_ISA_ALL=1 runs it): " + bug)
				}
				t.Parallel()
				run(t, bin, args...)
			})
		}
	}
}

// TestQEMU runs every ISA test on the reference, qemu-system-riscv64, so
// that a wrong test shows up as a failure here, and a gemu bug as a failure
// only in TestGemu.
func TestQEMU(t *testing.T) {
	tests := build(t)
	qemu, err := exec.LookPath("qemu-system-riscv64")
	if err != nil {
		t.Skip("qemu-system-riscv64 not installed (tests/setup.sh installs it)")
	}
	for _, name := range sortedKeys(tests) {
		elf := tests[name]
		t.Run(name, func(t *testing.T) {
			if why := qemuSkipReason(t, name); why != "" {
				t.Skip("gemu-only: " + why)
			}
			t.Parallel()
			run(t, qemu, "-machine", "virt", "-bios", "none", "-kernel", elf, "-nographic", "-monitor", "none", "-serial", "stdio")
		})
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tohostOnly is a riscv-tests-style program that reports only through
// tohost (no UART, no finisher): gemu must watch the symbol by itself.
const tohostOnly = `
	.section .text.init, "ax", @progbits
	.globl _start
_start:
	la t0, tohost
	li t1, RESULT
	sd t1, 0(t0)
1:	j 1b
	.section .tohost, "aw", @progbits
	.balign 64
	.globl tohost
tohost: .dword 0
	.globl fromhost
fromhost: .dword 0
`

// TestGemuTohost checks the riscv-tests convention on its own: 1 = pass
// (exit 0), (n<<1)|1 = test n failed (non-zero exit naming n).
func TestGemuTohost(t *testing.T) {
	build(t)
	bin := gemu(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "tohost.S")
	if err := os.WriteFile(src, []byte(tohostOnly), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		result int
		code   int // expected exit status
	}{
		{"pass", 1, 0},
		{"fail7", 7<<1 | 1, 7},
		{"fail1", 1<<1 | 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			elf := filepath.Join(dir, tc.name+".elf")
			args := append(append([]string{}, ccFlags...), fmt.Sprintf("-DRESULT=%d", tc.result), "-o", elf, src)
			if msg, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, msg)
			}
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			defer cancel()
			out, err := exec.CommandContext(ctx, bin, "-bios", "none", "-kernel", elf, "-nographic").CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if code != tc.code {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tc.code, out)
			}
			if tc.code != 0 && !strings.Contains(string(out), fmt.Sprint(tc.code)) {
				t.Errorf("failure message does not name test %d: %q", tc.code, out)
			}
		})
	}
}
