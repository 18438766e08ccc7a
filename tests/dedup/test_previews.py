"""The large preview of a photo that fingerprinting decoded reduced: made from the original on first view, stored,
and served from then on; the small thumbnail stands in when the original cannot be read."""

import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from dedup import services
from dedup.imaging.renditions import THUMB_PREVIEW
from dedup.models import Fingerprint
from tests.images import encode, scene

pytestmark = pytest.mark.django_db

VIEW_PERMS = ["collections_app.view_item", "collections_app.view_version"]


def _served(response) -> bytes:
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def viewer(client, make_user):
    client.force_login(make_user("viewer", VIEW_PERMS))
    return client


@pytest.fixture
def photo(add_version):
    """A 2400 x 1800 JPEG photo: fingerprinted from a 1/8 decode, with no preview stored."""
    return add_version("photo/harbour.jpg", encode(scene(31, (2400, 1800)), quality=90))


def test_processing_a_large_jpeg_photo_stores_the_small_thumbnail_only(photo):
    fingerprint = Fingerprint.objects.get(version=photo)
    assert fingerprint.thumb_small and default_storage.exists(fingerprint.thumb_small)
    assert fingerprint.thumb_preview == ""


def test_the_first_view_of_the_preview_makes_it_and_later_views_serve_the_stored_one(viewer, photo, monkeypatch):
    url = reverse("version-thumbnail", args=[photo.pk, "preview"])
    first = _served(viewer.get(url))
    assert Image.open(io.BytesIO(first)).size == (1024, 768)  # from a 1/2 decode, as the preview always was
    stored = Fingerprint.objects.get(version=photo).thumb_preview
    assert stored == f"thumbs/{photo.pk}/{THUMB_PREVIEW}.jpg"
    with default_storage.open(stored, "rb") as handle:
        assert handle.read() == first

    def no_decode(*args, **kwargs):
        raise AssertionError("the stored preview is served without decoding the original again")

    monkeypatch.setattr(services, "preview_file", no_decode)
    assert _served(viewer.get(url)) == first


def test_without_a_readable_original_the_preview_url_serves_the_small_thumbnail(viewer, photo):
    default_storage.delete(photo.file.name)
    served = _served(viewer.get(reverse("version-thumbnail", args=[photo.pk, "preview"])))
    with default_storage.open(Fingerprint.objects.get(version=photo).thumb_small, "rb") as handle:
        assert served == handle.read()
    assert Fingerprint.objects.get(version=photo).thumb_preview == ""  # tried again on a later view


def test_a_png_has_its_preview_from_processing(add_version):
    version = add_version("scan/page.png", encode(scene(32, (2400, 1800)), "PNG"))
    fingerprint = Fingerprint.objects.get(version=version)
    with default_storage.open(fingerprint.thumb_preview, "rb") as handle:
        assert Image.open(handle).size == (1024, 768)


def test_the_iiif_image_service_makes_the_preview_it_lists(viewer, photo):
    info = viewer.get(reverse("iiif-image-info", args=[photo.pk]))
    assert info.status_code == 200
    assert (info.json()["width"], info.json()["height"]) == (1024, 768)
    assert Fingerprint.objects.get(version=photo).thumb_preview
