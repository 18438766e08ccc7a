"""BagIt packages of authoritative versions: valid by the bagit library, SHA-256 manifests, Dublin Core per item."""

import io
import zipfile
from datetime import timedelta

import bagit
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from collections_app.models import Item
from records.bagit_export import BagError, BagSelection, bag_build

pytestmark = pytest.mark.django_db

DC = {"dc": "http://purl.org/dc/elements/1.1/"}


def _payload_digests(bag: bagit.Bag) -> dict[str, str]:
    """Payload path -> SHA-256 from the bag's manifest, for the image files only."""
    return {
        path: digests["sha256"]
        for path, digests in bag.entries.items()
        if path.startswith("data/") and not path.endswith(".xml")
    }


def test_a_bag_of_a_source_holds_only_authoritative_versions_and_validates(collection, tmp_path):
    bag = bag_build(selection=BagSelection(source="Archive"), target=tmp_path / "bag")
    assert bagit.Bag(str(tmp_path / "bag")).is_valid()
    b = collection["b"]  # authoritative version of the resolved cluster, from the Archive
    assert bag.algorithms == ["sha256"]
    assert list(_payload_digests(bag).values()) == [b.sha256]
    folder = tmp_path / "bag" / "data" / b.item.identifier
    assert sorted(p.name for p in folder.iterdir()) == ["b.png", "dublin-core.xml", "premis.xml"]
    record = etree.parse(str(folder / "dublin-core.xml"))
    assert record.findtext("dc:identifier", namespaces=DC) == b.item.identifier
    assert record.findtext("dc:format", namespaces=DC) == "image/png"
    assert record.findtext("dc:type", namespaces=DC) == "StillImage"
    assert bag.info["Payload-Oxum"].endswith(".3")


def test_a_bag_by_identifiers_follows_merged_identifiers_to_the_surviving_item(collection, tmp_path):
    surviving = collection["b"].item
    merged_away = Item.objects.filter(merged_into=surviving).first()  # item a or c before the merge
    bag = bag_build(
        selection=BagSelection(identifiers=(collection["unique"].item.identifier, merged_away.identifier)),
        target=tmp_path / "bag",
    )
    assert sorted(_payload_digests(bag).values()) == sorted([collection["unique"].sha256, collection["b"].sha256])
    assert (tmp_path / "bag" / "data" / surviving.identifier).is_dir()


def test_a_date_range_selects_by_upload_date_of_the_authoritative_file(collection, tmp_path):
    today = timezone.localdate()
    bag = bag_build(selection=BagSelection(uploaded_from=today, uploaded_to=today), target=tmp_path / "bag")
    # The resolved cluster's item, the open pair (two items: not yet merged) and the unique picture.
    expected = {collection[k].sha256 for k in ("b", "big", "small", "unique")}
    assert set(_payload_digests(bag).values()) == expected
    with pytest.raises(BagError, match="No item"):
        bag_build(selection=BagSelection(uploaded_to=today - timedelta(days=1)), target=tmp_path / "empty")


def test_unknown_identifiers_and_sources_are_named_in_the_refusal(collection, tmp_path):
    with pytest.raises(BagError, match="NOPE-1, NOPE-2"):
        bag_build(selection=BagSelection(identifiers=("NOPE-1", "NOPE-2")), target=tmp_path / "bag")
    with pytest.raises(BagError, match="no source named Nowhere"):
        bag_build(selection=BagSelection(source="Nowhere"), target=tmp_path / "bag")


def test_a_file_changed_since_ingest_stops_the_package(collection, tmp_path):
    b = collection["b"]
    with default_storage.open(b.file.name, "wb") as handle:
        handle.write(b"changed")
    with pytest.raises(BagError, match="no longer matches its SHA-256"):
        bag_build(selection=BagSelection(source="Archive"), target=tmp_path / "bag")


def test_the_command_writes_a_bag_and_a_zip(collection, tmp_path):
    out = io.StringIO()
    call_command("export_bag", str(tmp_path / "bag"), "--source", "Portal", "--zip", stdout=out)
    assert bagit.Bag(str(tmp_path / "bag")).is_valid()
    assert (tmp_path / "bag.zip").exists() and "validated" in out.getvalue()
    with pytest.raises(CommandError, match="Choose a search, a source"):
        call_command("export_bag", str(tmp_path / "other"))
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_bag", str(tmp_path / "bag"), "--source", "Portal")


def test_the_download_is_a_zipped_bag_for_records_officers(client, role_user, collection, tmp_path):
    url = reverse("bag-download")
    client.force_login(role_user("curator"))
    assert client.get(url, {"source": "Archive"}).status_code == 403
    client.force_login(role_user("records_officer"))
    response = client.get(url, {"source": "Archive"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        archive.extractall(tmp_path / "out")
    (bag_dir,) = (tmp_path / "out").iterdir()
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert list(_payload_digests(bag).values()) == [collection["b"].sha256]


def test_the_download_explains_what_is_wrong_and_keeps_the_form(client, role_user, collection, settings):
    client.force_login(role_user("records_officer"))
    nothing = client.get(reverse("bag-download"), {})
    assert (
        nothing.status_code == 400
        and "Choose a search, a source, a date range or some item identifiers." in nothing.text
    )
    unknown = client.get(reverse("bag-download"), {"identifiers": "NOPE-9"})
    assert unknown.status_code == 400 and "NOPE-9" in unknown.text
    settings.DUPFINDER_BAG_DOWNLOAD_MAX_BYTES = 10
    big = client.get(reverse("bag-download"), {"source": "Archive"})
    assert big.status_code == 400 and "manage.py export_bag" in big.text
    assert 'value="Archive"' in big.text
    page = client.get(reverse("records-exports"))
    assert page.status_code == 200


def test_a_bag_of_a_catalogue_search_holds_the_items_that_search_finds(collection, tmp_path):
    unique = collection["unique"].item
    unique.title_zh = "維多利亞港夜景"
    unique.save()
    bag = bag_build(selection=BagSelection(search="港夜"), target=tmp_path / "bag")
    assert bagit.Bag(str(tmp_path / "bag")).is_valid()
    assert list(_payload_digests(bag).values()) == [collection["unique"].sha256]
    with pytest.raises(BagError):
        bag_build(selection=BagSelection(search="no such words anywhere"), target=tmp_path / "empty")
    call_command("export_bag", str(tmp_path / "by-command"), "--search", "港夜", stdout=io.StringIO())
    assert (tmp_path / "by-command" / "data" / unique.identifier).is_dir()
