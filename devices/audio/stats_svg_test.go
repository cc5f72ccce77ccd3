package audio

import (
	"strings"
	"testing"
)

// TestWriteSVGSharedAxis: the panels share one time axis, and each
// underrun is labelled with its start on it.
func TestWriteSVGSharedAxis(t *testing.T) {
	const s = int64(1e9)
	tls := []Timeline{
		{Name: "a", Capacity: 100, Points: []TimelinePoint{{T: 1 * s, Max: 50}, {T: 2 * s, Underrun: true}, {T: 3 * s, Max: 50}}},
		{Name: "(host sink)", Capacity: 100, Points: []TimelinePoint{{T: 0, Max: 10}, {T: 2500 * s / 1000, Underrun: true}, {T: 4 * s}}},
	}
	var b strings.Builder
	if err := WriteSVG(&b, tls); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// From the earliest point of all (0 s): a's underrun at 2 s, the
	// sink's at 2.5 s, each 1 s and 1.5 s long up to the next point.
	for _, want := range []string{
		"a: underrun at 2.000 s, up to 1000.0 ms",
		"(host sink): underrun at 2.500 s, up to 1500.0 ms",
		">2.000</text>", ">2.500</text>", ">4.000 s</text>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}
