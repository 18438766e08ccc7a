"""App configuration for the REST API: its token authentication, schema extension and password-change hook."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from api import schema, signals  # noqa: F401 - registers the schema extension and the signal handler
