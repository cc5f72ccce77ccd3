package syscon

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

type call struct {
	A    Action
	Code int
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		off  uint64
		size int
		val  uint64
		want []call
	}{
		{"pass", 0, 4, 0x5555, []call{{ActionPowerOff, 0}}},
		{"fail code 3", 0, 4, 3<<16 | 0x3333, []call{{ActionPowerOff, 3}}},
		{"fail code 0xffff", 0, 8, 0xffff3333, []call{{ActionPowerOff, 0xffff}}},
		{"reset", 0, 4, 0x7777, []call{{ActionReset, 0}}},
		{"unknown value", 0, 4, 0x1234, nil},
		{"wrong offset", 4, 4, 0x5555, nil},
		{"byte write", 0, 1, 0x55, nil},
		{"16-bit reset (OpenSBI)", 0, 2, 0x7777, []call{{ActionReset, 0}}},
		{"16-bit fail", 0, 2, 0x3333, []call{{ActionPowerOff, 0}}},
	}
	for _, tc := range tests {
		var got []call
		s := New(func(a Action, code int) { got = append(got, call{a, code}) })
		s.Write(tc.off, tc.size, tc.val)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: calls mismatch (-want +got):\n%s", tc.name, diff)
		}
		if v := s.Read(0, 4); v != 0 {
			t.Errorf("%s: read = %#x, want 0", tc.name, v)
		}
	}
}

func TestNilCallback(t *testing.T) {
	s := &Syscon{}
	s.Write(0, 4, Pass) // must not panic
}
