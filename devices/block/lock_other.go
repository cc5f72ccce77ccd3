//go:build !linux

package block

import "os"

// lockImage: QEMU's OFD image locks are Linux-only; elsewhere gemu does
// not lock (QEMU falls back to POSIX locks, which do not keep two images
// of one process apart).
func lockImage(f *os.File, path string, writable bool) error { return nil }
