"""Every review page costs a bounded number of queries, whatever the collection holds: the queue with each
filter and order, a cluster, possible duplicates, bulk rules and their preview, and an item's merge history."""

import pytest
from django.urls import reverse

from collections_app.models import Source
from dedup.models import BulkRule, Cluster, MatchEdge, NotDuplicatePair
from dedup.review.bulk import bulk_rule_preview
from dedup.review.services import cluster_merge, cluster_undo
from dedup.selectors import possible_pairs
from tests.dedup.review.conftest import CURATOR_PERMS
from tests.factories import ClusterFactory, ClusterMemberFactory, VersionFactory
from tests.query_shapes import skipped_rows_by_id_alone

pytestmark = pytest.mark.django_db

QUEUE_FILTERS = [
    {},
    {"order": "least_sure"},
    {"kind": "near"},
    {"size": "3-5"},
    {"uploaded_after": "2000-01-01"},
    {"status": "dismissed"},
    {"skipped": "true"},
    {"page": "2"},
]


def _clusters(count: int, size: int = 3, kind: str = "near") -> list[Cluster]:
    source, _created = Source.objects.get_or_create(name="Photo Unit")
    made = []
    for _ in range(count):
        cluster = ClusterFactory(confidence=0.3 + (Cluster.objects.count() % 600) / 1000)
        ClusterMemberFactory.create_batch(size, cluster=cluster, kind=kind, version__source=source)
        made.append(cluster)
    return made


def _queries(client, django_assert_max_num_queries, url: str, limit: int, **params) -> int:
    with django_assert_max_num_queries(limit) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("params", QUEUE_FILTERS, ids=lambda p: ",".join(p) or "default")
def test_the_queue_costs_the_same_queries_with_each_filter_and_order_for_few_or_many_clusters(
    client, curator, django_assert_max_num_queries, params
):
    source = Source.objects.get_or_create(name="Photo Unit")[0]
    _clusters(2)
    few = _queries(client, django_assert_max_num_queries, reverse("review-queue"), 10, **params, source=source.pk)
    _clusters(40, size=4)
    many = _queries(client, django_assert_max_num_queries, reverse("review-queue"), 10, **params, source=source.pk)
    assert many <= few


@pytest.mark.parametrize("params", [{}, {"order": "least_sure"}, {"size": "2"}], ids=["surest", "least", "size"])
def test_a_deep_queue_page_costs_the_queries_of_the_first_and_passes_over_earlier_clusters_by_id(
    client, curator, django_assert_max_num_queries, monkeypatch, params
):
    monkeypatch.setattr("dedup.review.views.PAGE_SIZE", 5)
    _clusters(40, size=2)
    queue = Cluster.objects.order_by(*(("confidence", "-pk") if params.get("order") else ("-confidence", "pk")))
    with django_assert_max_num_queries(10) as first:
        client.get(reverse("review-queue"), params)
    with django_assert_max_num_queries(len(first.captured_queries)) as deep:
        page = client.get(reverse("review-queue"), {**params, "page": 7}).context["page"]
    assert [c.pk for c in page.object_list] == [c.pk for c in queue][30:35]
    assert skipped_rows_by_id_alone(deep), [q["sql"] for q in deep.captured_queries]


def test_least_sure_first_turns_the_queue_round(client, curator):
    _clusters(30)
    surest = client.get(reverse("review-queue")).context["page"].object_list
    least = client.get(reverse("review-queue"), {"order": "least_sure"}).context["page"].object_list
    assert [c.confidence for c in surest] == sorted((c.confidence for c in surest), reverse=True)
    assert [c.confidence for c in least] == sorted(c.confidence for c in least)
    assert least[0].confidence == min(Cluster.objects.values_list("confidence", flat=True))
    assert "least sure first" in client.get(reverse("review-queue"), {"order": "least_sure"}).content.decode()


def test_a_cluster_page_costs_the_same_queries_for_3_or_12_members_and_finds_its_neighbours(
    client, curator, django_assert_max_num_queries
):
    small, middle, big = _clusters(3, size=3)
    Cluster.objects.filter(pk=small.pk).update(confidence=0.9)
    Cluster.objects.filter(pk=middle.pk).update(confidence=0.5)
    Cluster.objects.filter(pk=big.pk).update(confidence=0.5)  # a tie: the higher id follows
    ClusterMemberFactory.create_batch(9, cluster=big)
    few = _queries(client, django_assert_max_num_queries, reverse("review-cluster", args=[middle.pk]), 16)
    many = _queries(client, django_assert_max_num_queries, reverse("review-cluster", args=[big.pk]), 16)
    assert many <= few
    page = client.get(reverse("review-cluster", args=[middle.pk]))
    assert (page.context["previous"], page.context["following"]) == (small.pk, big.pk)


def _possible(count: int, declined: int) -> None:
    for n in range(count):
        a, b = sorted((VersionFactory(), VersionFactory()), key=lambda v: v.pk)
        MatchEdge.objects.create(version_a=a, version_b=b, is_duplicate=False, evidence={"possible": True})
        if n < declined:
            NotDuplicatePair.objects.create(version_a=a, version_b=b)


def test_possible_duplicates_cost_the_same_queries_for_one_or_many_pairs_and_leave_out_declined_ones(
    client, curator, django_assert_max_num_queries
):
    _possible(1, declined=0)
    few = _queries(client, django_assert_max_num_queries, reverse("review-possible"), 8)
    _possible(45, declined=20)
    many = _queries(client, django_assert_max_num_queries, reverse("review-possible"), 8)
    assert many <= few
    page = client.get(reverse("review-possible"), {"page": 2}).context["page"]
    assert page.paginator.count == 26 and len(page.object_list) == 6


def test_a_deep_possible_duplicates_page_costs_the_queries_of_the_first_and_passes_over_earlier_pairs_by_id(
    client, curator, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr("dedup.review.views_possible.PAGE_SIZE", 5)
    _possible(30, declined=5)
    waiting = list(possible_pairs().values_list("pk", flat=True))
    with django_assert_max_num_queries(8) as first:
        client.get(reverse("review-possible"))
    with django_assert_max_num_queries(len(first.captured_queries)) as deep:
        page = client.get(reverse("review-possible"), {"page": 4}).context["page"]
    assert [edge.pk for edge in page.object_list] == waiting[15:20]
    assert skipped_rows_by_id_alone(deep), [q["sql"] for q in deep.captured_queries]


def test_bulk_pages_cost_the_same_queries_for_few_or_many_clusters_and_count_in_the_database(
    client, curator, django_assert_max_num_queries
):
    rule = BulkRule.objects.create(name="exact", kinds=["exact", "same_pixels"], max_size=3)
    _clusters(2, size=2, kind="exact")
    few = _queries(client, django_assert_max_num_queries, reverse("review-bulk-preview", args=[rule.pk]), 9)
    _clusters(12, size=3, kind="exact")
    _clusters(5, size=4, kind="exact")  # over the size limit
    _clusters(5, size=2, kind="near")  # another kind
    many = _queries(client, django_assert_max_num_queries, reverse("review-bulk-preview", args=[rule.pk]), 9)
    assert many <= few
    preview = bulk_rule_preview(rule=rule)
    assert (preview.clusters, preview.versions, len(preview.sample)) == (14, 40, 8)
    assert all(c.member_count <= 3 for c in preview.sample)
    _queries(client, django_assert_max_num_queries, reverse("review-bulk-rules"), 9)


def test_an_items_merge_history_costs_the_same_queries_for_one_merge_or_five(
    client, make_user, django_assert_max_num_queries
):
    curator = make_user("records", [*CURATOR_PERMS, "collections_app.view_auditevent"])
    client.force_login(curator)
    (cluster,) = _clusters(1, size=3)
    first = cluster.members.order_by("version_id").first().version

    def merge_and_undo(times: int) -> None:
        for _ in range(times):
            cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=first.pk)
            cluster_undo(cluster_id=cluster.pk, actor=curator)

    merge_and_undo(1)
    cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=first.pk)
    first.refresh_from_db()
    url = reverse("item-detail", args=[first.item_id])
    few = _queries(client, django_assert_max_num_queries, url, 21)
    cluster_undo(cluster_id=cluster.pk, actor=curator)
    merge_and_undo(3)
    cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=first.pk)
    many = _queries(client, django_assert_max_num_queries, url, 21)
    assert many <= few
    assert client.get(url).content.decode().count("undone by records") == 5


def test_the_queue_counts_only_so_far_and_still_pages_to_the_end(client, curator, monkeypatch):
    """Past the count limit the queue says "more than" instead of counting every open cluster."""
    monkeypatch.setattr("dedup.review.views.COUNT_LIMIT", 30)
    _clusters(80, size=2)
    html = client.get(reverse("review-queue")).content.decode()
    assert "More than 30 clusters" in html and "Page 1 of many" in html and "page=2" in html
    last = client.get(reverse("review-queue"), {"page": 4})
    assert last.context["page"].number == 4 and len(last.context["page"].object_list) == 5
    assert not last.context["page"].has_next() and "80 clusters" in last.content.decode()
