// Package isa runs gemu's own ISA and privileged-architecture tests: the
// assembly files in this directory (riscv-tests style, see test.h), built
// with Debian's riscv64-unknown-elf-gcc, run on gemu and, as the reference,
// on qemu-system-riscv64.
package isa

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gemu/tests/rig"
)

// runTimeout bounds one test run; a hang is a failure, not a wait.
const runTimeout = rig.Timeout

func TestMain(m *testing.M) { rig.Main(m) }

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

// build assembles every test once per process (make -C guests isa) and
// returns test name -> ELF path.
func build(t *testing.T) map[string]string {
	t.Helper()
	dir := rig.Guests(t, "isa")
	elfs := map[string]string{}
	for _, s := range sources(t) {
		name := strings.TrimSuffix(s, ".S")
		elfs[name] = filepath.Join(dir, "guests", "isa", name+".elf")
	}
	return elfs
}

// assemble builds one generated program in the ISA tests' environment
// (test.h, link.ld) with the guests/Makefile asm rule.
func assemble(t *testing.T, src, elf string, defs ...string) {
	t.Helper()
	if err := rig.BuildGuests(filepath.Dir(elf), "asm", "SRC="+src, "OUT="+elf, "DEFS="+strings.Join(defs, " ")); err != nil {
		t.Fatal(err)
	}
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

// smpRE reads "smp: N" markers: tests of several harts (test.h,
// TEST_SECONDARY), run with -smp N on gemu and on QEMU.
var smpRE = regexp.MustCompile(`(?m)^\s*(?:#|//|/?\*)\s*smp: ([1-8])\s*(?:\*/)?$`)

// smpArgs returns the -smp flag of test name, or nothing.
func smpArgs(t *testing.T, name string) []string {
	if n := marker(t, name, smpRE); n != "" {
		return []string{"-smp", n}
	}
	return nil
}

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

func gemu(t *testing.T) string {
	t.Helper()
	return rig.Gemu(t)
}

// run executes one emulator command line and requires exit status 0 and
// PASS on the console.
func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	r := rig.Exec(t, runTimeout, bin, args...)
	if r.Code != 0 {
		// Exit status n = test n failed (finisher/tohost convention).
		t.Fatalf("failed test %d (exit status); output:\n%s", r.Code, r.Out)
	}
	if !strings.Contains(r.Out, "PASS") {
		t.Fatalf("exit 0 but no PASS on the console; output:\n%s", r.Out)
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
			t.Run(name+"/"+c.name, func(t *testing.T) {
				args := append(append(smpArgs(t, name), c.flags...), "-machine", "virt", "-bios", "none", "-kernel", elf, "-nographic")
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
	qemu := rig.Need(t, rig.QEMU)
	for _, name := range sortedKeys(tests) {
		elf := tests[name]
		t.Run(name, func(t *testing.T) {
			if why := qemuSkipReason(t, name); why != "" {
				t.Skip("gemu-only: " + why)
			}
			t.Parallel()
			run(t, qemu, append(smpArgs(t, name), "-machine", "virt", "-bios", "none", "-kernel", elf, "-nographic", "-monitor", "none", "-serial", "stdio")...)
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
			assemble(t, src, elf, fmt.Sprintf("-DRESULT=%d", tc.result))
			r := rig.Exec(t, runTimeout, bin, "-bios", "none", "-kernel", elf, "-nographic")
			if r.Code != tc.code {
				t.Errorf("exit status %d, want %d; output:\n%s", r.Code, tc.code, r.Out)
			}
			if tc.code != 0 && !strings.Contains(r.Out, fmt.Sprint(tc.code)) {
				t.Errorf("failure message does not name test %d: %q", tc.code, r.Out)
			}
		})
	}
}
