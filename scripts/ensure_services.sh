#!/usr/bin/env bash
# Start PostgreSQL and Redis when they are installed here but not running (CI and fresh machines).
set -uo pipefail
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
fi
for _ in $(seq 1 30); do
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    # makemigrations --check connects to the configured database; the suite itself uses test_dupfinder.
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='dupfinder'" | grep -q 1 \
      || createdb -h 127.0.0.1 -U postgres dupfinder
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL or Redis is not reachable on 127.0.0.1; the suite needs both." >&2
exit 1
