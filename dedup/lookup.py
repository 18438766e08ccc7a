"""Candidate lookup for hash values that belong to no stored version (a copy submitted for verification)."""

from collections.abc import Iterable

from dedup.index import MASK64
from dedup.matching import candidates_near


def candidates_for_hashes(
    *, upright: Iterable[int], hashes: Iterable[int], sha256: str, limit: int = 50
) -> dict[int, int]:
    """Processed versions near the hashes (as `candidates_near`) or with the same checksum: the nearest `limit`,
    id -> distance."""
    best = candidates_near(upright=(h & MASK64 for h in upright), hashes=(h & MASK64 for h in hashes), sha256=sha256)
    return dict(sorted(best.items(), key=lambda pair: (pair[1], pair[0]))[:limit])
