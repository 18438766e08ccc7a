"""Matching a finished version: candidates from the shared hash index, verification, and clusters."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from collections_app.models import Version
from dedup.fingerprint import Fingerprint as FingerprintData
from dedup.grouping import anchored_linkage, components
from dedup.index import MASK64, blocks, candidate_filter, probe_blocks, to_signed, to_unsigned
from dedup.models import Cluster, ClusterMember, Fingerprint, HashEntry, MatchEdge, MatchKind, NotDuplicatePair
from dedup.verify import DIHEDRAL, Rendition, verify_pair

MATCH_LOCK_KEY = 0x6475706D  # "dupm": one advisory lock serialises cluster updates across hosts


def fingerprint_hashes(fingerprint: Fingerprint | FingerprintData) -> set[int]:
    """Every searchable hash of a stored or a freshly computed fingerprint, unsigned: pHash, its rotations
    and mirrors, the border-trimmed one and the middle of the picture under each rotation and mirror."""
    values = {fingerprint.phash, *fingerprint.phash_dihedral, *fingerprint.phash_centre}
    if fingerprint.phash_trimmed is not None:
        values.add(fingerprint.phash_trimmed)
    return {h & MASK64 for h in values}  # stored values are signed, computed ones unsigned


def upright_hashes(fingerprint: Fingerprint | FingerprintData) -> set[int]:
    """The hashes of the picture as uploaded, unsigned: pHash, border-trimmed and centre, no rotation or mirror."""
    values = {fingerprint.phash, fingerprint.phash_trimmed, *fingerprint.phash_centre[:1]} - {None}
    return {h & MASK64 for h in values}


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
        for h in sorted(fingerprint_hashes(fingerprint))
    )


def _radius() -> int:
    return settings.DUPFINDER_MATCH_RADIUS


def candidates_for(*, fingerprint: Fingerprint) -> dict[int, int]:
    """Other processed versions within the Hamming radius of any of this version's hashes: id -> distance."""
    return candidates_near(
        upright=upright_hashes(fingerprint),
        hashes=fingerprint_hashes(fingerprint),
        sha256=fingerprint.version.sha256,
        exclude_version_id=fingerprint.version_id,
    )


def _block_condition(hashes: Iterable[int]) -> Q:
    """Rows sharing a probed block value with any of the hashes: a superset of those within the radius."""
    probes: list[set[int]] = [set(), set(), set(), set()]
    for value in hashes:
        for column, values in zip(probes, probe_blocks(value, _radius()), strict=False):
            column |= values
    condition = Q()
    for name, values in zip(("b0", "b1", "b2", "b3"), probes, strict=False):
        condition |= Q(**{f"{name}__in": sorted(values)})
    return condition


def candidates_near(
    *, upright: Iterable[int], hashes: Iterable[int], sha256: str, exclude_version_id: int | None = None
) -> dict[int, int]:
    """Processed versions with an upright hash within the Hamming radius of any of `hashes`, or any hash
    within it of one of `upright` (all unsigned; `upright` is part of `hashes`), or with the same checksum
    (distance 0): version id -> distance. Probes the shared index in PostgreSQL in one query."""
    upright, hashes = sorted(set(upright)), sorted(set(hashes))
    condition = _block_condition(upright) | (Q(upright=True) & _block_condition(hashes))
    entries = HashEntry.objects.filter(condition).exclude(version__status=Version.Status.FAILED)
    exact = Version.objects.filter(sha256=sha256, fingerprint__isnull=False).exclude(status=Version.Status.FAILED)
    if exclude_version_id is not None:
        entries = entries.exclude(version_id=exclude_version_id)
        exact = exact.exclude(pk=exclude_version_id)
    rows = entries.values_list("version_id", "value", "upright").iterator(chunk_size=5000)
    by_kind: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
    for version_id, value, is_upright in rows:
        by_kind[is_upright].append((version_id, to_unsigned(value)))
    best: dict[int, int] = {}
    for queries, kind_rows in ((hashes, by_kind[True]), (upright, by_kind[False])):
        for version_id, distance, _variant in candidate_filter(queries, kind_rows, _radius()):
            best[version_id] = min(distance, best.get(version_id, 64))
    for version_id in exact.values_list("pk", flat=True):
        best[version_id] = 0
    return best


def _min_distance(a: Fingerprint, b: Fingerprint) -> int:
    hb = fingerprint_hashes(b)
    return min((x ^ y).bit_count() for x in fingerprint_hashes(a) for y in hb)


def likely_transform(a: Fingerprint | FingerprintData, b: Fingerprint | FingerprintData) -> str:
    """The rotation or mirror of b whose hashes come nearest a's: the way up under which the index saw the pair."""
    pairs = [(a.phash, b.phash_dihedral)]
    if a.phash_centre and b.phash_centre:
        pairs.append((a.phash_centre[0], b.phash_centre))
    _distance, k = min((((x & MASK64) ^ (y & MASK64)).bit_count(), k) for x, ys in pairs for k, y in enumerate(ys))
    return DIHEDRAL[k]


def _rendition(fingerprint: Fingerprint) -> Rendition:
    return Rendition(bytes(fingerprint.rendition), (fingerprint.rendition_width, fingerprint.rendition_height))


GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "F", "P;L"})


def _same_pixel_grid(a: Fingerprint, b: Fingerprint) -> bool:
    va, vb = a.version, b.version
    return (va.width, va.height) == (vb.width, vb.height) and (a.mode in GREY_MODES) == (b.mode in GREY_MODES)


def compare(a: Fingerprint, b: Fingerprint) -> MatchEdge:
    """Verify one pair (a has the lower id) into an unsaved edge with its evidence."""
    distance = _min_distance(a, b)
    va, vb = a.version, b.version
    evidence = {
        "hash_distance": distance,
        "size_a": [va.width, va.height],
        "size_b": [vb.width, vb.height],
        "format_a": va.format,
        "format_b": vb.format,
    }
    if va.sha256 == vb.sha256:
        return MatchEdge(
            version_a_id=va.pk,
            version_b_id=vb.pk,
            is_duplicate=True,
            kind=MatchKind.EXACT,
            score=1.0,
            evidence=evidence,
        )
    verdict = verify_pair(
        _rendition(a), _rendition(b), strictness=settings.DUPFINDER_STRICTNESS, hint=likely_transform(a, b)
    )
    evidence.update(
        transform=verdict.transform,
        verification_score=round(verdict.score, 4),
        coverage=round(verdict.coverage, 4),
        local_max_diff=round(verdict.local_max_diff, 4),
        scale=round(verdict.scale, 4),
        reason=verdict.reason,
    )
    kind = verdict.kind if verdict.is_duplicate and verdict.kind in MatchKind.values else ""
    if kind == MatchKind.SAME_PIXELS and not _same_pixel_grid(a, b):
        kind = MatchKind.NEAR  # renditions are grey: a greyscale or resized copy can look pixel-identical
    return MatchEdge(
        version_a_id=va.pk,
        version_b_id=vb.pk,
        is_duplicate=bool(kind),
        kind=kind,
        score=round(verdict.score, 4),
        evidence=evidence,
    )


def _fingerprints(ids: Iterable[int]) -> dict[int, Fingerprint]:
    return {f.version_id: f for f in Fingerprint.objects.select_related("version").filter(version_id__in=list(ids))}


def _ensure_edges(pairs: Iterable[tuple[int, int]]) -> None:
    """Verify the pairs that have no edge yet and store them; concurrent workers may store the same pair."""
    pairs = {(min(a, b), max(a, b)) for a, b in pairs if a != b}
    if not pairs:
        return
    known = set(
        MatchEdge.objects.filter(
            version_a_id__in={a for a, _ in pairs}, version_b_id__in={b for _, b in pairs}
        ).values_list("version_a_id", "version_b_id")
    )
    missing = sorted(pairs - known)
    if not missing:
        return
    prints = _fingerprints({v for pair in missing for v in pair})
    edges = [compare(prints[a], prints[b]) for a, b in missing if a in prints and b in prints]
    MatchEdge.objects.bulk_create(edges, ignore_conflicts=True)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MATCH_LOCK_KEY])


@dataclass
class _Graph:
    """Verified edges and curators' not-duplicate decisions among a set of versions."""

    duplicates: dict[tuple[int, int], MatchEdge] = field(default_factory=dict)
    rejected: set[tuple[int, int]] = field(default_factory=set)

    def same_picture(self, a: int, b: int) -> bool:
        key = (min(a, b), max(a, b))
        return key in self.duplicates and key not in self.rejected


def _not_duplicate_pairs(ids: set[int]) -> set[tuple[int, int]]:
    return set(
        NotDuplicatePair.objects.filter(Q(version_a_id__in=ids) | Q(version_b_id__in=ids)).values_list(
            "version_a_id", "version_b_id"
        )
    )


def _component_of(version_id: int) -> set[int]:
    """Versions reachable over verified edges that no curator has rejected."""
    seen, frontier = {version_id}, {version_id}
    while frontier:
        edges = MatchEdge.objects.filter(
            Q(version_a_id__in=frontier) | Q(version_b_id__in=frontier), is_duplicate=True
        ).values_list("version_a_id", "version_b_id")
        rejected = _not_duplicate_pairs(frontier)
        reached = {v for a, b in edges if (a, b) not in rejected for v in (a, b)}
        frontier = reached - seen
        seen |= reached
    return seen


def _graph(ids: set[int]) -> _Graph:
    graph = _Graph(rejected=_not_duplicate_pairs(ids))
    for edge in MatchEdge.objects.filter(version_a_id__in=ids, version_b_id__in=ids, is_duplicate=True):
        graph.duplicates[(edge.version_a_id, edge.version_b_id)] = edge
    return graph


def version_match(*, version_id: int) -> None:
    """Add a freshly fingerprinted version to the clusters; safe to run twice and from several workers."""
    fingerprint = Fingerprint.objects.select_related("version").filter(version_id=version_id).first()
    if fingerprint is None or fingerprint.version.status == Version.Status.FAILED:
        return
    # Each worker searches after committing its own fingerprint, so of two copies finishing together
    # the later commit always sees the earlier one: no candidate pair is missed.
    _ensure_edges((version_id, other) for other in candidates_for(fingerprint=fingerprint))
    with transaction.atomic():
        _lock()
        component = _component_of(version_id)
        _ensure_edges((a, b) for a in component for b in component if a < b)
        graph = _graph(component)
        groups = anchored_linkage(sorted(component), graph.same_picture)
        clusters_sync(groups=groups, graph=graph, scope=component)


def _member_fields(version_id: int, group: list[int], graph: _Graph) -> tuple[str, float, dict]:
    """Kind and evidence against the group's anchor (listed first); the anchor takes its strongest edge."""
    reference = group[0]
    if version_id == reference:
        edges = [graph.duplicates[(min(reference, o), max(reference, o))] for o in group[1:]]
        edge = max(edges, key=lambda e: (e.score, reference - e.version_a_id - e.version_b_id))  # then lowest id
        other = edge.version_b_id if edge.version_a_id == reference else edge.version_a_id
    else:
        edge = graph.duplicates[(min(reference, version_id), max(reference, version_id))]
        other = reference
    return edge.kind, edge.score, {**edge.evidence, "compared_with": other}


@transaction.atomic
def clusters_sync(*, groups: list[list[int]], graph: _Graph, scope: set[int]) -> None:
    """Make the stored clusters of the versions in scope match the computed groups, keeping cluster ids."""
    current = dict(ClusterMember.objects.filter(version_id__in=scope).values_list("version_id", "cluster_id"))
    touched: set[int] = set(current.values())
    used: set[int] = set()
    for group in (g for g in groups if len(g) > 1):
        votes = Counter(current[v] for v in group if v in current and current[v] not in used)
        cluster_id = min(votes, key=lambda c: (-votes[c], c)) if votes else Cluster.objects.create().pk
        used.add(cluster_id)
        _cluster_set_members(cluster_id, group, graph, current)
    in_groups = {v for g in groups if len(g) > 1 for v in g}
    ClusterMember.objects.filter(version_id__in=scope - in_groups).delete()
    # A cluster left with fewer than two members is no longer a cluster, unless a curator resolved it.
    for cluster in Cluster.objects.filter(pk__in=touched - used, status=Cluster.Status.OPEN):
        if cluster.members.count() < 2:
            cluster.members.all().delete()
            cluster.delete()


def _cluster_set_members(cluster_id: int, group: list[int], graph: _Graph, current: dict[int, int]) -> None:
    cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
    ClusterMember.objects.filter(cluster=cluster).exclude(version_id__in=group).delete()
    ClusterMember.objects.filter(version_id__in=group).exclude(cluster=cluster).delete()
    existing = set(cluster.members.values_list("version_id", flat=True))
    scores = []
    for version_id in group:
        kind, score, evidence = _member_fields(version_id, group, graph)
        scores.append(score)
        ClusterMember.objects.update_or_create(
            version_id=version_id, defaults={"cluster": cluster, "kind": kind, "score": score, "evidence": evidence}
        )
    cluster.confidence = min(scores)
    fields = ["confidence", "updated_at"]
    if cluster.status == Cluster.Status.RESOLVED and set(group) - existing:
        # A new copy of an image already resolved comes back to the queue as a duplicate to review.
        cluster.status = Cluster.Status.OPEN
        fields.append("status")
    cluster.save(update_fields=fields)


@dataclass
class RebuildReport:
    versions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    candidate_pairs: int = 0
    verified_pairs: int = 0
    clusters: int = 0


def _candidate_pairs_bulk(version_ids: list[int]) -> set[tuple[int, int]]:
    """All candidate pairs at once: a multi-index self-join over every stored hash, plus equal checksums."""
    import numpy as np

    from dedup.index import pairs_within

    rows = list(
        HashEntry.objects.filter(version_id__in=version_ids)
        .order_by("pk")
        .values_list("version_id", "value", "upright")
    )
    pairs: set[tuple[int, int]] = set()
    if rows:
        owners = np.array([r[0] for r in rows], dtype=np.int64)
        values = np.array([to_unsigned(r[1]) for r in rows], dtype=np.uint64)
        upright = np.array([r[2] for r in rows], dtype=bool)
        found = pairs_within(values, _radius())
        a, b = owners[found[:, 0]], owners[found[:, 1]]
        # The pairs incremental matching finds: an upright hash of either side near any hash of the other.
        keep = (a != b) & (upright[found[:, 0]] | upright[found[:, 1]])
        pairs = {(int(min(x, y)), int(max(x, y))) for x, y in zip(a[keep], b[keep], strict=False)}
    by_checksum: dict[str, list[int]] = {}
    for pk, sha in Version.objects.filter(pk__in=version_ids).values_list("pk", "sha256"):
        by_checksum.setdefault(sha, []).append(pk)
    for same in by_checksum.values():
        pairs |= {(a, b) for a in same for b in same if a < b}
    return pairs


def _compare_all(pairs: Iterable[tuple[int, int]], batch: int = 2000) -> dict[tuple[int, int], MatchEdge]:
    pairs = sorted(pairs)
    edges: dict[tuple[int, int], MatchEdge] = {}
    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        prints = _fingerprints({v for pair in chunk for v in pair})
        for a, b in chunk:
            edges[(a, b)] = compare(prints[a], prints[b])
    return edges


def clusters_rebuild() -> RebuildReport:
    """Recompute every edge and cluster from stored fingerprints; curators' decisions are kept."""
    report = RebuildReport()
    statuses = Counter(Version.objects.values_list("status", flat=True))
    report.skipped = {status: n for status, n in statuses.items() if status != Version.Status.DONE}
    done = list(Fingerprint.objects.filter(version__status=Version.Status.DONE).values_list("version_id", flat=True))
    report.versions = len(done)
    candidates = _candidate_pairs_bulk(done)
    report.candidate_pairs = len(candidates)
    edges = _compare_all(candidates)
    rejected = set(NotDuplicatePair.objects.values_list("version_a_id", "version_b_id"))
    verified = [pair for pair, edge in edges.items() if edge.is_duplicate and pair not in rejected]
    parts = [c for c in components((), verified) if len(c) > 1]
    intra = {(a, b) for c in parts for a in c for b in c if a < b and (a, b) not in edges}
    edges.update(_compare_all(intra))
    report.verified_pairs = sum(edge.is_duplicate for edge in edges.values())
    with transaction.atomic():
        _lock()
        MatchEdge.objects.all().delete()
        MatchEdge.objects.bulk_create(edges.values(), batch_size=2000)
        graph = _Graph(duplicates={pair: edge for pair, edge in edges.items() if edge.is_duplicate}, rejected=rejected)
        in_parts: set[int] = set()
        for part in parts:
            clusters_sync(groups=anchored_linkage(part, graph.same_picture), graph=graph, scope=set(part))
            in_parts |= set(part)
        clusters_sync(
            groups=[], graph=graph, scope=set(ClusterMember.objects.values_list("version_id", flat=True)) - in_parts
        )
    report.clusters = Cluster.objects.filter(members__isnull=False).distinct().count()
    return report
