"""Candidate pairs from the shared hash index in the database: versions whose hashes lie within the radius."""

import json
from collections.abc import Iterable

from django.conf import settings
from django.db import connection

from collections_app.models import Version
from dedup.imaging.compare import searchable_hashes, upright_hashes
from dedup.imaging.index import (
    KEY_LAYOUT,
    MASK64,
    candidate_filter,
    key_masks,
    probe_keys,
    to_signed,
    to_unsigned,
)
from dedup.models import Fingerprint


def key_sql(column: str, k: int) -> str:
    """Key k of a hash column as SQL, written as the expression indexes on it are (`HashEntry.Meta`)."""
    shift, bits = KEY_LAYOUT[k]
    return f"(({column} >> {shift}) & {(1 << bits) - 1})" if shift else f"({column} & {(1 << bits) - 1})"


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
    (distance 0): version id -> distance. Probes the shared index in the database in one query."""
    upright, hashes = sorted(set(upright)), sorted(set(hashes))
    others = [h for h in hashes if h not in set(upright)]
    exclude = -1 if exclude_version_id is None else exclude_version_id
    if connection.vendor == "postgresql":
        return _probe_postgresql(upright, others, sha256, page_number, exclude)
    return _probe_sqlite(upright, hashes, sha256, page_number, exclude)


# One round trip, the Hamming distance taken in the database: each upright hash of the new version looks up
# every entry (`hashentry_key*`), each of its other hashes the upright entries only (`hashentry_upright_key*`;
# an upright hash meets the upright entries through the first), under each key every value within the key's
# slack (the query's key XOR each mask). Every lookup reads one short run of one covering index, and each row
# is checked against the hash that looked it up: a stored hash within the radius of a query hash lies within
# the slack of it on some key, so it is found through that hash. Only the versions within the radius come back,
# with their distance; the version's status is read for them alone. Then the versions with the same
# bytes (the same file, and for a page of a PDF the same page of it), with distance 0.
# Each query hash scans each key's index once for all the key values within the slack (`= ANY`: the index
# walks them in order in one scan), so every row it reads is measured against the hash that looked it up.
# LATERAL keeps that an index-only scan per hash whatever the row estimates say (without them the planner
# merges the probe with a full scan of the index).
_LOOKUP = """
    SELECT h.version_id, h.distance FROM unnest(%({queries})s::bigint[]) AS q (value)
    CROSS JOIN LATERAL (
        SELECT e.version_id, bit_count((e.value # q.value)::bit(64)) AS distance FROM dedup_hashentry e
        WHERE {key} = ANY(ARRAY(SELECT {query_key} # m FROM unnest(%(m{k})s::bigint[]) AS m)){upright}
        OFFSET 0
    ) AS h
    WHERE h.distance <= %(radius)s"""

_PROBE_SQL = (
    "WITH near AS MATERIALIZED ("
    + "\n    UNION ALL".join(
        _LOOKUP.format(
            queries=queries,
            k=k,
            key=key_sql("e.value", k),
            query_key=key_sql("q.value", k),
            upright=" AND e.upright" if queries == "others" else "",
        )
        for queries in ("upright", "others")
        for k in range(len(KEY_LAYOUT))
    )
    + """
)
SELECT n.version_id, n.distance FROM (
    SELECT version_id, min(distance) AS distance FROM near WHERE version_id <> %(exclude)s GROUP BY version_id
) AS n
CROSS JOIN LATERAL (
    SELECT 1 FROM collections_app_version v WHERE v.id = n.version_id AND v.status <> %(failed)s OFFSET 0
) AS processed
UNION ALL
SELECT v.id, 0 FROM collections_app_version v JOIN dedup_fingerprint f ON f.version_id = v.id
WHERE v.sha256 = %(sha)s AND v.page_number IS NOT DISTINCT FROM %(page)s AND v.status <> %(failed)s
    AND v.id <> %(exclude)s
"""
)


def _probe_postgresql(
    upright: list[int], others: list[int], sha256: str, page_number: int | None, exclude: int
) -> dict[int, int]:
    params: dict[str, object] = {"failed": Version.Status.FAILED, "exclude": exclude, "radius": match_radius()}
    params.update(sha=sha256, page=page_number, upright=[to_signed(h) for h in upright])
    params["others"] = [to_signed(h) for h in others]
    for k, masks in enumerate(key_masks(match_radius())):
        params[f"m{k}"] = list(masks)
    with connection.cursor() as cursor:
        cursor.execute(_PROBE_SQL, params)
        found = cursor.fetchall()
    best: dict[int, int] = {}
    for version_id, distance in found:
        best[version_id] = min(distance, best.get(version_id, 64))
    return best


def _key_arrays(hashes: Iterable[int]) -> list[list[int]]:
    probes: list[set[int]] = [set() for _ in KEY_LAYOUT]
    for value in hashes:
        for column, values in zip(probes, probe_keys(value, match_radius()), strict=True):
            column |= values
    return [sorted(values) for values in probes]


# The embedded SQLite file, in one round trip too: SQLite has no arrays, so each key's values bind as one JSON
# array read by json_each (thousands of IN-list parameters otherwise, built and bound one by one), and every
# OR term is an indexable conjunction, so the planner unions index lookups (the nested form scans). It has no
# bit count either: the entries sharing a probed key come back and `candidate_filter` measures them.
_PROBE_SQLITE = (
    """
SELECT h.version_id, h.value, h.upright FROM dedup_hashentry h
JOIN collections_app_version v ON v.id = h.version_id
WHERE v.status <> %(failed)s AND h.version_id <> %(exclude)s AND (
"""
    + "\n    OR ".join(
        f"{key_sql('h.value', k)} IN (SELECT value FROM json_each(%(u{k})s))" for k in range(len(KEY_LAYOUT))
    )
    + "\n    OR "
    + "\n    OR ".join(
        f"(h.upright AND {key_sql('h.value', k)} IN (SELECT value FROM json_each(%(a{k})s)))"
        for k in range(len(KEY_LAYOUT))
    )
    + """)
UNION ALL
SELECT v.id, NULL, NULL FROM collections_app_version v JOIN dedup_fingerprint f ON f.version_id = v.id
WHERE v.sha256 = %(sha)s AND v.page_number IS %(page)s AND v.status <> %(failed)s AND v.id <> %(exclude)s
"""
)


def _probe_sqlite(
    upright: list[int], hashes: list[int], sha256: str, page_number: int | None, exclude: int
) -> dict[int, int]:
    params: dict[str, object] = {"failed": Version.Status.FAILED, "exclude": exclude}
    params["sha"], params["page"] = sha256, page_number
    for prefix, values in (("u", upright), ("a", hashes)):
        for n, column in enumerate(_key_arrays(values)):
            params[f"{prefix}{n}"] = json.dumps(column)
    with connection.cursor() as cursor:
        cursor.execute(_PROBE_SQLITE, params)
        found = cursor.fetchall()
    by_kind: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
    for version_id, value, is_upright in found:
        if value is not None:
            by_kind[bool(is_upright)].append((version_id, to_unsigned(value)))
    best: dict[int, int] = {}
    for queries, kind_rows in ((hashes, by_kind[True]), (upright, by_kind[False])):
        for version_id, distance, _variant in candidate_filter(queries, kind_rows, match_radius()):
            best[version_id] = min(distance, best.get(version_id, 64))
    for version_id, value, _ in found:
        if value is None:
            best[version_id] = 0
    return best


def candidates_for_hashes(
    *, upright: Iterable[int], hashes: Iterable[int], sha256: str, limit: int = 50
) -> dict[int, int]:
    """Processed versions near hashes that belong to no stored version (a copy submitted for verification),
    as `candidates_near`, or with the same checksum: the nearest `limit`, id -> distance."""
    best = candidates_near(upright=(h & MASK64 for h in upright), hashes=(h & MASK64 for h in hashes), sha256=sha256)
    return dict(sorted(best.items(), key=lambda pair: (pair[1], pair[0]))[:limit])
