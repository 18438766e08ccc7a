"""The audit trail as a PREMIS 3 event log: each audit event a PREMIS event, with its objects and agents.

Written a piece at a time (lxml's incremental writer), so a log for a long date range never holds all its
events in memory. Event types come from the Library of Congress preservation vocabulary where it has one
(ingestion, message digest calculation, fixity check, quarantine, ...); decisions it has no word for
(deduplication decision, authoritative choice) use this application's own terms, marked with its authority.
"""

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from lxml import etree

from collections_app.dublin_core import xml_safe
from collections_app.models import AuditEvent, Item, Version
from collections_app.templatetags.audit_labels import ACTION_LABELS
from dedup.imaging.formats import MEDIA_TYPES

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# The audit event itself (action code, hashes, state before and after) rides along in an extension.
AUDIT_NS = "urn:x-dupfinder:audit:1"
LOC_EVENT_TYPES = "http://id.loc.gov/vocabulary/preservation/eventType"
LOCAL_AUTHORITY = "dupfinder"

ITEM_ID_TYPE = "local item identifier"
VERSION_ID_TYPE = "local version number"
EVENT_ID_TYPE = "local audit event number"
USER_ID_TYPE = "local user name"
SOFTWARE_ID_TYPE = "software"
SOFTWARE_ID = "dupfinder"
SOFTWARE_NAME = "Collections duplicate finder"
CHUNK = 2000


@dataclass(frozen=True)
class EventKind:
    event_type: str
    from_loc: bool  # a term of the Library of Congress eventType vocabulary


DEDUPLICATION = EventKind("deduplication decision", False)
EVENT_KINDS: dict[str, EventKind] = {
    "version.ingest": EventKind("ingestion", True),
    "version.fixity_check": EventKind("fixity check", True),
    "version.reclaim": EventKind("quarantine", True),
    "version.restore": EventKind("unquarantine", True),
    "version.purge": EventKind("deletion", True),
    "version.retry": EventKind("processing restart", False),
    "version.legal_hold": EventKind("legal hold placement", False),
    "version.legal_hold_lift": EventKind("legal hold removal", False),
    "item.sidecar_import": EventKind("metadata modification", True),
    "item.mark_authoritative": EventKind("authoritative choice", False),
    "item.authority_request": EventKind("authoritative choice request", False),
    "item.authority_reject": EventKind("authoritative choice rejection", False),
    "cluster.merge": DEDUPLICATION,
    "cluster.split": DEDUPLICATION,
    "cluster.dismiss": DEDUPLICATION,
    "cluster.undo": DEDUPLICATION,
    "pair.not_duplicate": DEDUPLICATION,
    "cluster.skip": EventKind("review deferral", False),
}
DIGEST = EventKind("message digest calculation", True)
# Outcomes other than plain success, by action; a fixity check's outcome is read from the event.
OUTCOMES = {"item.authority_request": "pending approval", "item.authority_reject": "rejected"}
FIXITY_OUTCOMES = {"ok": "success"}


def _el(parent: etree._Element, name: str, text: Any = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{PREMIS_NS}}}{name}", attrs)
    if text is not None:
        element.text = xml_safe(str(text))
    return element


def _identifier(parent: etree._Element, prefix: str, kind: str, value: Any) -> etree._Element:
    holder = _el(parent, prefix)
    _el(holder, f"{prefix}Type", kind)
    _el(holder, f"{prefix}Value", value)
    return holder


# --- which objects an event is about ----------------------------------------------------------------------


def _version_ids(state: Any) -> set[int]:
    """Version numbers named in an event's before/after state (merge, split, pair and authority states)."""
    if not isinstance(state, dict):
        return set()
    ids: set[int] = set()
    for member in state.get("members", []) or []:
        value = member.get("version") if isinstance(member, dict) else member
        if isinstance(value, int):
            ids.add(value)
    versions = state.get("versions")
    if isinstance(versions, dict):
        ids |= {int(pk) for pk in versions if str(pk).isdigit()}
    elif isinstance(versions, list):
        ids |= {v for v in versions if isinstance(v, int)}
    for key in ("authoritative_version", "requested_version"):  # a version's state, or its number
        chosen = state.get(key)
        if isinstance(chosen, dict):
            chosen = chosen.get("id")
        if isinstance(chosen, int):
            ids.add(chosen)
    return ids


def _item_ids(state: Any) -> set[int]:
    items = state.get("items") if isinstance(state, dict) else None
    return {int(pk) for pk in items if str(pk).isdigit()} if isinstance(items, dict) else set()


@dataclass(frozen=True)
class Links:
    """The objects one event touched: (version number, role) and (item pk, role)."""

    versions: tuple[tuple[int, str], ...]
    items: tuple[tuple[int, str], ...]


def event_links(event: AuditEvent) -> Links:
    versions: dict[int, str] = {}
    items: dict[int, str] = {}
    if event.target_type == "collections_app.version" and event.target_id.isdigit():
        versions[int(event.target_id)] = "outcome" if event.action == "version.ingest" else "source"
    if event.target_type == "collections_app.item" and event.target_id.isdigit():
        items[int(event.target_id)] = "source"
    for pk in _version_ids(event.before):
        versions.setdefault(pk, "source")
    for pk in _version_ids(event.after):
        versions.setdefault(pk, "outcome")
    for pk in _item_ids(event.before) | _item_ids(event.after):
        items.setdefault(pk, "intervening")
    return Links(tuple(sorted(versions.items())), tuple(sorted(items.items())))


# --- the three kinds of PREMIS entity ---------------------------------------------------------------------


def _item_object(item: Item) -> etree._Element:
    obj = etree.Element(f"{{{PREMIS_NS}}}object", {f"{{{XSI_NS}}}type": "intellectualEntity"}, nsmap=_NSMAP)
    _identifier(obj, "objectIdentifier", ITEM_ID_TYPE, item.identifier)
    if item.title or item.title_zh:
        _el(obj, "originalName", item.title or item.title_zh)
    return obj


def _version_object(version: Version) -> etree._Element:
    obj = etree.Element(f"{{{PREMIS_NS}}}object", {f"{{{XSI_NS}}}type": "file"}, nsmap=_NSMAP)
    _identifier(obj, "objectIdentifier", VERSION_ID_TYPE, version.pk)
    characteristics = _el(obj, "objectCharacteristics")
    _el(characteristics, "compositionLevel", 0)
    fixity = _el(characteristics, "fixity")
    _el(fixity, "messageDigestAlgorithm", "SHA-256")
    _el(fixity, "messageDigest", version.sha256)
    _el(fixity, "messageDigestOriginator", SOFTWARE_ID)
    _el(characteristics, "size", version.byte_size)
    designation = _el(_el(characteristics, "format"), "formatDesignation")
    _el(designation, "formatName", MEDIA_TYPES.get(version.format, version.format or "application/octet-stream"))
    _el(obj, "originalName", version.original_path or version.original_filename)
    relationship = _el(obj, "relationship")
    _el(relationship, "relationshipType", "structural")
    _el(relationship, "relationshipSubType", "is included in")
    _identifier(relationship, "relatedObjectIdentifier", ITEM_ID_TYPE, version.item.identifier)
    return obj


def _outcome(event: AuditEvent) -> tuple[str, str]:
    """The PREMIS outcome word and a note for it."""
    if event.action == "version.fixity_check":
        found = event.after.get("outcome", "")
        note = f"{found}: expected SHA-256 {event.after.get('expected', '')}, found {event.after.get('found') or '-'}"
        return FIXITY_OUTCOMES.get(found, "failure"), note
    return OUTCOMES.get(event.action, "success"), ""


def _event_element(
    event: AuditEvent, kind: EventKind, links: Links, identifiers: dict[int, str], *, suffix: str = ""
) -> etree._Element:
    element = etree.Element(f"{{{PREMIS_NS}}}event", nsmap=_NSMAP)
    _identifier(element, "eventIdentifier", EVENT_ID_TYPE, f"{event.pk}{suffix}")
    authority = {"authority": "eventType", "authorityURI": LOC_EVENT_TYPES} if kind.from_loc else {}
    _el(element, "eventType", kind.event_type, **(authority or {"authority": LOCAL_AUTHORITY}))
    _el(element, "eventDateTime", event.created_at.astimezone(UTC).isoformat(timespec="seconds"))
    detail = _el(element, "eventDetailInformation")
    _el(detail, "eventDetail", ACTION_LABELS.get(event.action, event.action))
    _audit_extension(_el(detail, "eventDetailExtension"), event)
    if event.reason:
        _el(_el(element, "eventDetailInformation"), "eventDetail", event.reason)
    outcome, note = _outcome(event)
    if suffix:  # the digest computed at ingest
        outcome, note = "success", f"SHA-256 {event.after.get('sha256', '')}"
    information = _el(element, "eventOutcomeInformation")
    _el(information, "eventOutcome", outcome)
    if note:
        _el(_el(information, "eventOutcomeDetail"), "eventOutcomeDetailNote", note)
    agent = _el(element, "linkingAgentIdentifier")
    _el(agent, "linkingAgentIdentifierType", SOFTWARE_ID_TYPE)
    _el(agent, "linkingAgentIdentifierValue", SOFTWARE_ID)
    _el(agent, "linkingAgentRole", "executing program")
    if event.actor_id:
        person = _el(element, "linkingAgentIdentifier")
        _el(person, "linkingAgentIdentifierType", USER_ID_TYPE)
        _el(person, "linkingAgentIdentifierValue", event.actor_label)
        _el(person, "linkingAgentRole", "implementer")
    for pk, role in links.items:
        if pk in identifiers:
            _linking_object(element, ITEM_ID_TYPE, identifiers[pk], role)
    for pk, role in links.versions:
        _linking_object(element, VERSION_ID_TYPE, pk, role)
    return element


def _linking_object(parent: etree._Element, kind: str, value: Any, role: str) -> None:
    link = _el(parent, "linkingObjectIdentifier")
    _el(link, "linkingObjectIdentifierType", kind)
    _el(link, "linkingObjectIdentifierValue", value)
    _el(link, "linkingObjectRole", role)


def _audit_extension(parent: etree._Element, event: AuditEvent) -> None:
    audit = etree.SubElement(
        parent,
        f"{{{AUDIT_NS}}}auditEvent",
        {
            "action": event.action,
            "target": f"{event.target_type}:{event.target_id}",
            "entryHash": event.entry_hash,
            "previousHash": event.previous_hash,
        },
    )
    for name in ("before", "after"):
        # ASCII escapes keep any control character a reason held inside valid XML.
        etree.SubElement(audit, f"{{{AUDIT_NS}}}{name}").text = json.dumps(getattr(event, name), sort_keys=True)


def _agent_element(*, identifier_type: str, value: str, name: str, agent_type: str) -> etree._Element:
    agent = etree.Element(f"{{{PREMIS_NS}}}agent", nsmap=_NSMAP)
    _identifier(agent, "agentIdentifier", identifier_type, value)
    _el(agent, "agentName", name)
    _el(agent, "agentType", agent_type)
    return agent


_NSMAP = {None: PREMIS_NS, "xsi": XSI_NS, "audit": AUDIT_NS}


# --- the document ---------------------------------------------------------------------------------------


class _Chunks:
    """A write target that hands back what was written since the last look."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def write(self, data: bytes) -> None:
        self.buffer.write(data)

    def take(self) -> bytes:
        data = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return data


def _objects(events: QuerySet[AuditEvent], extra_items: Iterable[int], extra_versions: Iterable[int]):
    item_ids, version_ids = set(extra_items), set(extra_versions)
    for event in events.only("target_type", "target_id", "action", "before", "after").iterator(chunk_size=CHUNK):
        links = event_links(event)
        item_ids |= {pk for pk, _role in links.items}
        version_ids |= {pk for pk, _role in links.versions}
    versions = Version.objects.filter(pk__in=version_ids).select_related("item").order_by("pk")
    item_ids |= set(versions.values_list("item_id", flat=True))
    return Item.objects.filter(pk__in=item_ids).order_by("pk"), versions


class EmptyLog(Exception):
    """No event in the selection touched an item or a version, and PREMIS needs at least one object."""


def premis_chunks(
    events: QuerySet[AuditEvent], *, items: Iterable[int] = (), versions: Iterable[int] = ()
) -> Iterator[bytes]:
    """A PREMIS 3 document, in pieces: the items and versions the events touch, the events, their agents.

    `items` and `versions` add objects that must appear even without an event (an item's own log).
    Raises EmptyLog at once (not when the pieces are read) if there is no object to describe.
    """
    events = events.order_by("created_at", "pk")
    item_rows, version_rows = _objects(events, items, versions)
    if not item_rows.exists():
        raise EmptyLog
    return _document(events, item_rows, version_rows)


def _document(events: QuerySet[AuditEvent], item_rows: QuerySet[Item], version_rows: QuerySet[Version]):
    out = _Chunks()
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{PREMIS_NS}}}premis", {"version": "3.0"}, nsmap=_NSMAP):
            identifiers: dict[int, str] = {}
            for item in item_rows.iterator(chunk_size=CHUNK):
                identifiers[item.pk] = item.identifier
                xf.write(_item_object(item), pretty_print=True)
            yield out.take()
            for version in version_rows.iterator(chunk_size=CHUNK):
                xf.write(_version_object(version), pretty_print=True)
            yield out.take()
            people: dict[str, None] = {}
            for event in events.iterator(chunk_size=CHUNK):
                links = event_links(event)
                kind = EVENT_KINDS.get(event.action, _local(event.action))
                xf.write(_event_element(event, kind, links, identifiers), pretty_print=True)
                if event.action == "version.ingest" and event.after.get("sha256"):
                    xf.write(_event_element(event, DIGEST, links, identifiers, suffix="-digest"), pretty_print=True)
                if event.actor_id:
                    people.setdefault(event.actor_label)
                yield out.take()
            software = _agent_element(
                identifier_type=SOFTWARE_ID_TYPE, value=SOFTWARE_ID, name=SOFTWARE_NAME, agent_type="software"
            )
            xf.write(software, pretty_print=True)
            for label in people:
                person = _agent_element(identifier_type=USER_ID_TYPE, value=label, name=label, agent_type="person")
                xf.write(person, pretty_print=True)
    yield out.take()


def _local(action: str) -> EventKind:
    return EventKind(action, False)


def item_premis(*, item: Item, events: QuerySet[AuditEvent]) -> Iterator[bytes]:
    """An item's log: the item, every version it holds, and every event of its audit trail."""
    version_ids = list(Version.objects.filter(item=item).values_list("pk", flat=True))
    return premis_chunks(events, items=[item.pk], versions=version_ids)


def range_premis(*, first: date, last: date) -> Iterator[bytes]:
    """Every event from the start of day `first` to the end of day `last` (local time), with what they touched."""
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), zone)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), zone)
    return premis_chunks(AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end))
