"""Reads from the catalogue."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from collections_app.audit import event_digest
from collections_app.models import AuditEvent, IngestBatch, Item, Version


def versions_status_counts(*, version_ids: Iterable[int]) -> Counter:
    ids = list(version_ids)
    counts: Counter = Counter()
    for start in range(0, len(ids), 5000):
        rows = Version.objects.filter(pk__in=ids[start : start + 5000]).values("status").annotate(n=Count("pk"))
        counts.update({row["status"]: row["n"] for row in rows})
    return counts


def failed_versions(*, version_ids: list[int]) -> list[tuple[str, str]]:
    """(original path, why it failed in the active language) of the failed versions among these."""
    failed = Version.objects.filter(pk__in=version_ids, status=Version.Status.FAILED).order_by("original_path")
    return [(v.original_path, v.error_text) for v in failed.only("original_path", "error_code", "error_params")]


def batch_with_counts(*, batch_id: int) -> IngestBatch:
    return batches_with_counts().get(pk=batch_id)


def batch_versions(*, batch: IngestBatch) -> QuerySet[Version]:
    # In folder order: files arrive a few at a time, so arrival order is only roughly the folder's.
    return batch.versions.select_related("item", "source", "fingerprint").order_by("original_path", "pk")


def item_with_versions(*, item_id: int) -> Item:
    return Item.objects.prefetch_related(
        "versions__source", "versions__uploader", "versions__fingerprint", "versions__imported_metadata"
    ).get(pk=item_id)


def catalogue_counts() -> dict[str, int]:
    by_status = dict(Version.objects.values_list("status").annotate(n=Count("pk")))
    return {
        "items": Item.objects.count(),
        "versions": sum(by_status.values()),
        **{str(k): by_status.get(k, 0) for k in Version.Status.values},
    }


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the audit trail's hash chain from the first event."""

    checked: int
    head_hash: str
    broken_at: int | None = None  # id of the first event that does not fit the chain
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def audit_chain_verify() -> ChainReport:
    """Recompute every event's hash in id order; the first mismatch is where history was changed."""
    previous, checked = "", 0
    for event in AuditEvent.objects.order_by("pk").iterator(chunk_size=2000):
        if event.previous_hash != previous:
            return ChainReport(checked, previous, event.pk, "previous_hash")
        if event_digest(event, previous) != event.entry_hash:
            return ChainReport(checked, previous, event.pk, "entry_hash")
        previous, checked = event.entry_hash, checked + 1
    return ChainReport(checked, previous)


def item_by_identifier(*, identifier: str) -> Item:
    """The item with this identifier or accession number, followed to the item it was merged into."""
    return item_surviving(item=Item.objects.get(identifier=identifier.strip()))


def item_surviving(*, item: Item) -> Item:
    """The item this one was merged into, followed to the end of the chain (itself if never merged)."""
    seen = {item.pk}
    while item.merged_into_id and item.merged_into_id not in seen:
        seen.add(item.merged_into_id)
        item = Item.objects.get(pk=item.merged_into_id)
    return item


def batches_with_counts() -> QuerySet[IngestBatch]:
    """Every batch with its counts of versions by status (one query a page)."""
    status = Version.Status
    return (
        IngestBatch.objects.select_related("source", "created_by")
        .annotate(
            total=Count("versions"),
            done=Count("versions", filter=Q(versions__status=status.DONE)),
            failed=Count("versions", filter=Q(versions__status=status.FAILED)),
            waiting=Count("versions", filter=Q(versions__status__in=[status.PENDING, status.PROCESSING])),
        )
        .order_by("-created_at", "-pk")
    )


def versions_already_in_collection(*, versions: Iterable[Version]) -> dict[int, Version]:
    """For each version, the earliest other processed version with the same bytes (sha256), with its uploader."""
    by_sha: dict[str, list[Version]] = {}
    for version in versions:
        by_sha.setdefault(version.bytes_key, []).append(version)  # a page of a PDF: the same page of the same file
    earlier = (
        Version.objects.filter(sha256__in=[key.partition("#")[0] for key in by_sha], status=Version.Status.DONE)
        .select_related("item", "uploader", "source")
        .order_by("pk")
    )
    found: dict[int, Version] = {}
    for other in earlier:
        for version in by_sha.get(other.bytes_key, []):
            if other.pk < version.pk and version.pk not in found:
                found[version.pk] = other
    return found


def batch_skipped_rows(*, batch: IngestBatch) -> list[tuple[dict, Version | None]]:
    """The batch's refusals, each with the stored version it names (a file sent before), uploader included."""
    ids = [row["version"] for row in batch.skipped if row.get("version")]
    stored = Version.objects.select_related("item", "uploader", "source").in_bulk(ids)
    return [(row, stored.get(row.get("version"))) for row in batch.skipped]


def batch_sidecar_rows(*, batch: IngestBatch) -> QuerySet:
    return batch.sidecar_rows.order_by("line", "pk")


# Held by the administrator role alone (collections_app/roles.py), and by superusers.
ADD_TO_ANY_BATCH_PERMISSION = "collections_app.change_version"


def batch_open_to(*, batch: IngestBatch, user: Any) -> bool:
    """Whether `user` may add files or a sidecar CSV to `batch`: whoever started it, or an administrator."""
    if not getattr(user, "is_authenticated", False):
        return False
    return batch.created_by_id == user.pk or user.has_perm(ADD_TO_ANY_BATCH_PERMISSION)


def items_for_catalogue() -> QuerySet[Item]:
    """Items not merged away, each with its number of versions and the version whose thumbnail stands for it.

    That version is the authoritative one once it is processed, else the first processed one. Both come as
    subqueries of the one query that reads the page, so a page costs the same few queries however long it is.
    """
    versions = Version.objects.filter(item=OuterRef("pk")).order_by()
    done = versions.filter(status=Version.Status.DONE)
    return (
        Item.objects.filter(merged_into__isnull=True)
        .annotate(
            version_count=Coalesce(
                Subquery(versions.values("item").annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
                0,
            ),
            shown_version_id=Coalesce(
                Subquery(done.filter(pk=OuterRef("authoritative_version_id")).values("pk")),
                Subquery(done.order_by("pk").values("pk")[:1]),
            ),
        )
        .order_by("-created_at", "-pk")
    )


def versions_for_catalogue() -> QuerySet[Version]:
    """Every version with its item and source, newest first."""
    return Version.objects.select_related("item", "source").order_by("-uploaded_at", "-pk")
