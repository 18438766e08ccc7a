"""Dashboard, downloads, legal holds and the file view of a quarantined version: who may see what."""

import json

import pytest
from django.urls import reverse

from collections_app.models import AuditEvent
from reports.services import version_reclaim

pytestmark = pytest.mark.django_db

PAGES = [
    ("get", reverse("reports-dashboard")),
    ("get", reverse("reports-failures")),
    ("get", reverse("reports-download", args=["manifest", "csv"])),
    ("post", reverse("reports-legal-hold")),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_users_without_the_permission_are_refused(client, make_user, method, url):
    client.force_login(make_user("uploader", ["collections_app.add_version", "collections_app.view_version"]))
    assert getattr(client, method)(url).status_code == 403


def test_dashboard_shows_figures_charts_and_the_failures_link(client, make_user, collection):
    client.force_login(make_user("manager", ["reports.view_reports"]))
    response = client.get(reverse("reports-dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<svg") == 3 and "<script" not in body
    assert reverse("reports-failures") in body
    assert "Legal holds" not in body  # only for records officers
    failures = client.get(reverse("reports-failures")).content.decode()
    assert "The image is truncated or corrupt: the file is truncated." in failures


@pytest.mark.parametrize("name", ["clusters", "decisions", "sources", "manifest"])
def test_every_report_downloads_as_csv_and_json(client, make_user, collection, name):
    client.force_login(make_user("manager", ["reports.view_reports"]))
    csv_response = client.get(reverse("reports-download", args=[name, "csv"]))
    assert csv_response.status_code == 200 and "attachment" in csv_response["Content-Disposition"]
    assert len(b"".join(csv_response.streaming_content).decode("utf-8-sig").splitlines()) > 1
    json_response = client.get(reverse("reports-download", args=[name, "json"]))
    assert isinstance(json.loads(b"".join(json_response.streaming_content)), list)
    assert client.get(reverse("reports-download", args=[name, "xml"])).status_code == 404


def test_a_records_officer_places_a_legal_hold(client, make_user, collection):
    officer = make_user("ro", ["reports.view_reports", "collections_app.set_legal_hold"])
    client.force_login(officer)
    assert "Legal holds" in client.get(reverse("reports-dashboard")).content.decode()
    a = collection["a"]
    response = client.post(reverse("reports-legal-hold"), {"version": a.pk, "hold": "1", "reason": "Court order"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.legal_hold
    event = AuditEvent.objects.get(action="version.legal_hold")
    assert (event.actor, event.reason) == (officer, "Court order")


def test_a_quarantined_file_is_gone_except_for_administrators(
    client, make_user, collection, django_capture_on_commit_callbacks
):
    a = collection["a"]
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
    client.force_login(make_user("viewer", ["collections_app.view_version"]))
    response = client.get(reverse("version-file", args=[a.pk]))
    assert response.status_code == 410 and b"quarantine" in response.content
    client.force_login(make_user("admin", ["collections_app.view_version", "reports.view_quarantined_file"]))
    response = client.get(reverse("version-file", args=[a.pk]))
    assert response.status_code == 200
    assert len(b"".join(response.streaming_content)) == a.byte_size


@pytest.mark.parametrize("formula", ['＝HYPERLINK("http://evil.example")', " =1+1", "\n=1+1", "＠SUM(A1)"])
def test_report_cells_that_a_spreadsheet_would_run_as_formulas_are_defused(client, make_user, collection, formula):
    import csv
    import io

    from collections_app.models import Item, Source

    Source.objects.filter(name="Portal").update(name=formula)
    Item.objects.filter(pk=collection["b"].item_id).update(title=formula, subjects=[formula, "harbour"])
    client.force_login(make_user("manager", ["reports.view_reports"]))
    cells = {}
    for name in ("sources", "manifest"):
        response = client.get(reverse("reports-download", args=[name, "csv"]))
        assert response["Content-Disposition"].startswith(f'attachment; filename="{name}-')
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        cells[name] = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'" + formula in cells["sources"] and formula not in cells["sources"]
    assert "'" + formula in cells["manifest"] and f"'{formula}; harbour" in cells["manifest"]
