"""WSGI entry point (gunicorn config.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

# What starting loads (settings, apps, and through the URLconf every view) lives as long as the process: once
# frozen, the collector's full passes skip its ~200,000 objects, which otherwise cost ~100 ms in the middle of
# some request, over a review page's whole budget. https://docs.python.org/3/library/gc.html#gc.freeze
get_resolver().url_patterns  # noqa: B018  (imports every view now)
gc.collect()
gc.freeze()
