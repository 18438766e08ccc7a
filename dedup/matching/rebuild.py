"""`rebuild_clusters`: every candidate pair, edge and cluster recomputed from stored fingerprints."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction

from collections_app.models import Version
from collections_app.progress import Progress, no_progress
from dedup.imaging.grouping import anchored_linkage, components
from dedup.imaging.index import pairs_within, to_unsigned
from dedup.matching.candidates import match_radius
from dedup.matching.clusters import clusters_sync, match_lock
from dedup.matching.edges import edge_compare, fingerprints_of, graph_from
from dedup.models import (
    Cluster,
    ClusterMember,
    ConfirmedDuplicatePair,
    Fingerprint,
    HashEntry,
    MatchEdge,
    MatchKind,
    NotDuplicatePair,
)


@dataclass
class RebuildReport:
    versions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    candidate_pairs: int = 0
    verified_pairs: int = 0
    clusters: int = 0


def _candidate_pairs_bulk(version_ids: list[int]) -> set[tuple[int, int]]:
    """All candidate pairs at once: a multi-index self-join over every stored hash, plus equal checksums."""
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
        found = pairs_within(values, match_radius())
        a, b = owners[found[:, 0]], owners[found[:, 1]]
        # The pairs incremental matching finds: an upright hash of either side near any hash of the other.
        keep = (a != b) & (upright[found[:, 0]] | upright[found[:, 1]])
        pairs = {(int(min(x, y)), int(max(x, y))) for x, y in zip(a[keep], b[keep], strict=False)}
    by_checksum: dict[tuple[str, int | None], list[int]] = {}
    for pk, sha, page in Version.objects.filter(pk__in=version_ids).values_list("pk", "sha256", "page_number"):
        by_checksum.setdefault((sha, page), []).append(pk)  # pages of one PDF share its checksum
    for same in by_checksum.values():
        pairs |= {(a, b) for a in same for b in same if a < b}
    return pairs


def _compare_all(
    pairs: Iterable[tuple[int, int]], batch: int = 2000, progress: Progress = no_progress, desc: str = "Verifying"
) -> dict[tuple[int, int], MatchEdge]:
    pairs = sorted(pairs)
    edges: dict[tuple[int, int], MatchEdge] = {}
    with progress(total=len(pairs), desc=desc, unit="pair") as bar:
        for start in range(0, len(pairs), batch):
            chunk = pairs[start : start + batch]
            prints = fingerprints_of({v for pair in chunk for v in pair})
            for a, b in chunk:
                edges[(a, b)] = edge_compare(prints[a], prints[b])
                bar.update()
    return edges


def _confirmations_apply(edges: dict[tuple[int, int], MatchEdge]) -> None:
    """Possible duplicates a curator confirmed stay verified, whatever verification says again."""
    for pair in ConfirmedDuplicatePair.objects.values_list("version_a_id", "version_b_id"):
        if (edge := edges.get(pair)) is not None:
            edge.is_duplicate, edge.kind = True, MatchKind.NEAR
            edge.evidence = {**edge.evidence, "confirmed": True}


def _pairs_to_verify(part: list[int]) -> set[tuple[int, int]]:
    """All pairs of a component, or, past the size limit (held, as incremental matching holds it), each member
    against the earliest members only."""
    if len(part) <= settings.DUPFINDER_MAX_COMPONENT:
        return {(a, b) for a in part for b in part if a < b}
    sample = sorted(part)[: settings.DUPFINDER_COMPONENT_SAMPLE]
    return {(min(a, b), max(a, b)) for a in part for b in sample if a != b}


def clusters_rebuild(*, progress: Progress = no_progress) -> RebuildReport:
    """Recompute every edge and cluster from stored fingerprints; curators' decisions are kept.

    `progress(total=, desc=, unit=)` makes the bar the pair verification reports to (collections_app.progress).
    """
    report = RebuildReport()
    statuses = Counter(Version.objects.values_list("status", flat=True))
    report.skipped = {status: n for status, n in statuses.items() if status != Version.Status.DONE}
    done = list(Fingerprint.objects.filter(version__status=Version.Status.DONE).values_list("version_id", flat=True))
    report.versions = len(done)
    candidates = _candidate_pairs_bulk(done)
    report.candidate_pairs = len(candidates)
    edges = _compare_all(candidates, progress=progress)
    _confirmations_apply(edges)
    rejected = set(NotDuplicatePair.objects.values_list("version_a_id", "version_b_id"))
    verified = [pair for pair, edge in edges.items() if edge.is_duplicate and pair not in rejected]
    parts = [c for c in components((), verified) if len(c) > 1]
    intra = {pair for c in parts for pair in _pairs_to_verify(c) if pair not in edges}
    edges.update(_compare_all(intra, progress=progress, desc="Verifying within clusters"))
    report.verified_pairs = sum(edge.is_duplicate for edge in edges.values())
    with transaction.atomic():
        match_lock(exclusive=True)
        MatchEdge.objects.all().delete()
        MatchEdge.objects.bulk_create(edges.values(), batch_size=2000)
        graph = graph_from(edges.values(), rejected)
        in_parts: set[int] = set()
        for part in parts:
            clusters_sync(
                groups=anchored_linkage(part, graph.same_picture, graph.undecided, graph.explained),
                graph=graph,
                scope=set(part),
            )
            in_parts |= set(part)
        clusters_sync(
            groups=[], graph=graph, scope=set(ClusterMember.objects.values_list("version_id", flat=True)) - in_parts
        )
    report.clusters = Cluster.objects.filter(members__isnull=False).distinct().count()
    return report
