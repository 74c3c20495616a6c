#!/usr/bin/env bash
# Verification throughput on one core: shelter's SNP and TDX verifiers (chains
# verified every time, and cached) next to the bare signature check and to
# `openssl dgst -verify` of the same signature, all in this one run.
# Usage: bench/verify/run.sh [BUILD_DIR] [VECTORS_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
vectors=${2:-../shared/vectors}
seconds=${3:-2}
cmake --build "$build" --target bench_verify >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

taskset -c 0 "$build/bench/verify/bench_verify" "$vectors" "$work" "$seconds" | tee "$work/results"

# openssl dgst -verify, one process per verification, as a user would run it.
runs=200
for tee in snp tdx; do
  digest=sha384
  [ "$tee" = tdx ] && digest=sha256
  start=$(date +%s%N)
  for ((i = 0; i < runs; i++)); do
    taskset -c 0 openssl dgst -"$digest" -verify "$work/$tee.pub" -signature "$work/$tee.sig" "$work/$tee.msg" >/dev/null
  done
  end=$(date +%s%N)
  rate=$(awk -v n=$runs -v ns=$((end - start)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
  cached=$(awk -v t="$tee" '$1 == t && /chain cached/ { print $(NF-1) }' "$work/results")
  printf '%-28s %10s /s   (shelter %s verify, chain cached: %.1fx the openssl dgst rate)\n' \
    "$tee openssl dgst -verify" "$rate" "$tee" "$(awk -v a="$cached" -v b="$rate" 'BEGIN { print a / b }')"
done
