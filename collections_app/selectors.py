"""Reads from the catalogue."""

from collections import Counter
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from collections_app.models import IngestBatch, Item, Version


def versions_status_counts(*, version_ids: Iterable[int]) -> Counter:
    ids = list(version_ids)
    counts: Counter = Counter()
    for start in range(0, len(ids), 5000):
        rows = Version.objects.filter(pk__in=ids[start : start + 5000]).values("status").annotate(n=Count("pk"))
        counts.update({row["status"]: row["n"] for row in rows})
    return counts


def failed_versions(*, version_ids: list[int]) -> list[tuple[str, str]]:
    return list(
        Version.objects.filter(pk__in=version_ids, status=Version.Status.FAILED)
        .order_by("original_path")
        .values_list("original_path", "error")
    )


def batch_with_counts(*, batch_id: int) -> IngestBatch:
    status = Version.Status
    return (
        IngestBatch.objects.select_related("source", "created_by")
        .annotate(
            total=Count("versions"),
            done=Count("versions", filter=Q(versions__status=status.DONE)),
            failed=Count("versions", filter=Q(versions__status=status.FAILED)),
            waiting=Count("versions", filter=Q(versions__status__in=[status.PENDING, status.PROCESSING])),
        )
        .get(pk=batch_id)
    )


def batch_versions(*, batch: IngestBatch) -> QuerySet[Version]:
    return batch.versions.select_related("item", "source", "fingerprint").order_by("pk")


def item_with_versions(*, item_id: int) -> Item:
    return Item.objects.prefetch_related("versions__source", "versions__uploader", "versions__fingerprint").get(
        pk=item_id
    )


def catalogue_counts() -> dict[str, int]:
    by_status = dict(Version.objects.values_list("status").annotate(n=Count("pk")))
    return {
        "items": Item.objects.count(),
        "versions": sum(by_status.values()),
        **{str(k): by_status.get(k, 0) for k in Version.Status.values},
    }
