//go:build !linux

package rtsched

// Start does nothing on this system.
func Start(c Config) Mode { return ModeNone }

// Stop does nothing on this system.
func Stop() {}

// Active reports ModeNone on this system.
func Active() Mode { return ModeNone }

// ExcludeThread does nothing on this system.
func ExcludeThread() (release func()) { return func() {} }
