package guest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

//go:embed init.sh
var initScript []byte

// recipe changes whenever a cached stage must be rebuilt although its input
// packages did not change.
const recipe = "1"

// Options configure Build.
type Options struct {
	CacheDir string // default: DefaultCacheDir()
	Update   bool   // re-fetch the package lists even if present
	Log      func(format string, args ...any)
}

// Guest is a built guest.
type Guest struct {
	Dir           string // cache directory of this kernel version
	Version       string // Debian version of the kernel package, e.g. 6.12.107-1
	KernelRelease string // uname -r, e.g. 6.12.107+deb13-riscv64
	Image         string // the flat RISC-V Image (boot/vmlinux-*)
	Initrd        string // gzip'd newc cpio
	Packages      []Deb
}

// hostTools maps the programs Build runs to the Debian package providing
// them (all listed in tests/packages.txt).
var hostTools = [][2]string{
	{"apt-get", "apt"}, {"dpkg-deb", "dpkg"}, {"depmod", "kmod"}, {"xz", "xz-utils"}, {"tar", "tar"},
	{"make", "make"}, {"flex", "flex"}, {"bison", "bison"}, {"bc", "bc"},
	{"riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu"}, {"riscv64-linux-gnu-strip", "binutils-riscv64-linux-gnu"},
}

// preflight names the missing host packages, if any.
func preflight() error {
	var missing []string
	for _, t := range hostTools {
		if _, err := exec.LookPath(t[0]); err != nil {
			missing = append(missing, t[1]+" ("+t[0]+")")
		}
	}
	if _, err := os.Stat(Keyring); err != nil {
		missing = append(missing, "debian-archive-keyring ("+Keyring+")")
	}
	if len(missing) > 0 {
		return fmt.Errorf("guest: missing host packages: %s; run tests/setup.sh", strings.Join(missing, ", "))
	}
	return nil
}

// DefaultCacheDir is ${XDG_CACHE_HOME:-$HOME/.cache}/gemu/linux.
func DefaultCacheDir() string {
	d := os.Getenv("XDG_CACHE_HOME")
	if d == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			h = os.TempDir()
		}
		d = filepath.Join(h, ".cache")
	}
	return filepath.Join(d, "gemu", "linux")
}

// TestWAV returns the generated contents of one of TestFiles.
func TestWAV(name string) (*WAV, error) {
	for _, f := range TestFiles {
		if f.Name == name {
			return Generate(f.Format, f.Frames), nil
		}
	}
	return nil, fmt.Errorf("guest: no test file %q", name)
}

type builder struct {
	opt  Options
	apt  *Apt
	g    *Guest
	debs map[string]Deb // by package name
	abi  string         // 6.12.107+deb13
}

func (b *builder) logf(format string, args ...any) {
	if b.opt.Log != nil {
		b.opt.Log(format, args...)
	}
}

// Build fetches (once) and assembles the guest. A second call with the same
// package versions downloads nothing and rebuilds nothing. Download errors
// wrap ErrDownload.
func Build(ctx context.Context, opt Options) (*Guest, error) {
	if opt.CacheDir == "" {
		opt.CacheDir = DefaultCacheDir()
	}
	if err := preflight(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.CacheDir, 0o755); err != nil {
		return nil, err
	}
	// Several test processes may build at once (go test ./... runs
	// packages in parallel; people share machines): one at a time.
	lock, err := os.OpenFile(filepath.Join(opt.CacheDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("guest: locking %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	b := &builder{opt: opt, apt: &Apt{Dir: filepath.Join(opt.CacheDir, "apt"), Log: opt.Log}, g: &Guest{}}
	if err := b.resolve(ctx); err != nil {
		return nil, err
	}
	if err := b.kernel(ctx); err != nil {
		return nil, err
	}
	if err := b.userland(ctx); err != nil {
		return nil, err
	}
	if err := b.module(ctx); err != nil {
		return nil, err
	}
	if err := b.initramfs(ctx); err != nil {
		return nil, err
	}
	return b.g, nil
}

func (b *builder) resolve(ctx context.Context) error {
	if err := b.apt.Update(ctx, b.opt.Update); err != nil {
		return err
	}
	deps, err := b.apt.Depends(ctx, "linux-image-riscv64")
	if err != nil {
		return err
	}
	var img string
	for _, d := range deps {
		if strings.HasPrefix(d, "linux-image-") && strings.HasSuffix(d, "-riscv64") {
			img = d
		}
	}
	if img == "" {
		return fmt.Errorf("guest: linux-image-riscv64 depends on no kernel image: %v", deps)
	}
	b.g.KernelRelease = strings.TrimPrefix(img, "linux-image-")
	b.abi = strings.TrimSuffix(b.g.KernelRelease, "-riscv64")
	mm := strings.Join(strings.SplitN(b.abi, ".", 3)[:2], ".")
	pkgs := []string{img, "linux-headers-" + b.g.KernelRelease, "linux-headers-" + b.abi + "-common",
		"linux-source-" + mm, "busybox-static", "alsa-utils", "libasound2t64", "libasound2-data", "libc6"}
	debs, err := b.apt.Resolve(ctx, pkgs...)
	if err == nil {
		err = b.apt.Fetch(ctx, debs)
	}
	if err != nil && !b.opt.Update {
		// The lists may name files the mirror no longer has: refresh once.
		b.logf("retrying with fresh package lists: %v", err)
		if err = b.apt.Update(ctx, true); err != nil {
			return err
		}
		if debs, err = b.apt.Resolve(ctx, pkgs...); err != nil {
			return err
		}
		err = b.apt.Fetch(ctx, debs)
	}
	if err != nil {
		return err
	}
	b.debs = map[string]Deb{}
	for _, d := range debs {
		b.debs[d.Package] = d
	}
	b.g.Packages = debs
	b.g.Version = b.debs[img].Version()
	b.g.Dir = filepath.Join(b.opt.CacheDir, b.g.Version)
	return os.MkdirAll(b.g.Dir, 0o755)
}

// stage runs fn to (re)build dir unless dir's stamp says it was built from
// the same inputs.
func (b *builder) stage(name string, inputs []string, fn func(dir string) error) (string, error) {
	dir := filepath.Join(b.g.Dir, name)
	stamp := strings.Join(append([]string{"recipe " + recipe}, inputs...), "\n") + "\n"
	if old, err := os.ReadFile(dir + ".stamp"); err == nil && string(old) == stamp {
		return dir, nil
	}
	b.logf("building %s", dir)
	os.Remove(dir + ".stamp")
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := fn(dir); err != nil {
		return "", fmt.Errorf("guest: %s: %w", name, err)
	}
	return dir, os.WriteFile(dir+".stamp", []byte(stamp), 0o644)
}

func run(ctx context.Context, dir string, name string, args ...string) error {
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "LC_ALL=C")
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, lastLines(string(out), 30))
	}
	return nil
}

func (b *builder) extract(ctx context.Context, dir string, pkgs ...string) error {
	for _, p := range pkgs {
		if err := run(ctx, dir, "dpkg-deb", "-x", b.debs[p].Path, dir); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) modDir() string {
	return filepath.Join(b.g.Dir, "kernel", "usr", "lib", "modules", b.g.KernelRelease)
}

// kernel extracts the image package and makes its modules.dep (the package
// has none: depmod runs at install time).
func (b *builder) kernel(ctx context.Context) error {
	img := "linux-image-" + b.g.KernelRelease
	dir, err := b.stage("kernel", []string{b.debs[img].File}, func(dir string) error {
		if err := b.extract(ctx, dir, img); err != nil {
			return err
		}
		return run(ctx, dir, "depmod", "-b", filepath.Join(dir, "usr"), b.g.KernelRelease)
	})
	if err != nil {
		return err
	}
	b.g.Image = filepath.Join(dir, "boot", "vmlinux-"+b.g.KernelRelease)
	if _, err := os.Stat(b.g.Image); err != nil {
		return fmt.Errorf("guest: kernel package has no Image: %w", err)
	}
	return nil
}

var userPkgs = []string{"busybox-static", "alsa-utils", "libasound2t64", "libasound2-data", "libc6"}

func (b *builder) userland(ctx context.Context) error {
	var in []string
	for _, p := range userPkgs {
		in = append(in, b.debs[p].File)
	}
	_, err := b.stage("user", in, func(dir string) error { return b.extract(ctx, dir, userPkgs...) })
	return err
}

// Modules the image carries: the AC97 driver's dependencies, and what
// virtio-sound (over virtio-mmio), ivshmem (uio_pci_generic) and a root
// file system on virtio-blk (ext4 with crc16, mbcache, jbd2, and the
// crc32c its metadata checksums ask the crypto API for) need. /init loads
// the AC97 chain; the others on request (gemu.modules=).
var imageModules = []string{"snd-ac97-codec", "virtio_snd", "virtio_mmio", "uio_pci_generic",
	"virtio_blk", "crc32c_generic", "ext4"}

func (b *builder) initramfs(ctx context.Context) error {
	t := Tree{}
	for _, d := range []string{"proc", "sys", "dev", "tmp", "run", "root", "etc/gemu", "usr/bin", "usr/sbin", "usr/lib"} {
		t.Dir(d)
	}
	t.Symlink("bin", "usr/bin")
	t.Symlink("sbin", "usr/sbin")
	t.Symlink("lib", "usr/lib")
	t.CharDev("dev/console", 0o600, 5, 1)
	t.CharDev("dev/null", 0o666, 1, 3)
	t.File("init", 0o755, initScript)
	t.File("etc/gemu/vsnd.sh", 0o644, vsndScript)

	user := filepath.Join(b.g.Dir, "user")
	for _, p := range []string{"usr/bin/busybox", "usr/bin/aplay", "usr/bin/arecord", "usr/bin/amixer"} {
		if err := addWithLibs(t, user, p); err != nil {
			return err
		}
	}
	if err := addTree(t, user, "usr/share/alsa"); err != nil {
		return err
	}
	order, err := b.modules(ctx, t)
	if err != nil {
		return err
	}
	t.File("etc/gemu/modules", 0o644, []byte(strings.Join(order, "\n")+"\n"))
	for _, f := range TestFiles {
		t.File(f.Name, 0o644, Generate(f.Format, f.Frames).Encode())
	}

	var cpio bytes.Buffer
	if err := t.WriteCpio(&cpio); err != nil {
		return err
	}
	sum := sha256.Sum256(cpio.Bytes())
	name := filepath.Join(b.g.Dir, "initrd-"+hex.EncodeToString(sum[:6])+".cpio.gz")
	b.g.Initrd = name
	if _, err := os.Stat(name); err == nil {
		return nil
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(cpio.Bytes())
	if err := zw.Close(); err != nil {
		return err
	}
	b.logf("writing %s (%d bytes, %d uncompressed)", name, gz.Len(), cpio.Len())
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, gz.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// DecompressModules ships the Debian modules as plain .ko instead of
// .ko.xz: the kernel then skips its in-kernel xz decompression at insmod
// (the initramfs is gzip'd anyway).
var DecompressModules = true

// modules puts imageModules, their dependencies and snd-intel8x0.ko into
// t, with a modules.dep made by the host's depmod for exactly that set, and
// returns the insmod order of snd-intel8x0 (dependencies first).
func (b *builder) modules(ctx context.Context, t Tree) ([]string, error) {
	kdir := b.modDir()
	deps, err := readModulesDep(filepath.Join(kdir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	byName := map[string]string{}
	for m := range deps {
		byName[moduleName(m)] = m
	}
	var want []string
	for _, n := range imageModules {
		m, ok := byName[strings.ReplaceAll(n, "-", "_")]
		if !ok {
			return nil, fmt.Errorf("guest: kernel has no module %s", n)
		}
		for _, x := range loadOrder(deps, m) {
			if !slices.Contains(want, x) {
				want = append(want, x)
			}
		}
	}
	// Stage the subset in a scratch tree and let depmod index it.
	scratch := filepath.Join(b.g.Dir, "modtree")
	os.RemoveAll(scratch)
	defer os.RemoveAll(scratch)
	root := filepath.Join(scratch, "lib", "modules", b.g.KernelRelease)
	copyFile := func(src, dst string) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		return os.WriteFile(dst, data, 0o644)
	}
	for _, m := range want {
		if err := copyFile(filepath.Join(kdir, m), filepath.Join(root, m)); err != nil {
			return nil, err
		}
		if DecompressModules && strings.HasSuffix(m, ".ko.xz") {
			// The signature is on the uncompressed ELF, so it survives.
			if err := run(ctx, root, "xz", "-d", filepath.Join(root, m)); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range []string{"modules.builtin", "modules.builtin.modinfo", "modules.order"} {
		if _, err := os.Stat(filepath.Join(kdir, f)); err == nil {
			if err := copyFile(filepath.Join(kdir, f), filepath.Join(root, f)); err != nil {
				return nil, err
			}
		}
	}
	if err := copyFile(filepath.Join(b.g.Dir, "snd-intel8x0.ko"), filepath.Join(root, "extra", "snd-intel8x0.ko")); err != nil {
		return nil, err
	}
	if err := run(ctx, scratch, "depmod", "-b", scratch, b.g.KernelRelease); err != nil {
		return nil, err
	}
	sub, err := readModulesDep(filepath.Join(root, "modules.dep"))
	if err != nil {
		return nil, err
	}
	var order []string
	for _, m := range loadOrder(sub, "extra/snd-intel8x0.ko") {
		order = append(order, "/lib/modules/"+b.g.KernelRelease+"/"+m)
	}
	if err := addTreeAs(t, root, ".", "usr/lib/modules/"+b.g.KernelRelease); err != nil {
		return nil, err
	}
	return order, nil
}

// readModulesDep parses depmod's "module: dep dep ..." lines.
func readModulesDep(p string) (map[string][]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	deps := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m, rest, ok := strings.Cut(sc.Text(), ":")
		if ok {
			deps[m] = strings.Fields(rest)
		}
	}
	return deps, sc.Err()
}

// moduleName is the kernel's name for a module file: base name without
// .ko[.xz|.zst|.gz], dashes as underscores.
func moduleName(p string) string {
	n := path.Base(p)
	n, _, _ = strings.Cut(n, ".ko")
	return strings.ReplaceAll(n, "-", "_")
}

// loadOrder lists m after all its dependencies (depth first).
func loadOrder(deps map[string][]string, m string) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(x string) {
		if seen[x] {
			return
		}
		seen[x] = true
		for _, d := range deps[x] {
			visit(d)
		}
		out = append(out, x)
	}
	visit(m)
	return out
}

// canon maps a path through the image's merged-/usr symlinks.
func canon(p string) string {
	p = clean(p)
	for _, d := range []string{"bin/", "sbin/", "lib/"} {
		if strings.HasPrefix(p, d) {
			return "usr/" + p
		}
	}
	return p
}

// addPath copies root/p into t, following symlink chains (each link is kept
// as a link) and returns the final file's path.
func addPath(t Tree, root, p string) (string, error) {
	for hops := 0; hops < 16; hops++ {
		p = canon(p)
		st, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			return "", err
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(root, p))
			if err != nil {
				return "", err
			}
			t.Symlink(p, target)
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(p), target)
			}
			p = target
		case st.Mode().IsRegular():
			data, err := os.ReadFile(filepath.Join(root, p))
			if err != nil {
				return "", err
			}
			t.File(p, uint32(st.Mode().Perm()), data)
			return p, nil
		default:
			return "", fmt.Errorf("guest: %s is neither file nor symlink", p)
		}
	}
	return "", fmt.Errorf("guest: symlink loop at %s", p)
}

// addWithLibs adds an ELF program with its interpreter and the shared
// libraries it needs, transitively.
func addWithLibs(t Tree, root, p string) error {
	seen := map[string]bool{}
	var add func(p string) error
	add = func(p string) error {
		real, err := addPath(t, root, p)
		if err != nil {
			return err
		}
		if seen[real] {
			return nil
		}
		seen[real] = true
		f, err := elf.Open(filepath.Join(root, real))
		if err != nil {
			return nil // not an ELF file
		}
		defer f.Close()
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				b := make([]byte, prog.Filesz)
				if _, err := prog.ReadAt(b, 0); err != nil {
					return err
				}
				if err := add(strings.TrimRight(string(b), "\x00")); err != nil {
					return err
				}
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			return err
		}
		for _, l := range libs {
			found := false
			for _, d := range []string{"usr/lib/riscv64-linux-gnu", "usr/lib"} {
				if _, err := os.Lstat(filepath.Join(root, d, l)); err == nil {
					if err := add(path.Join(d, l)); err != nil {
						return err
					}
					found = true
					break
				}
			}
			if !found {
				return fmt.Errorf("guest: %s needs %s, not in the packages", real, l)
			}
		}
		return nil
	}
	return add(p)
}

func addTree(t Tree, root, p string) error { return addTreeAs(t, root, p, p) }

// addTreeAs copies the directory root/p into t at as.
func addTreeAs(t Tree, root, p, as string) error {
	base := filepath.Join(root, p)
	return filepath.WalkDir(base, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, fp)
		dst := path.Join(as, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			t.Dir(dst)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(fp)
			if err != nil {
				return err
			}
			t.Symlink(dst, target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(fp)
			if err != nil {
				return err
			}
			info, _ := d.Info()
			t.File(dst, uint32(info.Mode().Perm()), data)
		}
		return nil
	})
}
