"""The searchable hashes of each version, as rows of the shared index (four 16-bit blocks each)."""

from dedup.imaging.compare import searchable_hashes, upright_hashes
from dedup.imaging.index import blocks, to_signed
from dedup.models import Fingerprint, HashEntry


def hash_entries_replace(*, fingerprint: Fingerprint) -> None:
    HashEntry.objects.filter(version_id=fingerprint.version_id).delete()
    upright = upright_hashes(fingerprint)
    HashEntry.objects.bulk_create(
        HashEntry(
            version_id=fingerprint.version_id,
            value=to_signed(h),
            upright=h in upright,
            **dict(zip(("b0", "b1", "b2", "b3"), blocks(h), strict=False)),
        )
        for h in sorted(searchable_hashes(fingerprint))
    )
