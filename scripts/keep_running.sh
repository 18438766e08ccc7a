#!/usr/bin/env bash
# keep_running.sh COMMAND [ARG...]: runs COMMAND and starts it again whenever it exits, until this script gets
# SIGTERM (passed on to COMMAND, whose exit it waits for). `make run` keeps its Celery worker, and the beat
# inside it that runs the requeue sweep, alive this way. KEEP_RUNNING_DELAY: seconds between runs (default 2).
set -uo pipefail
DELAY=${KEEP_RUNNING_DELAY:-2}
child=""
pause=""

stop() {
  [ -n "$pause" ] && kill "$pause" 2>/dev/null
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  exit 0
}
trap stop TERM INT

while true; do
  "$@" &
  child=$!
  status=0
  wait "$child" || status=$?
  child=""
  echo "$(date '+%F %T') keep_running: $1 exited with status $status; starting it again in ${DELAY}s" >&2
  sleep "$DELAY" &
  pause=$!
  wait "$pause" || true
  pause=""
done
