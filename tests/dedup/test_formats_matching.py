"""Across formats, through ingest, processing and matching: HEIC beside JPEG, PDF pages beside TIFF scans."""

import numpy as np
import pytest
from django.utils import translation

from collections_app.models import ImportedMetadata, Version
from dedup.models import ClusterMember, Fingerprint, MatchEdge
from dedup.services import version_process
from tests.conftest import store_file
from tests.dedup.imaging.test_formats import hand_made_pdf, pdf_of
from tests.images import encode
from tests.pictures import make_document_page, make_photo, random_layout, rescan

pytestmark = pytest.mark.django_db


def _add(path: str, data: bytes) -> Version:
    """Store a file as an upload would and process what ingest queued: the version, or a PDF's pages."""
    version = store_file(path, data)
    for pk in list(version.pages.values_list("pk", flat=True)) or [version.pk]:
        version_process(version_id=pk)
    version.refresh_from_db()
    return version


def _clusters() -> list[list[str]]:
    groups: dict[int, set[str]] = {}
    for member in ClusterMember.objects.select_related("version"):
        groups.setdefault(member.cluster_id, set()).add(member.version.original_path)
    return sorted(sorted(group) for group in groups.values())


def _document_pages(seed: int, count: int):
    rng = np.random.default_rng(seed)
    layout = random_layout(rng)
    return [make_document_page(rng, layout, n) for n in range(1, count + 1)], rng


def test_a_heic_photo_and_its_jpeg_export_form_one_cluster():
    photo = make_photo(np.random.default_rng(1), (1600, 1200))
    _add("phone/IMG_0001.HEIC", encode(photo, "HEIF", quality=85))
    _add("export/IMG_0001.jpg", encode(photo.resize((1200, 900)), quality=80))
    _add("phone/IMG_0002.HEIC", encode(make_photo(np.random.default_rng(2), (1600, 1200)), "HEIF"))
    assert _clusters() == [["export/IMG_0001.jpg", "phone/IMG_0001.HEIC"]]
    assert Version.objects.get(original_path="phone/IMG_0001.HEIC").format == "HEIF"


def test_an_avif_and_a_jpeg_2000_master_cluster_with_their_jpeg():
    photo = make_photo(np.random.default_rng(3), (1200, 900))
    _add("web/view.avif", encode(photo, "AVIF", quality=70))
    _add("masters/view.jp2", encode(photo, "JPEG2000"))
    _add("web/view.jpg", encode(photo.resize((800, 600)), quality=85))
    assert _clusters() == [["masters/view.jp2", "web/view.avif", "web/view.jpg"]]


def test_a_pdf_is_stored_once_and_each_page_becomes_a_version_of_its_own():
    pages, _rng = _document_pages(4, 3)
    document = _add("minutes/1962.pdf", pdf_of(*pages))
    page_versions = list(document.pages.order_by("page_number"))
    assert [v.page_number for v in page_versions] == [1, 2, 3]
    assert {v.file.name for v in page_versions} == {document.file.name}  # the file is stored once
    assert {v.sha256 for v in page_versions} == {document.sha256}
    assert len({v.item_id for v in [document, *page_versions]}) == 4  # each page can be chosen on its own
    assert all(v.item.authoritative_version_id == v.pk for v in page_versions)
    assert [v.original_path for v in page_versions] == [f"minutes/1962.pdf#page={n}" for n in (1, 2, 3)]
    assert document.status == Version.Status.DONE and not Fingerprint.objects.filter(version=document).exists()
    assert all(v.status == Version.Status.DONE and v.width == pages[0].width for v in page_versions)
    assert ImportedMetadata.objects.get(version=document).data["pdf"]["pages"] == 3
    # The pages of one document share its checksum, but are not copies of one another.
    assert not MatchEdge.objects.filter(is_duplicate=True).exists() and _clusters() == []


def test_a_pdf_page_and_its_tiff_scan_form_one_cluster():
    (page,), rng = _document_pages(5, 1)
    _add("scans/deed.pdf", pdf_of(page, resolution=100))
    _add("scans/deed.tif", encode(rescan(rng, page).convert("L"), "TIFF", compression="tiff_lzw"))
    assert _clusters() == [["scans/deed.pdf#page=1", "scans/deed.tif"]]


def test_a_two_page_pdf_against_two_tiff_scans_makes_two_clusters_one_per_page():
    pages, rng = _document_pages(6, 2)
    _add("register/volume.pdf", pdf_of(*pages, resolution=100))
    _add("register/p1.tif", encode(rescan(rng, pages[0]), "TIFF"))
    _add("register/p2.tif", encode(rescan(rng, pages[1]), "TIFF"))
    assert _clusters() == [
        ["register/p1.tif", "register/volume.pdf#page=1"],
        ["register/p2.tif", "register/volume.pdf#page=2"],
    ]


def test_the_same_pdf_sent_twice_matches_page_for_page_as_exact_copies():
    pages, _rng = _document_pages(7, 2)
    data = pdf_of(*pages)
    _add("a/report.pdf", data)
    _add("b/report.pdf", data)
    assert _clusters() == [
        ["a/report.pdf#page=1", "b/report.pdf#page=1"],
        ["a/report.pdf#page=2", "b/report.pdf#page=2"],
    ]
    assert set(ClusterMember.objects.values_list("kind", flat=True)) == {"exact"}


def test_a_pdf_with_javascript_is_refused_at_intake_with_the_reason_and_nothing_is_stored():
    from collections_app.services import source_get_or_create, version_ingest

    count = Version.objects.count()
    with translation.override("en"):
        outcome = version_ingest(
            fileobj=__import__("io").BytesIO(hand_made_pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")),
            original_filename="form.pdf",
            source=source_get_or_create(name="Records"),
        )
    assert outcome.status == "not_image" and "JavaScript" in outcome.message
    assert Version.objects.count() == count


def test_the_review_and_verify_pages_say_which_page_of_the_pdf_matched_and_a_page_can_be_authoritative(
    client, make_user
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from dedup.review.services import cluster_merge

    pages, rng = _document_pages(8, 2)
    document = _add("minutes/1963.pdf", pdf_of(*pages, resolution=100))
    scan = _add("scans/1963-p2.tif", encode(rescan(rng, pages[1]), "TIFF"))
    page_2 = document.pages.get(page_number=2)
    cluster = ClusterMember.objects.get(version=page_2).cluster
    assert set(cluster.members.values_list("version_id", flat=True)) == {page_2.pk, scan.pk}
    client.force_login(
        make_user(
            "curator",
            ["dedup.view_cluster", "dedup.change_cluster", "collections_app.view_version", "collections_app.view_item"],
        )
    )
    with translation.override("en"):
        html = client.get(reverse("review-cluster", args=[cluster.pk]), headers={"accept-language": "en"}).content
    assert "page 2 of the PDF" in html.decode()
    cluster_merge(cluster_id=cluster.pk, actor=make_user("alice"), authoritative_id=page_2.pk)
    page_2.item.refresh_from_db()
    assert page_2.item.authoritative_version_id == page_2.pk
    client.force_login(make_user("officer", ["collections_app.verify_copy", "collections_app.view_item"]))
    found = encode(rescan(rng, pages[1]).resize((600, 800)), quality=85)
    answer = client.post(
        reverse("verify"), {"file": SimpleUploadedFile("found.jpg", found)}, headers={"accept-language": "en"}
    )
    text = answer.content.decode()
    assert answer.status_code == 200 and "It is page 2 of that PDF." in text and "(page 2 of 1963.pdf)" in text


def test_the_api_lists_a_documents_pages_with_their_numbers(role_user):
    from rest_framework.test import APIClient

    from api.services import token_issue

    pages, _rng = _document_pages(9, 2)
    document = _add("letters/bundle.pdf", pdf_of(*pages))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=role_user('viewer')).token}")
    body = client.get("/api/v1/versions/", {"parent": document.pk}).json()
    rows = sorted(body["results"], key=lambda row: row["page_number"])
    assert [(row["parent"], row["page_number"], row["format"]) for row in rows] == [
        (document.pk, 1, "PDF"),
        (document.pk, 2, "PDF"),
    ]


def test_the_item_page_of_a_page_links_the_whole_pdf_and_the_documents_page_shows_no_missing_thumbnail(
    client, make_user
):
    pages, _rng = _document_pages(10, 1)
    document = _add("letters/one.pdf", pdf_of(*pages))
    page = document.pages.get()
    client.force_login(make_user("viewer", ["collections_app.view_item", "collections_app.view_version"]))
    with translation.override("en"):
        shown = client.get(page.item.get_absolute_url(), headers={"accept-language": "en"}).content.decode()
        whole = client.get(document.item.get_absolute_url(), headers={"accept-language": "en"}).content.decode()
    assert "page 1 of the PDF" in shown and f"/versions/{document.pk}/file/" in shown
    assert "PDF document" in whole and f"/versions/{document.pk}/thumb/" not in whole


@pytest.mark.django_db(transaction=True)  # processing runs once each file's transaction commits
def test_ingest_inline_of_a_folder_waits_for_every_page_and_clusters_each_with_its_scan(tmp_path, capsys):
    from django.core.management import call_command

    pages, rng = _document_pages(11, 2)
    (tmp_path / "volume.pdf").write_bytes(pdf_of(*pages, resolution=100))
    (tmp_path / "p2.tif").write_bytes(encode(rescan(rng, pages[1]), "TIFF"))
    call_command("ingest", str(tmp_path), source="Registry", inline=True)
    out = capsys.readouterr().out
    assert "Created 4 versions" in out and "Processed: 4 done, 0 failed." in out  # document, its 2 pages, the scan
    assert _clusters() == [["p2.tif", "volume.pdf#page=2"]]
