// Package symbols maps guest addresses to function names from the symbol
// tables of ELF files: the -kernel image and any extra ELF named with
// -symbols (a user program, a module). The function trace, -d exec and
// -d in_asm use it to name code.
package symbols

import (
	"debug/elf"
	"fmt"
	"sort"
)

// Sym is one function.
type Sym struct {
	Name       string
	Addr, Size uint64
}

// Table is a set of functions sorted by address. The zero value is empty.
type Table struct {
	syms []Sym
}

// Load adds the functions (STT_FUNC symbols, and untyped ones in
// executable sections, as hand-written assembly has) of the ELF file path.
func (t *Table) Load(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("symbols: %w", err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return fmt.Errorf("symbols: %s: %w", path, err)
	}
	for _, s := range syms {
		typ := elf.ST_TYPE(s.Info)
		if s.Name == "" || s.Value == 0 || int(s.Section) >= len(f.Sections) || s.Section == elf.SHN_UNDEF {
			continue
		}
		sec := f.Sections[s.Section]
		if typ != elf.STT_FUNC && (typ != elf.STT_NOTYPE || sec.Flags&elf.SHF_EXECINSTR == 0) {
			continue
		}
		if s.Name[0] == '.' || s.Name[0] == '$' { // local labels
			continue
		}
		t.syms = append(t.syms, Sym{Name: s.Name, Addr: s.Value, Size: s.Size})
	}
	sort.SliceStable(t.syms, func(i, j int) bool { return t.syms[i].Addr < t.syms[j].Addr })
	return nil
}

// Lookup returns the function containing pc (the nearest one below it when
// sizes are unknown) and pc's offset in it.
func (t *Table) Lookup(pc uint64) (s Sym, off uint64, ok bool) {
	if t == nil {
		return Sym{}, 0, false
	}
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].Addr > pc }) - 1
	if i < 0 {
		return Sym{}, 0, false
	}
	// Prefer a sized symbol at the same address (a FUNC over a label).
	s = t.syms[i]
	if s.Size != 0 && pc >= s.Addr+s.Size {
		return Sym{}, 0, false
	}
	return s, pc - s.Addr, true
}

// Name returns "func" for pc at a function's start, "func+0x12" inside
// one, and "" when pc is in no known function: QEMU's lookup_symbol gives
// just the name.
func (t *Table) Name(pc uint64) string {
	s, off, ok := t.Lookup(pc)
	switch {
	case !ok:
		return ""
	case off == 0:
		return s.Name
	}
	return fmt.Sprintf("%s+0x%x", s.Name, off)
}

// Len returns the number of functions.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.syms)
}
