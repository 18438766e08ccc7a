"""The searchable hashes of each version, as rows of the shared index (keyed by expression indexes on the hash)."""

from dedup.imaging.compare import searchable_hashes, upright_hashes
from dedup.imaging.index import to_signed
from dedup.models import Fingerprint, HashEntry


def hash_entries_replace(*, fingerprint: Fingerprint) -> None:
    HashEntry.objects.filter(version_id=fingerprint.version_id).delete()
    upright = upright_hashes(fingerprint)
    HashEntry.objects.bulk_create(
        HashEntry(version_id=fingerprint.version_id, value=to_signed(h), upright=h in upright)
        for h in sorted(searchable_hashes(fingerprint))
    )
