package main

import (
	"testing"
)

func TestFindTargets(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := findTargets(root)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tg := range ts {
		have[tg.String()] = true
	}
	for _, want := range []string{"machine.FuzzLoad", "devices/ivshmem.FuzzMsgReader", "cpu.FuzzStep"} {
		if !have[want] {
			t.Errorf("%s not found among %d targets", want, len(ts))
		}
	}
	for name := range faces {
		if !have[name] {
			t.Errorf("faces lists %s, which does not exist", name)
		}
	}
}

func TestFuzzLine(t *testing.T) {
	m := fuzzLine.FindStringSubmatch("fuzz: elapsed: 9s, execs: 6504 (165/sec), new interesting: 12 (total: 15)")
	if m == nil || m[1] != "9s" || m[2] != "6504" || m[3] != "12" {
		t.Errorf("parsed %q", m)
	}
}
