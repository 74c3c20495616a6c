#!/usr/bin/env bash
# Builds Shelter and runs the whole test suite:
#   1. the release build (gcc): unit and end-to-end tests;
#   2. the sanitizer build (clang, ASan+UBSan): unit tests again, plus a short
#      libFuzzer run of every fuzz target.
# Usage: scripts/test.sh [--quick]   (--quick: step 1 only)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

[ "${1:-}" = "--quick" ] && exit 0

CC=clang CXX=clang++ cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DSHELTER_SANITIZE=ON -DSHELTER_FUZZ=ON >/dev/null
cmake --build build-sanitize -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-sanitize --output-on-failure -j "$jobs" -LE e2e
