#!/bin/sh
# Renders the application icon at the sizes desktops ask for (needs ImageMagick).
set -e
cd "$(dirname "$0")"
for s in 16 32 48 64 128 256 512; do
  convert -background none -density 600 ../genderlens.svg -resize "${s}x${s}" -depth 8 "PNG32:genderlens-$s.png"
done
