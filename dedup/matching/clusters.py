"""Clusters kept in step with the verified edges: a finished version joins, and groups are recomputed."""

from collections import Counter
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce

from collections_app.models import Version
from dedup.imaging.grouping import anchored_linkage
from dedup.matching.candidates import candidates_for
from dedup.matching.edges import Graph, component_of, edges_ensure, graph_of
from dedup.models import KIND_FLAGS, Cluster, ClusterMember, Fingerprint

# "dupm": rebuild_clusters takes it exclusively; matching takes it shared, so workers never wait on each other
# for it, only on a rebuild.
MATCH_LOCK_KEY = 0x6475706D
# "dupc" + version id: one transaction-scoped advisory lock per member of the component being regrouped.
COMPONENT_LOCK_BASE = 0x64757063 << 32
# Regrouping retries when the component grew between reading it and locking it (another worker joined it).
COMPONENT_LOCK_ATTEMPTS = 8


def match_lock(*, exclusive: bool = False) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            cursor.execute(f"SELECT {function}(%s)", [MATCH_LOCK_KEY])


def component_lock(version_ids: Iterable[int]) -> None:
    """Lock the versions a regrouping changes, lowest id first, so two regroupings that share one wait."""
    if connection.vendor != "postgresql":  # SQLite: IMMEDIATE transactions already serialise writers
        return
    keys = sorted({COMPONENT_LOCK_BASE | v for v in version_ids})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS s", [keys]
        )


def max_component() -> int:
    return settings.DUPFINDER_MAX_COMPONENT


def version_match(*, version_id: int) -> None:
    """Add a freshly fingerprinted version to the clusters; safe to run twice and from several workers.

    Each worker probes after committing its own fingerprint, so of two copies finishing together the later
    commit always sees the earlier one. Pairs are verified outside any lock, each by the worker that claimed
    it; then only the versions of the component are locked while it is regrouped.
    """
    fingerprint = Fingerprint.objects.select_related("version").filter(version_id=version_id).first()
    if fingerprint is None or fingerprint.version.status == Version.Status.FAILED:
        return
    edges_ensure(((version_id, other) for other in candidates_for(fingerprint=fingerprint)), claimant=version_id)
    component = _component_verified(version_id)
    for _attempt in range(COMPONENT_LOCK_ATTEMPTS):
        with transaction.atomic():
            match_lock()
            component_lock(component)
            current = component_of(version_id)
            if current <= component:
                _regroup(current)
                return
        # Another worker joined the component meanwhile: verify the newcomers outside the lock, then again.
        component = _component_verified(version_id)
    # Still growing after every attempt: regroup what is there now, its versions locked in one ordered step
    # (never one more lock while holding others, which could deadlock). The worker that grew it regroups after.
    with transaction.atomic():
        match_lock()
        component_lock(component_of(version_id))
        _regroup(component_of(version_id))


def _component_verified(version_id: int) -> set[int]:
    """The version's component with its missing pairs verified; a component past the size limit is held:
    its members are verified against a bounded sample (the earliest members), never all against all."""
    component = component_of(version_id)
    if len(component) <= max_component():
        edges_ensure(((a, b) for a in component for b in component if a < b), claimant=version_id)
    else:
        sample = sorted(component)[: settings.DUPFINDER_COMPONENT_SAMPLE]
        edges_ensure(((version_id, other) for other in sample), claimant=version_id)
    return component


def _regroup(component: set[int]) -> None:
    graph = graph_of(component)
    groups = anchored_linkage(sorted(component), graph.same_picture, graph.undecided, graph.explained)
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


def clusters_count_members(*, cluster_ids: Iterable[int]) -> None:
    """Store on each cluster its member count, which match kinds its members have and their first and latest
    upload, read from the members (one UPDATE); every change of memberships calls it for the clusters it
    touched."""
    members = ClusterMember.objects.filter(cluster=OuterRef("pk")).order_by()
    per_cluster = members.values("cluster")
    Cluster.objects.filter(pk__in=list(cluster_ids)).update(
        member_count=Coalesce(Subquery(per_cluster.annotate(n=Count("*")).values("n")), 0),
        first_uploaded_at=Subquery(per_cluster.annotate(t=Min("version__uploaded_at")).values("t")),
        last_uploaded_at=Subquery(per_cluster.annotate(t=Max("version__uploaded_at")).values("t")),
        **{flag: Exists(members.filter(kind=kind)) for kind, flag in KIND_FLAGS.items()},
    )


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
    clusters_count_members(cluster_ids=touched | used)


def _cluster_set_members(cluster_id: int, group: list[int], graph: Graph, current: dict[int, int]) -> None:
    """Write only what changed: new members in one insert, changed ones in one update, the cluster if touched."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
    left = ClusterMember.objects.filter(cluster=cluster).exclude(version_id__in=group).delete()[0]
    ClusterMember.objects.filter(version_id__in=group).exclude(cluster=cluster).delete()
    rows = {m.version_id: m for m in ClusterMember.objects.filter(cluster=cluster)}
    new, changed, scores = [], [], []
    for version_id in group:
        kind, score, evidence = _member_fields(version_id, group, graph)
        scores.append(score)
        row = rows.get(version_id)
        if row is None:
            new.append(ClusterMember(cluster=cluster, version_id=version_id, kind=kind, score=score, evidence=evidence))
        elif (row.kind, row.score, row.evidence) != (kind, score, evidence):
            row.kind, row.score, row.evidence = kind, score, evidence
            changed.append(row)
    ClusterMember.objects.bulk_create(new)
    if changed:
        ClusterMember.objects.bulk_update(changed, ["kind", "score", "evidence"])
    fields = ["confidence", "updated_at"]
    if cluster.status == Cluster.Status.RESOLVED and new:
        # A new copy of an image already resolved comes back to the queue as a duplicate to review.
        cluster.status = Cluster.Status.OPEN
        fields.append("status")
    if new or changed or left or cluster.confidence != min(scores):
        cluster.confidence = min(scores)
        cluster.save(update_fields=fields)
