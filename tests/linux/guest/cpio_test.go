package guest

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readNewc is a minimal reader of the newc format, to check WriteCpio
// against the layout the kernel expects (6-byte magic, 13 8-digit hex
// fields, name with NUL, 4-byte alignment of name and data).
func readNewc(b []byte) ([]string, Tree, error) {
	var order []string
	t := Tree{}
	p := 0
	align := func() { p = (p + 3) &^ 3 }
	for {
		if p+110 > len(b) {
			return nil, nil, fmt.Errorf("short header at %d", p)
		}
		h := b[p : p+110]
		if string(h[:6]) != "070701" {
			return nil, nil, fmt.Errorf("bad magic %q at %d", h[:6], p)
		}
		field := func(i int) uint32 {
			v, _ := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			return uint32(v)
		}
		mode, size, major, minor, namesize := field(1), int(field(6)), field(9), field(10), int(field(11))
		p += 110
		name := string(b[p : p+namesize-1])
		if b[p+namesize-1] != 0 {
			return nil, nil, fmt.Errorf("name %q not NUL-terminated", name)
		}
		p += namesize
		align()
		if name == "TRAILER!!!" {
			return order, t, nil
		}
		data := b[p : p+size]
		p += size
		align()
		order = append(order, name)
		e := Entry{Mode: mode, Major: major, Minor: minor}
		if size > 0 {
			e.Data = append([]byte(nil), data...)
		}
		t[name] = e
	}
}

func TestWriteCpio(t *testing.T) {
	tr := Tree{}
	tr.File("usr/bin/prog", 0o755, []byte("abcde"))
	tr.Symlink("bin", "usr/bin")
	tr.CharDev("dev/console", 0o600, 5, 1)
	tr.File("/init", 0o755, []byte("#!/bin/sh\n"))
	tr.Dir("empty/dir")
	var buf bytes.Buffer
	if err := tr.WriteCpio(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d not a multiple of 4", buf.Len())
	}
	order, got, err := readNewc(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := Tree{
		"bin":          {Mode: modeLink | 0o777, Data: []byte("usr/bin")},
		"dev":          {Mode: modeDir | 0o755},
		"dev/console":  {Mode: modeChr | 0o600, Major: 5, Minor: 1},
		"empty":        {Mode: modeDir | 0o755},
		"empty/dir":    {Mode: modeDir | 0o755},
		"init":         {Mode: modeFile | 0o755, Data: []byte("#!/bin/sh\n")},
		"usr":          {Mode: modeDir | 0o755},
		"usr/bin":      {Mode: modeDir | 0o755},
		"usr/bin/prog": {Mode: modeFile | 0o755, Data: []byte("abcde")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("archive contents (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, n := range order {
		if d := parent(n); d != "" && !seen[d] {
			t.Errorf("%s comes before its directory %s", n, d)
		}
		seen[n] = true
	}
	var again bytes.Buffer
	tr.WriteCpio(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two writes of the same tree differ")
	}
}

func parent(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return ""
}

func TestLoadOrder(t *testing.T) {
	deps := map[string][]string{
		"extra/snd-intel8x0.ko":                      {"kernel/sound/pci/ac97/snd-ac97-codec.ko.xz", "kernel/sound/core/snd-pcm.ko.xz", "kernel/sound/core/snd.ko.xz"},
		"kernel/sound/pci/ac97/snd-ac97-codec.ko.xz": {"kernel/sound/ac97_bus.ko.xz", "kernel/sound/core/snd-pcm.ko.xz", "kernel/sound/core/snd.ko.xz"},
		"kernel/sound/core/snd-pcm.ko.xz":            {"kernel/sound/core/snd.ko.xz"},
		"kernel/sound/core/snd.ko.xz":                {"kernel/sound/soundcore.ko.xz"},
		"kernel/sound/soundcore.ko.xz":               nil,
		"kernel/sound/ac97_bus.ko.xz":                nil,
	}
	got := loadOrder(deps, "extra/snd-intel8x0.ko")
	pos := map[string]int{}
	for i, m := range got {
		pos[m] = i
	}
	if len(got) != len(deps) {
		t.Fatalf("loadOrder = %v, want all %d modules once", got, len(deps))
	}
	for m, ds := range deps {
		for _, d := range ds {
			if pos[d] > pos[m] {
				t.Errorf("%s loaded after %s, which needs it", d, m)
			}
		}
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/sound/pci/ac97/snd-ac97-codec.ko.xz": "snd_ac97_codec",
		"extra/snd-intel8x0.ko":                      "snd_intel8x0",
		"kernel/drivers/virtio/virtio_mmio.ko.zst":   "virtio_mmio",
	} {
		if got := moduleName(in); got != want {
			t.Errorf("moduleName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanon(t *testing.T) {
	for in, want := range map[string]string{
		"/lib/ld-linux-riscv64-lp64d.so.1": "usr/lib/ld-linux-riscv64-lp64d.so.1",
		"bin/sh":                           "usr/bin/sh",
		"/usr/bin/aplay":                   "usr/bin/aplay",
		"libfoo/x":                         "libfoo/x",
		"usr/lib/../lib/x":                 "usr/lib/x",
	} {
		if got := canon(in); got != want {
			t.Errorf("canon(%q) = %q, want %q", in, got, want)
		}
	}
}
