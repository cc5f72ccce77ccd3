package linux_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gemu/tests/linux/guest"
)

// The blkroot scenario: the Debian guest's root file system on a
// virtio-blk ext4 image made at test time with mke2fs -d (no root, no
// network). The initramfs loads virtio_blk and ext4, mounts /dev/vda and
// switch_roots into it; the image's own /sbin/init reads /data/src.bin,
// writes /out/copy.bin and /out/result.txt, syncs, remounts / read-only
// and powers off. The host then checks the image with e2fsck -fn and
// reads both files back with debugfs.

const blkModules = "gemu.snd=0 gemu.modules=virtio_mmio,virtio_blk,crc32c_generic,ext4"

// blkDataSize is /data/src.bin's size: enough for requests of many
// segments and more than one request in flight.
const blkDataSize = 3 << 20

// blkTransport is one way of attaching the image.
type blkTransport struct {
	name   string
	device string   // -device model
	flags  []string // more emulator flags
	path   string   // expected in the guest's /sys/block/vda path
	modern bool     // VIRTIO_F_VERSION_1 negotiated
}

var blkTransports = []blkTransport{
	{name: "mmio-legacy", device: "virtio-blk-device", path: ".virtio_mmio/virtio"},
	{name: "mmio-modern", device: "virtio-blk-device", flags: []string{"-global", "virtio-mmio.force-legacy=false"},
		path: ".virtio_mmio/virtio", modern: true},
	{name: "pci", device: "virtio-blk-pci", path: "/pci0000:00/", modern: true},
}

// TestLinuxBlk boots blkroot on each transport, on QEMU 7.2 (the
// reference) and on gemu, and once more with snapshot=on, which must
// leave the image file unchanged.
func TestLinuxBlk(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux; skipped in -short mode")
	}
	ems := emulators(t)
	if len(ems) == 0 {
		t.Skip("neither qemu-system-riscv64 nor gemu (GEMU_LINUX=0)")
	}
	for _, p := range []string{"mke2fs", "debugfs", "e2fsck"} {
		if _, err := guest.E2fsprog(p); err != nil {
			t.Skipf("SKIP: %v", err)
		}
	}
	g := theGuest(t)
	for _, em := range ems {
		if em.only != nil && !em.only["blkroot"] {
			continue
		}
		t.Run(em.name, func(t *testing.T) {
			for _, tr := range blkTransports {
				t.Run(tr.name, func(t *testing.T) { runBlk(t, g, em, tr, false) })
			}
			t.Run("snapshot", func(t *testing.T) { runBlk(t, g, em, blkTransports[1], true) })
		})
	}
}

func runBlk(t *testing.T, g *guest.Guest, em emulator, tr blkTransport, snapshot bool) {
	dir := t.TempDir()
	img := filepath.Join(dir, "root.ext4")
	data := guest.BlkData(blkDataSize)
	if err := g.RootImage(context.Background(), img, dir, 64, data); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, img)
	drive := "file=" + img + ",if=none,format=raw,id=root0"
	if snapshot {
		drive += ",snapshot=on"
	}
	extra := append([]string{"-drive", drive, "-device", tr.device + ",drive=root0"}, tr.flags...)
	argv := g.ArgvDevice(em.bin, "blkroot "+blkModules, "", "", append(extra, em.extra...)...)
	run := boot(t, argv, em.timeout, nil)
	t.Logf("%s %s: %v wall, %v CPU, exit %d", em.name, tr.name, run.Wall.Round(time.Millisecond), run.CPU.Round(time.Millisecond), run.ExitCode)
	fail := func(format string, args ...any) {
		t.Fatalf(format+"\ncommand: %s\nlast console lines:\n%s", append(args, strings.Join(argv, " "), run.Tail(30))...)
	}
	if run.Err != nil {
		fail("%s: %v", em.name, run.Err)
	}
	for _, m := range run.Marks() {
		if strings.HasSuffix(m.Name, "-failed") || m.Name == "unknown-scenario" {
			t.Errorf("/init: %s %s", m.Name, m.Details)
		}
	}
	if m, ok := run.Mark("modules"); !ok || !strings.Contains(m.Details, "virtio_blk") || !strings.Contains(m.Details, "ext4") {
		fail("virtio_blk and ext4 not loaded: %+v", m)
	}
	if m, ok := run.Mark("rootfs"); !ok || !strings.HasPrefix(m.Details, "/dev/vda /newroot ext4 rw") {
		fail("initramfs did not mount /dev/vda read-write as ext4: %+v (present %v)", m, ok)
	}
	if _, ok := run.Mark("root-init"); !ok {
		fail("the image's /sbin/init never ran")
	}
	if m, _ := run.Mark("root"); !strings.HasPrefix(m.Details, "/dev/vda / ext4 rw") {
		t.Errorf("root file system in the switched root: %q, want /dev/vda / ext4 rw", m.Details)
	}
	m, _ := run.Mark("vda")
	sysPath, features, _ := strings.Cut(m.Details, " ")
	if !strings.Contains(sysPath, tr.path) {
		t.Errorf("/sys/block/vda is %q, want a path with %q", sysPath, tr.path)
	}
	if len(features) < 33 || (features[32] == '1') != tr.modern {
		t.Errorf("negotiated features %q: VIRTIO_F_VERSION_1 (bit 32) should be %v", features, tr.modern)
	}
	sum := md5.Sum(data)
	want := hex.EncodeToString(sum[:])
	if m, _ := run.Mark("src-md5"); m.Details != want {
		t.Errorf("guest read /data/src.bin with md5 %q, want %s", m.Details, want)
	}
	for _, name := range []string{"copied", "synced", "remount-ro"} {
		if m, ok := run.Mark(name); !ok || m.Details != "rc=0" {
			t.Errorf("root init %s: %+v (present %v)", name, m, ok)
		}
	}
	if run.ExitCode != 0 {
		fail("%s exited with status %d, want 0 (poweroff -f)", em.name, run.ExitCode)
	}
	if _, ok := run.Mark("poweroff"); !ok {
		fail("root init never reached poweroff")
	}

	if snapshot {
		if after := fileSum(t, img); after != before {
			t.Errorf("snapshot=on: the image changed (sha256 %s, was %s)", after, before)
		}
		if out, err := debugfs(t, img, "cat /out/result.txt"); err == nil && len(out) > 0 {
			t.Errorf("snapshot=on: /out/result.txt reached the image: %q", out)
		}
		return
	}
	e2fsck, _ := guest.E2fsprog("e2fsck")
	if out, err := exec.Command(e2fsck, "-fn", img).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn after the guest's writes: %v\n%s", err, out)
	}
	res, err := debugfs(t, img, "cat /out/result.txt")
	if err != nil {
		t.Fatalf("debugfs cat /out/result.txt: %v", err)
	}
	wantRes := fmt.Sprintf("gemu-blk-ok\nsrc-md5 %s\nroot /dev/vda / ext4 rw", want)
	if !strings.HasPrefix(string(res), wantRes) || !strings.Contains(string(res), "\nkernel "+g.KernelRelease+"\n") {
		t.Errorf("/out/result.txt in the image:\n%s\nwant it to start with\n%s\nand name kernel %s", res, wantRes, g.KernelRelease)
	}
	copyPath := filepath.Join(dir, "copy.bin")
	if _, err := debugfs(t, img, "dump /out/copy.bin "+copyPath); err != nil {
		t.Fatalf("debugfs dump /out/copy.bin: %v", err)
	}
	got, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		i := 0
		for i < len(got) && i < len(data) && got[i] == data[i] {
			i++
		}
		t.Errorf("/out/copy.bin in the image: %d bytes, first difference at %d; want the %d bytes of /data/src.bin", len(got), i, len(data))
	}
}

// debugfs runs one debugfs request on img (read-only) and returns its
// standard output; debugfs reports a missing file on stderr with exit 0,
// so an empty output with a message is an error.
func debugfs(t *testing.T, img, request string) ([]byte, error) {
	t.Helper()
	p, err := guest.E2fsprog("debugfs")
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	c := exec.Command(p, "-R", request, img)
	c.Stdout, c.Stderr = &stdout, &stderr
	err = c.Run()
	// debugfs prints its version banner on stderr; anything after it is a
	// complaint.
	msg := strings.TrimSpace(stderr.String())
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	} else if strings.HasPrefix(msg, "debugfs ") {
		msg = ""
	}
	if err == nil && msg != "" {
		err = fmt.Errorf("%s", msg)
	}
	return stdout.Bytes(), err
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
