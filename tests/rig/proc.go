package rig

import (
	"os/exec"
	"sync"
	"testing"
)

// Emulators and other children the tests start must not outlive the test
// binary. Two things can leave one running: a test that forgets to stop
// it, and `go test -timeout`, whose panic exits the binary without running
// any cleanup (a QEMU left that way was seen still using a CPU 50 minutes
// later). So every child made by Command
//
//   - runs in a process group of its own (Setpgid), which KillGroup kills
//     whole, grandchildren included (a wrapper script and its emulator);
//   - gets SIGKILL from the kernel when the test binary dies, however it
//     dies (Pdeathsig, Linux prctl(2) PR_SET_PDEATHSIG; see procattr_*.go
//     for the other systems, which lack it);
//   - is killed, with its group, by Start's t.Cleanup and by Main before
//     the binary exits.

var live struct {
	sync.Mutex
	cmds map[*exec.Cmd]struct{}
}

// Command is exec.Command(bin, args...) set up as described above. Start
// it with Start (or cmd.Start and KillGroup when done); Exec and ExecOK
// use it already.
func Command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	Detach(cmd)
	return cmd
}

// Detach gives an exec.Cmd made elsewhere (QEMUInstall.Command) the
// process-group and parent-death settings of Command. Call it before
// Start.
func Detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = procAttr()
}

// Start starts cmd (made by Command) and kills its process group when t
// ends.
func Start(t testing.TB, cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		Detach(cmd)
	}
	if err := startTracked(cmd); err != nil {
		return err
	}
	t.Cleanup(func() { KillGroup(cmd) })
	return nil
}

func startTracked(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	live.Lock()
	if live.cmds == nil {
		live.cmds = map[*exec.Cmd]struct{}{}
	}
	live.cmds[cmd] = struct{}{}
	live.Unlock()
	return nil
}

// KillGroup sends SIGKILL to cmd's process group (the child and anything
// it started that stayed in the group). It does not wait for cmd; a
// pending cmd.Wait returns. Calling it twice, or after the child exited,
// is harmless: the group is gone or, if the child's pid was reused, it is
// no longer a group of ours (its leader would be another process, which
// Setpgid makes impossible while we have not reaped ours).
func KillGroup(cmd *exec.Cmd) {
	live.Lock()
	delete(live.cmds, cmd)
	live.Unlock()
	killGroup(cmd)
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	killPgrp(cmd)
	cmd.Process.Kill()
}

// killAll kills every child still tracked (Main, before exiting).
func killAll() {
	live.Lock()
	cmds := live.cmds
	live.cmds = nil
	live.Unlock()
	for c := range cmds {
		killGroup(c)
	}
}
