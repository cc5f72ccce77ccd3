// Package rig is what gemu's end-to-end tests share: finding the
// repository, skipping when a host tool is missing, building cmd/gemu and
// the guests (guests/Makefile) once per test binary, and running a guest,
// either on the gemu or QEMU binary with a timeout or on a machine.Machine
// in this process, capturing its console and exit status. The PCM side
// (frames, WAV files, frame-exact comparison) is package gemu/tests/pcm.
//
// A test package that builds anything through the rig runs it from its
// TestMain, so that the builds are made once and removed at the end:
//
//	func TestMain(m *testing.M) { rig.Main(m) }
package rig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gemu/machine"
	"gemu/qemuopt"
)

// Timeout bounds one emulator run in Exec and ExecOK: a hang is a
// failure, not a wait.
const Timeout = 2 * time.Minute

// Tools the guests are built with (tests/setup.sh installs them).
const (
	CC   = "riscv64-unknown-elf-gcc"
	Make = "make"
	QEMU = "qemu-system-riscv64"
)

var (
	rootOnce sync.Once
	root     string
)

// Root returns the repository's top directory (where go.mod is): found
// from this source file, or else upwards from the working directory.
func Root() string {
	rootOnce.Do(func() {
		if _, file, _, ok := runtime.Caller(0); ok {
			if d := filepath.Join(filepath.Dir(file), "..", ".."); isRoot(d) {
				root = filepath.Clean(d)
				return
			}
		}
		d, err := os.Getwd()
		if err != nil {
			return
		}
		for ; ; d = filepath.Dir(d) {
			if isRoot(d) {
				root = d
				return
			}
			if d == filepath.Dir(d) {
				return
			}
		}
	})
	if root == "" {
		panic("rig: cannot find the gemu repository (no go.mod with module gemu above the working directory)")
	}
	return root
}

func isRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && bytes.HasPrefix(b, []byte("module gemu\n"))
}

// Path joins elements to the repository's top directory.
func Path(elem ...string) string {
	return filepath.Join(append([]string{Root()}, elem...)...)
}

// Need skips t, in one line naming the tool, unless every tool is on
// PATH; it returns the path of the first.
func Need(t testing.TB, tools ...string) string {
	t.Helper()
	var first string
	for i, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed (tests/setup.sh installs it)", tool)
		}
		if i == 0 {
			first = p
		}
	}
	return first
}

// SharedGuests returns the directory of the guest images shared between
// the team's checkouts (kernels and file systems too large to commit):
// $GEMU_GUESTS, by default ../shared/guests beside the repository. It
// skips t, naming the variable, when the directory does not exist.
func SharedGuests(t testing.TB) string {
	t.Helper()
	dir := sharedGuests()
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("no shared guests at %s (set GEMU_GUESTS to their directory)", dir)
	}
	return dir
}

func sharedGuests() string {
	if d := os.Getenv("GEMU_GUESTS"); d != "" {
		return d
	}
	return filepath.Join(Root(), "..", "shared", "guests")
}

// ---- builds, once per test binary ----

var (
	mainUsed bool
	scratch  struct {
		once sync.Once
		dir  string
		err  error
	}
	builds   sync.Map // key -> *build
	makeLock sync.Mutex
)

type build struct {
	once sync.Once
	path string
	err  error
}

// Main runs the tests, kills the children Start started that are still
// running, and removes what Gemu, Guest and Guests built.
// Without it they still work, but build again for every test.
func Main(m *testing.M) {
	mainUsed = true
	code := m.Run()
	killAll() // children a test left running (proc.go)
	if scratch.dir != "" {
		os.RemoveAll(scratch.dir)
	}
	os.Exit(code)
}

// once builds with do(dir) into a directory of its own, once per process
// for key when Main runs the tests, else afresh in t's temporary directory.
func once(t testing.TB, key string, do func(dir string) (string, error)) string {
	t.Helper()
	if !mainUsed {
		p, err := do(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	v, _ := builds.LoadOrStore(key, &build{})
	b := v.(*build)
	b.once.Do(func() {
		scratch.once.Do(func() { scratch.dir, scratch.err = os.MkdirTemp("", "gemu-rig-") })
		if scratch.err != nil {
			b.err = scratch.err
			return
		}
		dir, err := os.MkdirTemp(scratch.dir, "build-")
		if err != nil {
			b.err = err
			return
		}
		b.path, b.err = do(dir)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// BuildGemu builds cmd/gemu as dir/gemu and returns its path.
func BuildGemu(dir string) (string, error) {
	bin := filepath.Join(dir, "gemu")
	cmd := exec.Command("go", "build", "-o", bin, "gemu/cmd/gemu")
	cmd.Dir = Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/gemu: %v\n%s", err, out)
	}
	return bin, nil
}

// Gemu returns the path of a gemu binary built from this checkout.
func Gemu(t testing.TB) string {
	t.Helper()
	return once(t, "gemu", BuildGemu)
}

// BuildGuests runs make -C guests O=out with the targets (guests/Makefile
// names them: all, sbi, virtiosnd, ivshmem, bench, isa, or an output file
// under out).
func BuildGuests(out string, targets ...string) error {
	makeLock.Lock()
	defer makeLock.Unlock()
	args := append([]string{"-s", "-C", Path("guests"), "O=" + out}, targets...)
	if msg, err := exec.Command(Make, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("make %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return nil
}

// Guests builds the guests/Makefile targets once and returns the output
// root: a guest built from guests/x/x.c is then at Guests(...)/guests/x/x.elf.
// It skips t when make or the cross compiler is missing.
func Guests(t testing.TB, targets ...string) string {
	t.Helper()
	Need(t, Make, CC)
	return once(t, "make "+strings.Join(targets, " "), func(dir string) (string, error) {
		return dir, BuildGuests(dir, targets...)
	})
}

// Guest builds one guest image, named by its path in the repository
// (guests/virtiosnd/virtiosnd.elf), and returns the built file's path.
func Guest(t testing.TB, path string) string {
	t.Helper()
	Need(t, Make, CC)
	return once(t, "file "+path, func(dir string) (string, error) {
		out := filepath.Join(dir, filepath.FromSlash(path))
		return out, BuildGuests(dir, out)
	})
}

// ---- running ----

// Result is how a run ended: its console output (stdout and stderr of a
// process; "\r\n" read as "\n") and exit status.
type Result struct {
	Out  string
	Code int
}

// run runs bin with args for at most timeout.
func run(timeout time.Duration, bin string, args ...string) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	Detach(cmd) // the timeout kills the process group; see proc.go
	cmd.Cancel = func() error { killGroup(cmd); return nil }
	cmd.WaitDelay = 10 * time.Second // a grandchild holding the pipes
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	r := Result{Out: strings.ReplaceAll(out.String(), "\r", "")}
	if ctx.Err() != nil {
		return r, fmt.Errorf("%s hung (killed after %v); output:\n%s", filepath.Base(bin), timeout, r.Out)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("%s: %v", bin, err)
	}
	return r, nil
}

// Exec runs an emulator binary (gemu, QEMU) for at most timeout and
// returns how it ended; a hang or a binary that does not start fails t.
func Exec(t testing.TB, timeout time.Duration, bin string, args ...string) Result {
	t.Helper()
	r, err := run(timeout, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ExecOK runs an emulator binary for at most Timeout, requires exit status
// 0, and returns the output.
func ExecOK(t testing.TB, bin string, args ...string) string {
	t.Helper()
	r := Exec(t, Timeout, bin, args...)
	if r.Code != 0 {
		t.Fatalf("%s %s: exit status %d; output:\n%s", filepath.Base(bin), strings.Join(args, " "), r.Code, r.Out)
	}
	return r.Out
}

// Devices parses -device arguments.
func Devices(t testing.TB, args ...string) []*qemuopt.Opts {
	t.Helper()
	return Opts(t, "-device", args...)
}

// Audiodevs parses -audiodev arguments, failing t on a bad one.
func Audiodevs(t testing.TB, args ...string) []*qemuopt.Opts {
	t.Helper()
	return Opts(t, "-audiodev", args...)
}

// Opts parses arguments of a QEMU option (flag is "-device", "-object",
// ...) the way the command line does, failing t on a bad one.
func Opts(t testing.TB, flag string, args ...string) []*qemuopt.Opts {
	t.Helper()
	var opts []*qemuopt.Opts
	for _, a := range args {
		o, err := qemuopt.ParseFlag(flag, a)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, o)
	}
	return opts
}

// Boot builds the machine cfg describes, its console in the returned
// buffer unless cfg has one, and closes its input.
func Boot(t testing.TB, cfg machine.Config) (*machine.Machine, *bytes.Buffer) {
	t.Helper()
	var console bytes.Buffer
	if cfg.Console == nil {
		cfg.Console = &console
	}
	m, err := machine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.CloseInput()
	return m, &console
}

// Machine boots cfg in this process, runs it until the guest powers off,
// and returns its console and exit status; a run that ends otherwise
// (deadlock, error) fails t.
func Machine(t testing.TB, cfg machine.Config) Result {
	t.Helper()
	m, console := Boot(t, cfg)
	ex, err := m.Run()
	r := Result{Out: strings.ReplaceAll(console.String(), "\r", ""), Code: ex.Code}
	if err != nil {
		t.Fatalf("gemu: %v; console:\n%s", err, r.Out)
	}
	return r
}

// MachineOK runs cfg as Machine does, requires exit status 0 and every
// line of want on the console, and returns the console.
func MachineOK(t testing.TB, cfg machine.Config, want ...string) string {
	t.Helper()
	r := Machine(t, cfg)
	if r.Code != 0 {
		t.Fatalf("gemu: exit status %d; console:\n%s", r.Code, r.Out)
	}
	for _, w := range want {
		if !strings.Contains(r.Out, w) {
			t.Fatalf("console lacks %q:\n%s", w, r.Out)
		}
	}
	return r.Out
}

// Contains reports, as an error of t each, the lines of want that out
// lacks, and whether it has them all.
func Contains(t testing.TB, out string, want ...string) bool {
	t.Helper()
	ok := true
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
			ok = false
		}
	}
	return ok
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
