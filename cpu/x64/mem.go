//go:build unix

package x64

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Code is a region of executable memory, filled from the start. It is
// mapped read-write-execute outside the Go heap and never unmapped while
// code may run from it.
type Code struct {
	mem  []byte
	used int
}

// ErrFull is returned by Code.Add when the region has no room left.
var ErrFull = errors.New("x64: code region full")

// NewCode maps a code region of size bytes (pages are only backed once
// written).
func NewCode(size int) (*Code, error) {
	m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, err
	}
	return &Code{mem: m}, nil
}

// Add copies code into the region (16-byte aligned) and returns its address.
func (c *Code) Add(code []byte) (uintptr, error) {
	start := (c.used + 15) &^ 15
	if start+len(code) > len(c.mem) {
		return 0, ErrFull
	}
	copy(c.mem[start:], code)
	c.used = start + len(code)
	return uintptr(unsafe.Pointer(&c.mem[start])), nil
}

// Bytes returns the len bytes of code at address p, for patching; p must
// come from Add.
func (c *Code) Bytes(p uintptr, n int) []byte {
	off := int(p - uintptr(unsafe.Pointer(&c.mem[0])))
	return c.mem[off : off+n]
}

// Reset forgets every piece of code in the region; the caller must drop
// every address Add returned.
func (c *Code) Reset() { c.used = 0 }

// Used is the number of bytes in use.
func (c *Code) Used() int { return c.used }

// Free unmaps the region.
func (c *Code) Free() error {
	err := unix.Munmap(c.mem)
	c.mem = nil
	return err
}
