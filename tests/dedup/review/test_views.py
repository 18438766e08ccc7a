"""Review pages: permissions, the queue's query count, partial updates and the stale-page message."""

import pytest
from django.urls import reverse

from collections_app.models import Item, Source
from dedup.models import Cluster
from dedup.review.selectors import cluster_token
from tests.factories import ClusterFactory, ClusterMemberFactory, SourceFactory

pytestmark = pytest.mark.django_db


def _fake_clusters(count: int, size: int = 3) -> None:
    """Clusters made directly in the database: the queue needs rows, not fingerprints."""
    source, _created = Source.objects.get_or_create(name="Photo Unit")
    start = Cluster.objects.count()
    for n in range(start, start + count):
        cluster = ClusterFactory(confidence=0.5 + n / 1000)
        # Each member brings its own item and version.
        ClusterMemberFactory.create_batch(size, cluster=cluster, version__source=source)


QUEUE_QUERIES = 8  # session, user, 2 permission checks, count, page, members; one spare (measured: 7)


def test_queue_page_costs_the_same_few_queries_whatever_the_page_holds(client, curator, django_assert_max_num_queries):
    _fake_clusters(2)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        assert client.get(reverse("review-queue")).status_code == 200
    _fake_clusters(40, size=5)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(reverse("review-queue"))
    assert len(response.context["page"].object_list) == 25
    with django_assert_max_num_queries(QUEUE_QUERIES):
        assert client.get(reverse("review-queue"), {"page": 2}).status_code == 200


def test_queue_is_for_curators_only(client, make_user):
    client.force_login(make_user("viewer", ["collections_app.view_version"]))
    assert client.get(reverse("review-queue")).status_code == 403


def test_actions_need_the_change_permission(client, make_user, cluster3):
    cluster, a, *_ = cluster3
    client.force_login(make_user("looker", ["dedup.view_cluster"]))
    assert client.get(reverse("review-cluster", args=[cluster.pk])).status_code == 200
    url = reverse("review-merge", args=[cluster.pk])
    assert client.post(url, {"token": cluster_token(cluster), "authoritative": a.pk}).status_code == 403
    assert Cluster.objects.get().status == Cluster.Status.OPEN


def test_queue_filters_by_source_and_defaults_to_open(client, curator, cluster3):
    cluster, *_ = cluster3
    archive = Source.objects.get(name="Archive")
    assert list(client.get(reverse("review-queue")).context["page"]) == [cluster]
    other = SourceFactory()
    assert list(client.get(reverse("review-queue"), {"source": other.pk}).context["page"]) == []
    assert list(client.get(reverse("review-queue"), {"source": archive.pk}).context["page"]) == [cluster]
    assert list(client.get(reverse("review-queue"), {"status": "resolved"}).context["page"]) == []


def test_cluster_page_shows_evidence_in_plain_words_and_a_suggestion(client, curator, cluster3):
    cluster, a, b, c = cluster3
    response = client.get(reverse("review-cluster", args=[cluster.pk]))
    html = response.content.decode()
    assert "Suggested authoritative version" in html
    assert "re-saved as PNG" in html and "resized to 75%" in html
    assert '<script src="/static/js/review.js" defer>' in html and "<script>" not in html


def test_the_cluster_page_and_its_compare_view_say_why_verification_joined_each_copy(client, curator, cluster3):
    cluster = cluster3[0]
    response = client.get(reverse("review-cluster", args=[cluster.pk]))
    html = response.content.decode()
    assert '<dd class="reason" title="Same picture after alignment.">Same picture after alignment.</dd>' in html
    assert {e["reason"] for e in response.context["edges"]} == {"Same picture after alignment."}
    client.post(reverse("set_language"), {"language": "zh-hant", "next": "/"})
    response = client.get(reverse("review-cluster", args=[cluster.pk]))
    assert '<dd class="reason" title="對齊後是同一張圖片。">對齊後是同一張圖片。</dd>' in response.content.decode()
    assert {e["reason"] for e in response.context["edges"]} == {"對齊後是同一張圖片。"}


def test_merge_through_a_partial_request_returns_the_panel(client, curator, cluster3):
    cluster, a, b, c = cluster3
    data = {"token": cluster_token(cluster), "authoritative": b.pk, "field_title": str(c.pk)}
    response = client.post(reverse("review-merge", args=[cluster.pk]), data, headers={"x-requested-with": "fetch"})
    assert response.status_code == 200
    assert b'id="cluster-panel"' in response.content and b"<html" not in response.content
    assert Item.objects.get(pk=b.item_id).title == "維港黃昏"
    again = client.post(reverse("review-merge", args=[cluster.pk]), data, headers={"x-requested-with": "fetch"})
    assert "Already merged by curator at" in again.content.decode()
    # The merged-away item's identifier redirects to the surviving item.
    response = client.get(reverse("item-detail", args=[a.item_id]))
    assert response.status_code == 302 and response.url == reverse("item-detail", args=[b.item_id])


def test_the_curator_role_may_review():
    from django.contrib.auth.models import Group

    codenames = set(Group.objects.get(name="curator").permissions.values_list("codename", flat=True))
    assert {"view_cluster", "change_cluster", "view_version"} <= codenames


def test_a_merge_is_undone_from_the_surviving_items_history(client, curator, cluster3):
    from dedup.review.services import cluster_merge

    cluster, a, b, c = cluster3
    cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=b.pk, choices={"title": str(a.pk)})
    page = client.get(reverse("item-detail", args=[b.item_id]))
    (event, undo_token, _undone), *_ = page.context["record"].merge_rows
    assert undo_token == cluster_token(Cluster.objects.get()) and "Undo this merge" in page.content.decode()

    client.post(reverse("review-undo", args=[cluster.pk]), {"token": undo_token})

    assert Cluster.objects.get().status == Cluster.Status.OPEN
    assert Item.objects.get(pk=b.item_id).title == "b" and Item.objects.get(pk=a.item_id).merged_into_id is None
    page = client.get(reverse("item-detail", args=[b.item_id]))
    assert [token for _event, token, _undone in page.context["record"].merge_rows] == [None]
    assert "Undo this merge" not in page.content.decode()


def test_the_item_page_costs_the_same_queries_however_many_merges_its_history_holds(client, curator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dedup.review.services import cluster_merge
    from tests.factories import ItemFactory, VersionFactory

    item = ItemFactory()

    def merge_one_more() -> int:
        cluster = ClusterFactory()
        kept = ClusterMemberFactory(cluster=cluster, version=VersionFactory(item=item)).version
        ClusterMemberFactory(cluster=cluster)
        cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=kept.pk)
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("item-detail", args=[item.pk]))
        assert page.status_code == 200
        return len(captured.captured_queries)

    one = merge_one_more()
    merge_one_more(), merge_one_more()
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("item-detail", args=[item.pk]))
    rows = page.context["record"].merge_rows
    assert len(rows) == 3 and [token is not None for _event, token, _undone in rows] == [True, True, True]
    assert len(captured.captured_queries) == one


def test_a_decisions_message_is_shown_once_on_the_cluster_page_and_on_the_bulk_rules_page(client, curator, cluster3):
    """The panel shows its own messages (in the heading, where they push no member under the action bar); the
    site layout does not repeat them above it."""
    cluster = cluster3[0]
    page = client.post(reverse("review-dismiss", args=[cluster.pk]), {"token": cluster_token(cluster)}, follow=True)
    assert page.content.decode().count('role="status"') == 1
    page = client.post(reverse("review-bulk-rules"), {"name": "Exact", "kinds": ["exact"]}, follow=False)
    page = client.get(reverse("review-bulk-rules"))
    assert page.content.decode().count('role="status"') == 1
