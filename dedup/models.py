"""What the worker learns about each version: hashes, the rendition used for verification, thumbnails."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.models import Version


class Fingerprint(models.Model):
    """Hashes are stored as signed 64-bit integers; b0..b3 are the pHash's 16-bit blocks for the candidate index."""

    version = models.OneToOneField(
        Version, verbose_name=_("version"), on_delete=models.CASCADE, primary_key=True, related_name="fingerprint"
    )
    phash = models.BigIntegerField(_("pHash"))
    dhash = models.BigIntegerField(_("dHash"))
    phash_trimmed = models.BigIntegerField(_("pHash without borders"), null=True, blank=True)
    phash_dihedral = models.JSONField(_("pHashes of rotations and mirrors"), default=list)
    b0 = models.IntegerField(db_index=True)
    b1 = models.IntegerField(db_index=True)
    b2 = models.IntegerField(db_index=True)
    b3 = models.IntegerField(db_index=True)
    mode = models.CharField(_("colour mode"), max_length=20, blank=True)
    bit_depth = models.PositiveSmallIntegerField(_("bit depth"), default=8)
    page_count = models.PositiveIntegerField(_("pages or frames"), default=1)
    orientation = models.PositiveSmallIntegerField(_("EXIF orientation"), default=1)
    captured_at = models.CharField(_("capture date"), max_length=40, blank=True)
    rendition = models.BinaryField(_("greyscale rendition"))
    rendition_width = models.PositiveSmallIntegerField()
    rendition_height = models.PositiveSmallIntegerField()
    thumb_small = models.CharField(_("small thumbnail"), max_length=300, blank=True)
    thumb_preview = models.CharField(_("preview"), max_length=300, blank=True)
    timings = models.JSONField(_("timings (ms)"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("fingerprint")
        verbose_name_plural = _("fingerprints")

    def __str__(self) -> str:
        return f"{self.version_id}: {self.phash & 0xFFFFFFFFFFFFFFFF:016x}"
