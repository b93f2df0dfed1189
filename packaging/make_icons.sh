#!/bin/sh
# Makes packaging/icons/zspace-<N>.png (the hicolor icons the package installs)
# from a face the shipped default model decodes: sample 1 of
# `zspace sample --seed 3 --radius 0.7`, with rounded corners. Run by hand
# after the default model changes; the PNGs are committed.
#   sh packaging/make_icons.sh [path/to/zspace]     (default: build/zspace)
set -eu
cd "$(dirname "$0")/.."
ZS=${1:-build/zspace}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ZS" sample --model data/default.safetensors --count 16 --radius 0.7 --seed 3 --out "$tmp/grid.png" >/dev/null
/usr/bin/python3 - "$tmp/grid.png" packaging/icons <<'PY'
import sys
from PIL import Image, ImageDraw

grid = Image.open(sys.argv[1]).convert("RGB")
s = grid.size[0] // 4                       # a 4x4 grid of model-size faces
face = grid.crop((s, 0, 2 * s, s))          # sample 1: row 0, column 1
for n in (16, 24, 32, 48, 64, 128):
    im = face.resize((n, n), Image.LANCZOS).convert("RGBA")
    if n >= 24:                             # rounded corners (radius n/8), 4x supersampled
        m = Image.new("L", (4 * n, 4 * n), 0)
        ImageDraw.Draw(m).rounded_rectangle((0, 0, 4 * n - 1, 4 * n - 1), radius=n // 2, fill=255)
        im.putalpha(m.resize((n, n), Image.LANCZOS))
    im.save("%s/zspace-%d.png" % (sys.argv[2], n), optimize=True)
PY
ls -l packaging/icons
