"""Curated values survive a choice of version; suggestions know overlays and JPEG quality; dismissals stay visible."""

import pytest
from django.urls import reverse

from collections_app.models import Item
from dedup.models import Cluster, ClusterMember
from dedup.review.rules import cluster_suggest, jpeg_quality, overlaid_versions
from dedup.review.selectors import cluster_detail, cluster_token, merge_table
from dedup.review.services import cluster_dismiss, cluster_merge, cluster_undo

pytestmark = pytest.mark.django_db


def _curate_title(version, title: str) -> None:
    Item.objects.filter(pk=version.item_id).update(title=title, provenance={"title": {"user": "editor"}})


def test_a_curated_title_survives_a_merge_that_chooses_another_version(cluster3, curator):
    cluster, a, b, c = cluster3
    _curate_title(a, "Victoria Harbour at dusk")
    cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=c.pk, token=cluster_token(cluster))
    surviving = Item.objects.get(pk=c.item_id)
    assert surviving.authoritative_version_id == c.pk
    assert surviving.title == "Victoria Harbour at dusk"


def test_field_defaults_do_not_follow_the_authoritative_choice(cluster3):
    cluster, a, b, c = cluster3
    members = list(cluster_detail(cluster_id=cluster.pk).members.all())
    versions = [m.version for m in members]
    preferred = cluster_suggest(members).version
    defaults = {row.name: row.default for row in merge_table(versions=versions, preferred=preferred)}
    assert preferred.pk == a.pk  # same pixels as c, higher JPEG quality
    assert defaults["title"] == str(a.pk)


def test_a_title_that_is_only_the_file_name_is_not_offered_as_a_title(cluster3, client, curator):
    cluster, a, b, c = cluster3  # b's title "b" is the stem of "b.png", as ingest fills it
    versions = [m.version for m in cluster_detail(cluster_id=cluster.pk).members.all()]
    titles = next(row for row in merge_table(versions=versions, preferred=a) if row.name == "title")
    assert [value for _choice, value, _ids in titles.options] == ["Harbour at dusk", "維港黃昏"]
    html = client.get(reverse("review-cluster", args=[cluster.pk])).content.decode()
    assert "File name (no title yet)" in html


def test_jpeg_quality_is_read_from_the_quantisation_tables(cluster3):
    _cluster, a, b, c = cluster3  # a saved at quality 90, c at 60, b is a PNG
    assert jpeg_quality(a) == pytest.approx(90, abs=2)
    assert jpeg_quality(c) == pytest.approx(60, abs=2)
    assert jpeg_quality(b) > jpeg_quality(a)


def test_equal_pixels_the_higher_jpeg_quality_is_suggested_and_the_reason_says_so(cluster3):
    cluster, a, b, c = cluster3
    suggestion = cluster_suggest(list(cluster_detail(cluster_id=cluster.pk).members.all()))
    assert suggestion.version.pk == a.pk and suggestion.rule == "jpeg_quality"
    assert "highest JPEG quality (about 90)" in suggestion.reason


def test_a_copy_with_a_caption_laid_over_it_is_not_suggested(cluster3):
    cluster, a, b, c = cluster3
    # Evidence as verification stores it: each member against the anchor b; a differs in one region.
    ClusterMember.objects.filter(version=a).update(evidence={"compared_with": b.pk, "region": [200, 225, 0, 300]})
    ClusterMember.objects.filter(version=c).update(evidence={"compared_with": b.pk, "region": None})
    members = list(cluster_detail(cluster_id=cluster.pk).members.all())
    assert overlaid_versions([(m.version_id, m.evidence) for m in members]) == {a.pk}
    suggestion = cluster_suggest(members)
    assert suggestion.version.pk == c.pk  # a has as many pixels and a higher quality, but the caption
    assert "no caption, stamp or credit" in suggestion.reason


def test_the_anchor_is_the_overlaid_one_when_every_other_member_differs_from_it_in_a_region():
    members = [
        (1, {}),
        (2, {"compared_with": 1, "region": [0, 5, 0, 9]}),
        (3, {"compared_with": 1, "region": [1, 2, 3, 4]}),
    ]
    assert overlaid_versions(members) == {1}
    assert overlaid_versions(members[:2]) == set()  # two alone cannot say which side carries it


def test_a_dismissed_cluster_keeps_showing_its_members_and_the_decision(
    cluster3, client, curator, django_assert_max_num_queries
):
    cluster, a, b, c = cluster3
    cluster_dismiss(cluster_id=cluster.pk, actor=curator, reason="three different sittings")
    assert not ClusterMember.objects.exists()
    with django_assert_max_num_queries(14):
        html = client.get(reverse("review-cluster", args=[cluster.pk])).content.decode()
    assert "This cluster has no members any more" not in html
    assert html.count('<article class="member') == 3
    assert "Declared not duplicates by curator" in html and "three different sittings" in html
    decided = html[html.index("Declared not duplicates by") :].split("</p>")[0]
    assert "(Hong Kong time)" in decided  # the time written as every page writes it, with its zone
    assert "Undo" in html
    with django_assert_max_num_queries(10):
        page = client.get(reverse("review-queue"), {"status": "dismissed"})
    (row,) = page.context["page"].object_list
    assert {m.version_id for m in row.shown_members} == {a.pk, b.pk, c.pk}
    assert page.content.decode().count("thumb-xs") == 3


def test_a_dismissal_is_undone_from_the_dismissed_clusters_page(cluster3, client, curator):
    cluster, a, b, c = cluster3
    cluster_dismiss(cluster_id=cluster.pk, actor=curator)
    token = cluster_token(Cluster.objects.get())
    client.post(reverse("review-undo", args=[cluster.pk]), {"token": token})
    assert Cluster.objects.get().status == Cluster.Status.OPEN
    assert ClusterMember.objects.count() == 3


def test_the_item_history_marks_an_undone_merge_undone_with_who_and_when(cluster3, client, curator):
    cluster, a, b, c = cluster3
    cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=b.pk)
    cluster_merge_undone = cluster_undo(cluster_id=cluster.pk, actor=curator)
    assert cluster_merge_undone.status == Cluster.Status.OPEN
    cluster_merge(cluster_id=cluster.pk, actor=curator, authoritative_id=b.pk)
    page = client.get(reverse("item-detail", args=[b.item_id]))
    rows = page.context["record"].merge_rows
    assert [undone is not None for _event, _token, undone in rows] == [True, False]
    assert page.content.decode().count("undone by curator at") == 1


def test_confidence_spreads_exact_near_and_doubtful_clusters_apart():
    from dedup.review.confidence import cluster_confidence, confidence_words

    exact = cluster_confidence([("exact", {}), ("exact", {"hash_distance": 0})])
    near = cluster_confidence([("exact", {}), ("near", {"hash_distance": 2, "coverage": 0.99, "local_max_diff": 0.05})])
    far = cluster_confidence([("near", {"hash_distance": 9, "coverage": 0.86, "local_max_diff": 0.25})] * 2)
    stamped = cluster_confidence(
        [("near", {"hash_distance": 2, "coverage": 0.99, "local_max_diff": 0.05, "region": [1]})]
    )
    assert exact > near > stamped > far
    assert confidence_words(exact).startswith("certain") and confidence_words(far).startswith("doubtful")


def test_a_page_that_passed_its_detail_reading_narrowly_is_doubtful():
    # Two forms of one template differing in one field pass the whole-frame reading widely and the reading at
    # detail size narrowly: that narrow margin is what the cluster's confidence must show.
    from dedup.review.confidence import cluster_confidence, confidence_words

    first = {"hash_distance": 0, "coverage": 1.0, "local_max_diff": 0.10}
    wide = cluster_confidence([("near", {**first, "detail": {"local_max_diff": 0.08}})] * 2)
    narrow = cluster_confidence([("near", {**first, "detail": {"local_max_diff": 0.39}})] * 2)
    assert wide > 0.7 > 0.5 > narrow
    assert confidence_words(narrow).startswith("doubtful")


def test_matching_stores_the_reviews_confidence_on_the_cluster(cluster3):
    from dedup.review.confidence import cluster_confidence

    cluster, *_ = cluster3
    cluster.refresh_from_db()
    expected = cluster_confidence(cluster.members.values_list("kind", "evidence"))
    assert cluster.confidence == expected and expected < 0.95  # near copies, not the 0.99 of the score


def test_a_version_kept_separate_stays_its_own_item_and_the_rest_merge(cluster3, client, curator):
    cluster, a, b, c = cluster3
    data = {"token": cluster_token(cluster), "authoritative": a.pk, "keep": [str(c.pk)]}
    client.post(reverse("review-merge", args=[cluster.pk]), data)
    assert Item.objects.get(pk=a.item_id).versions.count() == 2
    c.refresh_from_db()
    assert c.duplicate_of_id is None and Item.objects.get(pk=c.item_id).merged_into_id is None
    assert not ClusterMember.objects.filter(version=c).exists()
