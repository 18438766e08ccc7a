"""The API's cluster list costs the same few queries whatever the page holds."""

import pytest

from collections_app.models import Version
from dedup.matching.clusters import clusters_count_members
from dedup.models import Cluster, ClusterMember, MatchKind
from tests.factories import ItemFactory, SourceFactory

pytestmark = pytest.mark.django_db


def _clusters(n: int, members: int) -> None:
    source = SourceFactory()
    for c in range(n):
        cluster = Cluster.objects.create(confidence=0.9)
        for m in range(members):
            version = Version.objects.create(
                item=ItemFactory(),
                source=source,
                file=f"x/{c}-{m}.jpg",
                original_filename="x.jpg",
                sha256=f"{c:032x}{m:032x}",
                byte_size=1,
            )
            ClusterMember.objects.create(cluster=cluster, version=version, kind=MatchKind.NEAR, score=0.9)
        clusters_count_members(cluster_ids=[cluster.pk])  # as matching does: the size filter reads the row


def test_listing_a_full_page_of_clusters_takes_at_most_ten_queries(api_as, django_assert_max_num_queries):
    _clusters(25, 3)
    client = api_as("curator")
    client.get("/api/v1/clusters/")  # signs the token in
    with django_assert_max_num_queries(10):
        body = client.get("/api/v1/clusters/", {"size": "3-5"}).json()
    assert body["count"] == 25 and {len(c["members"]) for c in body["results"]} == {3}
    assert set(body["results"][0]["members"][0]) == {"version", "kind", "score", "added_at"}
