#!/usr/bin/env bash
# compilemessages needs GNU gettext's msgfmt; install Debian's gettext when it is missing.
set -uo pipefail
if command -v msgfmt >/dev/null; then exit 0; fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext) >/dev/null 2>&1
fi
command -v msgfmt >/dev/null || { echo "msgfmt not found: install GNU gettext (apt-get install gettext)." >&2; exit 1; }
