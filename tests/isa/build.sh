#!/bin/sh
# build.sh: assemble one ISA test, the same way isa_test.go does.
#   tests/isa/build.sh rv64i.S out.elf
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec riscv64-unknown-elf-gcc -march=rv64imafdc_zicsr_zifencei -mabi=lp64d \
	-mcmodel=medany -nostdlib -nostartfiles -static -I"$here" \
	-T "$here/link.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
	-o "$2" "$1"
