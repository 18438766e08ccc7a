"""The item page's audit trail in words: what each event is about, and what a merge changed, field by field."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from collections_app.models import AuditEvent, Item, Version
from dedup.review.selectors import MERGE_FIELDS

ITEM, VERSION, CLUSTER = "collections_app.item", "collections_app.version", "dedup.cluster"


def target_labels(*, events: Iterable[AuditEvent]) -> dict[tuple[str, str], str]:
    """("collections_app.version", "35") → "Version 35 of HKM-2026-0001", for every event's target (two queries)."""
    events = list(events)
    ids = {
        kind: {e.target_id for e in events if e.target_type == kind and e.target_id.isdigit()}
        for kind in (ITEM, VERSION)
    }
    versions = (
        Version.objects.select_related("item").only("pk", "item__identifier").in_bulk([int(i) for i in ids[VERSION]])
    )
    items = Item.objects.only("pk", "identifier").in_bulk([int(i) for i in ids[ITEM]])
    labels: dict[tuple[str, str], str] = {}
    for event in events:
        key = (event.target_type, event.target_id)
        labels[key] = _target_label(key, versions, items)
    return labels


def _target_label(key: tuple[str, str], versions: dict, items: dict) -> str:
    kind, pk = key
    if kind == VERSION and pk.isdigit() and int(pk) in versions:
        return _("Version %(id)s of %(identifier)s") % {"id": pk, "identifier": versions[int(pk)].item.identifier}
    if kind == ITEM and pk.isdigit() and int(pk) in items:
        return _("Item %(identifier)s") % {"identifier": items[int(pk)].identifier}
    if kind == CLUSTER:
        return _("Cluster %(id)s") % {"id": pk}
    if kind == "dedup.notduplicatepair":
        return _("Pair of versions %(id)s") % {"id": pk}
    if kind == VERSION:
        return _("Version %(id)s") % {"id": pk}
    return f"{kind}:{pk}"


@dataclass(frozen=True)
class FieldChange:
    """One value a merge changed: on which item, which field, and its value before and after."""

    item: str
    field: str
    before: Any
    after: Any


def _field_label(name: str) -> str:
    if name == "authoritative_version":
        return _("authoritative version")
    if name == "merged_into":
        return _("merged into")
    return str(Item._meta.get_field(name).verbose_name)


def _shown(name: str, value: Any, identifiers: dict[str, str]) -> Any:
    if value in (None, "", []):
        return "—"
    if name == "subjects" and isinstance(value, list):
        return "; ".join(map(str, value))
    if name == "authoritative_version":
        return _("version %(id)s") % {"id": value}
    if name == "merged_into":
        return identifiers.get(str(value), value)
    return value


def _touched(event: AuditEvent) -> list[str]:
    before, after = (event.before or {}).get("items", {}), (event.after or {}).get("items", {})
    return sorted({*before, *after}, key=lambda pk: int(pk) if str(pk).isdigit() else 0)


def merges_changes(*, events: Iterable[AuditEvent]) -> dict[int, list[FieldChange]]:
    """The curated values each merge changed on each item it touched, before and after, by event id; the
    items' identifiers are read in one query for them all."""
    events = list(events)
    wanted = {int(pk) for event in events for pk in _touched(event) if str(pk).isdigit()}
    rows = Item.objects.filter(pk__in=wanted).values_list("pk", "identifier")
    identifiers = {str(pk): identifier for pk, identifier in rows}
    return {event.pk: _changes(event, identifiers) for event in events}


def _changes(event: AuditEvent, identifiers: dict[str, str]) -> list[FieldChange]:
    before = (event.before or {}).get("items", {})
    after = (event.after or {}).get("items", {})
    changes = []
    for pk in _touched(event):
        old, new = before.get(pk, {}), after.get(pk, {})
        for name in (*MERGE_FIELDS, "authoritative_version", "merged_into"):
            if old.get(name) != new.get(name):
                changes.append(
                    FieldChange(
                        item=identifiers.get(pk, pk),
                        field=_field_label(name),
                        before=_shown(name, old.get(name), identifiers),
                        after=_shown(name, new.get(name), identifiers),
                    )
                )
    return changes
