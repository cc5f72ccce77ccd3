//go:build unix

package rig

import (
	"os/exec"
	"syscall"
)

// killPgrp sends SIGKILL to the process group cmd leads (kill(2) with a
// negative pid), if Command made it a group leader.
func killPgrp(cmd *exec.Cmd) {
	if a := cmd.SysProcAttr; a != nil && a.Setpgid {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
