"""Centre hashes for fingerprints stored before they existed, computed from the stored rendition."""

import numpy as np
from django.db import migrations, models

from dedup.imaging.hashes import centre_phashes
from dedup.imaging.index import blocks, to_signed


def centre_hashes_backfill(apps, schema_editor):
    Fingerprint = apps.get_model("dedup", "Fingerprint")
    HashEntry = apps.get_model("dedup", "HashEntry")
    pending = Fingerprint.objects.filter(phash_centre=[]).only("rendition", "rendition_width", "rendition_height")
    for fingerprint in pending.iterator(chunk_size=500):
        shape = (fingerprint.rendition_height, fingerprint.rendition_width)
        values = centre_phashes(np.frombuffer(bytes(fingerprint.rendition), dtype=np.uint8).reshape(shape))
        fingerprint.phash_centre = [to_signed(h) for h in values]
        fingerprint.save(update_fields=["phash_centre"])
        known = set(HashEntry.objects.filter(version_id=fingerprint.pk).values_list("value", flat=True))
        # The block columns until 0016 (the hash's keys are expression indexes since): written where the model has them.
        with_blocks = any(field.name == "b0" for field in HashEntry._meta.get_fields())
        HashEntry.objects.bulk_create(
            HashEntry(
                version_id=fingerprint.pk,
                value=to_signed(h),
                **(dict(zip(("b0", "b1", "b2", "b3"), blocks(h), strict=True)) if with_blocks else {}),
            )
            for h in sorted(set(values))
            if to_signed(h) not in known
        )


class Migration(migrations.Migration):
    dependencies = [("dedup", "0004_review_roles")]

    operations = [
        migrations.AddField(
            model_name="fingerprint",
            name="phash_centre",
            field=models.JSONField(blank=True, default=list, verbose_name="pHashes of the middle of the picture"),
        ),
        migrations.RunPython(centre_hashes_backfill, migrations.RunPython.noop),
    ]
