"""The embedded default of `make run` (SQLite, filesystem broker) is tuned; PostgreSQL + Redis are left as they were.

Each case starts a fresh interpreter on config.settings.local with its own data folder, so it holds whatever
database the suite itself runs on.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json
import django
from django.conf import settings
django.setup()
from django.db import connection
out = {"vendor": connection.vendor, "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
       "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS}
if connection.vendor == "sqlite":
    with connection.cursor() as cursor:
        for pragma in ("journal_mode", "synchronous", "busy_timeout", "cache_size", "temp_store"):
            out[pragma] = cursor.execute(f"PRAGMA {pragma}").fetchone()[0]
print(json.dumps(out))
"""


def _settings_seen(tmp_path: Path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    environ |= {"DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DATA_DIR": str(tmp_path), **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_embedded_sqlite_file_is_in_wal_mode_with_a_large_cache_and_kept_connections(tmp_path):
    seen = _settings_seen(tmp_path)
    assert seen["vendor"] == "sqlite"
    assert (tmp_path / "dupfinder.sqlite3").exists()
    assert seen["journal_mode"] == "wal"
    assert seen["synchronous"] == 1  # NORMAL: durable at each checkpoint, no fsync per commit
    assert seen["busy_timeout"] >= 30_000
    assert seen["cache_size"] <= -65_536  # negative: KiB, 64 MiB or more
    assert seen["temp_store"] == 2  # memory
    assert seen["conn_max_age"] > 0


def test_the_filesystem_broker_is_polled_often(tmp_path):
    transport = _settings_seen(tmp_path)["transport"]
    assert transport["polling_interval"] <= 0.02
    assert transport["data_folder_in"] == str(tmp_path / "broker" / "queue")


def test_postgresql_and_redis_keep_their_own_settings(tmp_path):
    seen = _settings_seen(
        tmp_path,
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dupfinder"),
        CELERY_BROKER_URL="redis://127.0.0.1:6379/12",
    )
    assert seen["vendor"] == "postgresql"
    assert seen["conn_max_age"] == 60
    assert "polling_interval" not in seen["transport"]
    assert seen["transport"]["visibility_timeout"] == 3600


def test_a_filesystem_broker_message_appears_in_the_queue_only_once_written_whole(tmp_path, monkeypatch):
    from kombu import Connection

    from config.celery_app import FilesystemChannel

    queue, control = tmp_path / "queue", tmp_path / "control"
    queue.mkdir(), control.mkdir()
    visible_before_rename = []
    replace = os.replace

    def watching_replace(src, dst):
        visible_before_rename.extend(name for name in os.listdir(queue) if name.endswith(".tasks.msg"))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", watching_replace)
    options = {"data_folder_in": str(queue), "data_folder_out": str(queue), "control_folder": str(control)}
    with Connection("filesystem://", transport_options=options) as conn:
        channel = conn.default_channel
        assert isinstance(channel, FilesystemChannel)
        channel._put("tasks", {"body": "whole"})
        assert channel._get("tasks") == {"body": "whole"}
    assert visible_before_rename == []
    assert os.listdir(queue) == []
