package guest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Run drives a stand-in "emulator" (sh) that prints markers, waits at a
// prompt without a newline, and answers what was typed.
func TestRunConsole(t *testing.T) {
	script := `echo "@@gemu init 1.50"; printf 'gemu# \033[6n'; read x; echo "got-$x"; echo "@@gemu poweroff 2.00 rc=0"; exit 3`
	typed := 0
	tr := Run(context.Background(), []string{"sh", "-c", script}, time.Minute,
		func(text string, partial bool) (string, bool) {
			if partial && IsPrompt(text, "gemu# ") && typed == 0 {
				typed++
				return "hello\n", false
			}
			return "", false
		}, nil)
	if tr.Err != nil {
		t.Fatal(tr.Err)
	}
	if tr.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", tr.ExitCode)
	}
	var names []string
	for _, m := range tr.Marks() {
		names = append(names, m.Name+"@"+m.Uptime+":"+m.Details)
	}
	if diff := cmp.Diff([]string{"init@1.50:", "poweroff@2.00:rc=0"}, names); diff != "" {
		t.Errorf("marks (-want +got):\n%s", diff)
	}
	if _, ok := tr.First("got-hello"); !ok {
		t.Errorf("the typed line did not arrive:\n%s", tr.Text())
	}
}

func TestRunStopAndTimeout(t *testing.T) {
	tr := Run(context.Background(), []string{"sh", "-c", "echo stop-here; sleep 30"}, time.Minute,
		func(text string, partial bool) (string, bool) { return "", !partial && text == "stop-here" }, nil)
	if tr.Err != nil || tr.ExitCode != -1 {
		t.Errorf("stopped run: exit %d, err %v; want -1, nil", tr.ExitCode, tr.Err)
	}
	tr = Run(context.Background(), []string{"sh", "-c", "sleep 30"}, 200*time.Millisecond, nil, nil)
	if tr.Err == nil || !strings.Contains(tr.Err.Error(), "timed out") {
		t.Errorf("timeout: err %v", tr.Err)
	}
}

func TestBetween(t *testing.T) {
	tr := &Transcript{Lines: []Line{{Text: "a"}, {Text: "@@gemu-b64-begin"}, {Text: "QUJD"}, {Text: "REVG\r"}, {Text: "@@gemu-b64-end"}, {Text: "z"}}}
	got, ok := tr.Between("@@gemu-b64-begin", "@@gemu-b64-end")
	if !ok {
		t.Fatal("no block found")
	}
	if diff := cmp.Diff([]string{"QUJD", "REVG"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, ok := (&Transcript{Lines: []Line{{Text: "@@gemu-b64-begin"}}}).Between("@@gemu-b64-begin", "@@gemu-b64-end"); ok {
		t.Error("an unterminated block was accepted")
	}
}
