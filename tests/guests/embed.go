// Package guests holds the freestanding guest programs that gemu embeds for
// its main job. The ELFs are committed, built from the sources beside them
// by the Makefile in this directory; guests_test.go rebuilds them and checks
// the committed bytes are reproducible.
package guests

import _ "embed"

// Hello is tests/guests/hello/hello.elf: prints one line on the UART and
// powers the board off with status 0.
//
//go:embed hello/hello.elf
var Hello []byte

// Default is the guest `gemu` runs when no -kernel or -bios is given.
// For now it is Hello; the sound demo replaces it later.
var Default = Hello
