"""App configuration for duplicate detection."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DedupConfig(AppConfig):
    name = "dedup"
    verbose_name = _("Duplicate detection")

    def ready(self) -> None:
        import warnings

        from django.conf import settings
        from PIL import Image

        # Pillow refuses images over twice this before our own, clearer limit check can run.
        Image.MAX_IMAGE_PIXELS = settings.DUPFINDER_MAX_PIXELS
        # Between the limit and twice it Pillow only warns; anywhere our own check does not run first
        # (it does in dedup.imaging.fingerprint), an image over the limit must stop, not decode.
        warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

        from collections_app.signals import preview_wanted, processing_requested
        from dedup import handlers

        processing_requested.connect(handlers.processing_requested, dispatch_uid="dedup.processing_requested")
        preview_wanted.connect(handlers.preview_wanted, dispatch_uid="dedup.preview_wanted")

        from django.db.models.signals import pre_save

        from dedup.models import Cluster
        from dedup.review import handlers as review_handlers

        pre_save.connect(
            review_handlers.cluster_confidence_refresh, sender=Cluster, dispatch_uid="dedup.review.confidence"
        )
