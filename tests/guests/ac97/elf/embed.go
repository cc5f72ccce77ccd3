// Package elf embeds the AC97 guest programs built from the C sources in
// tests/guests/ac97 (make -C tests/guests/ac97; tests/ac97 checks that the
// committed ELFs are reproducible).
package elf

import _ "embed"

// Driver is ac97.elf: the test driver (ECAM scan, BARs, VRA, 32-entry BDL
// with IOC refills, PCM in / MIC in capture), options on the command line.
//
//go:embed ac97.elf
var Driver []byte

// Demo is demo.elf: about 15 s of music (the opening of the Ode to Joy)
// played through the AC97 alone at 48 kHz, then power-off. gemu's main job
// is the three-device demo in tests/guests/demo.
//
//go:embed demo.elf
var Demo []byte
