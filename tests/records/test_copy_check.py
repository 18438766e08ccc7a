"""'Is this copy the official one?': exact, resized, rotated and unrelated copies; nothing submitted is stored."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from collections_app.models import AuditEvent, Item, Version
from dedup.imaging.index import to_unsigned
from dedup.imaging.renditions import THUMB_PREVIEW
from dedup.models import ClusterMember, Fingerprint, MatchKind
from records.copy_check import copy_check
from tests.dedup.conftest import add_version  # noqa: F401 - the fixture
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


def _with_exif(image: Image.Image, **tags) -> bytes:
    exif = image.getexif()
    exif[0x8769] = {0x9003: tags["taken"]}  # Exif IFD: DateTimeOriginal
    exif[0x013B] = tags["artist"]
    return encode(image, quality=92, exif=exif)


@pytest.fixture
def original():
    return scene(31, (800, 600))


@pytest.fixture
def official(add_version, original):  # noqa: F811
    return add_version("registry/LR-1962.jpg", _with_exif(original, taken="1962:05:01 10:00:00", artist="Lands Dept"))


@pytest.fixture
def verifier(client, role_user):
    client.force_login(role_user("viewer"))
    return client


def _verify(client, data: bytes, name: str = "found.jpg"):
    return client.post(reverse("api-verify"), {"file": SimpleUploadedFile(name, data)})


def test_an_exact_copy_is_the_authoritative_version(verifier, official):
    with open(official.file.path, "rb") as handle:
        data = handle.read()
    answer = _verify(verifier, data).json()
    assert answer["matched"] and answer["is_authoritative"]
    (item,) = answer["items"]
    assert item["kind"] == "exact" and item["item"]["identifier"] == official.item.identifier
    assert item["differences"] == []


def test_a_resized_copy_matches_but_is_not_authoritative_and_the_differences_are_listed(verifier, official, original):
    answer = _verify(verifier, encode(original.resize((400, 300)), quality=80)).json()
    assert answer["matched"] and not answer["is_authoritative"]
    (item,) = answer["items"]
    assert item["kind"] == "near" and item["authoritative_kind"] == "near"
    assert item["authoritative_version"]["id"] == official.pk
    differences = {d["field"]: d for d in item["differences"]}
    assert differences["pixel_size"] == {"field": "pixel_size", "submitted": "400 × 300", "authoritative": "800 × 600"}
    assert differences["exif.DateTimeOriginal"]["authoritative"] == "1962:05:01 10:00:00"
    assert differences["metadata.creator"]["authoritative"] == "Lands Dept"
    assert "format" not in differences


def test_a_rotated_copy_is_named_as_rotated(verifier, official, original):
    answer = _verify(verifier, encode(original.rotate(90, expand=True), "PNG"), "turned.png").json()
    (item,) = answer["items"]
    assert item["kind"] == "rotated" and not item["is_authoritative"]
    assert {d["field"] for d in item["differences"]} >= {"pixel_size", "format"}


def test_an_unrelated_image_matches_nothing(verifier, official):
    answer = _verify(verifier, encode(scene(32, (800, 600)))).json()
    assert answer == {**answer, "matched": False, "is_authoritative": False, "items": []}


def test_an_exact_copy_of_a_non_authoritative_version_points_to_the_authoritative_one(verifier, add_version, original):  # noqa: F811
    master = add_version("registry/master.png", encode(original, "PNG"), source="Registry")
    copy_bytes = encode(original.resize((600, 450)), quality=85)
    copy = add_version("portal/copy.jpg", copy_bytes, source="Portal")
    Version.objects.filter(pk=copy.pk).update(item=master.item, duplicate_of=master)
    Item.objects.filter(pk=copy.item_id).update(merged_into=master.item)
    answer = _verify(verifier, copy_bytes).json()
    (item,) = answer["items"]
    assert item["kind"] == "exact" and not item["is_authoritative"]
    assert item["item"]["id"] == master.item_id and item["authoritative_version"]["id"] == master.pk
    assert item["authoritative_kind"] in ("same_pixels", "near")


def test_nothing_submitted_is_stored(verifier, official, original, settings):
    media = sorted(p.name for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())
    counts = (Version.objects.count(), Fingerprint.objects.count(), AuditEvent.objects.count())
    assert _verify(verifier, encode(original.resize((300, 225)))).status_code == 200
    assert (Version.objects.count(), Fingerprint.objects.count(), AuditEvent.objects.count()) == counts
    assert sorted(p.name for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) == media


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4 not really", "The PDF is damaged"),
        (b"hello, this is text", "looks like HTML/SVG/text"),
        (encode(scene(1))[:400], "truncated or corrupt"),
    ],
)
def test_a_bad_file_gets_400_with_the_reason(verifier, data, reason):
    response = _verify(verifier, data)
    assert response.status_code == 400 and reason in response.json()["error"]


def test_a_request_without_a_file_says_what_to_send(verifier):
    response = verifier.post(reverse("api-verify"), {})
    assert response.status_code == 400 and "file" in response.json()["error"]


def test_the_verification_page_answers_in_words(verifier, official, original):
    data = encode(original.resize((400, 300)), quality=80)
    response = verifier.post(reverse("verify"), {"file": SimpleUploadedFile("found.jpg", data)})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"This file is a resized copy of the authoritative version of {official.item.identifier}" in html
    assert "400 × 300" in html and "800 × 600" in html
    bad = verifier.post(reverse("verify"), {"file": SimpleUploadedFile("x.jpg", b"%PDF-1.4")})
    assert bad.status_code == 400 and "The PDF is damaged" in bad.content.decode()


@pytest.mark.parametrize(
    "make_copy",
    [
        pytest.param(lambda picture: encode(picture.convert("L"), "PNG"), id="greyscale"),
        pytest.param(lambda picture: encode(picture.resize((400, 300), Image.Resampling.LANCZOS), "PNG"), id="resized"),
    ],
)
def test_the_verify_page_the_api_and_the_cluster_give_a_copy_the_same_kind(verifier, add_version, make_copy):  # noqa: F811
    # A grey-toned RGB original: its greyscale rendition equals a greyscale copy's, pixel for pixel.
    original = scene(32, (800, 600)).convert("L").convert("RGB")
    add_version("registry/grey-toned.png", encode(original, "PNG"))
    copy = make_copy(original)
    (by_api,) = _verify(verifier, copy, "copy.png").json()["items"]
    page = verifier.post(reverse("verify"), {"file": SimpleUploadedFile("copy.png", copy)})
    (by_page,) = page.context["result"].items
    stored = add_version("found/copy.png", copy)
    in_cluster = ClusterMember.objects.get(version=stored)
    assert by_api["kind"] == by_page.kind == in_cluster.kind == MatchKind.NEAR


def test_a_checked_copy_is_fingerprinted_as_the_worker_fingerprints_a_stored_version(add_version):  # noqa: F811
    """A large JPEG photo decodes reduced in the worker; the copy check reads it the same way, so its hashes and
    rendition are the stored version's, and the statement still gets a preview of the copy."""
    data = encode(scene(33, (2400, 1800)), quality=90)
    stored = Fingerprint.objects.get(version=add_version("press/harbour.jpg", data))
    checked = copy_check(fileobj=io.BytesIO(data)).submitted
    assert (checked.phash, checked.dhash) == (to_unsigned(stored.phash), to_unsigned(stored.dhash))
    assert checked.rendition == bytes(stored.rendition)
    assert checked.thumbnails[THUMB_PREVIEW][:2] == b"\xff\xd8"
