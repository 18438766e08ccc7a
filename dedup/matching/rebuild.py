"""`rebuild_clusters`: every candidate pair, edge and cluster recomputed from stored fingerprints."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction

from collections_app.models import Version
from collections_app.progress import Progress, no_progress
from dedup.imaging.grouping import anchored_linkage, components
from dedup.imaging.index import pairs_within, to_unsigned
from dedup.matching.candidates import match_radius
from dedup.matching.clusters import clusters_sync, match_lock
from dedup.matching.edges import edge_compare, fingerprints_of, graph_from
from dedup.models import Cluster, ClusterMember, Fingerprint, HashEntry, MatchEdge, NotDuplicatePair


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
    by_checksum: dict[str, list[int]] = {}
    for pk, sha in Version.objects.filter(pk__in=version_ids).values_list("pk", "sha256"):
        by_checksum.setdefault(sha, []).append(pk)
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
    rejected = set(NotDuplicatePair.objects.values_list("version_a_id", "version_b_id"))
    verified = [pair for pair, edge in edges.items() if edge.is_duplicate and pair not in rejected]
    parts = [c for c in components((), verified) if len(c) > 1]
    intra = {(a, b) for c in parts for a in c for b in c if a < b and (a, b) not in edges}
    edges.update(_compare_all(intra, progress=progress, desc="Verifying within clusters"))
    report.verified_pairs = sum(edge.is_duplicate for edge in edges.values())
    with transaction.atomic():
        match_lock()
        MatchEdge.objects.all().delete()
        MatchEdge.objects.bulk_create(edges.values(), batch_size=2000)
        graph = graph_from(edges.values(), rejected)
        in_parts: set[int] = set()
        for part in parts:
            clusters_sync(
                groups=anchored_linkage(part, graph.same_picture, graph.undecided), graph=graph, scope=set(part)
            )
            in_parts |= set(part)
        clusters_sync(
            groups=[], graph=graph, scope=set(ClusterMember.objects.values_list("version_id", flat=True)) - in_parts
        )
    report.clusters = Cluster.objects.filter(members__isnull=False).distinct().count()
    return report
