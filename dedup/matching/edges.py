"""Verified edges: each candidate pair compared once (dedup.imaging.compare) and stored with its evidence."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from dedup.imaging.compare import PairResult, Side, compare_pair
from dedup.imaging.verify import Rendition
from dedup.models import Fingerprint, MatchEdge, NotDuplicatePair
from dedup.telemetry import verification_timer

# Correlation after the best alignment below which a refused pair was never lined up: it says nothing either way.
UNALIGNED_SCORE = 0.5


def stored_side(fingerprint: Fingerprint) -> Side:
    """A stored version as the comparison sees it."""
    version = fingerprint.version
    rendition = Rendition(bytes(fingerprint.rendition), (fingerprint.rendition_width, fingerprint.rendition_height))
    content = None
    if fingerprint.content_width:
        content = Rendition(bytes(fingerprint.content), (fingerprint.content_width, fingerprint.content_height))
    return Side(
        version.sha256, version.width, version.height, version.format, fingerprint.mode, fingerprint, rendition, content
    )


def sides_compare(a: Side, b: Side) -> PairResult:
    """The comparison at the collection's strictness: the one place that setting is read."""
    with verification_timer():  # /metrics: dupfinder_verification_seconds
        return compare_pair(a, b, strictness=settings.DUPFINDER_STRICTNESS)


def edge_compare(a: Fingerprint, b: Fingerprint) -> MatchEdge:
    """Verify one pair (a has the lower id) into an unsaved edge with its evidence."""
    result = sides_compare(stored_side(a), stored_side(b))
    return MatchEdge(
        version_a_id=a.version_id,
        version_b_id=b.version_id,
        is_duplicate=result.is_duplicate,
        kind=result.kind,
        score=result.score,
        evidence=result.evidence,
    )


def fingerprints_of(ids: Iterable[int]) -> dict[int, Fingerprint]:
    return {f.version_id: f for f in Fingerprint.objects.select_related("version").filter(version_id__in=list(ids))}


def edges_ensure(pairs: Iterable[tuple[int, int]]) -> None:
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
    prints = fingerprints_of({v for pair in missing for v in pair})
    edges = [edge_compare(prints[a], prints[b]) for a, b in missing if a in prints and b in prints]
    MatchEdge.objects.bulk_create(edges, ignore_conflicts=True)


@dataclass
class Graph:
    """Verified edges and curators' not-duplicate decisions among a set of versions."""

    duplicates: dict[tuple[int, int], MatchEdge] = field(default_factory=dict)
    rejected: set[tuple[int, int]] = field(default_factory=set)
    unaligned: set[tuple[int, int]] = field(default_factory=set)  # refused without being aligned

    def same_picture(self, a: int, b: int) -> bool:
        key = (min(a, b), max(a, b))
        return key in self.duplicates and key not in self.rejected

    def undecided(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.unaligned


def unaligned(edge: MatchEdge) -> bool:
    """Refused because the two never lined up (no content was compared), not because content differs."""
    return not edge.is_duplicate and edge.evidence.get("verification_score", 1.0) < UNALIGNED_SCORE


def not_duplicate_pairs(ids: set[int]) -> set[tuple[int, int]]:
    return set(
        NotDuplicatePair.objects.filter(Q(version_a_id__in=ids) | Q(version_b_id__in=ids)).values_list(
            "version_a_id", "version_b_id"
        )
    )


def component_of(version_id: int) -> set[int]:
    """Versions reachable over verified edges that no curator has rejected."""
    seen, frontier = {version_id}, {version_id}
    while frontier:
        edges = MatchEdge.objects.filter(
            Q(version_a_id__in=frontier) | Q(version_b_id__in=frontier), is_duplicate=True
        ).values_list("version_a_id", "version_b_id")
        rejected = not_duplicate_pairs(frontier)
        reached = {v for a, b in edges if (a, b) not in rejected for v in (a, b)}
        frontier = reached - seen
        seen |= reached
    return seen


def graph_of(ids: set[int]) -> Graph:
    return graph_from(MatchEdge.objects.filter(version_a_id__in=ids, version_b_id__in=ids), not_duplicate_pairs(ids))


def graph_from(edges: Iterable[MatchEdge], rejected: set[tuple[int, int]]) -> Graph:
    """The graph incremental matching and rebuild_clusters both group on."""
    graph = Graph(rejected=rejected)
    for edge in edges:
        key = (edge.version_a_id, edge.version_b_id)
        if edge.is_duplicate:
            graph.duplicates[key] = edge
        elif unaligned(edge):
            graph.unaligned.add(key)
    return graph
