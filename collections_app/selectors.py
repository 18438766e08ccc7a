"""Reads from the catalogue."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from collections_app.audit import event_digest
from collections_app.models import AuditEvent, AuthorityRequest, IngestBatch, Item, Version
from dedup.models import Cluster, ClusterMember
from dedup.review.selectors import cluster_token
from dedup.review.services import cluster_last_undoable


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
    return batches_with_counts().get(pk=batch_id)


def batch_versions(*, batch: IngestBatch) -> QuerySet[Version]:
    # In folder order: files arrive a few at a time, so arrival order is only roughly the folder's.
    return batch.versions.select_related("item", "source", "fingerprint").order_by("original_path", "pk")


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


def item_related_ids(*, item: Item) -> set[int]:
    """The item and every item merged into it (their identifiers redirect here)."""
    return {item.pk, *Item.objects.filter(merged_into=item).values_list("pk", flat=True)}


def item_audit_events(*, item: Item) -> QuerySet[AuditEvent]:
    """Events about the item, items merged into it, its versions, and clusters its versions were merged in."""
    item_ids = [str(pk) for pk in item_related_ids(item=item)]
    version_ids = [str(pk) for pk in Version.objects.filter(item=item).values_list("pk", flat=True)]
    merges = AuditEvent.objects.filter(
        target_type="dedup.cluster", action="cluster.merge", after__items__has_any_keys=item_ids
    ).values_list("target_id", flat=True)
    members = ClusterMember.objects.filter(version__item=item).values_list("cluster_id", flat=True)
    cluster_ids = {*merges, *(str(pk) for pk in members)}
    return AuditEvent.objects.filter(
        Q(target_type="collections_app.item", target_id__in=item_ids)
        | Q(target_type="collections_app.version", target_id__in=version_ids)
        | Q(target_type="dedup.cluster", target_id__in=cluster_ids)
    ).order_by("created_at", "pk")


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


def item_pending_request(*, item: Item) -> AuthorityRequest | None:
    return (
        AuthorityRequest.objects.select_related("version", "requested_by")
        .filter(item=item, status=AuthorityRequest.Status.PENDING)
        .first()
    )


@dataclass(frozen=True)
class ItemRecord:
    """Everything the item page shows a records officer."""

    item: Item
    merged_items: list[Item]
    merges: list[AuditEvent]
    authority_changes: list[AuditEvent]
    trail: list[AuditEvent]
    pending: AuthorityRequest | None
    # Each merge with the cluster's current token when it is still the cluster's latest undoable step, else None.
    merge_rows: list[tuple[AuditEvent, str | None]]


def item_record(*, item: Item) -> ItemRecord:
    trail = list(item_audit_events(item=item))
    return ItemRecord(
        item=item,
        merged_items=list(Item.objects.filter(merged_into=item).order_by("identifier")),
        merges=[e for e in trail if e.action == "cluster.merge"],
        authority_changes=[e for e in trail if e.action == "item.mark_authoritative"],
        trail=trail,
        pending=item_pending_request(item=item),
        merge_rows=_merge_rows([e for e in trail if e.action == "cluster.merge"]),
    )


def _merge_rows(merges: list[AuditEvent]) -> list[tuple[AuditEvent, str | None]]:
    """Merges with an undo token where they can still be undone from the item's history."""
    clusters = Cluster.objects.in_bulk([int(e.target_id) for e in merges])
    rows = []
    for event in merges:
        cluster = clusters.get(int(event.target_id))
        latest = cluster and cluster_last_undoable(cluster_id=cluster.pk)
        rows.append((event, cluster_token(cluster) if latest and latest.pk == event.pk else None))
    return rows


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
        by_sha.setdefault(version.sha256, []).append(version)
    earlier = (
        Version.objects.filter(sha256__in=list(by_sha), status=Version.Status.DONE)
        .select_related("item", "uploader", "source")
        .order_by("pk")
    )
    found: dict[int, Version] = {}
    for other in earlier:
        for version in by_sha[other.sha256]:
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
