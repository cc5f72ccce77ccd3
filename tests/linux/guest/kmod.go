package guest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// module builds snd-intel8x0.ko out of tree: Debian's riscv64 kernel does
// not enable SND_INTEL8X0 (its boot/config-*-riscv64 file). The host tools
// (fixdep, modpost, ...) come from the kernel source prepared with Debian's
// config (Debian's linux-kbuild package needs a newer glibc than Debian
// 12's); the module itself is compiled against Debian's headers package, so
// that vermagic, Module.symvers CRCs and KERNELRELEASE match the Image.
func (b *builder) module(ctx context.Context) error {
	mm := strings.Join(strings.SplitN(b.abi, ".", 3)[:2], ".")
	src := "linux-source-" + mm
	hdr := "linux-headers-" + b.g.KernelRelease
	common := "linux-headers-" + b.abi + "-common"
	img := "linux-image-" + b.g.KernelRelease
	out := filepath.Join(b.g.Dir, "snd-intel8x0.ko")
	if _, err := os.Stat(out); err != nil {
		os.Remove(filepath.Join(b.g.Dir, "kbuild.stamp"))
	}
	_, err := b.stage("kbuild", []string{b.debs[src].File, b.debs[hdr].File, b.debs[common].File, b.debs[img].File}, func(dir string) error {
		if err := b.buildModule(ctx, dir, src, hdr, common, mm, out); err != nil {
			return err
		}
		// The 1.5 GB source tree is only needed for this build.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
		return nil
	})
	return err
}

func (b *builder) buildModule(ctx context.Context, dir, src, hdr, common, mm, out string) error {
	jobs := fmt.Sprintf("-j%d", runtime.NumCPU())
	cross := []string{"ARCH=riscv", "CROSS_COMPILE=riscv64-linux-gnu-"}

	// 1. Kernel source with Debian's config, prepared for building modules.
	b.logf("unpacking %s", b.debs[src].File)
	if err := b.extract(ctx, dir, src); err != nil {
		return err
	}
	tarball := filepath.Join(dir, "usr", "src", src+".tar.xz")
	if err := run(ctx, dir, "tar", "-xf", tarball); err != nil {
		return err
	}
	srcDir := filepath.Join(dir, src)
	cfg, err := os.ReadFile(filepath.Join(b.g.Dir, "kernel", "boot", "config-"+b.g.KernelRelease))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(srcDir, ".config"), cfg, 0o644); err != nil {
		return err
	}
	b.logf("make olddefconfig modules_prepare")
	if err := run(ctx, srcDir, "make", append(cross, jobs, "olddefconfig", "modules_prepare")...); err != nil {
		return err
	}

	// 2. Debian's headers, with the host tools put where its scripts
	// symlink points and its absolute paths made relative to dir.
	if err := b.extract(ctx, dir, hdr, common); err != nil {
		return err
	}
	kbuildScripts := filepath.Join(dir, "usr", "lib", "linux-kbuild-"+b.abi, "scripts")
	os.MkdirAll(filepath.Dir(kbuildScripts), 0o755)
	if err := run(ctx, dir, "cp", "-a", filepath.Join(srcDir, "scripts"), kbuildScripts); err != nil {
		return err
	}
	hdrDir := filepath.Join(dir, "usr", "src", hdr)
	mk := filepath.Join(hdrDir, "Makefile")
	data, err := os.ReadFile(mk)
	if err != nil {
		return err
	}
	data = []byte(strings.ReplaceAll(string(data), "include /usr/src/", "include "+filepath.Join(dir, "usr", "src")+"/"))
	if err := os.WriteFile(mk, data, 0o644); err != nil {
		return err
	}
	kv := filepath.Join(hdrDir, ".kernelvariables")
	if data, err = os.ReadFile(kv); err != nil {
		return err
	}
	// Debian built with gcc-14; Debian 12's cross compiler is gcc 12 (the
	// headers' DEBIAN_KERNEL_NO_CC_VERSION_CHECK lets it pass).
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "CC =") || strings.HasPrefix(l, "CC=") {
			l = "CC = $(CROSS_COMPILE)gcc"
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(kv, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		return err
	}

	// 3. The module, from the source's sound/pci/intel8x0.c.
	mdir := filepath.Join(dir, "snd-intel8x0")
	os.MkdirAll(mdir, 0o755)
	c, err := os.ReadFile(filepath.Join(srcDir, "sound", "pci", "intel8x0.c"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(mdir, "intel8x0.c"), c, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(mdir, "Makefile"), []byte("obj-m += snd-intel8x0.o\nsnd-intel8x0-y := intel8x0.o\n"), 0o644); err != nil {
		return err
	}
	b.logf("make M=snd-intel8x0 modules")
	// PAHOLE/RESOLVE_BTFIDS=true skip module BTF (the kernel has
	// MODULE_ALLOW_BTF_MISMATCH=y).
	if err := run(ctx, hdrDir, "make", append(cross, jobs, "M="+mdir, "modules", "PAHOLE=true", "RESOLVE_BTFIDS=true")...); err != nil {
		return err
	}
	return run(ctx, dir, "riscv64-linux-gnu-strip", "--strip-debug", "-o", out, filepath.Join(mdir, "snd-intel8x0.ko"))
}
