package rig

import "syscall"

// procAttr: a process group of its own, and SIGKILL when the parent dies.
// Pdeathsig fires when the thread that forked the child ends, not only the
// process (prctl(2)); Go keeps its threads for the life of the process
// except those locked by LockOSThread at goroutine exit, which the rig
// never starts children from.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
