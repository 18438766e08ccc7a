#!/usr/bin/env bash
# Browser tests use Debian's Chromium and ChromeDriver; install them when missing (never a downloaded browser).
set -uo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
    || echo "Could not install chromium; browser tests will be skipped." >&2
fi
exit 0
