"""A small known collection: one resolved cluster of three, one open pair, one unique picture, one failure."""

import hashlib

import pytest

from collections_app.models import Source, Version
from dedup.models import Cluster
from dedup.review.services import cluster_merge
from tests.dedup.conftest import add_version  # noqa: F401
from tests.dedup.review.conftest import cluster3  # noqa: F401
from tests.factories import VersionFactory
from tests.images import encode, scene


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def file_stores(settings, tmp_path):
    """Main and quarantine storage in a fresh folder for each test."""
    backend = "django.core.files.storage.FileSystemStorage"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": backend, "OPTIONS": {"location": tmp_path / "media"}},
        "quarantine": {"BACKEND": backend, "OPTIONS": {"location": tmp_path / "quarantine"}},
    }
    return tmp_path


@pytest.fixture
def collection(cluster3, add_version, make_user, django_capture_on_commit_callbacks):  # noqa: F811
    """Returns a dict of the rows; b is the authoritative version of the resolved cluster."""
    cluster, a, b, c = cluster3
    curator = make_user("alice")
    cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=b.pk)
    picture = scene(5, (400, 300))
    big = add_version("portal/big.png", encode(picture, "PNG"), source="Portal")
    small = add_version("photo/small.jpg", encode(picture.resize((200, 150)), quality=80))
    unique = add_version("photo/unique.jpg", encode(scene(6, (320, 240)), quality=85))
    broken = VersionFactory(
        item__title="broken",
        source=Source.objects.get(name="Photo Unit"),
        original_filename="broken.jpg",
        byte_size=0,
        status=Version.Status.FAILED,
        error_code="corrupt",
        error_params={"detail": "the file is truncated"},
    )
    open_cluster = Cluster.objects.get(status=Cluster.Status.OPEN)
    assert set(open_cluster.members.values_list("version_id", flat=True)) == {big.pk, small.pk}
    for version in (a, b, c, big, small, unique):
        version.refresh_from_db()
    return {
        "resolved": cluster,
        "open": open_cluster,
        "a": a,
        "b": b,
        "c": c,
        "big": big,
        "small": small,
        "unique": unique,
        "broken": broken,
        "curator": curator,
    }
