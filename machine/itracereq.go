package machine

// RequestITraceDump asks for the instruction ring buffer (Config.ITrace)
// to be printed to the -D log with the reason; it is safe from any
// goroutine (the console's Ctrl-A t). The dump itself happens on the
// emulation goroutine at its next poll (the end of the current batch of
// instructions, or at once when the harts are idle), where no hart is
// recording into the ring buffer and no device is writing to the log, so
// the two neither race nor interleave. A second request before the dump
// replaces the first. It returns false when there is no ring buffer.
func (m *Machine) RequestITraceDump(reason string) bool {
	if m.itrace == nil {
		return false
	}
	m.itraceReq.Store(&reason)
	m.Wake()
	return true
}

// pollITraceDump performs a dump RequestITraceDump asked for.
func (m *Machine) pollITraceDump() {
	if r := m.itraceReq.Swap(nil); r != nil {
		m.DumpITrace(*r)
	}
}
