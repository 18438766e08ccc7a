"""The API's cluster list costs the same few queries whatever the page holds."""

import pytest

from api.views import ClusterViewSet
from collections_app.models import Version
from dedup.matching.clusters import clusters_count_members
from dedup.models import Cluster, ClusterMember, MatchKind
from tests.factories import ItemFactory, SourceFactory
from tests.query_shapes import skipped_rows_by_id_alone

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


def test_the_cluster_list_counts_no_further_than_the_page_asked_for_and_every_page_can_be_reached(api_as, monkeypatch):
    monkeypatch.setattr("api.pagination.COUNT_LIMIT", 6)
    monkeypatch.setattr(ClusterViewSet.pagination_class, "page_size", 4)
    _clusters(25, 2)
    client = api_as("curator")
    first = client.get("/api/v1/clusters/").json()
    assert (first["count"], first["count_capped"], len(first["results"])) == (7, True, 4)
    assert first["next"]
    fifth = client.get("/api/v1/clusters/", {"page": 5}).json()
    assert (fifth["count"], fifth["count_capped"], len(fifth["results"])) == (21, True, 4)
    last = client.get("/api/v1/clusters/", {"page": 7}).json()
    assert (last["count"], last["count_capped"], len(last["results"]), last["next"]) == (25, False, 1, None)
    ids = [c["id"] for page in range(1, 8) for c in client.get("/api/v1/clusters/", {"page": page}).json()["results"]]
    assert len(ids) == len(set(ids)) == 25


def test_a_deep_page_of_clusters_costs_the_queries_of_the_first_and_skips_only_ids(
    api_as, monkeypatch, django_assert_max_num_queries
):
    """The clusters before a deep page are passed over by their ids alone: no member count, skip flag or row."""
    monkeypatch.setattr(ClusterViewSet.pagination_class, "page_size", 4)
    _clusters(30, 2)
    client = api_as("curator")
    ordered = [c.pk for c in Cluster.objects.order_by("-confidence", "pk")]
    with django_assert_max_num_queries(10) as first:
        assert [c["id"] for c in client.get("/api/v1/clusters/").json()["results"]] == ordered[:4]
    with django_assert_max_num_queries(len(first.captured_queries)) as deep:
        body = client.get("/api/v1/clusters/", {"page": 6}).json()
    assert [c["id"] for c in body["results"]] == ordered[20:24]
    assert skipped_rows_by_id_alone(deep), [q["sql"] for q in deep.captured_queries]


def test_the_cluster_list_shows_the_size_kept_on_the_row_without_counting_members(api_as):
    _clusters(3, 2)
    Cluster.objects.update(member_count=7)  # the row is what is shown, whatever a recount would say
    body = api_as("curator").get("/api/v1/clusters/").json()
    assert {c["member_count"] for c in body["results"]} == {7}
    assert {len(c["members"]) for c in body["results"]} == {2}
