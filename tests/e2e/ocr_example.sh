#!/usr/bin/env bash
# The README's main job: build the encrypted OCR example and run it with
# shelter run, which attests for its key (simulated TEE, embedded broker).
# Passes only when the run exits 0 and the workload printed the sample's text.
set -euo pipefail
shelter=$1 scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch"
export SHELTER_HOME="$scratch/home"
SHELTER="$shelter" "$(dirname "$0")/../../examples/ocr/build.sh" "$scratch/ocr.img" >/dev/null
out=$("$shelter" run "$scratch/ocr.img" 2>"$scratch/stderr") || {
  echo "shelter run failed with status $?:"; cat "$scratch/stderr"; exit 1; }
echo "$out"
grep -qx 'Sealed models stay private.' <<<"$out" || { echo "unexpected OCR output"; exit 1; }
grep -q 'simulated TEE' "$scratch/stderr" || { echo "the run did not go through attested key release"; exit 1; }
rm -rf "$scratch"
