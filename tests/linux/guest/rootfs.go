package guest

import (
	"context"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed rootinit.sh
var rootInit []byte

// rootApplets are the busybox applets rootinit.sh runs, linked in /bin.
var rootApplets = []string{"sh", "mount", "umount", "grep", "readlink", "cat", "md5sum", "cut",
	"mkdir", "cp", "uname", "sync", "poweroff"}

// E2fsprog finds an e2fsprogs program (mke2fs, debugfs, e2fsck): on PATH
// or in /usr/sbin and /sbin, which a normal user's PATH may leave out.
func E2fsprog(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("guest: no %s: install e2fsprogs (tests/setup.sh)", name)
}

// BlkData is the deterministic content of the root image's /data/src.bin.
func BlkData(n int) []byte {
	r := rand.New(rand.NewPCG(0x67656d75, 0x626c6b))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// RootImage writes img, an ext4 file system of sizeMiB MiB made by
// mke2fs -d (no root needed) from a tree in scratch holding the guest's
// static busybox with the applets rootinit.sh needs, /sbin/init
// (rootinit.sh) and /data/src.bin (data). The blkroot scenario mounts it
// as the root file system.
func (g *Guest) RootImage(ctx context.Context, img, scratch string, sizeMiB int, data []byte) error {
	mke2fs, err := E2fsprog("mke2fs")
	if err != nil {
		return err
	}
	bb, err := os.ReadFile(filepath.Join(g.Dir, "user", "usr", "bin", "busybox"))
	if err != nil {
		return err
	}
	root := filepath.Join(scratch, "root")
	for _, d := range []string{"bin", "sbin", "proc", "sys", "dev", "data", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	files := []struct {
		path string
		mode os.FileMode
		data []byte
	}{{"bin/busybox", 0o755, bb}, {"sbin/init", 0o755, rootInit}, {"data/src.bin", 0o644, data}}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(root, f.path), f.data, f.mode); err != nil {
			return err
		}
	}
	for _, a := range rootApplets {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			return err
		}
	}
	c := exec.CommandContext(ctx, mke2fs, "-q", "-F", "-t", "ext4", "-b", "4096", "-L", "gemuroot",
		"-E", "root_owner=0:0", "-d", root, img, fmt.Sprintf("%dM", sizeMiB))
	c.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("guest: %s: %v\n%s", strings.Join(c.Args, " "), err, out)
	}
	return nil
}
