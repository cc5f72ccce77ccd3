package guests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireTools fails the test (it does not skip: CI installs the tools) when
// the cross compiler or make is missing.
func requireTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"make", "riscv64-unknown-elf-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run tests/setup.sh to install the guest toolchain", tool)
		}
	}
}

// committedGuests asks the Makefile which ELFs are committed.
func committedGuests(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("make", "-s", "list").Output()
	if err != nil {
		t.Fatalf("make list: %v", err)
	}
	list := strings.Fields(string(out))
	if len(list) == 0 {
		t.Fatal("make list printed no guests")
	}
	return list
}

// TestReproducible rebuilds every committed guest ELF into a temporary
// directory and requires it to be byte-identical to the committed file, so
// the embedded binaries provably come from the sources in this directory.
func TestReproducible(t *testing.T) {
	requireTools(t)
	dir := t.TempDir()
	cmd := exec.Command("make", "-s", "O="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make O=%s: %v\n%s", dir, err, out)
	}
	for _, g := range committedGuests(t) {
		t.Run(g, func(t *testing.T) {
			want, err := os.ReadFile(g)
			if err != nil {
				t.Fatalf("committed guest: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(dir, g))
			if err != nil {
				t.Fatalf("rebuilt guest: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: rebuilt ELF (%d bytes) differs from the committed one (%d bytes); run `make -C tests/guests` and commit", g, len(got), len(want))
			}
		})
	}
}

// TestEmbedded checks the embedded bytes are the committed files and look
// like RV64 executables.
func TestEmbedded(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		path string
	}{
		{"Hello", Hello, "hello/hello.elf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tc.data, want) {
				t.Errorf("%s differs from %s", tc.name, tc.path)
			}
			// ELF magic, ELFCLASS64, little-endian, e_machine = EM_RISCV (243).
			if len(tc.data) < 20 || string(tc.data[:4]) != "\x7fELF" || tc.data[4] != 2 || tc.data[5] != 1 || tc.data[18] != 243 {
				t.Errorf("%s is not a little-endian RV64 ELF", tc.name)
			}
		})
	}
}
