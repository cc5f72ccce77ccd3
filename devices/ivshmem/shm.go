package ivshmem

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Memory is the shared memory behind BAR2: a host mapping of a file (QEMU's
// memory-backend-file with share=on) or of the descriptor an ivshmem-server
// sent. Guest loads and stores go straight to the mapping, so another
// process mapping the same file sees them at once.
//
// A mapping can fault: when the file (or the server's memfd) is truncated
// under it, touching a page past the new end raises SIGBUS, which would
// kill gemu ("fatal error: fault"; QEMU dies the same way). Every access
// to a mapping therefore runs with runtime/debug.SetPanicOnFault and
// recovers: the first fault marks the memory broken, reports once through
// OnFault, and from then on reads return 0 and writes are dropped, while
// the rest of the machine keeps running.
type Memory struct {
	b      []byte
	mapped bool // b is an mmap that Close must undo

	// OnFault, when set, is called once, on the goroutine that faulted,
	// when the mapping is found broken.
	OnFault func(error)
	broken  atomic.Bool
}

// MaxSize bounds the shared memory (and so BAR2): half of the board's 16 GiB
// high PCI window, so RAM-sized BARs of other devices still fit.
const MaxSize = 8 << 30

// CheckSize reports whether size is usable as BAR2: a power of two of at
// least 4 KiB (a page, and more than the ring header) and at most MaxSize
// (the BAR is the backend's size; QEMU's pci_register_bar asserts a power
// of two).
func CheckSize(size uint64) error {
	if size < 4096 || size > MaxSize || size&(size-1) != 0 {
		return fmt.Errorf("ivshmem: shared memory size %d (%#x) must be a power of two between 4 KiB and %d GiB", size, size, MaxSize>>30)
	}
	return nil
}

// OpenFile maps the file at path as QEMU's `-object
// memory-backend-file,mem-path=PATH,size=SIZE,share=on|off` does: the file
// is created if missing and grown (never shrunk) to size. With share the
// mapping is MAP_SHARED, so the file and every other process mapping it see
// guest stores; without it the mapping is a private copy-on-write one and
// nothing the guest writes reaches the file (QEMU docs/system/devices/
// ivshmem.rst and memory-backend-file's share option).
func OpenFile(path string, size uint64, share bool) (*Memory, error) {
	if err := CheckSize(size); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ivshmem: %w", err)
	}
	defer f.Close() // the mapping stays valid after the descriptor is closed
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("ivshmem: %w", err)
	}
	if !st.Mode().IsRegular() && st.Mode()&os.ModeDevice == 0 {
		return nil, fmt.Errorf("ivshmem: mem-path %s is not a regular file", path)
	}
	if st.Mode().IsRegular() && uint64(st.Size()) < size {
		if err := f.Truncate(int64(size)); err != nil {
			return nil, fmt.Errorf("ivshmem: growing %s to %d bytes: %w", path, size, err)
		}
	}
	flags := unix.MAP_PRIVATE
	if share {
		flags = unix.MAP_SHARED
	}
	return mapFD(int(f.Fd()), size, flags)
}

// MapFD maps size bytes of an open descriptor shared (the ivshmem-server's
// shared memory). The descriptor may be closed afterwards.
func MapFD(fd int, size uint64) (*Memory, error) {
	if err := CheckSize(size); err != nil {
		return nil, err
	}
	return mapFD(fd, size, unix.MAP_SHARED)
}

func mapFD(fd int, size uint64, flags int) (*Memory, error) {
	b, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		return nil, fmt.Errorf("ivshmem: mmap of %d bytes: %w", size, err)
	}
	return &Memory{b: b, mapped: true}, nil
}

// NewMemory returns anonymous memory of size bytes (unit tests, or a
// doorbell device before the server sent its memory).
func NewMemory(size uint64) (*Memory, error) {
	if err := CheckSize(size); err != nil {
		return nil, err
	}
	return &Memory{b: make([]byte, size)}, nil
}

// Bytes returns the mapping. It aliases memory other processes may change
// at any time: read words that matter with Load32/Load64.
func (m *Memory) Bytes() []byte { return m.b }

// Size returns the size of the mapping in bytes.
func (m *Memory) Size() uint64 { return uint64(len(m.b)) }

// Close unmaps the memory. The device must not be used afterwards.
func (m *Memory) Close() error {
	if m == nil || !m.mapped || m.b == nil {
		return nil
	}
	err := unix.Munmap(m.b)
	m.b = nil
	return err
}

// Broken reports whether an access faulted (the backing file shrank).
func (m *Memory) Broken() bool { return m.broken.Load() }

// ErrFault is what OnFault receives (wrapped with the offset).
var ErrFault = errors.New("ivshmem: shared memory access faulted (was the backing file truncated?); the device is broken: reads return 0, writes are dropped")

// Guard runs fn, which may touch Bytes(), and reports false if the memory
// is broken or fn faulted on it. Use it around direct slice accesses
// (Read and Write guard themselves).
func (m *Memory) Guard(fn func()) (ok bool) {
	if m.broken.Load() {
		return false
	}
	if m.mapped {
		old := debug.SetPanicOnFault(true)
		defer m.recoverFault(old, &ok, nil)
	}
	fn()
	return true
}

// recoverFault is deferred around accesses to a mapping: it restores the
// goroutine's panic-on-fault setting and turns a fault inside the mapping
// into a broken memory (*ok = false, *v = 0). Other panics go on.
func (m *Memory) recoverFault(old bool, ok *bool, v *uint64) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	fault, isFault := r.(interface{ Addr() uintptr })
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.b)))
	if !isFault || fault.Addr() < base || fault.Addr()-base >= uintptr(len(m.b)) {
		panic(r)
	}
	*ok = false
	if v != nil {
		*v = 0
	}
	if m.broken.Swap(true) {
		return
	}
	if m.OnFault != nil {
		m.OnFault(fmt.Errorf("%w (offset %#x of %#x)", ErrFault, fault.Addr()-base, len(m.b)))
	}
}

// Read is a bounds-checked little-endian load of size bytes at off; aligned
// 4- and 8-byte loads are single atomic accesses, so a word another process
// stores is never seen torn. Out-of-range reads, and every read of broken
// memory, return 0.
func (m *Memory) Read(off uint64, size int) (v uint64) {
	n := uint64(len(m.b))
	if size <= 0 || size > 8 || off >= n || uint64(size) > n-off {
		return 0
	}
	if m.mapped {
		if m.broken.Load() {
			return 0
		}
		var ok bool
		old := debug.SetPanicOnFault(true)
		defer m.recoverFault(old, &ok, &v)
	}
	switch {
	case size == 8 && off%8 == 0:
		return atomic.LoadUint64((*uint64)(unsafe.Pointer(&m.b[off])))
	case size == 4 && off%4 == 0:
		return uint64(atomic.LoadUint32((*uint32)(unsafe.Pointer(&m.b[off]))))
	}
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(m.b[off+uint64(i)])
	}
	return v
}

// Write is the bounds-checked store matching Read; aligned 4- and 8-byte
// stores are atomic (release order for a reader in another process: the
// guest's samples written before an index store are visible once the index
// is). Out-of-range writes, and every write to broken memory, are ignored.
func (m *Memory) Write(off uint64, size int, val uint64) {
	n := uint64(len(m.b))
	if size <= 0 || size > 8 || off >= n || uint64(size) > n-off {
		return
	}
	if m.mapped {
		if m.broken.Load() {
			return
		}
		var ok bool
		old := debug.SetPanicOnFault(true)
		defer m.recoverFault(old, &ok, nil)
	}
	switch {
	case size == 8 && off%8 == 0:
		atomic.StoreUint64((*uint64)(unsafe.Pointer(&m.b[off])), val)
		return
	case size == 4 && off%4 == 0:
		atomic.StoreUint32((*uint32)(unsafe.Pointer(&m.b[off])), uint32(val))
		return
	}
	for i := 0; i < size; i++ {
		m.b[off+uint64(i)] = byte(val >> (8 * i))
	}
}
