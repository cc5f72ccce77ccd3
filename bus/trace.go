package bus

import "fmt"

// TraceFunc is the trace hook every device model takes: printf-style, one
// line per call, nil when tracing is off (the type of machine.Tracer's
// result), so a device tests `if trace != nil` and pays nothing otherwise.
type TraceFunc func(format string, args ...any)

// Prefix returns a hook that puts the text of format and args in front of
// every line before passing it to t; nil if t is nil.
func (t TraceFunc) Prefix(format string, args ...any) TraceFunc {
	if t == nil {
		return nil
	}
	p := fmt.Sprintf(format, args...)
	return func(format string, args ...any) {
		t("%s"+format, append([]any{p}, args...)...)
	}
}
