"""App configuration for the catalogue."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsAppConfig(AppConfig):
    name = "collections_app"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        from collections_app import checks  # noqa: F401 - registers the system checks
