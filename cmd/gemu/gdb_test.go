package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gemu/machine"
)

func TestParseArgsGDB(t *testing.T) {
	tests := []struct {
		args []string
		want options
	}{
		{[]string{"-s"}, options{serial: "mon:stdio", mux: true, gdb: "tcp::1234"}},
		{[]string{"-s", "-S"}, options{serial: "mon:stdio", mux: true, gdb: "tcp::1234", gdbWait: true}},
		{[]string{"-S", "-gdb", "tcp:localhost:4444"}, options{serial: "mon:stdio", mux: true, gdb: "tcp:localhost:4444", gdbWait: true}},
		{[]string{"-gdb", "tcp::0,server,nowait"}, options{serial: "mon:stdio", mux: true, gdb: "tcp::0,server,nowait"}},
		{[]string{"-gdb", "none"}, options{serial: "mon:stdio", mux: true, gdb: "none"}},
	}
	for _, tc := range tests {
		got, err := parseArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.want, *got, cmp.AllowUnexported(options{}), cmpopts.EquateEmpty(),
			cmpopts.IgnoreTypes(machine.Config{})); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.args, diff)
		}
	}
	errs := []struct {
		args []string
		want string
	}{
		{[]string{"-S"}, "-S: needs -s or -gdb"},
		{[]string{"-S", "-gdb", "none"}, "-S: needs -s or -gdb"},
		{[]string{"-gdb", "unix:/tmp/s"}, "-gdb unix:/tmp/s: only tcp"},
		{[]string{"-gdb", "tcp::1234,telnet"}, "-gdb tcp::1234,telnet: unsupported option"},
		{[]string{"-gdb"}, "-gdb: requires an argument"},
	}
	for _, tc := range errs {
		_, err := parseArgs(tc.args)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q...", tc.args, err, tc.want)
		}
	}
}
