"""Settings shared by every environment; values come from the environment (django-environ)."""

from pathlib import Path

import environ

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
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "collections_app",
    "dedup",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
# WAL lets the web server read while the worker writes; IMMEDIATE avoids
# "database is locked" when a read transaction later tries to write.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'dupfinder.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
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
# Superseded files moved aside by `reclaim_storage` until `purge_quarantine` (or `restore_version`).
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
QUARANTINE_ROOT = Path(env.str("DJANGO_QUARANTINE_ROOT", default=str(DATA_DIR / "quarantine")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "quarantine": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": QUARANTINE_ROOT}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Days a quarantined file must wait before `purge_quarantine` may delete it for good.
DUPFINDER_QUARANTINE_RETENTION_DAYS = env.int("DUPFINDER_QUARANTINE_RETENTION_DAYS", default=30)

# Upload limits (bytes / pixels); files above them are refused before they are stored.
DUPFINDER_MAX_UPLOAD_BYTES = env.int("DUPFINDER_MAX_UPLOAD_BYTES", default=500 * 1024 * 1024)
DUPFINDER_MAX_PIXELS = env.int("DUPFINDER_MAX_PIXELS", default=200_000_000)
# Matching: candidates are versions whose perceptual hashes (any rotation/mirror, with or without
# borders) differ in at most this many bits (0-7, the index guarantees no candidate within it is missed);
# each candidate is then verified on aligned renditions. Strictness: strict, balanced or lenient.
DUPFINDER_MATCH_RADIUS = env.int("DUPFINDER_MATCH_RADIUS", default=6)
DUPFINDER_STRICTNESS = env.str("DUPFINDER_STRICTNESS", default="balanced")
# Review: ordered rules that suggest a cluster's authoritative version; the first rule that separates the
# members decides, later ones break ties. Names: source_trust, lossless_format, pixel_count,
# earliest_capture, metadata_completeness (see dedup/review/rules.py).
DUPFINDER_AUTHORITY_RULES = env.list(
    "DUPFINDER_AUTHORITY_RULES",
    default=["source_trust", "lossless_format", "pixel_count", "earliest_capture", "metadata_completeness"],
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
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html ; Swagger UI and Redoc come from the
# sidecar package and are served as static files, never from a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Collections duplicate finder API",
    "DESCRIPTION": "Sources, items, versions, clusters, batches and uploads for other portals and systems.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html) ---
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
    # A message not acknowledged within this time is redelivered; it must exceed the hard time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Tasks are idempotent, so a message is acknowledged only after the task ran:
# a worker that dies mid-task leaves it to be redelivered, not lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: fingerprinting is CPU-bound and long,
# prefetching would starve other workers of queued files.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
