"""Reads for duplicate detection."""

from django.db.models import Prefetch

from dedup.models import Cluster, ClusterMember


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
