package rig

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gone waits up to 10 s for pid to end (a zombie counts as ended: it runs
// nothing and its parent may not be ours to reap it).
func gone(pid int) bool {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// State is the field after the ")" that ends the command name.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && strings.HasPrefix(string(b[i:]), ") Z") {
			return true
		}
	}
	return false
}

func readPid(t *testing.T, r *bufio.Reader) int {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		t.Fatalf("bad pid line %q", line)
	}
	return pid
}

// TestStartCleanupKillsGroup: a child started with Start that has started
// a grandchild (a wrapper script and its emulator) is gone, grandchild
// included, once the test that started it ends.
func TestStartCleanupKillsGroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	Need(t, "sh", "sleep")
	var cmd *exec.Cmd
	var child, grandchild int
	t.Run("start", func(t *testing.T) {
		cmd = Command("sh", "-c", "sleep 300 & echo $!; wait")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := Start(t, cmd); err != nil {
			t.Fatal(err)
		}
		child = cmd.Process.Pid
		grandchild = readPid(t, bufio.NewReader(out))
		if grandchild == child {
			t.Fatal("no grandchild")
		}
	})
	if cmd == nil || grandchild == 0 {
		return
	}
	cmd.Wait()
	if !gone(child) {
		t.Errorf("child %d still runs after the cleanup", child)
	}
	if !gone(grandchild) {
		exec.Command("kill", "-9", strconv.Itoa(grandchild)).Run()
		t.Errorf("grandchild %d (sleep 300) still runs after the cleanup", grandchild)
	}
}

// TestChildDiesWithBinary: a test binary that dies without running any
// cleanup (go test -timeout panics this way) takes its children with it.
// The binary re-runs itself as the dying parent.
func TestChildDiesWithBinary(t *testing.T) {
	if os.Getenv("GEMU_RIG_ORPHAN") == "1" {
		cmd := Command("sleep", "300")
		if err := Start(t, cmd); err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
		fmt.Println(cmd.Process.Pid)
		os.Exit(2) // no cleanup runs, as after the timeout panic
	}
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux only")
	}
	Need(t, "sleep")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	parent := exec.Command(self, "-test.run=^TestChildDiesWithBinary$")
	parent.Env = append(os.Environ(), "GEMU_RIG_ORPHAN=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, bufio.NewReader(out))
	parent.Wait()
	if !gone(pid) {
		exec.Command("kill", "-9", strconv.Itoa(pid)).Run()
		t.Errorf("child %d (sleep 300) outlived the test binary that started it", pid)
	}
}
