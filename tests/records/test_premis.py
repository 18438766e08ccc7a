"""The audit trail as PREMIS 3: every kind of event, with agents, outcomes and linked objects, valid by the XSD."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from lxml import etree

import records
from collections_app.models import AuditEvent
from collections_app.services import audit_record
from records.fixity import version_check_fixity
from records.premis import EmptyLog, item_premis, range_premis
from records.selectors import item_audit_events
from records.services import item_mark_authoritative
from reports.services import version_reclaim, version_restore

pytestmark = pytest.mark.django_db

XSD = Path(records.__file__).parent / "schemas" / "premis-v3-0.xsd"
NS = {"p": "http://www.loc.gov/premis/v3", "a": "urn:x-dupfinder:audit:1"}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _document(chunks, schema) -> etree._ElementTree:
    tree = etree.ElementTree(etree.fromstring(b"".join(chunks)))
    schema.assertValid(tree)
    return tree


def _events(tree) -> dict[str, etree._Element]:
    """Each PREMIS event by its identifier."""
    return {
        e.findtext("p:eventIdentifier/p:eventIdentifierValue", namespaces=NS): e for e in tree.iterfind("p:event", NS)
    }


@pytest.fixture
def full_history(collection, role_user, django_capture_on_commit_callbacks):
    """Every kind of event on the resolved cluster's item: ingest, merge, authority, fixity, reclaim, restore."""
    a, b = collection["a"], collection["b"]
    item = b.item
    officer = role_user("records_officer", "rosa")
    item_mark_authoritative(item_id=item.pk, version_id=a.pk, actor=officer, reason="The registry's signed scan")
    item_mark_authoritative(item_id=item.pk, version_id=b.pk, actor=officer, reason="Back to the archive copy")
    version_check_fixity(version=a)
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
    with django_capture_on_commit_callbacks(execute=True):
        version_restore(version_id=a.pk, actor="ops")
    item.refresh_from_db()
    return item


def test_an_items_log_is_valid_premis_3_with_every_kind_of_event(full_history, collection, schema):
    tree = _document(item_premis(item=full_history, events=item_audit_events(item=full_history)), schema)
    types = [e.findtext("p:eventType", namespaces=NS) for e in tree.iterfind("p:event", NS)]
    for expected in (
        "ingestion",
        "message digest calculation",
        "deduplication decision",
        "authoritative choice",
        "fixity check",
        "quarantine",
        "unquarantine",
    ):
        assert expected in types, expected
    # The three versions of the merged item are file objects with their SHA-256; the item is the entity.
    files = {
        o.findtext("p:objectIdentifier/p:objectIdentifierValue", namespaces=NS): o
        for o in tree.iterfind("p:object", NS)
        if o.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "file"
    }
    for key in ("a", "b", "c"):
        version = collection[key]
        digest = files[str(version.pk)].findtext("p:objectCharacteristics/p:fixity/p:messageDigest", namespaces=NS)
        assert digest == version.sha256
    entities = tree.findall(
        "p:object[@xsi:type='intellectualEntity']", {**NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    )
    assert full_history.identifier in [
        e.findtext("p:objectIdentifier/p:objectIdentifierValue", namespaces=NS) for e in entities
    ]


def test_events_name_their_agents_outcomes_and_objects(full_history, collection, schema):
    tree = _document(item_premis(item=full_history, events=item_audit_events(item=full_history)), schema)
    events = _events(tree)
    choice = AuditEvent.objects.filter(action="item.mark_authoritative").order_by("pk").first()
    element = events[str(choice.pk)]
    agents = {
        a.findtext("p:linkingAgentIdentifierValue", namespaces=NS): a.findtext("p:linkingAgentRole", namespaces=NS)
        for a in element.iterfind("p:linkingAgentIdentifier", NS)
    }
    assert agents == {"dupfinder": "executing program", "rosa": "implementer"}
    assert element.findtext("p:eventOutcomeInformation/p:eventOutcome", namespaces=NS) == "success"
    details = [d.text for d in element.iterfind("p:eventDetailInformation/p:eventDetail", NS)]
    assert "The registry's signed scan" in details
    linked = {
        (o.findtext("p:linkingObjectIdentifierValue", namespaces=NS), o.findtext("p:linkingObjectRole", namespaces=NS))
        for o in element.iterfind("p:linkingObjectIdentifier", NS)
    }
    assert (str(collection["b"].pk), "source") in linked and (str(collection["a"].pk), "outcome") in linked
    # The audit event itself rides along, hash chain included.
    audit = element.find("p:eventDetailInformation/p:eventDetailExtension/a:auditEvent", NS)
    assert audit.get("entryHash") == choice.entry_hash and audit.get("action") == "item.mark_authoritative"
    # Every person who acted is described once as an agent.
    people = [
        a.findtext("p:agentIdentifier/p:agentIdentifierValue", namespaces=NS) for a in tree.iterfind("p:agent", NS)
    ]
    assert sorted(people) == ["alice", "dupfinder", "rosa"]


def test_a_merge_links_every_member_and_the_ingest_digest_is_its_own_event(collection, schema):
    item = collection["b"].item
    events = _events(_document(item_premis(item=item, events=item_audit_events(item=item)), schema))
    merge = AuditEvent.objects.get(action="cluster.merge")
    linked = {
        o.findtext("p:linkingObjectIdentifierValue", namespaces=NS)
        for o in events[str(merge.pk)].iterfind("p:linkingObjectIdentifier", NS)
    }
    assert {str(collection[k].pk) for k in ("a", "b", "c")} <= linked
    ingest = AuditEvent.objects.get(action="version.ingest", target_id=str(collection["a"].pk))
    digest = events[f"{ingest.pk}-digest"]
    assert digest.findtext("p:eventType", namespaces=NS) == "message digest calculation"
    assert collection["a"].sha256 in digest.findtext(
        "p:eventOutcomeInformation/p:eventOutcomeDetail/p:eventOutcomeDetailNote", namespaces=NS
    )


def test_a_failed_fixity_check_is_a_failure_outcome(collection, schema):
    a = collection["a"]
    with default_storage.open(a.file.name, "wb") as handle:
        handle.write(b"not the picture any more")
    version_check_fixity(version=a)
    events = _events(_document(item_premis(item=a.item, events=item_audit_events(item=a.item)), schema))
    check = AuditEvent.objects.get(action="version.fixity_check")
    assert events[str(check.pk)].findtext("p:eventOutcomeInformation/p:eventOutcome", namespaces=NS) == "failure"


@pytest.fixture
def recorded_at():
    """Record audit events as if at another time: the trail is append-only, so the time is set at creation."""
    field = AuditEvent._meta.get_field("created_at")
    original = field.default

    def at(when):
        field.default = lambda: when
        field.__dict__.pop("_get_default", None)  # Django caches the default's callable

    yield at
    field.default = original
    field.__dict__.pop("_get_default", None)


def test_a_date_range_holds_only_its_events_and_the_objects_they_touched(collection, schema, recorded_at):
    today = timezone.localdate()
    unique = collection["unique"]
    recorded_at(timezone.now() - timedelta(days=40))
    old = audit_record(actor=None, action="item.note", target=unique.item, reason="old")
    recorded_at(timezone.now())
    tree = _document(range_premis(first=today, last=today), schema)
    ids = set(_events(tree))
    assert str(old.pk) not in ids
    assert str(AuditEvent.objects.get(action="cluster.merge").pk) in ids
    earlier = today - timedelta(days=40)
    tree = _document(range_premis(first=earlier, last=earlier), schema)
    assert set(_events(tree)) == {str(old.pk)}
    assert [
        o.findtext("p:objectIdentifier/p:objectIdentifierValue", namespaces=NS) for o in tree.iterfind("p:object", NS)
    ] == [unique.item.identifier]


def test_a_range_with_no_events_is_refused_rather_than_an_invalid_document(db):
    with pytest.raises(EmptyLog):
        range_premis(first=timezone.localdate(), last=timezone.localdate())


def test_control_characters_in_a_reason_do_not_break_the_xml(collection, schema):
    item = collection["unique"].item
    audit_record(actor=None, action="item.note", target=item, reason="line\x0bfeed\x01")
    _document(item_premis(item=item, events=item_audit_events(item=item)), schema)


def test_the_item_log_download_needs_the_audit_permission(client, make_user, collection, schema):
    item = collection["b"].item
    url = reverse("item-premis", args=[item.pk])
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(make_user("nobody"))
    assert client.get(url).status_code == 403
    client.force_login(make_user("reader", ["collections_app.view_auditevent"]))
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    assert f"premis-{item.identifier}.xml" in response["Content-Disposition"]
    _document(response.streaming_content, schema)


def test_the_range_download_is_for_records_officers_and_explains_bad_input(client, role_user, collection, schema):
    url = reverse("premis-range")
    today = f"{timezone.localdate():%Y-%m-%d}"
    client.force_login(role_user("curator"))
    assert client.get(url, {"start": today, "end": today}).status_code == 403
    client.force_login(role_user("records_officer"))
    _document(client.get(url, {"start": today, "end": today}).streaming_content, schema)
    backwards = client.get(url, {"start": today, "end": "2000-01-01"})
    assert backwards.status_code == 400 and "The start date is after the end date." in backwards.content.decode()
    empty = client.get(url, {"start": "2000-01-01", "end": "2000-01-02"})
    assert empty.status_code == 404 and "No audit event in that range" in empty.content.decode()


def test_export_premis_writes_a_file_for_an_item_or_a_range(collection, tmp_path, schema):
    item = collection["b"].item
    out = tmp_path / "item.xml"
    call_command("export_premis", "--item", item.identifier, "--output", str(out))
    schema.assertValid(etree.parse(str(out)))
    today = f"{timezone.localdate():%Y-%m-%d}"
    call_command("export_premis", "--from", today, "--to", today, "--output", str(tmp_path / "range.xml"))
    schema.assertValid(etree.parse(str(tmp_path / "range.xml")))
    with pytest.raises(CommandError, match="Give --item"):
        call_command("export_premis", "--from", today)


def test_a_request_waiting_for_approval_is_pending_and_names_the_requested_version(
    collection, role_user, settings, schema
):
    settings.DUPFINDER_AUTHORITY_APPROVAL = True
    item, a = collection["b"].item, collection["a"]
    item_mark_authoritative(item_id=item.pk, version_id=a.pk, actor=role_user("records_officer"), reason="Scan")
    events = _events(_document(item_premis(item=item, events=item_audit_events(item=item)), schema))
    request = events[str(AuditEvent.objects.get(action="item.authority_request").pk)]
    assert request.findtext("p:eventType", namespaces=NS) == "authoritative choice request"
    assert request.findtext("p:eventOutcomeInformation/p:eventOutcome", namespaces=NS) == "pending approval"
    linked = {
        (o.findtext("p:linkingObjectIdentifierValue", namespaces=NS), o.findtext("p:linkingObjectRole", namespaces=NS))
        for o in request.iterfind("p:linkingObjectIdentifier", NS)
    }
    assert (str(a.pk), "outcome") in linked
