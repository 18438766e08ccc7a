"""Candidate lookup for hash values that belong to no stored version (a copy submitted for verification)."""

from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q

from collections_app.models import Version
from dedup.index import candidate_filter, probe_blocks, to_unsigned
from dedup.models import HashEntry


def candidates_for_hashes(*, hashes: Iterable[int], sha256: str, limit: int = 50) -> dict[int, int]:
    """Processed versions within the Hamming radius of any of the (unsigned) hashes, or with the same
    checksum: version id -> distance, the nearest `limit` only. Mirrors dedup.matching.candidates_for."""
    radius = settings.DUPFINDER_MATCH_RADIUS
    queries = sorted({h & 0xFFFFFFFFFFFFFFFF for h in hashes})
    probes: list[set[int]] = [set(), set(), set(), set()]
    for value in queries:
        for column, values in zip(probes, probe_blocks(value, radius), strict=False):
            column |= values
    condition = Q()
    for name, values in zip(("b0", "b1", "b2", "b3"), probes, strict=False):
        condition |= Q(**{f"{name}__in": sorted(values)})
    rows = (
        HashEntry.objects.filter(condition)
        .exclude(version__status=Version.Status.FAILED)
        .values_list("version_id", "value")
        .iterator(chunk_size=5000)
    )
    best: dict[int, int] = {}
    for version_id, distance, _variant in candidate_filter(queries, ((v, to_unsigned(h)) for v, h in rows), radius):
        best[version_id] = min(distance, best.get(version_id, 64))
    exact = Version.objects.filter(sha256=sha256, fingerprint__isnull=False).exclude(status=Version.Status.FAILED)
    for version_id in exact.values_list("pk", flat=True):
        best[version_id] = 0
    nearest = sorted(best.items(), key=lambda pair: (pair[1], pair[0]))[:limit]
    return dict(nearest)
