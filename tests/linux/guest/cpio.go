package guest

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Tree is an initramfs under construction: paths (no leading slash) to
// entries. It is written as a "newc" cpio archive, the format the kernel's
// initramfs unpacker reads (Documentation/driver-api/early-userspace/
// buffer-format.rst), with all owners root and all times 0 so the same
// inputs give the same bytes.
type Tree map[string]Entry

// Entry is one file, directory, symlink or device node.
type Entry struct {
	Mode  uint32 // type and permission bits, as in stat(2)
	Data  []byte // file contents, or symlink target
	Major uint32 // device nodes
	Minor uint32
}

const (
	modeDir  = 0o040000
	modeFile = 0o100000
	modeLink = 0o120000
	modeChr  = 0o020000
)

// Dir adds a directory and its parents.
func (t Tree) Dir(p string) {
	p = clean(p)
	for p != "" && p != "." {
		if _, ok := t[p]; ok {
			return
		}
		t[p] = Entry{Mode: modeDir | 0o755}
		p = path.Dir(p)
		if p == "." {
			return
		}
	}
}

// File adds a regular file (and its parent directories).
func (t Tree) File(p string, perm uint32, data []byte) {
	p = clean(p)
	t.Dir(path.Dir(p))
	t[p] = Entry{Mode: modeFile | perm&0o7777, Data: data}
}

// Symlink adds a symbolic link p -> target.
func (t Tree) Symlink(p, target string) {
	p = clean(p)
	t.Dir(path.Dir(p))
	t[p] = Entry{Mode: modeLink | 0o777, Data: []byte(target)}
}

// CharDev adds a character device node.
func (t Tree) CharDev(p string, perm, major, minor uint32) {
	p = clean(p)
	t.Dir(path.Dir(p))
	t[p] = Entry{Mode: modeChr | perm&0o7777, Major: major, Minor: minor}
}

func clean(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// WriteCpio writes t as a newc archive, parents before children.
func (t Tree) WriteCpio(w io.Writer) error {
	names := make([]string, 0, len(t))
	for n := range t {
		if n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names) // "a" < "a/b": parents first
	ino := uint32(1)
	for _, n := range names {
		e := t[n]
		if err := writeCpioEntry(w, n, e, ino); err != nil {
			return err
		}
		ino++
	}
	return writeCpioEntry(w, "TRAILER!!!", Entry{}, 0)
}

func writeCpioEntry(w io.Writer, name string, e Entry, ino uint32) error {
	nlink := uint32(1)
	if e.Mode&0o170000 == modeDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, e.Mode, 0, 0, nlink, 0, len(e.Data), 0, 0, e.Major, e.Minor, len(name)+1, 0)
	buf := make([]byte, 0, len(hdr)+len(name)+8)
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	for len(buf)%4 != 0 {
		buf = append(buf, 0)
	}
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if _, err := w.Write(e.Data); err != nil {
		return err
	}
	if pad := (4 - len(e.Data)%4) % 4; pad > 0 {
		if _, err := w.Write(make([]byte, pad)); err != nil {
			return err
		}
	}
	return nil
}
