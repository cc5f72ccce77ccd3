//go:build cgo && linux

package otosink

/*
#cgo pkg-config: alsa
#include <alsa/asoundlib.h>

// libasound reports every failed device lookup on stderr (8-16 lines when
// there is no sound card). gemu prints its own one-line fallback message
// with oto's error instead, so the library's lines are dropped.
static void gemu_alsa_drop(const char *file, int line, const char *function, int err, const char *fmt, ...) {}
static void gemu_alsa_quiet(void) { snd_lib_error_set_handler(gemu_alsa_drop); }
*/
import "C"

func quietALSA() { C.gemu_alsa_quiet() }
