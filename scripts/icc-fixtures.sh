#!/usr/bin/env bash
# Regenerates functions/tests/fixtures/icc/: a colourful sRGB pattern stored in Display P3 (PNG
# iCCP and JPEG APP2),
# Adobe RGB, ProPhoto (ROMM, 16-bit) and CMYK with the profile embedded, and for each the
# reference sRGB conversion made by Little CMS (through ImageMagick), which tests/colour.rs
# compares our decoder's conversion against (ΔE2000). Not run by the test command: the fixtures
# are committed. Needs Debian's imagemagick, icc-profiles-free and ghostscript's profiles.
# JPEGs are 4:4:4 at quality 100 so that what is compared is the colour conversion, not two
# decoders' chroma upsampling.
# DisplayP3.icc is the Display P3 profile as moxcms writes it (Debian ships none).
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/functions/tests/fixtures/icc"
icc=/usr/share/color/icc
srgb="$icc/sRGB.icc"
cd "$out"
convert -seed 7 -size 96x64 plasma:fractal -depth 8 +profile '*' -strip /tmp/icc-source.png
make() { # name profile output-options extension
  convert /tmp/icc-source.png -profile "$srgb" -intent Relative -profile "$2" $3 "$1.$4"
  convert "$1.$4" -intent Relative -profile "$srgb" -depth 8 -strip "$1.ref.png"
}
make p3 DisplayP3.icc "-depth 8" png
make p3-jpeg DisplayP3.icc "-quality 100 -sampling-factor 1x1" jpg
make adobe "$icc/compatibleWithAdobeRGB1998.icc" "-depth 8" png
make prophoto16 "$icc/ghostscript/rommrgb.icc" "-depth 16" png
make cmyk "$icc/ghostscript/default_cmyk.icc" "-quality 100 -sampling-factor 1x1" jpg
ls -l "$out"
