// Package guests holds freestanding guest programs that gemu's tests and
// examples embed (the sound demo that is gemu's main job is in
// tests/guests/demo, embedded by its elf package). The ELFs are committed, built from the sources beside them
// by the Makefile in this directory; guests_test.go rebuilds them and checks
// the committed bytes are reproducible.
package guests

import _ "embed"

// Hello is tests/guests/hello/hello.elf: prints one line on the UART and
// powers the board off with status 0.
//
//go:embed hello/hello.elf
var Hello []byte
