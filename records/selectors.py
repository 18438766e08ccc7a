"""Reads for records officers: an item's audit trail with the clusters its versions were merged in."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from collections_app.models import AuditEvent, AuthorityRequest, Item, Version
from dedup.models import Cluster, ClusterMember
from dedup.review.selectors import cluster_token, clusters_last_undoable


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
    # Each merge with the cluster's current token when it is still the cluster's latest undoable step (else
    # None), and the event that undid it (else None).
    merge_rows: list[tuple[AuditEvent, str | None, AuditEvent | None]]


def item_record(*, item: Item) -> ItemRecord:
    trail = list(item_audit_events(item=item))
    return ItemRecord(
        item=item,
        merged_items=list(Item.objects.filter(merged_into=item).order_by("identifier")),
        merges=[e for e in trail if e.action == "cluster.merge"],
        authority_changes=[e for e in trail if e.action == "item.mark_authoritative"],
        trail=trail,
        pending=item_pending_request(item=item),
        merge_rows=_merge_rows([e for e in trail if e.action == "cluster.merge"], trail),
    )


def _merge_rows(merges: list[AuditEvent], trail: list[AuditEvent]) -> list[tuple[AuditEvent, str | None, Any]]:
    """Merges with an undo token where they can still be undone from the item's history, and their undoing."""
    ids = [int(e.target_id) for e in merges]
    clusters, undoable = Cluster.objects.in_bulk(ids), clusters_last_undoable(cluster_ids=ids)
    undone_by = {e.after.get("undid"): e for e in trail if e.action == "cluster.undo"}
    rows = []
    for event in merges:
        cluster = clusters.get(int(event.target_id))
        latest = cluster and undoable.get(cluster.pk)
        token = cluster_token(cluster) if latest and latest.pk == event.pk else None
        rows.append((event, token, undone_by.get(event.pk)))
    return rows
