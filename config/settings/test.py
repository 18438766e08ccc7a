"""Settings for the test suite: PostgreSQL and Redis by default, as in production."""

from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import DATA_DIR, DATABASES, DJANGO_STORAGE, REDIS_TRANSPORT_OPTIONS, STORAGES, env

DATABASES["default"] = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/dupfinder")
DATABASES["default"]["CONN_MAX_AGE"] = 0
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_TRANSPORT_OPTIONS
# Unit tests run tasks in-process; integration tests switch this off and start a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Shared with the worker processes the integration tests start.
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(DATA_DIR / "test-media")))
QUARANTINE_ROOT = Path(env.str("DJANGO_QUARANTINE_ROOT", default=str(DATA_DIR / "test-quarantine")))
if DJANGO_STORAGE == "filesystem":
    STORAGES["quarantine"]["OPTIONS"] = {"location": QUARANTINE_ROOT}
