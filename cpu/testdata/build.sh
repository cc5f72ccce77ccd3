#!/bin/sh
# Builds bench.bin (a flat RV64GC image) from start.S and bench.c into the
# directory given as $1 (default: this directory). Run by `go generate`.
set -e
cd "$(dirname "$0")"
out=${1:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
riscv64-unknown-elf-gcc -O2 -march=rv64gc -mabi=lp64d -mcmodel=medany \
	-ffreestanding -nostdlib -nostartfiles -fno-pic -static -T bench.ld \
	-Wl,--build-id=none -o "$tmp/bench.elf" start.S bench.c
riscv64-unknown-elf-objcopy -O binary "$tmp/bench.elf" "$out/bench.bin"
