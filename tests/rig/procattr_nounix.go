//go:build !unix

package rig

import (
	"os/exec"
	"syscall"
)

// Without process groups the child alone is killed.
func procAttr() *syscall.SysProcAttr { return nil }

func killPgrp(*exec.Cmd) {}
