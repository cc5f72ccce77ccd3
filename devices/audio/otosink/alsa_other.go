//go:build cgo && !linux

package otosink

func quietALSA() {}
