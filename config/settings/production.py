"""Production settings: PostgreSQL, Redis and secrets from the environment; HTTPS only."""

from config.settings.base import *  # noqa: F403
from config.settings.base import REDIS_TRANSPORT_OPTIONS, STORAGE_OPTIONS, env
from config.storage import storages_setting

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_TRANSPORT_OPTIONS
# Shared by every web process, so sign-in throttling counts each failure once for all of them; the broker's
# Redis serves unless another is named (Django prefixes its keys, so they never meet Celery's).
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default=CELERY_BROKER_URL)}

STORAGES = storages_setting(**STORAGE_OPTIONS, staticfiles="whitenoise.storage.CompressedManifestStaticFilesStorage")

# /metrics is closed until an address (e.g. the Prometheus server's) or a token is named.
DUPFINDER_METRICS_ALLOWED_IPS = env.list("DUPFINDER_METRICS_ALLOWED_IPS", default=[])

# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# SECURE_PROXY_SSL_HEADER follows DUPFINDER_PROXY_CLIENT_IP_HEADER (base.py): only a declared proxy is trusted.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes and Prometheus talk to gunicorn directly over plain HTTP; a redirect to HTTPS would fail them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
