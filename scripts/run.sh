#!/usr/bin/env bash
# Demo: embedded SQLite + filesystem broker, a real worker process, demo logins and images.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
PORT=${PORT:-8000}

bash scripts/ensure_gettext.sh
bash scripts/ensure_fonts.sh
$PY manage.py compilemessages --ignore=.venv --ignore=var >/dev/null
$PY manage.py migrate --noinput
$PY manage.py demo_setup
# --beat runs the periodic sweep that re-enqueues versions left pending (broker outage, killed worker);
# keep_running.sh starts the worker, and so the sweep, again whenever it exits.
: >var/worker.log
bash scripts/keep_running.sh .venv/bin/celery -A config worker --beat --loglevel=WARNING --concurrency=2 \
  >>var/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true; wait $WORKER 2>/dev/null || true' EXIT
echo "Waiting for the worker to answer..."
for _ in $(seq 1 30); do
  $PY -c "from config.celery_app import app; import sys; sys.exit(0 if app.control.ping(timeout=1) else 1)" 2>/dev/null && break
done
# folder:source name; sources are shown by their names, so they get names, not folder slugs.
for dept in "photo-unit:Photo Unit" "events-portal:Events Portal"; do
  $PY manage.py ingest "var/demo/${dept%%:*}" --source "${dept#*:}" --wait --timeout 300 || true
done
echo
echo "Open http://127.0.0.1:$PORT/  (logins above; worker log in var/worker.log)"
$PY manage.py runserver "127.0.0.1:$PORT"
