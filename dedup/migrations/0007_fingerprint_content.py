"""Content renditions for pages in wide mats, backfilled from each stored rendition and preview thumbnail."""

import numpy as np
from django.core.files.storage import default_storage
from django.db import migrations, models
from PIL import Image

from dedup.imaging.renditions import content_rendition


def content_backfill(apps, schema_editor):
    Fingerprint = apps.get_model("dedup", "Fingerprint")
    stored = Fingerprint.objects.exclude(thumb_preview="").only(
        "rendition", "rendition_width", "rendition_height", "thumb_preview"
    )
    for fingerprint in stored.iterator(chunk_size=500):
        shape = (fingerprint.rendition_height, fingerprint.rendition_width)
        grey = Image.fromarray(np.frombuffer(bytes(fingerprint.rendition), dtype=np.uint8).reshape(shape))
        try:
            # Only a matted picture reads its preview; content_rendition decides that on the rendition first.
            with default_storage.open(fingerprint.thumb_preview, "rb") as handle:
                matted = content_rendition(_Lazy(handle), grey)
        except (OSError, ValueError):
            continue  # a missing preview leaves the pair judged on the whole frame, as before
        if matted is not None:
            fingerprint.content, (fingerprint.content_width, fingerprint.content_height) = matted.tobytes(), matted.size
            fingerprint.save(update_fields=["content", "content_width", "content_height"])


class _Lazy:
    """Stands in for the display image; decoded only if content_rendition asks for its pixels."""

    def __init__(self, handle):
        self._handle, self._image = handle, None

    def __getattr__(self, name):
        if self._image is None:
            self._image = Image.open(self._handle).convert("RGB")
        return getattr(self._image, name)


class Migration(migrations.Migration):
    dependencies = [("dedup", "0006_hashentry_upright")]

    operations = [
        migrations.AddField(
            model_name="fingerprint",
            name="content",
            field=models.BinaryField(blank=True, default=b"", verbose_name="content rendition"),
        ),
        migrations.AddField(
            model_name="fingerprint", name="content_height", field=models.PositiveSmallIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="fingerprint", name="content_width", field=models.PositiveSmallIntegerField(default=0)
        ),
        migrations.RunPython(content_backfill, migrations.RunPython.noop),
    ]
