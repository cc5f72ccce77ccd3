//go:build !cgo

package otosink

import (
	"fmt"

	"gemu/devices/audio"
)

func init() { audio.RegisterHost("oto", Open) }

// Open always fails without cgo: oto's Linux backend is cgo-only.
func Open(want audio.Spec, _ audio.HostConfig, read func([]byte) int) (audio.HostOutput, audio.Spec, error) {
	return nil, audio.Spec{}, fmt.Errorf("%w: gemu was built without cgo, which oto needs", audio.ErrNoAudio)
}
