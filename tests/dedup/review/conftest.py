"""A small cluster of copies of one picture, with differing catalogue fields on each item."""

import pytest
from PIL import Image

from dedup.models import Cluster
from tests.images import encode, scene


@pytest.fixture
def cluster3(add_version):
    picture: Image.Image = scene(71, (400, 300))
    a = add_version("photo/a.jpg", encode(picture, quality=90))
    b = add_version("archive/b.png", encode(picture.resize((300, 225)), "PNG"), source="Archive")
    c = add_version("portal/c.jpg", encode(picture, quality=60), source="Portal")
    for version, fields in (
        (a, {"title": "Harbour at dusk", "creator": "", "subjects": ["harbour"]}),
        (b, {"title": "b", "creator": "", "subjects": ["boats"]}),
        (c, {"title": "維港黃昏", "creator": "Lee Wing", "subjects": ["harbour", "1960s"]}),
    ):
        for name, value in fields.items():
            setattr(version.item, name, value)
        version.item.save()
    cluster = Cluster.objects.get()
    assert set(cluster.members.values_list("version_id", flat=True)) == {a.pk, b.pk, c.pk}
    return cluster, a, b, c


CURATOR_PERMS = [
    "dedup.view_cluster",
    "dedup.change_cluster",
    "collections_app.view_version",
    "collections_app.view_item",
]


@pytest.fixture
def curator(make_user, client):
    """A signed-in curator: review and change clusters, see versions and items."""
    user = make_user("curator", CURATOR_PERMS)
    client.force_login(user)
    return user
