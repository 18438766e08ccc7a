"""Clusters kept in step with the verified edges: a finished version joins, and groups are recomputed."""

from collections import Counter

from django.db import connection, transaction

from collections_app.models import Version
from dedup.imaging.grouping import anchored_linkage
from dedup.matching.candidates import candidates_for
from dedup.matching.edges import Graph, component_of, edges_ensure, graph_of
from dedup.models import Cluster, ClusterMember, Fingerprint

MATCH_LOCK_KEY = 0x6475706D  # "dupm": one advisory lock serialises cluster updates across hosts


def match_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MATCH_LOCK_KEY])


def version_match(*, version_id: int) -> None:
    """Add a freshly fingerprinted version to the clusters; safe to run twice and from several workers."""
    fingerprint = Fingerprint.objects.select_related("version").filter(version_id=version_id).first()
    if fingerprint is None or fingerprint.version.status == Version.Status.FAILED:
        return
    # Each worker searches after committing its own fingerprint, so of two copies finishing together
    # the later commit always sees the earlier one: no candidate pair is missed.
    edges_ensure((version_id, other) for other in candidates_for(fingerprint=fingerprint))
    with transaction.atomic():
        match_lock()
        component = component_of(version_id)
        edges_ensure((a, b) for a in component for b in component if a < b)
        graph = graph_of(component)
        groups = anchored_linkage(sorted(component), graph.same_picture, graph.undecided)
        clusters_sync(groups=groups, graph=graph, scope=component)


def _member_fields(version_id: int, group: list[int], graph: Graph) -> tuple[str, float, dict]:
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
def clusters_sync(*, groups: list[list[int]], graph: Graph, scope: set[int]) -> None:
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


def _cluster_set_members(cluster_id: int, group: list[int], graph: Graph, current: dict[int, int]) -> None:
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
