//go:build !amd64

package cpu

// JITSupported reports whether this host has a translator (amd64 only).
const JITSupported = false

type jitCache struct{}

type jumpCache struct{}

// SetJIT turns the translator on or off for the harts of c; on hosts
// without one it reports false and they keep interpreting.
func (c *Cluster) SetJIT(on bool) bool { return !on }

func (h *Hart) runJIT(max uint64) uint64 { return h.interp(max) }
