"""IIIF Presentation 3 manifests per item and per cluster, valid by iiif-prezi3, and a level-0 image service."""

import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from iiif_prezi3 import Manifest
from PIL import Image

from dedup.models import Fingerprint
from records.services import item_mark_authoritative

pytestmark = pytest.mark.django_db


def _manifest(response) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    Manifest.model_validate_json(response.content)  # raises on anything Presentation 3 does not allow
    return json.loads(response.content)


def _canvas_versions(manifest: dict) -> list[int]:
    return [int(canvas["id"].rsplit("/", 1)[1]) for canvas in manifest["items"]]


@pytest.fixture
def viewer(client, role_user):
    client.force_login(role_user("viewer"))
    return client


def test_an_items_manifest_has_its_versions_as_canvases_the_authoritative_first(viewer, collection, role_user):
    item = collection["b"].item
    manifest = _manifest(viewer.get(reverse("iiif-item-manifest", args=[item.pk])))
    assert _canvas_versions(manifest)[0] == collection["b"].pk
    assert sorted(_canvas_versions(manifest)) == sorted(collection[k].pk for k in ("a", "b", "c"))
    item_mark_authoritative(
        item_id=item.pk, version_id=collection["c"].pk, actor=role_user("records_officer"), reason="r"
    )
    manifest = _manifest(viewer.get(reverse("iiif-item-manifest", args=[item.pk])))
    assert _canvas_versions(manifest)[0] == collection["c"].pk
    first = manifest["items"][0]
    assert "(authoritative)" in first["label"]["en"][0] and "（權威版本）" in first["label"]["zh-Hant"][0]


def test_a_canvas_paints_the_preview_through_the_level_0_service(viewer, collection):
    b = collection["b"]
    manifest = _manifest(viewer.get(reverse("iiif-item-manifest", args=[b.item.pk])))
    canvas = manifest["items"][0]
    body = canvas["items"][0]["items"][0]["body"]
    assert body["service"][0]["profile"] == "level0"
    with default_storage.open(b.fingerprint.thumb_preview, "rb") as handle:
        assert (canvas["width"], canvas["height"]) == Image.open(handle).size
    image = viewer.get(body["id"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    with default_storage.open(b.fingerprint.thumb_preview, "rb") as handle:
        assert b"".join(image.streaming_content) == handle.read()


def test_a_clusters_manifest_shows_every_member_side_by_side(client, role_user, collection):
    client.force_login(role_user("viewer"))
    cluster = collection["open"]
    url = reverse("iiif-cluster-manifest", args=[cluster.pk])
    assert client.get(url).status_code == 403  # clusters are for curators
    client.force_login(role_user("curator"))
    manifest = _manifest(client.get(url))
    assert sorted(_canvas_versions(manifest)) == sorted([collection["big"].pk, collection["small"].pk])
    resolved = _manifest(client.get(reverse("iiif-cluster-manifest", args=[collection["resolved"].pk])))
    assert _canvas_versions(resolved)[0] == collection["b"].pk


def test_info_json_lists_only_the_stored_sizes_and_each_is_served(viewer, collection):
    b = collection["b"]
    base = reverse("iiif-image-base", args=[b.pk])
    redirect = viewer.get(base)
    assert redirect.status_code == 303 and redirect["Location"].endswith("/info.json")
    info = viewer.get(redirect["Location"])
    data = json.loads(info.content)
    assert data["profile"] == "level0" and data["type"] == "ImageService3"
    assert data["id"] == f"http://testserver{base}"
    fingerprint = Fingerprint.objects.get(version=b)
    for size, name in zip(data["sizes"], (fingerprint.thumb_small, fingerprint.thumb_preview), strict=True):
        response = viewer.get(f"{base}/full/{size['width']},{size['height']}/0/default.jpg")
        with default_storage.open(name, "rb") as handle:
            assert b"".join(response.streaming_content) == handle.read()


def test_requests_level_0_does_not_promise_are_refused(viewer, collection):
    base = reverse("iiif-image-base", args=[collection["b"].pk])
    for path in (
        "0,0,10,10/max/0/default.jpg",
        "full/max/90/default.jpg",
        "full/max/0/gray.jpg",
        "full/max/0/default.png",
    ):
        assert viewer.get(f"{base}/{path}").status_code == 400, path
    assert viewer.get(f"{base}/full/7,7/0/default.jpg").status_code == 404


def test_the_image_service_and_manifests_need_a_signed_in_reader(client, make_user, collection):
    b = collection["b"]
    urls = [
        reverse("iiif-item-manifest", args=[b.item.pk]),
        reverse("iiif-image-info", args=[b.pk]),
        f"{reverse('iiif-image-base', args=[b.pk])}/full/max/0/default.jpg",
    ]
    for url in urls:
        assert client.get(url).status_code == 302, url
    client.force_login(make_user("nobody"))
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_a_version_without_thumbnails_is_left_out_rather_than_breaking_the_manifest(viewer, collection):
    broken = collection["broken"]
    manifest = _manifest(viewer.get(reverse("iiif-item-manifest", args=[broken.item.pk])))
    assert manifest["items"] == []
    assert viewer.get(reverse("iiif-image-info", args=[broken.pk])).status_code == 404
