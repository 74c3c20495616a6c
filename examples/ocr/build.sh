#!/usr/bin/env bash
# Builds the OCR example image: Debian's tesseract (an LSTM neural network)
# with its English model, bundled with --add-binary (no base image), and a
# sample picture of text baked into the image; encrypted, with the key in the
# local keystore ($SHELTER_HOME), so that `shelter run` attests for it.
# Usage: examples/ocr/build.sh [IMG]   (default: build/examples/ocr.img)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
shelter=${SHELTER:-$top/build/runtime/shelter}
out=${1:-$top/build/examples/ocr.img}
tessdata=/usr/share/tesseract-ocr/5/tessdata

[ -x /usr/bin/tesseract ] && [ -f "$tessdata/eng.traineddata" ] || {
  echo "ocr example: needs Debian's tesseract-ocr and tesseract-ocr-eng (scripts/setup.sh installs them)" >&2
  exit 1
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage$tessdata" "$stage/data"
cp "$tessdata/eng.traineddata" "$stage$tessdata/"
cp "$here/sample.png" "$stage/data/"

mkdir -p "$(dirname "$out")"
"$shelter" build "$stage" -o "$out" --force --encrypt \
  --add-binary /usr/bin/tesseract \
  --entrypoint "/usr/bin/tesseract /data/sample.png -" \
  --env OMP_THREAD_LIMIT=1 --env "TESSDATA_PREFIX=$tessdata"
