package main

// The oto sink lives in its own package so that devices/audio stays pure Go
// (device tests need neither cgo nor ALSA headers). Importing it here
// registers the "oto" audiodev driver; without cgo it registers a stub that
// falls back to "none" with a one-line message.
import _ "gemu/devices/audio/otosink"
