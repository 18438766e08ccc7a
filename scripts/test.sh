#!/usr/bin/env bash
# The whole suite against PostgreSQL and Redis, plus lint and Django's own checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
bash scripts/ensure_services.sh
bash scripts/ensure_browser.sh
bash scripts/ensure_gettext.sh
bash scripts/ensure_fonts.sh
export DJANGO_SETTINGS_MODULE=config.settings.test
$PY manage.py compilemessages --ignore=.venv --ignore=var >/dev/null
$PY -m ruff check .
$PY manage.py check
$PY manage.py makemigrations --check --dry-run
$PY -m pytest "$@"
