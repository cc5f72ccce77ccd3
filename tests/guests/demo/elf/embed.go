// Package elf embeds gemu's main job, the sound demo guest built from
// ../demo.c (make -C tests/guests; TestReproducible there and in this
// package check that the committed ELF is what the sources build).
package elf

import _ "embed"

// Demo is demo.elf: about 15 s of music (the opening of the Ode to Joy) in
// three voices, the melody on an AC97, the bass on virtio-sound and a
// counter-voice on ivshmem, 48 kHz 16-bit stereo each, then power-off.
// Voices whose device is missing are left out (the console says so).
//
//go:embed demo.elf
var Demo []byte
