"""Candidate pairs from the shared hash index in PostgreSQL: versions whose hashes lie within the radius."""

import json
from collections.abc import Iterable

from django.conf import settings
from django.db import connection

from collections_app.models import Version
from dedup.imaging.compare import searchable_hashes, upright_hashes
from dedup.imaging.index import MASK64, candidate_filter, probe_blocks, to_unsigned
from dedup.models import Fingerprint


def match_radius() -> int:
    return settings.DUPFINDER_MATCH_RADIUS


def candidates_for(*, fingerprint: Fingerprint) -> dict[int, int]:
    """Other processed versions within the Hamming radius of any of this version's hashes: id -> distance."""
    return candidates_near(
        upright=upright_hashes(fingerprint),
        hashes=searchable_hashes(fingerprint),
        sha256=fingerprint.version.sha256,
        page_number=fingerprint.version.page_number,
        exclude_version_id=fingerprint.version_id,
    )


def candidates_near(
    *,
    upright: Iterable[int],
    hashes: Iterable[int],
    sha256: str,
    page_number: int | None = None,
    exclude_version_id: int | None = None,
) -> dict[int, int]:
    """Processed versions with an upright hash within the Hamming radius of any of `hashes`, or any hash
    within it of one of `upright` (all unsigned; `upright` is part of `hashes`), or with the same checksum
    (distance 0): version id -> distance. Probes the shared index in PostgreSQL in one query."""
    upright, hashes = sorted(set(upright)), sorted(set(hashes))
    if connection.vendor == "postgresql":
        rows, exact_ids = _probe_sql(upright, hashes, sha256, page_number, exclude_version_id)
    else:  # the embedded SQLite file
        rows, exact_ids = _probe_sql(upright, hashes, sha256, page_number, exclude_version_id, sql=_PROBE_SQLITE)
    by_kind: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
    for version_id, value, is_upright in rows:
        by_kind[is_upright].append((version_id, to_unsigned(value)))
    best: dict[int, int] = {}
    for queries, kind_rows in ((hashes, by_kind[True]), (upright, by_kind[False])):
        for version_id, distance, _variant in candidate_filter(queries, kind_rows, match_radius()):
            best[version_id] = min(distance, best.get(version_id, 64))
    for version_id in exact_ids:
        best[version_id] = 0
    return best


def _block_arrays(hashes: Iterable[int]) -> list[list[int]]:
    probes: list[set[int]] = [set(), set(), set(), set()]
    for value in hashes:
        for column, values in zip(probes, probe_blocks(value, match_radius()), strict=False):
            column |= values
    return [sorted(values) for values in probes]


# One round trip: the entries sharing a probed block (any entry for the upright probes, upright entries for
# the rest), then the versions with the same bytes (the same file, and for a page of a PDF the same page of
# it), told apart by a NULL value. Arrays bind as one
# parameter each, where an IN list binds thousands.
_PROBE_SQL = """
SELECT h.version_id, h.value, h.upright FROM dedup_hashentry h
JOIN collections_app_version v ON v.id = h.version_id
WHERE v.status <> %(failed)s AND h.version_id <> %(exclude)s AND (
    h.b0 = ANY(%(u0)s) OR h.b1 = ANY(%(u1)s) OR h.b2 = ANY(%(u2)s) OR h.b3 = ANY(%(u3)s)
    OR (h.upright AND (h.b0 = ANY(%(a0)s) OR h.b1 = ANY(%(a1)s) OR h.b2 = ANY(%(a2)s) OR h.b3 = ANY(%(a3)s))))
UNION ALL
SELECT v.id, NULL, NULL FROM collections_app_version v JOIN dedup_fingerprint f ON f.version_id = v.id
WHERE v.sha256 = %(sha)s AND v.page_number IS NOT DISTINCT FROM %(page)s AND v.status <> %(failed)s
    AND v.id <> %(exclude)s
"""


# The embedded SQLite file, in the same one round trip: SQLite has no arrays, so each block's values bind as one
# JSON array read by json_each (thousands of IN-list parameters otherwise, built and bound one by one), and
# every OR term is an indexable conjunction, so the planner unions index lookups (the nested form scans).
_PROBE_SQLITE = (
    """
SELECT h.version_id, h.value, h.upright FROM dedup_hashentry h
JOIN collections_app_version v ON v.id = h.version_id
WHERE v.status <> %(failed)s AND h.version_id <> %(exclude)s AND (
"""
    + "\n    OR ".join(f"h.b{k} IN (SELECT value FROM json_each(%(u{k})s))" for k in range(4))
    + "\n    OR "
    + "\n    OR ".join(f"(h.upright AND h.b{k} IN (SELECT value FROM json_each(%(a{k})s)))" for k in range(4))
    + """)
UNION ALL
SELECT v.id, NULL, NULL FROM collections_app_version v JOIN dedup_fingerprint f ON f.version_id = v.id
WHERE v.sha256 = %(sha)s AND v.page_number IS %(page)s AND v.status <> %(failed)s AND v.id <> %(exclude)s
"""
)


def _probe_sql(
    upright: list[int],
    hashes: list[int],
    sha256: str,
    page_number: int | None,
    exclude: int | None,
    sql: str = _PROBE_SQL,
) -> tuple[list[tuple[int, int, bool]], list[int]]:
    params: dict[str, object] = {"failed": Version.Status.FAILED, "exclude": -1 if exclude is None else exclude}
    params["sha"], params["page"] = sha256, page_number
    for prefix, values in (("u", upright), ("a", hashes)):
        for n, column in enumerate(_block_arrays(values)):
            params[f"{prefix}{n}"] = column if sql is _PROBE_SQL else json.dumps(column)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    rows = [(v, value, is_upright) for v, value, is_upright in found if value is not None]
    return rows, [v for v, value, _ in found if value is None]


def candidates_for_hashes(
    *, upright: Iterable[int], hashes: Iterable[int], sha256: str, limit: int = 50
) -> dict[int, int]:
    """Processed versions near hashes that belong to no stored version (a copy submitted for verification),
    as `candidates_near`, or with the same checksum: the nearest `limit`, id -> distance."""
    best = candidates_near(upright=(h & MASK64 for h in upright), hashes=(h & MASK64 for h in hashes), sha256=sha256)
    return dict(sorted(best.items(), key=lambda pair: (pair[1], pair[0]))[:limit])
