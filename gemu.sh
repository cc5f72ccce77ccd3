#!/bin/sh
# gemu.sh: build and run gemu from this checkout, on a machine that may have
# nothing but Go. With no arguments it plays the embedded demo (AC97,
# virtio-sound and ivshmem voices) on the speakers; any arguments are
# qemu-system-riscv64 flags passed to gemu as they are.
#
# The speakers need cgo and ALSA's headers (oto's Linux backend). When they
# are missing this script installs them (as root or through sudo, once) or,
# when it cannot, builds gemu without speakers; either way it says which in
# one line. Set GEMU_NO_INSTALL=1 to never install anything.
set -eu
cd "$(dirname "$0")"

if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		PATH="/usr/local/go/bin:$PATH"
	else
		echo "gemu.sh: no Go toolchain found: install Go (https://go.dev/doc/install) and run again" >&2
		exit 1
	fi
fi

speakers() {
	command -v "$(go env CC)" >/dev/null 2>&1 &&
		command -v pkg-config >/dev/null 2>&1 &&
		pkg-config --exists alsa 2>/dev/null
}

if [ "${CGO_ENABLED:-}" != 0 ] && ! speakers; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo="sudo -n"
	if [ "${GEMU_NO_INSTALL:-}" != 1 ] && command -v apt-get >/dev/null 2>&1 &&
		{ [ -z "$sudo" ] || sudo -n true 2>/dev/null; }; then
		echo "gemu.sh: installing the speaker build's packages (gcc, pkg-config, libasound2-dev) with apt-get" >&2
		log=$(mktemp)
		if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			gcc libc6-dev pkg-config libasound2-dev >"$log" 2>&1 ||
			{ $sudo apt-get update -q >>"$log" 2>&1 &&
				$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
					gcc libc6-dev pkg-config libasound2-dev >>"$log" 2>&1; }; }; then
			echo "gemu.sh: apt-get failed (log: $log)" >&2
		else
			rm -f "$log"
		fi
	fi
	if ! speakers; then
		echo "gemu.sh: building without speakers (no C compiler or ALSA headers: apt-get install gcc pkg-config libasound2-dev); sound goes to a WAV file" >&2
		export CGO_ENABLED=0
	fi
fi
exec go run ./cmd/gemu "$@"
