// Package xv6 runs stock xv6-riscv (MIT 6.1810's teaching kernel) the way
// its users do: built from the unmodified sources with Debian's
// riscv64-unknown-elf-gcc, booted with the QEMU command line of its own
// Makefile (`make -n qemu`), on gemu and on QEMU as the reference. The
// tests (xv6_test.go) check that it boots to the shell prompt, that ls
// works and that usertests -q passes; cmd xv6times prints the
// boot-to-prompt and usertests times on both emulators.
//
// The sources are the tarball in the shared guests directory
// ($GEMU_GUESTS, default ../shared/guests): xv6-riscv-*.tar.gz. The build
// is kept in the user's cache directory ($XDG_CACHE_HOME/gemu/xv6/NAME).
//
// The command line is the Makefile's own, -smp 3 included (CPUS, which
// GEMU_XV6_CPUS overrides).
package xv6

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gemu/tests/rig"
)

// MakefileCPUs is the -smp value of xv6's Makefile (CPUS := 3).
const MakefileCPUs = 3

// CPUs is the -smp value the tests and xv6times use: $GEMU_XV6_CPUS (1 to
// 8), or the Makefile's.
var CPUs = func() int {
	if n, err := strconv.Atoi(os.Getenv("GEMU_XV6_CPUS")); err == nil && n >= 1 && n <= 8 {
		return n
	}
	return MakefileCPUs
}()

// Tree is a built xv6-riscv source tree.
type Tree struct {
	Dir string
}

// Tarball returns the xv6-riscv tarball in dir, or "" if there is none.
func Tarball(dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "xv6-riscv-*.tar.gz"))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

var buildMu sync.Mutex

// Build unpacks tarball into the cache (once) and runs make for the kernel
// and the file system image with the Debian cross compiler. Concurrent
// calls in one process take turns.
func Build(tarball string) (*Tree, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(tarball), ".tar.gz")
	root := filepath.Join(cache, "gemu", "xv6", name)
	dir := filepath.Join(root, "xv6-riscv")
	if _, err := os.Stat(filepath.Join(dir, "Makefile")); err != nil {
		os.RemoveAll(root)
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, err
		}
		if out, err := exec.Command("tar", "-xzf", tarball, "-C", root).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("tar -xzf %s: %v\n%s", tarball, err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "Makefile")); err != nil {
			return nil, fmt.Errorf("%s: no xv6-riscv/Makefile inside", tarball)
		}
	}
	cmd := exec.Command("make", "TOOLPREFIX=riscv64-unknown-elf-", "kernel/kernel", "fs.img")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make in %s: %v\n%s", dir, err, tail(string(out), 2000))
	}
	return &Tree{Dir: dir}, nil
}

// QEMUArgs is the Makefile's QEMU command line (`make -n qemu`, with
// CPUS=cpus unless that is the Makefile's own value), without the program
// name, with the file system image replaced by img.
func (tr *Tree) QEMUArgs(img string, cpus int) ([]string, error) {
	margs := []string{"-n", "qemu", "TOOLPREFIX=riscv64-unknown-elf-"}
	if cpus != MakefileCPUs {
		margs = append(margs, fmt.Sprintf("CPUS=%d", cpus))
	}
	cmd := exec.Command("make", margs...)
	cmd.Dir = tr.Dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("make -n qemu: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 2 || !strings.Contains(f[0], "qemu-system-riscv64") {
		return nil, fmt.Errorf("make -n qemu: unexpected %q", lines[len(lines)-1])
	}
	args := f[1:]
	if !strings.Contains(" "+strings.Join(args, " ")+" ", fmt.Sprintf(" -smp %d ", cpus)) {
		return nil, fmt.Errorf("make -n qemu: no -smp %d in %q", cpus, lines[len(lines)-1])
	}
	for i, a := range args {
		switch {
		case a == "kernel/kernel":
			args[i] = filepath.Join(tr.Dir, a)
		case strings.HasPrefix(a, "file=fs.img,"):
			args[i] = "file=" + img + strings.TrimPrefix(a, "file=fs.img")
		}
	}
	return args, nil
}

// FreshImage copies the built fs.img to dir and returns its path: every
// run starts from the same file system.
func (tr *Tree) FreshImage(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(tr.Dir, "fs.img"))
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "fs.img")
	return p, os.WriteFile(p, data, 0o644)
}

// Waiting. The emulators share the host with the rest of the suite; under
// a CI load average of 30 an emulator may get a fifteenth of a core, and a
// wall-clock wait that an idle machine passes tenfold fails a healthy guest
// (one CI run saw the prompt not come back within 60 s after ls at -smp 3;
// the same boot took 2m43s to its prompt beside stress-ng). So Expect
// measures progress instead: it fails when the emulator has used Silence
// of host CPU time (its utime+stime, /proc/PID/stat) since the console
// last printed anything, without printing what it waits for. xv6 never
// sleeps a hart (its scheduler spins, kernel/proc.c), so a hung guest keeps
// using CPU and fails after that budget; an emulator that hangs asleep uses
// none and fails at the session's wall-clock Deadline (tests set it a
// little before go test's own timeout, to fail with the console shown
// rather than a panic).

// Silence is the host CPU time the emulator may use with nothing new on
// the console. The longest quiet stretches (the boot's page-freeing loop,
// the slowest usertests test at -smp 3 on the interpreter) take about a
// tenth of it.
var Silence = 5 * time.Minute

// Session is an emulator running xv6 with its console on pipes.
type Session struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	out   bytes.Buffer
	mark  int // Expect searches from here
	done  chan struct{}
	t0    time.Time // first CPU or Expect call (CPU's fallback)
	// Deadline, if not zero, is the wall-clock time after which Expect
	// gives up whatever the emulator's progress.
	Deadline time.Time
}

// Start runs bin with args.
func Start(bin string, args ...string) (*Session, error) {
	// Its own process group, killed by Stop, and SIGKILL from the kernel
	// if this process dies first (go test -timeout): see rig.Command.
	s := &Session{cmd: rig.Command(bin, args...), done: make(chan struct{})}
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	r, w := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = w, w
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { s.cmd.Wait(); w.Close(); close(s.done) }()
	return s, nil
}

// CPU returns the host CPU time the emulator has used so far (all its
// threads), or, where /proc/PID/stat cannot be read, the wall time since
// it started.
func (s *Session) CPU() time.Duration {
	if d, ok := procCPU(s.cmd.Process.Pid); ok {
		return d
	}
	return time.Since(s.started())
}

func (s *Session) started() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.t0.IsZero() {
		s.t0 = time.Now()
	}
	return s.t0
}

// procCPU reads utime+stime of pid from /proc (proc(5): fields 14 and 15,
// in clock ticks of 1/100 s, USER_HZ on every Linux architecture).
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')') // the command name may hold anything
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, state
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	k, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+k) * 10 * time.Millisecond, true
}

// Expect waits until want appears in the output after the last match and
// returns the output up to and including it. It fails when the emulator
// has used silence of CPU time since the console last grew (see Silence),
// when the emulator exits, or at s.Deadline.
func (s *Session) Expect(want string, silence time.Duration) (string, error) {
	s.started()
	base, seen := s.CPU(), -1
	t0 := time.Now()
	for {
		s.mu.Lock()
		all := s.out.Len()
		text := s.out.String()[s.mark:]
		s.mu.Unlock()
		if i := strings.Index(text, want); i >= 0 {
			s.mu.Lock()
			s.mark += i + len(want)
			s.mu.Unlock()
			return text[:i+len(want)], nil
		}
		select {
		case <-s.done:
			return text, fmt.Errorf("emulator exited before %q", want)
		default:
		}
		cpu := s.CPU()
		if all != seen {
			base, seen = cpu, all // progress: the budget starts again
		}
		if used := cpu - base; used > silence {
			return text, fmt.Errorf("no %q: the emulator used %v of CPU time with nothing new on the console (%v wall since the wait began)", want, used.Round(time.Second), time.Since(t0).Round(time.Second))
		}
		if !s.Deadline.IsZero() && time.Now().After(s.Deadline) {
			return text, fmt.Errorf("no %q by the deadline (%v wall since the wait began, emulator CPU %v since the console last grew)", want, time.Since(t0).Round(time.Second), (cpu - base).Round(time.Second))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Send types a line.
func (s *Session) Send(line string) error {
	_, err := io.WriteString(s.stdin, line+"\n")
	return err
}

// Output is everything the console printed so far.
func (s *Session) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// Stop ends the emulator and whatever it started.
func (s *Session) Stop() {
	rig.KillGroup(s.cmd)
	<-s.done
}

// Times are what one run measured: wall time and the emulator's host CPU
// time, to the prompt (from the start) and for usertests -q.
type Times struct {
	Boot, Usertests       time.Duration
	BootCPU, UsertestsCPU time.Duration
}

// Run boots xv6 with bin and args, waits for the prompt, runs ls, then
// (if usertests) usertests -q, and reports the times. Every wait is
// Expect's, with Silence; deadline (zero: none) ends the run in wall
// time. The returned text is the console output on failure.
func Run(bin string, args []string, usertests bool, deadline time.Time) (Times, string, error) {
	var tm Times
	t0 := time.Now()
	s, err := Start(bin, args...)
	if err != nil {
		return tm, "", err
	}
	s.Deadline = deadline
	defer s.Stop()
	fail := func(err error) (Times, string, error) { return tm, tail(s.Output(), 3000), err }
	if _, err := s.Expect("init: starting sh", Silence); err != nil {
		return fail(err)
	}
	if _, err := s.Expect("$ ", Silence); err != nil {
		return fail(err)
	}
	tm.Boot, tm.BootCPU = time.Since(t0), s.CPU()
	s.Send("ls")
	out, err := s.Expect("$ ", Silence)
	if err != nil {
		return fail(err)
	}
	for _, f := range []string{"README", "usertests", "console"} {
		if !strings.Contains(out, f) {
			return fail(fmt.Errorf("ls does not list %s", f))
		}
	}
	if !usertests {
		return tm, "", nil
	}
	t1, c1 := time.Now(), s.CPU()
	s.Send("usertests -q")
	out, err = s.Expect("$ ", Silence)
	if err != nil {
		return fail(err)
	}
	tm.Usertests, tm.UsertestsCPU = time.Since(t1), s.CPU()-c1
	if !strings.Contains(out, "ALL TESTS PASSED") {
		return fail(errors.New("usertests -q did not pass"))
	}
	return tm, "", nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
