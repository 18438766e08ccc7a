#!/usr/bin/env bash
# Printable statements embed a Traditional Chinese font: Debian's AR PL UMing (TrueType, so the PDF library can
# embed it); install it when missing.
set -uo pipefail
FONT=/usr/share/fonts/truetype/arphic/uming.ttc
if [ -f "$FONT" ]; then exit 0; fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-arphic-uming) >/dev/null 2>&1
fi
[ -f "$FONT" ] || { echo "$FONT not found: install Debian's fonts-arphic-uming for PDF statements." >&2; exit 1; }
