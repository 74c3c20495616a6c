#!/usr/bin/env bash
# Short libFuzzer run for the test suite: replays the seed corpus, then
# fuzzes for FUZZ_SECONDS (default 20) into a scratch corpus copy.
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-20}" -print_final_stats=1 "$work"
