"""Curator decisions on a cluster: merge with field choices, undo, split, dismiss, and two curators at once."""

import pytest

from collections_app.models import AuditEvent, Item, Version
from dedup.matching.rebuild import clusters_rebuild
from dedup.models import Cluster, ClusterMember, ClusterSkip, NotDuplicatePair
from dedup.review.rules import authority_suggest, capture_date
from dedup.review.selectors import cluster_token
from dedup.review.services import (
    ClusterConflict,
    cluster_dismiss,
    cluster_merge,
    cluster_skip,
    cluster_split,
    cluster_undo,
)

pytestmark = pytest.mark.django_db


def _state():
    items = {
        i.pk: (i.title, i.creator, i.subjects, i.provenance, i.authoritative_version_id, i.merged_into_id)
        for i in Item.objects.all()
    }
    versions = {v.pk: (v.item_id, v.duplicate_of_id) for v in Version.objects.all()}
    return items, versions


def test_merge_keeps_one_item_with_every_version_and_the_chosen_values(cluster3, make_user):
    cluster, a, b, c = cluster3
    alice = make_user("alice")
    cluster_merge(
        cluster_id=cluster.pk,
        actor=alice,
        authoritative_id=b.pk,
        token=cluster_token(cluster),
        choices={"title": str(a.pk)},
        custom={"rights": "© Hong Kong Museum of History"},
    )
    surviving = Item.objects.get(pk=b.item_id)
    assert set(surviving.versions.values_list("pk", flat=True)) == {a.pk, b.pk, c.pk}
    assert surviving.authoritative_version_id == b.pk
    assert surviving.title == "Harbour at dusk"
    assert surviving.creator == "Lee Wing"  # blank on the authoritative item, filled from another
    assert surviving.subjects == ["harbour", "boats", "1960s"]  # in the order of the suggestion, not the choice
    assert surviving.rights == "© Hong Kong Museum of History"
    assert surviving.provenance["title"] == {"version": a.pk}
    assert surviving.provenance["creator"] == {"version": c.pk}
    assert surviving.provenance["rights"] == {"user": "alice"}
    assert set(surviving.provenance["subjects"]["versions"]) == {a.pk, b.pk, c.pk}
    assert set(Item.objects.filter(merged_into=surviving).values_list("pk", flat=True)) == {a.item_id, c.item_id}
    assert dict(Version.objects.values_list("pk", "duplicate_of_id")) == {a.pk: b.pk, b.pk: None, c.pk: b.pk}
    cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.RESOLVED
    event = AuditEvent.objects.get(action="cluster.merge")
    assert event.actor == alice and event.target_id == str(cluster.pk)
    assert set(event.before["items"]) == {str(a.item_id), str(b.item_id), str(c.item_id)}


def test_undo_restores_items_versions_and_metadata_exactly(cluster3, make_user):
    cluster, a, b, c = cluster3
    alice = make_user("alice")
    before = _state()
    cluster_merge(cluster_id=cluster.pk, actor=alice, authoritative_id=c.pk, choices={"title": str(b.pk)})
    assert _state() != before
    cluster_undo(cluster_id=cluster.pk, actor=alice)
    assert _state() == before
    cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.OPEN
    assert list(AuditEvent.objects.filter(target_type="dedup.cluster").values_list("action", flat=True)) == [
        "cluster.undo",
        "cluster.merge",
    ]


def test_a_second_curator_on_a_stale_page_is_told_who_resolved_it(cluster3, make_user):
    cluster, a, b, c = cluster3
    alice, bob = make_user("alice"), make_user("bob")
    token = cluster_token(cluster)  # both curators opened the page now
    cluster_merge(cluster_id=cluster.pk, actor=alice, authoritative_id=a.pk, token=token)
    after_alice = _state()
    with pytest.raises(ClusterConflict, match="Already merged by alice at"):
        cluster_merge(cluster_id=cluster.pk, actor=bob, authoritative_id=b.pk, token=token)
    with pytest.raises(ClusterConflict):
        cluster_dismiss(cluster_id=cluster.pk, actor=bob, token=token)
    assert _state() == after_alice
    assert AuditEvent.objects.filter(action="cluster.merge").count() == 1


def test_split_member_never_comes_back_after_a_rebuild(cluster3, make_user):
    cluster, a, b, c = cluster3
    cluster_split(cluster_id=cluster.pk, version_id=c.pk, actor=make_user("alice"))
    assert set(NotDuplicatePair.objects.values_list("version_a_id", "version_b_id")) == {(a.pk, c.pk), (b.pk, c.pk)}
    clusters_rebuild()
    assert set(ClusterMember.objects.values_list("version_id", flat=True)) == {a.pk, b.pk}
    assert AuditEvent.objects.filter(action="cluster.split", target_id=str(cluster.pk)).exists()


def test_dismissed_cluster_stays_dismissed_through_a_rebuild_and_keeps_its_members_in_the_trail(cluster3, make_user):
    cluster, a, b, c = cluster3
    cluster_dismiss(cluster_id=cluster.pk, actor=make_user("alice"))
    cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.DISMISSED
    assert NotDuplicatePair.objects.count() == 3
    clusters_rebuild()
    assert not ClusterMember.objects.exists()
    event = AuditEvent.objects.get(action="cluster.dismiss")
    assert {m["version"] for m in event.before["members"]} == {a.pk, b.pk, c.pk}


def test_undo_of_a_dismissal_brings_the_members_and_the_pairs_back(cluster3, make_user):
    cluster, a, b, c = cluster3
    alice = make_user("alice")
    cluster_dismiss(cluster_id=cluster.pk, actor=alice)
    cluster_undo(cluster_id=cluster.pk, actor=alice)
    cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.OPEN
    assert set(cluster.members.values_list("version_id", flat=True)) == {a.pk, b.pk, c.pk}
    assert not NotDuplicatePair.objects.exists()


def test_skip_is_per_curator_and_audited(cluster3, make_user):
    cluster, *_ = cluster3
    alice = make_user("alice")
    cluster_skip(cluster_id=cluster.pk, actor=alice)
    assert ClusterSkip.objects.filter(user=alice, cluster=cluster).exists()
    assert AuditEvent.objects.filter(action="cluster.skip", actor=alice).exists()


def test_suggestion_follows_the_configured_rule_order(cluster3, settings):
    _cluster, a, b, c = cluster3
    b.source.trust_priority = 10
    b.source.save()
    versions = list(Version.objects.select_related("source", "fingerprint"))
    suggestion = authority_suggest(versions, ["source_trust", "pixel_count"])
    assert suggestion.version.pk == b.pk and "Archive" in suggestion.reason
    suggestion = authority_suggest(versions, ["pixel_count", "lossless_format"])
    assert suggestion.version.pk == a.pk  # a and c tie on pixels and format: the earlier upload wins
    settings.DUPFINDER_AUTHORITY_RULES = ["lossless_format"]
    assert authority_suggest(versions).version.pk == b.pk


def test_implausible_capture_dates_are_ignored(cluster3):
    _cluster, a, b, c = cluster3
    for version, when in ((a, "1970-01-01T00:00:00"), (b, "2999-05-01T10:00:00"), (c, "1962-03-04T08:00:00")):
        version.fingerprint.captured_at = when
        version.fingerprint.save()
    assert capture_date(a) is None and capture_date(b) is None
    assert capture_date(c).year == 1962
