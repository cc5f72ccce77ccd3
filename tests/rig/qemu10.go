package rig

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"gemu/machine"
)

// QEMU 10 is the reference for what QEMU 7.2 (Debian 12's
// qemu-system-misc, the default reference) lacks: virtio-sound. Debian 12
// has it in bookworm-backports; installing it would replace 7.2, which the
// AC97 and board tests compare against, so FetchQEMU10 downloads the
// packages with apt-get download (through a sources list of its own) and
// unpacks them with dpkg -x into the cache instead.
const (
	QEMU10Version = "10.0.2"
	qemu10Suite   = "bookworm-backports"
)

// qemu10Packages are the packages QEMU 10's riscv64 system emulator needs
// to run from an unpacked tree: the binary, its common files and firmware
// data, and the modules its loader insists on finding.
var qemu10Packages = []string{
	"qemu-system-riscv", "qemu-system-common", "qemu-system-data",
	"qemu-system-gui", "qemu-system-modules-opengl", "qemu-system-modules-spice",
}

// QEMUInstall is an unpacked QEMU: run Bin with Env added to the
// environment and Args before the guest's own arguments.
type QEMUInstall struct {
	Bin  string
	Env  []string // QEMU_MODULE_DIR into the unpacked tree
	Args []string // -L (its data) and an explicit -bios (Debian 12's OpenSBI)
}

// Command returns an exec.Cmd that runs this QEMU with args.
func (q QEMUInstall) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(q.Bin, append(append([]string{}, q.Args...), args...)...)
	Detach(cmd) // proc.go: its own process group, killed with the test binary
	cmd.Env = append(os.Environ(), q.Env...)
	return cmd
}

// CacheDir is where downloaded references live: $XDG_CACHE_HOME/gemu, or
// ~/.cache/gemu.
func CacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set XDG_CACHE_HOME): %w", err)
	}
	return filepath.Join(dir, "gemu"), nil
}

var (
	qemu10Once sync.Once
	qemu10     QEMUInstall
	qemu10Err  error
)

// FetchQEMU10 makes QEMU 10 available under the cache directory, once per
// process and, through a lock file, once per machine: later calls find the
// unpacked tree. It needs apt-get, dpkg and Debian's package mirror.
func FetchQEMU10() (QEMUInstall, error) {
	qemu10Once.Do(func() { qemu10, qemu10Err = fetchQEMU10() })
	return qemu10, qemu10Err
}

func fetchQEMU10() (QEMUInstall, error) {
	cache, err := CacheDir()
	if err != nil {
		return QEMUInstall{}, err
	}
	dir := filepath.Join(cache, "qemu"+QEMU10Version)
	tree := filepath.Join(dir, "root")
	q := QEMUInstall{
		Bin: filepath.Join(tree, "usr/bin/qemu-system-riscv64"),
		Env: []string{"QEMU_MODULE_DIR=" + filepath.Join(tree, "usr/lib/x86_64-linux-gnu/qemu")},
		// Its default firmware link points at a newer OpenSBI than Debian
		// 12 ships: name Debian 12's explicitly.
		Args: []string{"-L", filepath.Join(tree, "usr/share/qemu"), "-bios", machine.DefaultBIOS},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return q, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return q, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return q, err
	}
	if ok, _ := q.works(); ok {
		return q, nil
	}
	for _, tool := range []string{"apt-get", "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			return q, fmt.Errorf("QEMU %s: %s not found (a Debian machine is needed to fetch it)", QEMU10Version, tool)
		}
	}
	if _, err := os.Stat(machine.DefaultBIOS); err != nil {
		return q, fmt.Errorf("QEMU %s: no %s (apt-get install opensbi)", QEMU10Version, machine.DefaultBIOS)
	}
	apt := filepath.Join(dir, "apt")
	debs := filepath.Join(dir, "debs")
	for _, d := range []string{apt + "/lists/partial", apt + "/cache/archives/partial", debs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return q, err
		}
	}
	sources := filepath.Join(apt, "sources.list")
	line := "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian " + qemu10Suite + " main\n"
	if err := os.WriteFile(sources, []byte(line), 0o644); err != nil {
		return q, err
	}
	opts := []string{
		"-q", "-o", "Dir::Etc::SourceList=" + sources, "-o", "Dir::Etc::SourceParts=/dev/null",
		"-o", "Dir::State::Lists=" + apt + "/lists", "-o", "Dir::Cache=" + apt + "/cache",
		"-o", "APT::Sandbox::User=root",
	}
	if err := runIn("", "apt-get", append(opts, "update")...); err != nil {
		return q, fmt.Errorf("QEMU %s: apt-get update of %s: %w", QEMU10Version, qemu10Suite, err)
	}
	old, _ := filepath.Glob(filepath.Join(debs, "*.deb"))
	for _, f := range old {
		os.Remove(f)
	}
	var pkgs []string
	for _, p := range qemu10Packages {
		pkgs = append(pkgs, p+"/"+qemu10Suite)
	}
	if err := runIn(debs, "apt-get", append(append(opts, "download"), pkgs...)...); err != nil {
		return q, fmt.Errorf("QEMU %s: apt-get download: %w", QEMU10Version, err)
	}
	if err := os.RemoveAll(tree); err != nil {
		return q, err
	}
	got, _ := filepath.Glob(filepath.Join(debs, "*.deb"))
	if len(got) != len(qemu10Packages) {
		return q, fmt.Errorf("QEMU %s: downloaded %d packages, want %d", QEMU10Version, len(got), len(qemu10Packages))
	}
	for _, deb := range got {
		if err := runIn("", "dpkg", "-x", deb, tree); err != nil {
			return q, fmt.Errorf("QEMU %s: dpkg -x %s: %w", QEMU10Version, filepath.Base(deb), err)
		}
	}
	if ok, out := q.works(); !ok {
		return q, fmt.Errorf("QEMU %s unpacked in %s does not run: %s", QEMU10Version, tree, out)
	}
	return q, nil
}

// works reports whether the unpacked QEMU runs and is the right version.
func (q QEMUInstall) works() (bool, string) {
	if _, err := os.Stat(q.Bin); err != nil {
		return false, err.Error()
	}
	cmd := exec.Command(q.Bin, "-version")
	cmd.Env = append(os.Environ(), q.Env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return false, strings.TrimSpace(string(out)) + ": " + err.Error()
	}
	return strings.Contains(string(out), "version "+QEMU10Version), strings.TrimSpace(string(out))
}

func runIn(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return errors.New(strings.TrimSpace(Tail(string(out), 5)) + ": " + err.Error())
	}
	return nil
}

// QEMU10 returns QEMU 10 for a test, fetching it on first use, and fails
// the test when it cannot be had (the machines that run the suite reach
// Debian's mirror; a missing reference is a broken set-up, not a skip).
func QEMU10(t testing.TB) QEMUInstall {
	t.Helper()
	q, err := FetchQEMU10()
	if err != nil {
		t.Fatal(err)
	}
	return q
}
