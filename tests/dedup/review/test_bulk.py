"""Bulk rules: defined in the interface, previewed with counts and a sample, run as one batch, undone."""

import pytest
from django.urls import reverse

from collections_app.models import AuditEvent
from dedup.models import BulkRule, BulkRun, Cluster
from tests.images import encode, scene

pytestmark = pytest.mark.django_db

CURATOR_PERMS = ["dedup.view_cluster", "dedup.change_cluster", "collections_app.view_version"]


@pytest.fixture
def curator(make_user, client):
    user = make_user("curator", CURATOR_PERMS)
    client.force_login(user)
    return user


@pytest.fixture
def exact_and_near(add_version):
    """Two clusters of exact copies and one of near copies."""
    for n in (1, 2):
        data = encode(scene(300 + n, (320, 240)), quality=90)
        add_version(f"a/{n}.jpg", data)
        add_version(f"b/{n}.jpg", data, source="Archive")
    picture = scene(310, (320, 240))
    add_version("a/near.jpg", encode(picture, quality=90))
    add_version("b/near.png", encode(picture.resize((240, 180)), "PNG"), source="Archive")
    assert Cluster.objects.count() == 3


def test_a_rule_is_defined_previewed_run_and_undone(client, curator, exact_and_near, django_assert_max_num_queries):
    response = client.post(
        reverse("review-bulk-rules"), {"name": "Exact and same pixels", "kinds": ["exact", "same_pixels"]}
    )
    rule = BulkRule.objects.get()
    assert response.url == reverse("review-bulk-preview", args=[rule.pk])
    with django_assert_max_num_queries(9):
        page = client.get(response.url)
    assert page.context["preview"].clusters == 2 and page.context["preview"].versions == 4
    assert len(page.context["preview"].sample) == 2
    previewed = {pk: suggestion.version.pk for pk, suggestion in page.context["preview"].kept.items()}

    client.post(reverse("review-bulk-run", args=[rule.pk]))
    run = BulkRun.objects.get()
    assert len(run.cluster_ids) == 2
    assert Cluster.objects.filter(status=Cluster.Status.RESOLVED).count() == 2
    assert Cluster.objects.filter(status=Cluster.Status.OPEN).count() == 1  # the near copies wait for a person
    assert AuditEvent.objects.filter(action="bulk.run").count() == 1
    kept = {pk: Cluster.objects.get(pk=pk).members.first().version.item.authoritative_version_id for pk in previewed}
    assert kept == previewed  # the preview named the versions the run kept
    with django_assert_max_num_queries(9):
        assert client.get(reverse("review-bulk-rules")).status_code == 200

    client.post(reverse("review-bulk-undo", args=[run.pk]))
    assert Cluster.objects.filter(status=Cluster.Status.OPEN).count() == 3
    run.refresh_from_db()
    assert run.undone_by == curator and run.undone_at is not None
    page = client.get(reverse("review-bulk-rules")).content.decode()
    assert "undone by curator" in page
    assert "(Hong Kong time)" in page[page.index("undone by curator") :].split("</span>")[0]


def test_one_cluster_of_a_run_is_undone_on_its_own(client, curator, exact_and_near):
    from dedup.review.bulk import bulk_rule_create, bulk_rule_run
    from dedup.review.selectors import cluster_token

    rule = bulk_rule_create(actor=curator, name="Exact", kinds=["exact"], max_size=None)
    run = bulk_rule_run(rule_id=rule.pk, actor=curator)
    first, second = run.cluster_ids
    client.post(reverse("review-undo", args=[first]), {"token": cluster_token(Cluster.objects.get(pk=first))})
    assert Cluster.objects.get(pk=first).status == Cluster.Status.OPEN
    client.post(reverse("review-bulk-undo", args=[run.pk]))
    assert Cluster.objects.get(pk=second).status == Cluster.Status.OPEN
    assert AuditEvent.objects.filter(action="cluster.undo").count() == 2  # the first was not undone twice


def test_bulk_rules_need_the_change_permission(client, make_user):
    client.force_login(make_user("looker", ["dedup.view_cluster"]))
    assert client.get(reverse("review-bulk-rules")).status_code == 403


def test_a_rule_without_kinds_is_refused_with_a_message(client, curator):
    page = client.post(reverse("review-bulk-rules"), {"name": "Nothing"})
    assert page.status_code == 200 and not BulkRule.objects.exists()
    assert "This field is required" in page.content.decode()
