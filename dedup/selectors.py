"""Reads for duplicate detection."""

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from collections_app.failures import failure_text
from collections_app.models import Version
from dedup.imaging.fingerprint import CONTRACT
from dedup.models import Cluster, ClusterMember, ClusterSkip, MatchEdge, NotDuplicatePair, RefingerprintRequest


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


def possible_pairs() -> QuerySet[MatchEdge]:
    """Pairs verification called possible duplicates (the same picture except one region that may be other
    content) that no curator has yet declared not duplicates; they never join a cluster by themselves.

    The decided pairs are left out by the database (NOT EXISTS), so a page is read from the partial index
    of waiting pairs whatever the number of decisions and rejected comparisons.
    """
    decided = NotDuplicatePair.objects.filter(version_a=OuterRef("version_a"), version_b=OuterRef("version_b"))
    return (
        MatchEdge.objects.filter(is_duplicate=False, evidence__possible=True)
        .filter(~Exists(decided))
        .select_related("version_a", "version_b")
        .order_by("version_a_id", "version_b_id")
    )


def possible_pairs_export() -> list[dict]:
    """Possible duplicates in the shape `export_clusters` writes under `possible`."""
    return [
        {
            "version_ids": [edge.version_a_id, edge.version_b_id],
            "original_paths": [edge.version_a.original_path, edge.version_b.original_path],
            "region": edge.evidence.get("region"),
            "compared": edge.evidence.get("compared"),
        }
        for edge in possible_pairs()
    ]


def clusters_listed(*, user: Any) -> QuerySet[Cluster]:
    """The review queue as the API lists it, in a fixed number of queries whatever the page size: members
    carry every field the API shows (none loaded one by one later); the size is the row's `member_count`
    (kept by clusters_count_members), never counted from the members."""
    members = ClusterMember.objects.only("cluster_id", "version_id", "kind", "score", "added_at")
    return (
        Cluster.objects.annotate(skipped=Exists(ClusterSkip.objects.filter(cluster=OuterRef("pk"), user=user)))
        .prefetch_related(Prefetch("members", queryset=members.order_by("version_id")))
        .order_by("-confidence", "pk")
    )


def _refingerprintable(*, everything: bool) -> QuerySet[Version]:
    done = Version.objects.filter(status=Version.Status.DONE, fingerprint__isnull=False)
    if everything:
        return done
    # Under an older contract, or kept by a run that could not read the file (or stopped before matching).
    return done.filter(Q(fingerprint__contract__lt=CONTRACT) | Q(refingerprint_request__error_code__gt=""))


def refingerprint_due(*, everything: bool = False) -> QuerySet[Version]:
    """Done versions to fingerprint again, lowest id first: those whose fingerprint is older than the core's
    CONTRACT or whose last refingerprint kept the old one; every done version with `everything`. A file moved to
    quarantine is left out (`refingerprint_in_quarantine`): only restoring it makes it readable again."""
    return _refingerprintable(everything=everything).filter(quarantined_at__isnull=True).order_by("pk")


def refingerprint_in_quarantine(*, everything: bool = False) -> int:
    return _refingerprintable(everything=everything).filter(quarantined_at__isnull=False).count()


def refingerprint_waiting(*, requested_at: datetime) -> int:
    """How many of the run that noted its requests at `requested_at` no worker has finished yet."""
    return RefingerprintRequest.objects.filter(requested_at=requested_at, error_code="").count()


def refingerprint_kept(*, requested_at: datetime) -> list[tuple[str, str]]:
    """(path, why, in the active language) of that run's versions that kept their old fingerprint."""
    kept = (
        RefingerprintRequest.objects.filter(requested_at=requested_at)
        .exclude(error_code="")
        .select_related("version")
        .order_by("version__original_path", "pk")
    )
    return [(str(r.version), failure_text(r.error_code, r.error_params)) for r in kept]
