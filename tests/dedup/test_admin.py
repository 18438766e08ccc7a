"""The admin shows matching state to staff but changes none of it: that goes through the audited services."""

import pytest

from collections_app.failures import failure_text
from dedup.imaging.errors import Failure
from dedup.models import Cluster, MatchEdge, RefingerprintRequest
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(user)
    return client


def test_clusters_edges_and_refingerprint_requests_are_listed_with_reasons_in_words(staff, add_version):
    data = encode(scene(11, (200, 150)), quality=90)
    first = add_version("a.jpg", data)
    add_version("b.jpg", data)
    cluster = Cluster.objects.get(members__version=first)
    RefingerprintRequest.objects.create(version=first, error_code=Failure.PDF_PASSWORD.value)
    for url in ("/admin/dedup/cluster/", f"/admin/dedup/cluster/{cluster.pk}/change/", "/admin/dedup/matchedge/"):
        assert staff.get(url).status_code == 200, url
    listing = staff.get("/admin/dedup/refingerprintrequest/").content.decode()
    rows = listing.split("<tbody>")[1]
    assert "a.jpg" in rows and failure_text(Failure.PDF_PASSWORD) in rows and Failure.PDF_PASSWORD.value not in rows


def test_nothing_is_added_changed_or_deleted_from_the_admin(staff, add_version):
    data = encode(scene(12, (200, 150)), quality=90)
    first = add_version("a.jpg", data)
    add_version("b.jpg", data)
    cluster = Cluster.objects.get(members__version=first)
    edge = MatchEdge.objects.get()
    assert staff.get("/admin/dedup/cluster/add/").status_code == 403
    assert staff.post(f"/admin/dedup/cluster/{cluster.pk}/delete/", {"post": "yes"}).status_code == 403
    staff.post(f"/admin/dedup/matchedge/{edge.pk}/change/", {"kind": "near", "score": "0.1"})
    edge.refresh_from_db()
    assert edge.kind == "exact" and Cluster.objects.filter(pk=cluster.pk).exists()
