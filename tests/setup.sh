#!/bin/sh
# tests/setup.sh: install, idempotently, everything the gemu test suite needs
# on Debian 12: the packages listed in tests/packages.txt and a Go toolchain
# new enough for go.mod. Safe to run again: it only calls apt-get when a
# package is missing, and only fetches Go when no usable go is found.
# Works as root (CI) or through sudo.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" = 0 ]; then
	SUDO=
elif command -v sudo >/dev/null 2>&1; then
	SUDO=sudo
else
	echo "setup.sh: not root and no sudo; cannot install packages" >&2
	exit 1
fi

# Packages: one per line in packages.txt, comments stripped.
pkgs=$(sed -e 's/#.*//' "$here/packages.txt" | tr -s ' \t' '\n' | grep -v '^$')
missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "setup.sh: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing
else
	echo "setup.sh: all $(echo "$pkgs" | wc -l) packages already installed"
fi

# Go: any go >= 1.21 downloads the toolchain go.mod asks for by itself
# (GOTOOLCHAIN=auto, through the Go proxy). Otherwise fetch the version
# go.mod names (its toolchain line, else its go line) from the Go proxy's
# golang.org/toolchain module into /usr/local/go.
GOVERSION=$(sed -n 's/^toolchain \(go[0-9.]*\).*/\1/p' "$here/../go.mod")
if [ -z "$GOVERSION" ]; then
	GOVERSION=go$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$here/../go.mod")
fi
gobin=
usable=no
for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go; do
	[ -n "$g" ] && [ -x "$g" ] || continue
	minor=$("$g" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
	if [ -n "$minor" ] && [ "$minor" -ge 21 ]; then
		gobin=$g
		usable=yes
		break
	fi
done
if [ "$usable" = no ]; then
	arch=$(dpkg --print-architecture)
	mod="v0.0.1-$GOVERSION.linux-$arch"
	url="${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/$mod.zip"
	echo "setup.sh: fetching $GOVERSION from $url"
	tmp=$(mktemp -d)
	curl -fsSL -o "$tmp/go.zip" "$url"
	unzip -q "$tmp/go.zip" -d "$tmp"
	$SUDO rm -rf /usr/local/go
	$SUDO mv "$tmp/golang.org/toolchain@$mod" /usr/local/go
	$SUDO chmod +x /usr/local/go/bin/* /usr/local/go/pkg/tool/*/* 2>/dev/null || true
	rm -rf "$tmp"
	gobin=/usr/local/go/bin/go
fi
echo "setup.sh: using $gobin ($("$gobin" env GOVERSION))"
