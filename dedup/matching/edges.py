"""Verified edges: each candidate pair compared once (dedup.imaging.compare) and stored with its evidence."""

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from collections_app.models import Version
from dedup.imaging.compare import PairResult, Side, compare_pair, refusal_explained
from dedup.imaging.verify import Rendition
from dedup.models import Fingerprint, MatchEdge, NotDuplicatePair, PairClaim
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
    detail = None
    if fingerprint.detail_width:
        pixels = zlib.decompress(bytes(fingerprint.detail))
        detail = Rendition(pixels, (fingerprint.detail_width, fingerprint.detail_height))
    return Side(
        version.bytes_key,
        version.width,
        version.height,
        version.format,
        fingerprint.mode,
        fingerprint,
        rendition,
        content,
        detail,
        fingerprint.detail_box,
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


def edges_ensure(pairs: Iterable[tuple[int, int]], *, claimant: int | None = None) -> None:
    """Verify the pairs that have no edge yet and store them.

    With a `claimant` (the version being processed) each pair is claimed first and verified only by the worker
    whose claim won, so two workers never verify one pair; the other leaves it to the winner, which groups
    its component after writing the edge. Runs outside any transaction: claims and edges commit at once.
    """
    pairs = {(min(a, b), max(a, b)) for a, b in pairs if a != b}
    if not pairs:
        return
    missing = sorted(pairs - edges_known(pairs))
    if claimant is not None:
        missing = pairs_claim(missing, claimant=claimant)
    if not missing:
        return
    prints = fingerprints_of({v for pair in missing for v in pair})
    edges = [edge_compare(prints[a], prints[b]) for a, b in missing if a in prints and b in prints]
    MatchEdge.objects.bulk_create(edges, ignore_conflicts=True)


def edges_known(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    known = MatchEdge.objects.filter(
        version_a_id__in={a for a, _ in pairs}, version_b_id__in={b for _, b in pairs}
    ).values_list("version_a_id", "version_b_id")
    return pairs & set(known)


def pairs_claim(pairs: list[tuple[int, int]], *, claimant: int) -> list[tuple[int, int]]:
    """The pairs this run may verify: claimed now, or claimed earlier by a run that is gone and left no edge."""
    if not pairs:
        return []
    PairClaim.objects.bulk_create(
        [PairClaim(version_a_id=a, version_b_id=b, claimed_by_id=claimant) for a, b in pairs], ignore_conflicts=True
    )
    wanted = Q(version_a_id__in={a for a, _ in pairs}, version_b_id__in={b for _, b in pairs})
    edge = MatchEdge.objects.filter(version_a_id=OuterRef("version_a_id"), version_b_id=OuterRef("version_b_id"))
    # A claimant no longer being processed finished (its edges are written) or died before writing them.
    stale = ~Q(claimed_by_id=claimant) & ~Q(claimed_by__status=Version.Status.PROCESSING)
    PairClaim.objects.filter(wanted, stale, ~Exists(edge)).update(claimed_by_id=claimant, claimed_at=timezone.now())
    mine = set(PairClaim.objects.filter(wanted, claimed_by_id=claimant).values_list("version_a_id", "version_b_id"))
    return [pair for pair in pairs if pair in mine]


@dataclass
class Graph:
    """Verified edges and curators' not-duplicate decisions among a set of versions."""

    duplicates: dict[tuple[int, int], MatchEdge] = field(default_factory=dict)
    rejected: set[tuple[int, int]] = field(default_factory=set)
    unaligned: set[tuple[int, int]] = field(default_factory=set)  # refused without being aligned
    refused: dict[tuple[int, int], MatchEdge] = field(default_factory=dict)  # refused once lined up
    # Every pair with an edge; None means all pairs were verified. A pair never verified has no say.
    checked: set[tuple[int, int]] | None = None

    def same_picture(self, a: int, b: int) -> bool:
        key = (min(a, b), max(a, b))
        return key in self.duplicates and key not in self.rejected

    def undecided(self, a: int, b: int) -> bool:
        key = (min(a, b), max(a, b))
        return key in self.unaligned or (self.checked is not None and key not in self.checked)

    def explained(self, node: int, member: int, anchor: int) -> bool:
        """node and member refused each other only for their own edits against the anchor (`refusal_explained`):
        a stamp on one copy and a caption on another of the same page."""
        refusal = self.refused.get((min(node, member), max(node, member)))
        to_node, to_member = (self.duplicates.get((min(anchor, v), max(anchor, v))) for v in (node, member))
        if refusal is None or to_node is None or to_member is None:
            return False
        return refusal_explained(
            refusal.evidence,
            0 if refusal.version_a_id == node else 1,
            (to_node.evidence, 0 if to_node.version_a_id == anchor else 1),
            (to_member.evidence, 0 if to_member.version_a_id == anchor else 1),
        )


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
    graph = Graph(rejected=rejected, checked=set())
    for edge in edges:
        key = (edge.version_a_id, edge.version_b_id)
        graph.checked.add(key)
        if edge.is_duplicate:
            graph.duplicates[key] = edge
        elif unaligned(edge):
            graph.unaligned.add(key)
        else:
            graph.refused[key] = edge
    return graph
