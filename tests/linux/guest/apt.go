// Package guest assembles the Debian riscv64 Linux guest used by the gemu
// Linux tests: a kernel Image, an initramfs with busybox, alsa-utils, the
// sound modules and an out-of-tree snd-intel8x0.ko, and test WAV files.
//
// Everything comes from Debian trixie packages, fetched with apt through a
// private configuration (own sources list, lists, cache and keyring choice;
// the host's apt setup is neither read nor touched) and cached outside the
// repository under $XDG_CACHE_HOME/gemu/linux, keyed by package version.
package guest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
)

// Suite is the Debian suite the guest comes from.
const Suite = "trixie"

// Mirror is the Debian archive the packages are fetched from.
const Mirror = "http://deb.debian.org/debian"

// Keyring is the keyring that signs Suite's Release file. Debian 12's
// debian-archive-keyring (2023.3+deb12u2) already carries the trixie archive
// and release keys (2025 keys 225629DF…, 9904613D…, 762F67A0…), so the
// signature is verified, never disabled.
const Keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// ErrDownload marks failures to reach or read the Debian archive, the only
// reason the Linux tests may skip.
var ErrDownload = errors.New("guest: package download failed")

// Apt runs apt-get/apt-cache with a private configuration rooted at Dir.
type Apt struct {
	Dir string // e.g. ~/.cache/gemu/linux/apt
	Log func(format string, args ...any)
}

func (a *Apt) logf(format string, args ...any) {
	if a.Log != nil {
		a.Log(format, args...)
	}
}

// setup writes the private apt.conf and sources.list. The apt.conf is given
// to apt through APT_CONFIG, which apt reads before anything else; it moves
// Dir::Etc::Parts and Dir::Etc::Main to private places, so none of the
// host's /etc/apt configuration applies.
func (a *Apt) setup() error {
	for _, d := range []string{"etc/apt.conf.d", "etc/sources.list.d", "etc/trusted.gpg.d",
		"etc/preferences.d", "lists/partial", "cache/archives/partial", "state", "debs"} {
		if err := os.MkdirAll(filepath.Join(a.Dir, d), 0o755); err != nil {
			return err
		}
	}
	sources := fmt.Sprintf("deb [arch=riscv64 signed-by=%s] %s %s main\n", Keyring, Mirror, Suite)
	if err := writeIfChanged(filepath.Join(a.Dir, "etc/sources.list"), []byte(sources)); err != nil {
		return err
	}
	if err := writeIfChanged(filepath.Join(a.Dir, "etc/apt.conf.main"), nil); err != nil {
		return err
	}
	sandbox := "_apt"
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		// The cache lives in root's home, which _apt cannot write.
		sandbox = "root"
	}
	d := a.Dir
	conf := fmt.Sprintf(`Dir::Etc::Parts "%[1]s/etc/apt.conf.d";
Dir::Etc::Main "%[1]s/etc/apt.conf.main";
Dir::Etc::SourceList "%[1]s/etc/sources.list";
Dir::Etc::SourceParts "%[1]s/etc/sources.list.d";
Dir::Etc::Trusted "%[1]s/etc/trusted.gpg";
Dir::Etc::TrustedParts "%[1]s/etc/trusted.gpg.d";
Dir::Etc::Preferences "%[1]s/etc/preferences";
Dir::Etc::PreferencesParts "%[1]s/etc/preferences.d";
Dir::State "%[1]s/state";
Dir::State::Lists "%[1]s/lists";
Dir::State::status "/dev/null";
Dir::Cache "%[1]s/cache";
APT::Architecture "riscv64";
APT::Architectures { "riscv64"; };
Acquire::Languages "none";
Debug::NoLocking "true";
APT::Sandbox::User "%[2]s";
`, d, sandbox)
	return writeIfChanged(filepath.Join(a.Dir, "apt.conf"), []byte(conf))
}

func (a *Apt) cmd(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "APT_CONFIG="+filepath.Join(a.Dir, "apt.conf"), "LC_ALL=C")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, lastLines(stderr.String(), 5))
	}
	return out, nil
}

// Update fetches the package lists unless they are already there (force
// re-fetches them).
func (a *Apt) Update(ctx context.Context, force bool) error {
	if err := a.setup(); err != nil {
		return err
	}
	if !force {
		if m, _ := filepath.Glob(filepath.Join(a.Dir, "lists", "*_Packages*")); len(m) > 0 {
			return nil
		}
	}
	a.logf("apt-get update (%s %s riscv64)", Mirror, Suite)
	if _, err := a.cmd(ctx, a.Dir, "apt-get", "-q", "update"); err != nil {
		return fmt.Errorf("%w: %v", ErrDownload, err)
	}
	return nil
}

// Depends returns the packages pkg directly depends on.
func (a *Apt) Depends(ctx context.Context, pkg string) ([]string, error) {
	out, err := a.cmd(ctx, a.Dir, "apt-cache", "depends", pkg)
	if err != nil {
		return nil, err
	}
	var deps []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "Depends:" {
			deps = append(deps, strings.Trim(f[1], "<>"))
		}
	}
	return deps, nil
}

// Deb is one package file as the archive names it.
type Deb struct {
	Package string
	File    string // file name apt-get download writes, e.g. libc6_2.41-12_riscv64.deb
	Size    int64
	SHA256  string
	Path    string // where it is in the cache once fetched
}

// Version returns the package version encoded in the file name.
func (d Deb) Version() string {
	f := strings.Split(d.File, "_")
	if len(f) < 3 {
		return ""
	}
	return strings.ReplaceAll(f[1], "%3a", ":")
}

// Resolve names the file of each package's candidate version (from the
// local lists; no network).
func (a *Apt) Resolve(ctx context.Context, pkgs ...string) ([]Deb, error) {
	args := append([]string{"-q", "--print-uris", "download"}, pkgs...)
	out, err := a.cmd(ctx, a.Dir, "apt-get", args...)
	if err != nil {
		return nil, err
	}
	var debs []Deb
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// 'URL' file size SHA256:hex
		f := strings.Fields(line)
		if len(f) != 4 || !strings.HasPrefix(f[3], "SHA256:") {
			continue
		}
		var size int64
		fmt.Sscan(f[2], &size)
		debs = append(debs, Deb{File: f[1], Size: size, SHA256: strings.TrimPrefix(f[3], "SHA256:"),
			Package: strings.SplitN(f[1], "_", 2)[0], Path: filepath.Join(a.Dir, "debs", f[1])})
	}
	if len(debs) != len(pkgs) {
		return nil, fmt.Errorf("guest: apt resolved %d of %d packages %v:\n%s", len(debs), len(pkgs), pkgs, out)
	}
	return debs, nil
}

// Fetch downloads the debs not yet in the cache. apt-get verifies each
// file's SHA256 against the signed lists; a cached file is trusted when its
// size matches (it was verified when it was fetched).
func (a *Apt) Fetch(ctx context.Context, debs []Deb) error {
	var missing []string
	for _, d := range debs {
		if st, err := os.Stat(d.Path); err == nil && st.Size() == d.Size {
			continue
		}
		missing = append(missing, d.Package+"="+d.Version())
	}
	if len(missing) == 0 {
		return nil
	}
	a.logf("apt-get download %s", strings.Join(missing, " "))
	args := append([]string{"-q", "download"}, missing...)
	if _, err := a.cmd(ctx, filepath.Join(a.Dir, "debs"), "apt-get", args...); err != nil {
		return fmt.Errorf("%w: %v", ErrDownload, err)
	}
	return nil
}

func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return os.WriteFile(path, data, 0o644)
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
