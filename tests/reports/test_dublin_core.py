"""The de-duplicated manifest as Dublin Core: CSV and XML with one record per surviving item."""

import csv
import io

import pytest
from django.urls import reverse
from lxml import etree

from collections_app.dublin_core import CSV_HEADER, dc_csv_rows, dc_xml
from collections_app.exports import csv_lines
from reports.selectors import manifest_report

pytestmark = pytest.mark.django_db

NS = {"dc": "http://purl.org/dc/elements/1.1/", "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/"}


@pytest.fixture
def reader(client, role_user):
    client.force_login(role_user("viewer"))
    return client


def test_the_csv_has_one_row_per_manifest_row_with_dublin_core_columns(reader, collection):
    response = reader.get(reverse("reports-manifest-dublin-core", args=["csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    manifest = list(manifest_report())
    assert tuple(rows[0]) == CSV_HEADER
    assert [r["dc.identifier"] for r in rows] == [m["identifier"] for m in manifest]
    merged = next(r for r in rows if r["dc.identifier"] == collection["b"].item.identifier)
    assert merged["dc.format"] == "image/png" and merged["dc.type"] == "StillImage"
    assert merged["dc.source"] == "Archive: archive/b.png"


def test_the_xml_holds_an_oai_dc_record_per_item_with_both_titles(reader, collection):
    item = collection["b"].item
    item.title, item.title_zh, item.subjects = "Harbour at dusk", "維港黃昏", ["harbour", "1960s"]
    item.save()
    response = reader.get(reverse("reports-manifest-dublin-core", args=["xml"]))
    assert response["Content-Type"].startswith("application/xml")
    tree = etree.fromstring(b"".join(response.streaming_content))
    records = tree.findall("oai_dc:dc", NS)
    assert len(records) == len(list(manifest_report()))
    record = next(r for r in records if r.findtext("dc:identifier", namespaces=NS) == item.identifier)
    titles = {t.get("{http://www.w3.org/XML/1998/namespace}lang"): t.text for t in record.findall("dc:title", NS)}
    assert titles == {"en": "Harbour at dusk", "zh-Hant": "維港黃昏"}
    assert [s.text for s in record.findall("dc:subject", NS)] == ["harbour", "1960s"]


def test_formula_cells_are_defused_and_control_characters_dropped_from_xml(collection):
    row = {"identifier": "X-1", "title": "=HYPERLINK(1)", "description": "bad\x01text"}
    text = "".join(csv_lines(dc_csv_rows([row]), header=CSV_HEADER))
    assert "'=HYPERLINK(1)" in text
    record = etree.fromstring(dc_xml(row))
    assert record.findtext("dc:description", namespaces=NS) == "badtext"


def test_the_dublin_core_export_needs_the_reports_permission(client, make_user, collection):
    url = reverse("reports-manifest-dublin-core", args=["xml"])
    assert client.get(url).status_code == 302
    client.force_login(make_user("nobody"))
    assert client.get(url).status_code == 403
    client.force_login(make_user("reader", ["reports.view_reports"]))
    assert client.get(reverse("reports-manifest-dublin-core", args=["pdf"])).status_code == 404
