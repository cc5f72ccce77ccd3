package bus

import (
	"fmt"
	"testing"
)

func TestTraceFuncPrefix(t *testing.T) {
	var got []string
	tr := TraceFunc(func(format string, args ...any) { got = append(got, fmt.Sprintf(format, args...)) })
	p := tr.Prefix("slot %d: ", 7)
	p("100%% %s %d", "x", 3)
	if len(got) != 1 || got[0] != "slot 7: 100% x 3" {
		t.Errorf("got %q", got)
	}
	if TraceFunc(nil).Prefix("slot %d: ", 1) != nil {
		t.Error("Prefix of a nil hook is not nil")
	}
}
