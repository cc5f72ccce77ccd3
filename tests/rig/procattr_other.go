//go:build unix && !linux

package rig

import "syscall"

// procAttr: a process group of its own. There is no parent-death signal
// outside Linux, so a child outlives a binary killed by go test -timeout.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
