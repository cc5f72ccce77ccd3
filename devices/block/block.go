// Package block holds the host side of gemu's block devices: disk image
// files opened the way QEMU opens a -drive or -blockdev (raw format only),
// with QEMU's cache modes, read-only and snapshot modes, and QEMU's image
// locking, so that a second gemu, or a QEMU, cannot write an image a first
// one uses.
//
// A device model (devices/virtio's Blk) sees an Image: sized, random
// access, flushable. Writes reach the file in the order they are made, on
// the emulation goroutine; Flush is fsync. With Snapshot the file is only
// read: writes go to an in-memory overlay dropped at exit (QEMU -snapshot
// keeps them in a temporary qcow2 file, to the same effect). With ReadOnly
// the file is opened read-only and writes fail.
//
// References: QEMU block/file-posix.c (raw_open, the lock bytes of
// raw_apply_lock_bytes and raw_check_lock_bytes), block.c (cache modes:
// bdrv_parse_cache_mode), qemu-options.hx (-drive).
package block

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Image is a disk image as a block device sees it.
type Image interface {
	// Size is the image size in bytes.
	Size() uint64
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	// Flush makes completed writes durable (fsync).
	Flush() error
	// ReadOnly reports whether writes fail.
	ReadOnly() bool
	// WriteCache reports whether the host write cache is on (cache=
	// writeback, none, unsafe); off (writethrough, directsync) means every
	// write is flushed before it completes. SetWriteCache changes it (the
	// guest's virtio-blk writeback configuration field).
	WriteCache() bool
	SetWriteCache(on bool)
	Close() error
}

// Options are what -drive and -blockdev say about one image.
type Options struct {
	File     string
	Format   string // "raw" or "" (probe: raw, refusing qcow2)
	ReadOnly bool
	Snapshot bool
	// Cache is QEMU's cache mode: writeback (default), writethrough,
	// none, directsync or unsafe (block.c bdrv_parse_cache_mode).
	Cache string
	// Warn receives QEMU's format-probing warning; nil discards it.
	Warn func(msg string)
}

// ErrReadOnly is returned by WriteAt on a read-only image.
var ErrReadOnly = errors.New("block: image is read-only")

// File is an image file.
type File struct {
	f        *os.File
	path     string
	size     uint64
	readOnly bool
	noFlush  bool // cache=unsafe: flushes are ignored
	wce      bool
	overlay  map[int64][]byte // snapshot=on: changed blocks by index
}

const overlayBlock = 4096

// qcow2Magic starts every qcow2 image (QEMU docs/interop/qcow2.txt).
var qcow2Magic = []byte{'Q', 'F', 'I', 0xfb}

// Open opens an image as QEMU would for these options, and takes QEMU's
// locks on it.
func Open(o Options) (*File, error) {
	if o.File == "" {
		return nil, errors.New("block: no file")
	}
	wce, noFlush := true, false
	switch o.Cache {
	case "", "writeback", "none":
		// none is O_DIRECT on QEMU; gemu keeps the host page cache (the
		// guest cannot tell) and flushes on FLUSH as writeback does.
	case "writethrough", "directsync":
		wce = false
	case "unsafe":
		noFlush = true
	default:
		return nil, fmt.Errorf("invalid cache option %q (writeback, writethrough, none, directsync or unsafe)", o.Cache)
	}
	switch o.Format {
	case "", "raw":
	case "qcow2":
		return nil, fmt.Errorf("%s: qcow2 images are not supported; convert with: qemu-img convert -O raw %s image.raw", o.File, o.File)
	default:
		return nil, fmt.Errorf("unknown or unsupported format %q (gemu reads raw images only)", o.Format)
	}
	writable := !o.ReadOnly && !o.Snapshot
	flag := os.O_RDONLY
	if writable {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(o.File, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("could not open '%s': %w", o.File, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("'%s' is a directory", o.File)
	}
	if o.Format == "" {
		var head [4]byte
		n, _ := f.ReadAt(head[:], 0)
		if bytes.Equal(head[:n], qcow2Magic) {
			f.Close()
			return nil, fmt.Errorf("%s is a qcow2 image, which gemu does not read; convert with: qemu-img convert -O raw %s image.raw", o.File, o.File)
		}
		if o.Warn != nil {
			// QEMU's wording (block.c find_image_format callers, blockdev.c).
			o.Warn(fmt.Sprintf("Image format was not specified for '%s' and probing guessed raw.\n"+
				"         Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted.\n"+
				"         Specify the 'raw' format explicitly to remove the restrictions.", o.File))
		}
	}
	if err := lockImage(f, o.File, writable); err != nil {
		f.Close()
		return nil, err
	}
	size := uint64(fi.Size())
	if fi.Mode()&os.ModeDevice != 0 {
		if end, err := f.Seek(0, io.SeekEnd); err == nil {
			size = uint64(end)
		}
	}
	im := &File{f: f, path: o.File, size: size, readOnly: o.ReadOnly, noFlush: noFlush, wce: wce}
	if o.Snapshot {
		im.overlay = map[int64][]byte{}
	}
	return im, nil
}

// Size implements Image.
func (im *File) Size() uint64 { return im.size }

// ReadOnly implements Image.
func (im *File) ReadOnly() bool { return im.readOnly }

// WriteCache implements Image.
func (im *File) WriteCache() bool { return im.wce }

// SetWriteCache implements Image.
func (im *File) SetWriteCache(on bool) { im.wce = on }

// Path is the file name.
func (im *File) Path() string { return im.path }

// ReadAt implements Image. Bytes past the end of the file read as zero.
func (im *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || uint64(off)+uint64(len(p)) > im.size {
		return 0, fmt.Errorf("block: read [%d,+%d) beyond the image (%d bytes)", off, len(p), im.size)
	}
	if im.overlay == nil {
		return im.readFile(p, off)
	}
	n := 0
	for n < len(p) {
		blk := (off + int64(n)) / overlayBlock
		in := (off + int64(n)) % overlayBlock
		k := min(len(p)-n, overlayBlock-int(in))
		if b, ok := im.overlay[blk]; ok {
			copy(p[n:n+k], b[in:])
		} else if _, err := im.readFile(p[n:n+k], off+int64(n)); err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

func (im *File) readFile(p []byte, off int64) (int, error) {
	n, err := im.f.ReadAt(p, off)
	if err == io.EOF {
		clear(p[n:]) // a file that shrank under us
		return len(p), nil
	}
	return n, err
}

// WriteAt implements Image.
func (im *File) WriteAt(p []byte, off int64) (int, error) {
	if im.readOnly {
		return 0, ErrReadOnly
	}
	if off < 0 || uint64(off)+uint64(len(p)) > im.size {
		return 0, fmt.Errorf("block: write [%d,+%d) beyond the image (%d bytes)", off, len(p), im.size)
	}
	if im.overlay != nil {
		n := 0
		for n < len(p) {
			blk := (off + int64(n)) / overlayBlock
			in := (off + int64(n)) % overlayBlock
			k := min(len(p)-n, overlayBlock-int(in))
			b, ok := im.overlay[blk]
			if !ok {
				b = make([]byte, overlayBlock)
				start := blk * overlayBlock
				end := min(uint64(start)+overlayBlock, im.size)
				if _, err := im.readFile(b[:end-uint64(start)], start); err != nil {
					return n, err
				}
				im.overlay[blk] = b
			}
			copy(b[in:], p[n:n+k])
			n += k
		}
		return n, nil
	}
	n, err := im.f.WriteAt(p, off)
	if err == nil && !im.wce {
		err = im.Flush()
	}
	return n, err
}

// Flush implements Image: fsync, except with cache=unsafe or a snapshot.
func (im *File) Flush() error {
	if im.noFlush || im.overlay != nil || im.readOnly {
		return nil
	}
	return im.f.Sync()
}

// Close releases the file and its locks.
func (im *File) Close() error {
	if im.f == nil {
		return nil
	}
	err := im.f.Close()
	im.f = nil
	return err
}
