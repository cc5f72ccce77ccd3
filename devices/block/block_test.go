package block

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func image(t *testing.T, size int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadWrite(t *testing.T) {
	p := image(t, 64<<10)
	im, err := Open(Options{File: p, Format: "raw"})
	if err != nil {
		t.Fatal(err)
	}
	if im.Size() != 64<<10 || im.ReadOnly() || !im.WriteCache() {
		t.Fatalf("size %d ro %v wce %v", im.Size(), im.ReadOnly(), im.WriteCache())
	}
	if _, err := im.WriteAt([]byte("hello"), 512); err != nil {
		t.Fatal(err)
	}
	if err := im.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := im.WriteAt(make([]byte, 2), 64<<10-1); err == nil {
		t.Errorf("write past the end accepted")
	}
	im.Close()
	got, _ := os.ReadFile(p)
	if string(got[512:517]) != "hello" {
		t.Errorf("file holds %q", got[512:517])
	}
}

// TestSnapshotReadOnly: neither mode touches the file.
func TestSnapshotReadOnly(t *testing.T) {
	p := image(t, 16<<10)
	orig, _ := os.ReadFile(p)
	snap, err := Open(Options{File: p, Format: "raw", Snapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snap.WriteAt(bytes.Repeat([]byte{0xaa}, 5000), 100); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5200)
	snap.ReadAt(buf, 0)
	if !bytes.Equal(buf[:100], orig[:100]) || buf[100] != 0xaa || buf[5099] != 0xaa || !bytes.Equal(buf[5100:], orig[5100:5200]) {
		t.Errorf("snapshot read-back wrong")
	}
	snap.Flush()
	snap.Close()
	ro, err := Open(Options{File: p, Format: "raw", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.WriteAt([]byte{1}, 0); err != ErrReadOnly {
		t.Errorf("read-only write: %v", err)
	}
	ro.Close()
	if now, _ := os.ReadFile(p); !bytes.Equal(now, orig) {
		t.Errorf("file changed")
	}
}

// TestLock: a writer excludes a second writer and a reader; readers share.
func TestLock(t *testing.T) {
	p := image(t, 4096)
	w, err := Open(Options{File: p, Format: "raw"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{File: p, Format: "raw"}); err == nil || !strings.Contains(err.Error(), `"write" lock`) {
		t.Errorf("second writer: %v", err)
	}
	if _, err := Open(Options{File: p, Format: "raw", ReadOnly: true}); err == nil {
		t.Errorf("reader beside a writer accepted")
	}
	w.Close()
	r1, err := Open(Options{File: p, Format: "raw", ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Open(Options{File: p, Format: "raw", Snapshot: true})
	if err != nil {
		t.Errorf("two readers: %v", err)
	} else {
		r2.Close()
	}
	if _, err := Open(Options{File: p, Format: "raw"}); err == nil {
		t.Errorf("writer beside a reader accepted")
	}
	r1.Close()
}

func TestFormats(t *testing.T) {
	p := image(t, 4096)
	var warned string
	im, err := Open(Options{File: p, Warn: func(s string) { warned = s }})
	if err != nil || !strings.Contains(warned, "probing guessed raw") {
		t.Errorf("probe: err %v, warning %q", err, warned)
	}
	im.Close()
	q := filepath.Join(t.TempDir(), "q.qcow2")
	os.WriteFile(q, append([]byte{'Q', 'F', 'I', 0xfb}, make([]byte, 508)...), 0o644)
	if _, err := Open(Options{File: q}); err == nil || !strings.Contains(err.Error(), "qcow2") {
		t.Errorf("qcow2 probe: %v", err)
	}
	for _, o := range []Options{{File: p, Format: "qcow2"}, {File: p, Format: "vmdk"}, {File: p, Cache: "fast"}, {File: p + ".missing"}} {
		if _, err := Open(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	wt, err := Open(Options{File: p, Format: "raw", Cache: "writethrough"})
	if err != nil || wt.WriteCache() {
		t.Errorf("writethrough: %v, wce %v", err, wt.WriteCache())
	}
	wt.Close()
}
