package block

import (
	"fmt"
	"os"
	"syscall"
)

// QEMU's image locking (block/file-posix.c): open file description (OFD)
// locks, which belong to the open file and so also keep two images of one
// process apart, on single bytes of the image file. A user holding
// permission bit i read-locks byte 100+i; a user not sharing permission i
// with others read-locks byte 200+i. Before taking them it checks that no
// one else locks 200+i for a permission it wants, nor 100+i for a
// permission it does not share. gemu's virtio-blk wants what QEMU's does
// (hw/block/block.c blkconf_apply_backend_options): consistent read, and
// write unless read-only; it shares everything but write. So a writer
// excludes every other user, and a reader excludes writers, in gemu and in
// QEMU alike.
const (
	lockPermBase   = 100 // RAW_LOCK_PERM_BASE
	lockSharedBase = 200 // RAW_LOCK_SHARED_BASE

	permConsistentRead = 0 // bit numbers of BLK_PERM_*
	permWrite          = 1

	fOFDGetlk = 36 // F_OFD_GETLK (linux/fcntl.h)
	fOFDSetlk = 37 // F_OFD_SETLK
)

var permNames = map[int]string{permConsistentRead: "consistent read", permWrite: "write"}

func lockImage(f *os.File, path string, writable bool) error {
	held := []int{permConsistentRead}
	if writable {
		held = append(held, permWrite)
	}
	unshared := []int{permWrite}
	fd := f.Fd()
	// raw_check_lock_bytes: would an exclusive lock on the byte succeed?
	busy := func(off int64) (bool, error) {
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: off, Len: 1}
		if err := syscall.FcntlFlock(fd, fOFDGetlk, &lk); err != nil {
			return false, err
		}
		return lk.Type != syscall.F_UNLCK, nil
	}
	for _, p := range held {
		b, err := busy(lockSharedBase + int64(p))
		if err != nil {
			return lockUnsupported(err)
		}
		if b {
			return fmt.Errorf("failed to get %q lock\nIs another process using the image [%s]?", permNames[p], path)
		}
	}
	for _, p := range unshared {
		b, err := busy(lockPermBase + int64(p))
		if err != nil {
			return lockUnsupported(err)
		}
		if b {
			return fmt.Errorf("failed to get shared %q lock\nIs another process using the image [%s]?", permNames[p], path)
		}
	}
	take := func(off int64) error {
		lk := syscall.Flock_t{Type: syscall.F_RDLCK, Whence: 0, Start: off, Len: 1}
		return syscall.FcntlFlock(fd, fOFDSetlk, &lk)
	}
	for _, p := range held {
		if err := take(lockPermBase + int64(p)); err != nil {
			return fmt.Errorf("failed to lock byte %d of %s: %v", lockPermBase+p, path, err)
		}
	}
	for _, p := range unshared {
		if err := take(lockSharedBase + int64(p)); err != nil {
			return fmt.Errorf("failed to lock byte %d of %s: %v", lockSharedBase+p, path, err)
		}
	}
	return nil
}

// lockUnsupported: file systems without OFD locks (QEMU then warns and
// goes on without locking, file-posix.c raw_open_common with locking=auto).
func lockUnsupported(err error) error {
	if err == syscall.EINVAL || err == syscall.ENOSYS || err == syscall.EOPNOTSUPP {
		return nil
	}
	return fmt.Errorf("image locking: %v", err)
}
