"""The dashboard's kept tallies, and a table-less model that carries the reports permissions."""

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


# --- dashboard tallies (kept up to date by the PostgreSQL triggers of migration 0004; see reports/tallies.py) ---


class Tally(models.Model):
    """One dashboard figure as last folded: a count and a byte total under a figure name and a label."""

    class Figure(models.TextChoices):
        """The figures kept; the labels say which part (a source id, a status, status:source id:kind)."""

        VERSIONS = "versions", _("Versions by source")
        STATUS = "status", _("Versions by processing status")
        ITEMS = "items", _("Items")
        MERGED_AWAY = "merged_away", _("Items merged into another")
        CLUSTERS = "clusters", _("Clusters by status")
        DUPLICATES = "duplicates", _("Duplicate versions by cluster status, source and kind")
        RECLAIMABLE = "reclaimable", _("Versions whose storage can be reclaimed")
        QUARANTINED = "quarantined", _("Versions in quarantine")
        PURGED = "purged", _("Versions deleted for good")
        HELD = "held", _("Versions under legal hold")

    figure = models.CharField(max_length=30, choices=Figure.choices)
    label = models.CharField(max_length=100, blank=True)
    n = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["figure", "label"], name="tally_unique_figure_label")]

    def __str__(self) -> str:
        return f"{self.figure}[{self.label}] = {self.n} ({self.bytes} bytes)"


class TallyChange(models.Model):
    """A change to a figure, written by a trigger in the writer's own transaction and folded into Tally by the
    next reader. Appended rather than added to the Tally row, so concurrent writers never wait on one counter."""

    figure = models.CharField(max_length=30, choices=Tally.Figure.choices)
    label = models.CharField(max_length=100, blank=True)
    n = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.figure}[{self.label}] {self.n:+} ({self.bytes:+} bytes)"


class ClusterShare(models.Model):
    """What one cluster last added to the duplicate and reclaimable figures, so that its next refresh can take
    exactly that back. A plain id, not a key: the share outlives its deleted cluster until it is refreshed."""

    cluster_id = models.BigIntegerField(db_index=True)
    figure = models.CharField(max_length=30, choices=Tally.Figure.choices)
    label = models.CharField(max_length=100, blank=True)
    n = models.BigIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"cluster {self.cluster_id}: {self.figure}[{self.label}] = {self.n}"


class StaleCluster(models.Model):
    """A cluster whose share may have changed, marked by a trigger; the next reader recomputes its share."""

    cluster_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"cluster {self.cluster_id}"
