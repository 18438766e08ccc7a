"""The audit trail: refused changes in the ORM and in PostgreSQL, a hash chain that exposes tampering, exports."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from collections_app.models import AppendOnlyError, AuditEvent
from collections_app.selectors import audit_chain_verify
from collections_app.services import audit_record
from tests.factories import ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


def test_audit_event_cannot_be_changed_or_deleted():
    event = audit_record(actor=None, action="test.action", target=SourceFactory())
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@postgres_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE collections_app_auditevent SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM collections_app_auditevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete_of_audit_events_even_in_raw_sql(sql):
    event = audit_record(actor=None, action="test.action", target=SourceFactory(), reason="why")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, reason="why").exists()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")


def _events(n: int) -> list[AuditEvent]:
    source = SourceFactory()
    return [
        audit_record(actor=None, action="test.action", target=source, reason=f"r{i}", after={"n": i, "f": 0.25})
        for i in range(n)
    ]


def test_each_event_carries_the_hash_of_the_one_before():
    first, second, third = _events(3)
    assert len(first.entry_hash) == 64
    assert second.previous_hash == first.entry_hash and third.previous_hash == second.entry_hash
    report = audit_chain_verify()
    assert report.intact and report.checked >= 3 and report.head_hash == third.entry_hash


def test_verify_audit_trail_reports_an_intact_chain(capsys):
    _events(2)
    call_command("verify_audit_trail")
    assert "Audit trail intact" in capsys.readouterr().out


def _tamper(sql: str, params: list) -> None:
    # The trigger is switched off inside the test's transaction only; it is back after the rollback.
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of the inserts must run first: ALTER TABLE refuses pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE collections_app_auditevent DISABLE TRIGGER auditevent_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE collections_app_auditevent ENABLE TRIGGER auditevent_append_only")


@postgres_only
def test_a_rewritten_reason_breaks_the_chain_at_that_event():
    events = _events(4)
    _tamper("UPDATE collections_app_auditevent SET reason = 'nothing happened' WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=f"broken at event {events[1].pk}: its contents do not match"):
        call_command("verify_audit_trail")


@postgres_only
def test_a_deleted_event_breaks_the_chain_at_the_next_one():
    events = _events(4)
    _tamper("DELETE FROM collections_app_auditevent WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=f"broken at event {events[3].pk}: its previous_hash"):
        call_command("verify_audit_trail")


@postgres_only
def test_a_rewritten_before_state_is_detected_even_with_its_hash_left_alone():
    events = _events(3)
    _tamper("UPDATE collections_app_auditevent SET after = '{\"n\": 99}' WHERE id = %s", [events[0].pk])
    report = audit_chain_verify()
    assert report.broken_at == events[0].pk and report.problem == "entry_hash"


def test_item_trail_exports_as_csv_and_json_for_viewers_only(client, role_user):
    item = ItemFactory(identifier="HKRS-1")
    audit_record(actor=None, action="item.note", target=item, reason="寫下原因", after={"x": 1})
    client.force_login(role_user("viewer"))
    data = json.loads(client.get(reverse("item-audit-json", args=[item.pk])).content)
    assert data["item"] == "HKRS-1" and data["events"][0]["reason"] == "寫下原因"
    assert len(data["events"][0]["entry_hash"]) == 64
    response = client.get(reverse("item-audit-csv", args=[item.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "item.note" in response.content.decode() and "attachment" in response["Content-Disposition"]
    client.logout()
    assert client.get(reverse("item-audit-csv", args=[item.pk])).status_code == 302
