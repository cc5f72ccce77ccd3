// Package elf embeds the AC97 test driver built from the C sources in
// tests/guests/ac97 (make -C tests/guests/ac97; tests/ac97 checks that the
// committed ELF is reproducible).
package elf

import _ "embed"

// Driver is ac97.elf: the test driver (ECAM scan, BARs, VRA, 32-entry BDL
// with IOC refills, PCM in / MIC in capture), options on the command line.
//
//go:embed ac97.elf
var Driver []byte
