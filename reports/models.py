"""The reports app stores nothing; this table-less model only carries its permissions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportAccess(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_reports", _("Can see the dashboard and download reports")),
            ("view_quarantined_file", _("Can open a file that was moved to quarantine")),
        ]
        verbose_name = _("report access")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
