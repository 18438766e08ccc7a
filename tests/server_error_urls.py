"""The site's routes plus one that fails, so a browser test can read the 500 page the way a user meets it."""

from django.urls import path

from config.urls import *  # noqa: F403 - the site's routes and handlers, unchanged
from config.urls import urlpatterns as site_urlpatterns


def fail(request):
    raise RuntimeError("a deliberate failure for the server error page")


urlpatterns = [path("test-server-error/", fail), *site_urlpatterns]
