"""Each cluster row keeps its member count, match kinds and upload bounds equal to what its members say, after
matching, merge, split, dismissal, undo, bulk runs and rebuilds; the queue's size, kind and upload-date filters
read only that row."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import ImageOps

from collections_app.models import Version
from dedup.matching.clusters import clusters_count_members, version_match
from dedup.matching.rebuild import clusters_rebuild
from dedup.models import KIND_FLAGS, BulkRule, Cluster, MatchKind, NotDuplicatePair
from dedup.review.bulk import bulk_rule_run, bulk_run_undo
from dedup.review.services import cluster_dismiss, cluster_merge, cluster_split, cluster_undo
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


def _stored(cluster: Cluster) -> tuple[int, set[str]]:
    cluster.refresh_from_db()
    return cluster.member_count, {kind for kind, flag in KIND_FLAGS.items() if getattr(cluster, flag)}


def _from_members(cluster: Cluster) -> tuple[int, set[str]]:
    kinds = list(cluster.members.values_list("kind", flat=True))
    return len(kinds), set(kinds)


def _assert_rows_say_what_members_say() -> None:
    assert Cluster.objects.exists()
    for cluster in Cluster.objects.all():
        assert _stored(cluster) == _from_members(cluster), cluster
        uploads = cluster.members.aggregate(first=Min("version__uploaded_at"), last=Max("version__uploaded_at"))
        assert (cluster.first_uploaded_at, cluster.last_uploaded_at) == (uploads["first"], uploads["last"]), cluster


@pytest.fixture
def mixed(add_version):
    """One cluster with every kind of match (exact, same pixels, near, rotated) and a cluster of two."""
    picture = scene(501, (480, 360))
    png = encode(picture, "PNG")
    versions = {
        "original": add_version("a/original.png", png),
        "exact": add_version("b/original.png", png),
        "same_pixels": add_version("b/original.bmp", encode(picture, "BMP")),
        "near": add_version("b/small.jpg", encode(picture.resize((240, 180)), quality=85)),
        "rotated": add_version("b/mirrored.png", encode(ImageOps.mirror(picture), "PNG")),
    }
    other = scene(502, (480, 360))
    add_version("c/other.jpg", encode(other, quality=90))
    add_version("c/other-small.jpg", encode(other.resize((240, 180)), quality=80))
    big = Cluster.objects.get(members__version=versions["original"])
    assert _from_members(big) == (5, set(MatchKind.values))
    return big, versions


def test_matching_stores_each_clusters_size_and_kinds_and_a_direct_version_match_keeps_them(mixed):
    big, versions = mixed
    _assert_rows_say_what_members_say()
    for other in ("original", "exact", "same_pixels", "near"):
        a, b = sorted((versions["rotated"].pk, versions[other].pk))
        NotDuplicatePair.objects.create(version_a_id=a, version_b_id=b)
    version_match(version_id=versions["rotated"].pk)  # as the worker calls it, without Celery
    assert _stored(big)[0] == 4 and MatchKind.ROTATED not in _stored(big)[1]
    _assert_rows_say_what_members_say()


def test_split_dismissal_and_their_undo_keep_size_and_kinds(mixed, make_user):
    big, versions = mixed
    curator = make_user("curator", [])
    cluster_split(cluster_id=big.pk, version_id=versions["rotated"].pk, actor=curator)
    assert _stored(big) == (4, {"exact", "same_pixels", "near"})
    cluster_undo(cluster_id=big.pk, actor=curator)
    assert _stored(big) == (5, set(MatchKind.values))
    cluster_dismiss(cluster_id=big.pk, actor=curator)
    assert _stored(big) == (0, set())
    cluster_undo(cluster_id=big.pk, actor=curator)
    assert _stored(big) == (5, set(MatchKind.values))
    _assert_rows_say_what_members_say()


def test_a_merge_keeping_one_version_separate_and_its_undo_keep_size_and_kinds(mixed, make_user):
    big, versions = mixed
    curator = make_user("curator", [])
    cluster_merge(
        cluster_id=big.pk,
        actor=curator,
        authoritative_id=versions["original"].pk,
        keep_separate=[versions["near"].pk],
    )
    assert _stored(big) == (4, {"exact", "same_pixels", "rotated"})
    _assert_rows_say_what_members_say()
    cluster_undo(cluster_id=big.pk, actor=curator)  # the merge
    cluster_undo(cluster_id=big.pk, actor=curator)  # the version kept separate comes back
    assert _stored(big) == (5, set(MatchKind.values))
    _assert_rows_say_what_members_say()


def test_a_bulk_run_qualifies_clusters_by_their_stored_kinds_and_size_and_its_undo_keeps_them(mixed, make_user):
    big, _versions = mixed
    curator = make_user("curator", [])
    near_only = BulkRule.objects.create(name="near pairs", kinds=["near"], max_size=2)
    run = bulk_rule_run(rule_id=near_only.pk, actor=curator)
    (small,) = Cluster.objects.exclude(pk=big.pk)
    assert run.cluster_ids == [small.pk]
    assert Cluster.objects.get(pk=big.pk).status == Cluster.Status.OPEN  # other kinds and too many versions
    bulk_run_undo(run_id=run.pk, actor=curator)
    _assert_rows_say_what_members_say()


def test_a_rebuild_puts_right_whatever_the_rows_said(mixed):
    Cluster.objects.update(member_count=9, has_exact=False, has_near=False, has_rotated=True, last_uploaded_at=None)
    clusters_rebuild()
    _assert_rows_say_what_members_say()


def test_the_migration_fills_the_size_and_kinds_of_clusters_made_before_it(mixed):
    Cluster.objects.update(member_count=0, has_exact=False, has_near=False, has_rotated=False, first_uploaded_at=None)
    migration = importlib.import_module("dedup.migrations.0014_cluster_member_summary")
    with connection.schema_editor(atomic=False) as schema_editor:
        migration.count_members(apps, schema_editor)
    _assert_rows_say_what_members_say()


def test_the_queue_filters_by_size_kind_and_upload_date_on_the_cluster_row_alone(client, make_user, mixed):
    """No query of the queue reads members to choose or count clusters; members are read only for the page."""
    big, _versions = mixed
    client.force_login(make_user("curator", ["dedup.view_cluster"]))
    Version.objects.filter(cluster_memberships__cluster=big).update(uploaded_at=timezone.now() - timedelta(days=400))
    clusters_count_members(cluster_ids=[big.pk])  # uploaded long ago, as if it had been matched then
    cases = (
        ({"kind": "rotated"}, [big.pk]),
        ({"size": "3-5"}, [big.pk]),
        ({"size": "2"}, None),
        ({"uploaded_before": f"{timezone.now() - timedelta(days=300):%Y-%m-%d}"}, [big.pk]),
        ({"uploaded_after": f"{timezone.now() - timedelta(days=300):%Y-%m-%d}"}, None),
    )
    for params, expected in cases:
        response = client.get(reverse("review-queue"), params)
        listed = [c.pk for c in response.context["page"].object_list]
        assert listed == (expected or [c.pk for c in Cluster.objects.exclude(pk=big.pk)])
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("review-queue"), params)
        choosing = [q["sql"] for q in captured.captured_queries if 'FROM "dedup_cluster"' in q["sql"]]
        assert choosing and not any("dedup_clustermember" in sql for sql in choosing), params
