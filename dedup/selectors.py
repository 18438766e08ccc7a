"""Reads for duplicate detection."""

from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery

from dedup.models import Cluster, ClusterMember, ClusterSkip


def clusters_export() -> list[dict]:
    """Clusters with two or more members, in the stable shape `export_clusters` writes."""
    members = ClusterMember.objects.select_related("version__item").order_by("version_id")
    clusters = Cluster.objects.prefetch_related(Prefetch("members", queryset=members)).order_by("pk")
    result = []
    for cluster in clusters:
        rows = list(cluster.members.all())
        if len(rows) < 2:
            continue
        resolved = cluster.status == Cluster.Status.RESOLVED
        result.append(
            {
                "id": cluster.pk,
                "status": cluster.status,
                "members": [
                    {
                        "version_id": m.version_id,
                        "original_path": m.version.original_path,
                        "kind": m.kind,
                        "score": m.score,
                        "authoritative": resolved and m.version.item.authoritative_version_id == m.version_id,
                    }
                    for m in rows
                ],
            }
        )
    return result


def clusters_listed(*, user: Any) -> QuerySet[Cluster]:
    """The review queue as the API lists it, in a fixed number of queries whatever the page size: members
    carry every field the API shows (none loaded one by one later), and the size is counted per listed
    cluster by a subquery, which a COUNT of the page leaves out, instead of grouping every member first."""
    members = ClusterMember.objects.only("cluster_id", "version_id", "kind", "score", "added_at")
    size = ClusterMember.objects.filter(cluster=OuterRef("pk")).values("cluster").annotate(n=Count("*")).values("n")
    return (
        Cluster.objects.annotate(
            size=Subquery(size), skipped=Exists(ClusterSkip.objects.filter(cluster=OuterRef("pk"), user=user))
        )
        .prefetch_related(Prefetch("members", queryset=members.order_by("version_id")))
        .order_by("-confidence", "pk")
    )
