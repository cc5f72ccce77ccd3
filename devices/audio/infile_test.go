package audio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A bad in.path is an -audiodev error at open, with the reason (issue 10,
// defect 6: it gave rc 0, no message and a capture that timed out), and
// /dev/zero is refused after its header instead of reading 1 GiB at every
// capture open (defect 5).
func TestBadInPath(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.wav")
	if err := os.WriteFile(junk, []byte("RIFF\x10\x00\x00\x00WAVEjunkjunkjunk"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.wav"), "no such file"},
		{dir, "is a directory"},
		{junk, "bad WAV"},
		{"/dev/zero", "no RIFF/WAVE header"},
	} {
		opt, err := ParseOptions("none,id=a,in.path=" + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		a, err := OpenOptions(opt, newVClock().clk, nil)
		if err == nil {
			a.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "in.path") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("in.path=%s: %v, want an error naming in.path and %q", tc.path, err, tc.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("in.path=%s: took %v", tc.path, d)
		}
	}
}
