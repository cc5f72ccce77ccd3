#!/bin/sh
# tests/ci.sh: the whole test suite, as CI runs it on a clean Debian 12 clone:
# install dependencies (idempotent), then gofmt, go vet, go mod tidy -diff,
# staticcheck, go test, and the race detector over the packages with
# goroutines or shared state.
set -eu
cd "$(dirname "$0")/.."

run() {
	echo "+ $*"
	"$@"
}

run tests/setup.sh
export PATH="/usr/local/go/bin:$PATH"

echo "+ gofmt -l ."
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "ci.sh: files need gofmt:" >&2
	echo "$unformatted" >&2
	exit 1
fi

run go vet ./...
# go.mod and go.sum must already be what go mod tidy makes them.
run go mod tidy -diff
# staticcheck, pinned, through the Go module proxy (nothing to install).
run go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
run go test -count=1 -timeout 40m ./...

# The interpreter once more (above, amd64 hosts run the translator): it is
# the reference and other hosts' engine. Only where it matters most.
run env GEMU_JIT=0 go test -count=1 -timeout 20m ./cpu ./tests/demo ./machine
run env GEMU_JIT=0 go test -count=1 -timeout 20m -run '^TestGemu' ./tests/isa

# The race detector is slow (5-10x): run it only where goroutines meet
# (host-facing audio, console and socket goroutines (cmd/gemu), the clock, bus and hart
# stop requests they use), in -short mode. ./cpu without its softfloat
# subpackage, which is pure computation and slow under -race.
race_pkgs=""
for p in ./bus/... ./clock/... ./cpu ./devices/... ./machine/... ./cmd/gemu; do
	if [ -n "$(go list "$p" 2>/dev/null)" ]; then
		race_pkgs="$race_pkgs $p"
	fi
done
if [ -n "$race_pkgs" ]; then
	# shellcheck disable=SC2086
	run go test -count=1 -race -short -timeout 15m $race_pkgs
fi

# --- real-time playback, strict (tests/realtime, issue 15) ---
# The harness's CI form again, alone, once nothing else runs: it waits (up
# to GEMU_REALTIME_SETTLE, 3m) until other processes use at most a quarter
# of a core, then the demo must play with no dropout, cut or start skew at
# the default buffer. Strict: a machine that never settles fails the step
# instead of skipping it (in the go test ./... above the test may skip).
run env GEMU_REALTIME_STRICT=1 go test -count=1 -timeout 20m -run '^TestDemoRealtime$' ./tests/realtime
# --- end real-time playback ---

echo "ci.sh: all tests passed"
