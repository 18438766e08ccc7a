"""Settings shared by every environment; values come from the environment (django-environ)."""

import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.storage import storages_setting

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# Where the embedded defaults live: the SQLite file and the filesystem broker.
DATA_DIR = Path(env.str("DJANGO_DATA_DIR", default=str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-demo-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "health_check",
    "django_prometheus",
    "collections_app",
    "dedup",
    "records",
    "reports",
    "api",
]

MIDDLEWARE = [
    # Request counts and latencies for /metrics; the pair must stay first and last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A file store that cannot be written to: 503 with the reason on pages (the API: EXCEPTION_HANDLER below).
    "collections_app.middleware.StorageUnavailableMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-notes
# WAL lets the web server read while the worker writes, and with synchronous=NORMAL a commit is a write to the
# log, not an fsync (the log is synced at each checkpoint: a power cut may lose the last commits, never corrupt
# the file); IMMEDIATE avoids "database is locked" when a read transaction later tries to write. A 64 MiB page
# cache per connection (SQLite's default is 2 MiB) keeps the hash index and the clusters in memory, and
# temporary b-trees (sorts, DISTINCT) stay there too. https://www.sqlite.org/pragma.html
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'dupfinder.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
# Connections kept across requests and tasks: each new one costs a connect (for SQLite, the pragmas above and
# Django's registered functions) at the start of every task otherwise.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The hash index's covering columns (HashEntry.Meta.indexes, INCLUDE) make its lookups index-only on PostgreSQL;
# SQLite, the embedded default, builds the same indexes without them, which is all the warning says.
# https://docs.djangoproject.com/en/5.2/ref/checks/#models
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Every way in checks the throttle below (collections_app/login_throttle.py).
AUTHENTICATION_BACKENDS = ["collections_app.login_throttle.ThrottledModelBackend"]
# After this many failed sign-ins for one username from one address, signing in is refused until the window
# (seconds, counted from the first failure) has passed, even with the right password.
DUPFINDER_LOGIN_MAX_FAILURES = env.int("DUPFINDER_LOGIN_MAX_FAILURES", default=5)
DUPFINDER_LOGIN_LOCKOUT_SECONDS = env.int("DUPFINDER_LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# After this many failures from one address, whatever the usernames, any username from it is refused for the same
# window: one address cannot try a few passwords against many accounts (password spraying).
DUPFINDER_LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("DUPFINDER_LOGIN_MAX_FAILURES_PER_ADDRESS", default=30)


def _request_meta_key(header: str) -> str:
    """X-Real-IP (or HTTP_X_REAL_IP) as Django's request.META key, HTTP_X_REAL_IP; empty stays empty."""
    header = header.strip()
    if header and not re.fullmatch(r"[A-Za-z0-9_-]+", header):
        raise ImproperlyConfigured(
            f"DUPFINDER_PROXY_CLIENT_IP_HEADER must be a header name such as X-Real-IP, not {header!r}."
        )
    key = header.upper().replace("-", "_")
    return key if not key or key.startswith("HTTP_") else f"HTTP_{key}"


# Whether a reverse proxy is in front is one choice, DUPFINDER_PROXY_CLIENT_IP_HEADER: empty (the default) means
# none, so REMOTE_ADDR is the client and X-Forwarded-Proto is ignored; set, it names the header the proxy puts
# the client's address in (e.g. X-Real-IP for nginx's `proxy_set_header X-Real-IP $remote_addr`), and the proxy is
# trusted to say in X-Forwarded-Proto whether the request came over HTTPS.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
if "DUPFINDER_CLIENT_IP_HEADER" in env.ENVIRON:
    raise ImproperlyConfigured(
        "DUPFINDER_CLIENT_IP_HEADER is replaced by DUPFINDER_PROXY_CLIENT_IP_HEADER, which also says that a proxy "
        "is in front (for example DUPFINDER_PROXY_CLIENT_IP_HEADER=X-Real-IP)."
    )
DUPFINDER_CLIENT_IP_HEADER = _request_meta_key(env.str("DUPFINDER_PROXY_CLIENT_IP_HEADER", default=""))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if DUPFINDER_CLIENT_IP_HEADER else None
# The failure counts live in the cache: in production a shared one (Redis), so every web process sees them.
# https://docs.djangoproject.com/en/5.2/topics/cache/
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="locmemcache://")}
# A session lasts a working day at most, and ends when the browser closes.
# https://docs.djangoproject.com/en/5.2/ref/settings/#session-cookie-age
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Content Security Policy (config/csp.py): scripts and styles only from this site's files, no inline code, no
# plugins, never framed. Same shape as Django 6.0's SECURE_CSP, whose middleware can replace ours on upgrade.
# https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/CSP
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Hong Kong conventions over Django's defaults (day before month in English, 1,234 grouping in Chinese).
# https://docs.djangoproject.com/en/5.2/topics/i18n/formatting/#creating-custom-format-files
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Hong_Kong"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Files go through the storage API so object storage can replace the filesystem later.
# MEDIA_URL is deliberately not routed publicly: an authorised view streams files.
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "/media-not-public/"
# Streaming a file can be handed to the front-end server once the view has checked the permission:
# "X-Accel-Redirect" (nginx: the file's storage name is appended to DUPFINDER_SENDFILE_PREFIX, an `internal`
# location aliased to MEDIA_ROOT) or "X-Sendfile" (Apache mod_xsendfile: the absolute path). Empty: Django streams.
DUPFINDER_SENDFILE_HEADER = env.str("DUPFINDER_SENDFILE_HEADER", default="")
DUPFINDER_SENDFILE_PREFIX = env.str("DUPFINDER_SENDFILE_PREFIX", default="/protected-media/")
# Superseded files moved aside by `reclaim_storage` until `purge_quarantine` (or `restore_version`).
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
QUARANTINE_ROOT = Path(env.str("DJANGO_QUARANTINE_ROOT", default=str(DATA_DIR / "quarantine")))
# DJANGO_STORAGE: "filesystem" (MEDIA_ROOT and QUARANTINE_ROOT) or "s3" (S3-compatible object storage through
# django-storages; credentials from boto3's chain, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an instance role).
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
DJANGO_STORAGE = env.str("DJANGO_STORAGE", default="filesystem")
STORAGE_OPTIONS = {
    "backend": DJANGO_STORAGE,
    "quarantine_root": QUARANTINE_ROOT,
    "bucket": env.str("DJANGO_S3_BUCKET", default=""),
    "quarantine_bucket": env.str("DJANGO_S3_QUARANTINE_BUCKET", default=""),
    "prefix": env.str("DJANGO_S3_PREFIX", default="media"),
    "quarantine_prefix": env.str("DJANGO_S3_QUARANTINE_PREFIX", default="quarantine"),
    "endpoint_url": env.str("DJANGO_S3_ENDPOINT_URL", default=""),
    "region": env.str("DJANGO_S3_REGION", default=""),
    "addressing": env.str("DJANGO_S3_ADDRESSING_STYLE", default=""),
}
STORAGES = storages_setting(**STORAGE_OPTIONS, staticfiles="django.contrib.staticfiles.storage.StaticFilesStorage")
# /metrics (reports/metrics.py) answers only these client addresses or networks, or a request carrying
# `Authorization: Bearer <DUPFINDER_METRICS_TOKEN>`; production lists no address by default (closed).
DUPFINDER_METRICS_ALLOWED_IPS = env.list("DUPFINDER_METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
DUPFINDER_METRICS_TOKEN = env.str("DUPFINDER_METRICS_TOKEN", default="")
# Days a quarantined file must wait before `purge_quarantine` may delete it for good.
DUPFINDER_QUARANTINE_RETENTION_DAYS = env.int("DUPFINDER_QUARANTINE_RETENTION_DAYS", default=30)

# Upload limits (bytes / pixels); files above them are refused before they are stored (the pixel count is read
# from the header). Only JPEG, PNG, TIFF, WebP, GIF, BMP, HEIC/HEIF, AVIF, JPEG 2000 and PDF are accepted, decided
# from the bytes (dedup/imaging/formats.py).
DUPFINDER_MAX_UPLOAD_BYTES = env.int("DUPFINDER_MAX_UPLOAD_BYTES", default=500 * 1024 * 1024)
DUPFINDER_MAX_PIXELS = env.int("DUPFINDER_MAX_PIXELS", default=200_000_000)
# A PDF with more pages than this is refused; each page becomes a version of its own, held to the pixel limit
# above (README "Formats").
DUPFINDER_MAX_PDF_PAGES = env.int("DUPFINDER_MAX_PDF_PAGES", default=500)
# A BagIt package downloaded from /records/exports/ is built on the web server; larger selections are made with
# `manage.py export_bag`, which writes the bag straight to a folder.
DUPFINDER_BAG_DOWNLOAD_MAX_BYTES = env.int("DUPFINDER_BAG_DOWNLOAD_MAX_BYTES", default=2 * 1024 * 1024 * 1024)
# Matching: candidates are versions whose perceptual hashes (any rotation/mirror, with or without
# borders) differ in at most this many bits (0-8, the index guarantees no candidate within it is missed);
# each candidate is then verified on aligned renditions. Strictness: strict, balanced or lenient.
DUPFINDER_MATCH_RADIUS = env.int("DUPFINDER_MATCH_RADIUS", default=8)
DUPFINDER_STRICTNESS = env.str("DUPFINDER_STRICTNESS", default="balanced")
# A component of verified copies past this many versions is a sign of a false chain: it is held, its new
# members verified against their candidates and the earliest DUPFINDER_COMPONENT_SAMPLE members only.
# Identifiers given to new items: {number} comes from a database sequence (never repeats), {year} is this year.
DUPFINDER_IDENTIFIER_PATTERN = env.str("DUPFINDER_IDENTIFIER_PATTERN", default="DR-{year}-{number:06d}")
DUPFINDER_MAX_COMPONENT = env.int("DUPFINDER_MAX_COMPONENT", default=50)
DUPFINDER_COMPONENT_SAMPLE = env.int("DUPFINDER_COMPONENT_SAMPLE", default=8)
# Review: ordered rules that suggest a cluster's authoritative version; the first rule that separates the
# members decides, later ones break ties. Names: no_overlay, no_border, not_derivative, source_trust,
# lossless_format, pixel_count, jpeg_quality, bit_depth, file_size, earliest_capture, metadata_completeness
# (see dedup/review/rules.py).
DUPFINDER_AUTHORITY_RULES = env.list(
    "DUPFINDER_AUTHORITY_RULES",
    default=[
        "no_overlay",
        "no_border",
        "not_derivative",
        "pixel_count",
        "jpeg_quality",
        "bit_depth",
        "file_size",
        "source_trust",
        "earliest_capture",
        "metadata_completeness",
    ],
)
# Records officers: when true, a choice of authoritative version takes effect only once a second, different
# records officer approves it (four eyes); when false it takes effect at once. Either way it is audited.
DUPFINDER_AUTHORITY_APPROVAL = env.bool("DUPFINDER_AUTHORITY_APPROVAL", default=False)
DATA_UPLOAD_MAX_NUMBER_FILES = 1000
# ZIP uploads are checked before anything is extracted: more entries than this, an entry that expands more
# than DUPFINDER_ZIP_MAX_RATIO times (a zip bomb), or more than DUPFINDER_ZIP_MAX_TOTAL_BYTES in all are refused.
DUPFINDER_ZIP_MAX_ENTRIES = env.int("DUPFINDER_ZIP_MAX_ENTRIES", default=5000)
DUPFINDER_ZIP_MAX_RATIO = env.int("DUPFINDER_ZIP_MAX_RATIO", default=100)
DUPFINDER_ZIP_MAX_TOTAL_BYTES = env.int("DUPFINDER_ZIP_MAX_TOTAL_BYTES", default=20 * 1024 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- REST API (https://www.django-rest-framework.org/api-guide/settings/) ---
# Token authentication for other systems, the session for the browser's own pages (with CSRF).
# Every view checks a role permission (api/permissions.py); anonymous requests get 401.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermission"],
    # DRF's handler, plus 503 in JSON when the file store cannot be written to.
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["api.filters.ApiFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
}
# API tokens (https://jazzband.github.io/django-rest-knox/settings/): stored as SHA-512 digests, never in clear,
# and valid for DUPFINDER_API_TOKEN_TTL_HOURS from issue; each sign-in at /api/v1/token/ issues a new one.
DUPFINDER_API_TOKEN_TTL_HOURS = env.int("DUPFINDER_API_TOKEN_TTL_HOURS", default=24)
if DUPFINDER_API_TOKEN_TTL_HOURS < 1:
    raise ImproperlyConfigured("DUPFINDER_API_TOKEN_TTL_HOURS must be a whole number of hours, 1 or more.")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=DUPFINDER_API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html ; Swagger UI and Redoc come from the
# sidecar package and are served as static files, never from a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Collections duplicate finder API",
    "DESCRIPTION": (
        "Sources, items, versions, clusters, batches and uploads for other portals and systems. "
        "Sign in at /api/v1/token/ for a token that expires; send it as `Authorization: Token <token>`. "
        "Text never contains the NUL character (U+0000): a request with one is refused with 400."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "kind"; name each once.
    "ENUM_NAME_OVERRIDES": {
        "MatchKindEnum": "dedup.models.MatchKind",
        "SourceKindEnum": "collections_app.models.Source.Kind",
    },
}

# --- Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html) ---
# Redis (https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout):
# a message not acknowledged within visibility_timeout (a worker killed mid-task) is redelivered; it must exceed
# the hard time limit. Socket timeouts make a publish to a vanished broker fail instead of hanging an upload.
REDIS_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 5,
    "socket_timeout": 30,
}
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_TRANSPORT_OPTIONS
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Tasks are idempotent, so a message is acknowledged only after the task ran:
# a worker that dies mid-task leaves it to be redelivered, not lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# When the broker goes away, a file being fingerprinted is finished and recorded rather than stopped; its
# acknowledgement is lost with the connection, so the message comes back after the visibility timeout and
# finds the version done. Celery's default today, said explicitly because Celery 6 is to change it.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-cancel-long-running-tasks-on-connection-loss
# The Redis transport itself is kombu's with a guard for closing after the broker vanished (config/celery_app.py).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# One message at a time per process: fingerprinting is CPU-bound and long,
# prefetching would starve other workers of queued files.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Versions still waiting or processing this long after they were last queued (or uploaded, if never queued)
# are queued again by a sweep: Celery beat (`celery -A config beat`, or a worker started with -B) every
# DUPFINDER_REQUEUE_INTERVAL_SECONDS, or `manage.py requeue_stuck` from cron. The sweep moves queued_at, so a
# version still waiting its turn in a long backlog is not queued again on every run. It recovers uploads made
# while the broker was down and versions whose worker was killed; a duplicate message is harmless (tasks are
# idempotent).
# https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html
DUPFINDER_REQUEUE_AFTER_SECONDS = env.int("DUPFINDER_REQUEUE_AFTER_SECONDS", default=600)
DUPFINDER_REQUEUE_INTERVAL_SECONDS = env.float("DUPFINDER_REQUEUE_INTERVAL_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-versions": {
        "task": "dedup.tasks.requeue_stuck_versions",
        "schedule": DUPFINDER_REQUEUE_INTERVAL_SECONDS,
        # A sweep not run within its interval (broker down) is dropped, not piled up behind the next one.
        "options": {"expires": DUPFINDER_REQUEUE_INTERVAL_SECONDS},
    },
}
# Scheduled fixity checks (records.tasks.check_fixity, the same work as `manage.py check_fixity --sample N`): every
# DUPFINDER_FIXITY_INTERVAL_HOURS (0 turns the schedule off) the DUPFINDER_FIXITY_SAMPLE files checked longest ago
# (0: every file) have their SHA-256 recomputed; each check is an audit event, so successive runs cover the collection.
DUPFINDER_FIXITY_INTERVAL_HOURS = env.float("DUPFINDER_FIXITY_INTERVAL_HOURS", default=24)
DUPFINDER_FIXITY_SAMPLE = env.int("DUPFINDER_FIXITY_SAMPLE", default=1000)
if DUPFINDER_FIXITY_INTERVAL_HOURS > 0:
    CELERY_BEAT_SCHEDULE["check-fixity"] = {
        "task": "records.tasks.check_fixity",
        "schedule": DUPFINDER_FIXITY_INTERVAL_HOURS * 3600,
        "options": {"expires": DUPFINDER_FIXITY_INTERVAL_HOURS * 3600},
    }
# The dashboard's tallies (reports/tallies.py) are folded by whoever reads them first; a fold every
# DUPFINDER_TALLY_FOLD_SECONDS (0 turns it off) keeps what gathers between visits small, so a visitor rarely
# waits for one after a busy hour of ingest or a rebuild_clusters.
DUPFINDER_TALLY_FOLD_SECONDS = env.float("DUPFINDER_TALLY_FOLD_SECONDS", default=60)
if DUPFINDER_TALLY_FOLD_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["fold-dashboard-tallies"] = {
        "task": "reports.tasks.fold_dashboard_tallies",
        "schedule": DUPFINDER_TALLY_FOLD_SECONDS,
        "options": {"expires": DUPFINDER_TALLY_FOLD_SECONDS},
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
