"""The item page: each version's embedded metadata, curated fields with their provenance, the trail in words."""

import csv
import io
from datetime import UTC, datetime

import pytest

from collections_app.models import AuditEvent, ImportedMetadata, Item
from collections_app.services import audit_record
from tests.factories import ClusterFactory, ItemFactory, VersionFactory

pytestmark = pytest.mark.django_db

EMBEDDED = {
    "summary": {
        "caption": "Star Ferry pier at dusk",
        "capture_date": "1962-05-01T18:30:00",
        "camera": "Epson Expression 12000XL",
        "keywords": ["渡輪", "pier"],
        "rights": "© Information Services Department",
    },
    "exif": {"ImageDescription": "Star Ferry pier at dusk", "Model": "Expression 12000XL"},
    "iptc": {"By-line": ["陳志明"]},
    "xmp": {"dc:title": {"x-default": "天星碼頭"}},
}


@pytest.fixture
def item():
    item = ItemFactory(identifier="HKM-2026-0001", title="Star Ferry pier", title_zh="天星碼頭")
    version = VersionFactory(item=item, original_filename="pier.tif")
    ImportedMetadata.objects.create(version=version, origin=ImportedMetadata.Origin.EMBEDDED, data=EMBEDDED)
    Item.objects.filter(pk=item.pk).update(provenance={"title": {"version": version.pk}, "title_zh": {"user": "amy"}})
    item.refresh_from_db()
    return item


@pytest.fixture
def officer(client, role_user):
    client.force_login(role_user("records_officer"))
    return client


def test_each_version_shows_what_its_file_carried(officer, item):
    html = officer.get(f"/items/{item.pk}/").content.decode()
    for text in ("Embedded metadata", "Star Ferry pier at dusk", "1962-05-01T18:30:00", "Epson Expression 12000XL"):
        assert text in html
    assert "Camera or scanner" in html and "Captured" in html
    assert "IPTC" in html and "陳志明" in html and "XMP" in html


def test_curated_fields_say_where_each_value_came_from(officer, item):
    version = item.versions.get()
    html = officer.get(f"/items/{item.pk}/").content.decode()
    assert f"from version {version.pk}" in html
    assert "set by amy" in html


@pytest.fixture
def at_two_utc(monkeypatch):
    """Audit events recorded from now on carry 1 March 2026, 02:00 UTC (the trail cannot be changed after)."""
    field = AuditEvent._meta.get_field("created_at")
    monkeypatch.setattr(field, "_get_default", lambda: datetime(2026, 3, 1, 2, 0, tzinfo=UTC))


def test_the_audit_trail_names_its_targets_and_times_in_words(officer, item, at_two_utc):
    version = item.versions.get()
    audit_record(actor=None, action="version.legal_hold", target=version, reason="Court order 12/2026")
    html = officer.get(f"/items/{item.pk}/").content.decode()
    assert f"Version {version.pk} of HKM-2026-0001" in html
    assert "collections_app.version:" not in html
    assert "01/03/2026 10:00 (Hong Kong time)" in html  # 02:00 UTC
    assert "Court order 12/2026" in html


def test_a_merge_in_the_trail_shows_each_changed_value_before_and_after(officer, item):
    other = ItemFactory(identifier="HKM-2026-0002", title="Ferry pier, Central")
    cluster = ClusterFactory()
    before = {
        "items": {
            str(item.pk): {"title": "Star Ferry pier", "creator": "", "merged_into": None},
            str(other.pk): {"title": "Ferry pier, Central", "creator": "", "merged_into": None},
        }
    }
    after = {
        "items": {
            str(item.pk): {
                "title": "Star Ferry pier",
                "creator": "Information Services Department",
                "merged_into": None,
            },
            str(other.pk): {"title": "Ferry pier, Central", "creator": "", "merged_into": item.pk},
        },
        "authoritative_version": item.versions.get().pk,
    }
    audit_record(actor=None, action="cluster.merge", target=cluster, reason="Same negative", before=before, after=after)
    html = officer.get(f"/items/{item.pk}/").content.decode()
    assert "Before" in html and "After" in html
    assert "Information Services Department" in html  # the creator after the merge
    assert "merged into" in html and html.count("HKM-2026-0002") >= 1
    assert f"Cluster {cluster.pk}" in html and "Same negative" in html


def test_the_audit_export_gives_times_in_utc_and_says_so(officer, item, at_two_utc):
    audit_record(actor=None, action="version.legal_hold", target=item.versions.get())
    rows = list(csv.DictReader(io.StringIO(officer.get(f"/items/{item.pk}/audit.csv").content.decode())))
    assert rows[-1]["time_utc"] == "2026-03-01T02:00:00Z"
    exported = officer.get(f"/items/{item.pk}/audit.json").json()
    assert exported["events"][-1]["time_utc"] == "2026-03-01T02:00:00Z"
