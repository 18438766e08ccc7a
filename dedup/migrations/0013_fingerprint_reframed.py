"""Reframed hashes (straightened, each edge left out) for fingerprints stored before them, from the stored
rendition, added to the shared index as upright entries."""

import numpy as np
from django.db import migrations, models

from dedup.imaging.hashes import reframed_phashes
from dedup.imaging.index import blocks, to_signed


def reframed_hashes_backfill(apps, schema_editor):
    Fingerprint = apps.get_model("dedup", "Fingerprint")
    HashEntry = apps.get_model("dedup", "HashEntry")
    pending = Fingerprint.objects.filter(phash_reframed=[]).only("rendition", "rendition_width", "rendition_height")
    for fingerprint in pending.iterator(chunk_size=500):
        shape = (fingerprint.rendition_height, fingerprint.rendition_width)
        values = reframed_phashes(np.frombuffer(bytes(fingerprint.rendition), dtype=np.uint8).reshape(shape))
        fingerprint.phash_reframed = [to_signed(h) for h in values]
        fingerprint.save(update_fields=["phash_reframed"])
        entries = HashEntry.objects.filter(version_id=fingerprint.pk)
        known = set(entries.values_list("value", flat=True))
        entries.filter(value__in=fingerprint.phash_reframed).update(upright=True)
        # The block columns until 0016 (the hash's keys are expression indexes since): written where the model has them.
        with_blocks = any(field.name == "b0" for field in HashEntry._meta.get_fields())
        HashEntry.objects.bulk_create(
            HashEntry(
                version_id=fingerprint.pk,
                value=to_signed(h),
                upright=True,
                **(dict(zip(("b0", "b1", "b2", "b3"), blocks(h), strict=True)) if with_blocks else {}),
            )
            for h in sorted(set(values))
            if to_signed(h) not in known
        )


class Migration(migrations.Migration):
    dependencies = [("dedup", "0012_fingerprint_detail")]

    operations = [
        migrations.AddField(
            model_name="fingerprint",
            name="phash_reframed",
            field=models.JSONField(
                blank=True,
                default=list,
                verbose_name="pHashes of the picture straightened and with each edge left out",
            ),
        ),
        migrations.RunPython(reframed_hashes_backfill, migrations.RunPython.noop),
    ]
