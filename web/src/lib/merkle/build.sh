#!/bin/sh
# Rebuilds keccak.wasm from keccak.c (Debian: apt-get install clang-14 lld-14). The .wasm is committed so that
# building the app needs no C toolchain.
set -eu
cd "$(dirname "$0")"
clang-14 --target=wasm32 -O3 -nostdlib -fno-builtin-memcpy -mbulk-memory -msimd128 \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--export=__heap_base -Wl,--initial-memory=1114112 -Wl,--growable-table \
  -o keccak.wasm keccak.c 2>&1
ls -l keccak.wasm
