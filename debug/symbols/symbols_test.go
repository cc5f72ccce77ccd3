package symbols

import "testing"

func TestHello(t *testing.T) {
	var tab Table
	if err := tab.Load("../../guests/hello/hello.elf"); err != nil {
		t.Fatal(err)
	}
	if tab.Len() == 0 {
		t.Fatal("no symbols")
	}
	var main Sym
	for _, s := range tab.syms {
		if s.Name == "main" {
			main = s
		}
	}
	if main.Addr == 0 {
		t.Fatal("no main")
	}
	if got := tab.Name(main.Addr); got != "main" {
		t.Errorf("Name(main) = %q", got)
	}
	if got := tab.Name(main.Addr + 4); got != "main+0x4" {
		t.Errorf("Name(main+4) = %q", got)
	}
	if got := tab.Name(0x10); got != "" {
		t.Errorf("Name(0x10) = %q", got)
	}
}
