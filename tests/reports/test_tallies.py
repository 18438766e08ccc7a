"""The dashboard's kept tallies equal a full recount after any mix of changes, and reading them reads no member."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collections_app.models import Item, Version
from dedup.models import Cluster
from dedup.review.services import cluster_dismiss, cluster_merge, cluster_split, cluster_undo
from reports.models import StaleCluster, Tally, TallyChange
from reports.selectors import counts_recount, counts_tallied, figures_recount
from reports.services import version_purge, version_reclaim, version_set_legal_hold
from reports.tallies import dashboard_figures, tallies_refresh
from reports.tasks import fold_dashboard_tallies
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


def _same_as_a_recount() -> None:
    figures = dashboard_figures()
    assert counts_tallied() == counts_recount()
    assert figures == figures_recount()


def test_tallies_equal_a_recount_after_ingest_matching_merge_undo_dismiss_and_purge(
    collection, add_version, make_user, django_capture_on_commit_callbacks
):
    a, b, c, curator = collection["a"], collection["b"], collection["c"], collection["curator"]
    resolved, open_pair = collection["resolved"], collection["open"]
    _same_as_a_recount()  # ingest, processing, matching, one merge, one failure
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
    _same_as_a_recount()
    version_set_legal_hold(version_id=c.pk, hold=True, actor=make_user("ro"), reason="Litigation 2026/14")
    _same_as_a_recount()
    cluster_undo(cluster_id=resolved.pk, actor=curator)  # a stays in quarantine, no longer superseded
    _same_as_a_recount()
    cluster_merge(cluster_id=resolved.pk, actor=curator, authoritative_id=c.pk)
    _same_as_a_recount()
    # A superseded file pointing at a copy in another cluster stops being reclaimable when that copy is moved
    # to quarantine (writes no service makes, then put back).
    big = collection["big"]
    Version.objects.filter(pk=b.pk).update(duplicate_of=big)
    _same_as_a_recount()
    Version.objects.filter(pk=big.pk).update(quarantined_at=timezone.now(), quarantine_name="q/big")
    _same_as_a_recount()
    Version.objects.filter(pk=big.pk).update(quarantined_at=None, quarantine_name="")
    Version.objects.filter(pk=b.pk).update(duplicate_of=c)
    _same_as_a_recount()
    version_set_legal_hold(version_id=c.pk, hold=False, actor=make_user("ro2"), reason="Case closed")
    Version.objects.filter(pk=a.pk).update(quarantined_at=timezone.now() - timedelta(days=400))
    version_purge(version_id=a.pk, actor="ops", older_than_days=30)
    _same_as_a_recount()
    cluster_dismiss(cluster_id=open_pair.pk, actor=curator)
    _same_as_a_recount()
    cluster_undo(cluster_id=open_pair.pk, actor=curator)
    _same_as_a_recount()
    # A new copy of the resolved picture reopens its cluster through matching.
    add_version("photo/b-again.jpg", encode(scene(71, (400, 300)).resize((360, 270)), quality=70))
    assert Cluster.objects.get(pk=resolved.pk).status == Cluster.Status.OPEN
    _same_as_a_recount()
    cluster_split(cluster_id=resolved.pk, version_id=b.pk, actor=curator)
    _same_as_a_recount()
    # Writes no service makes: the open pair's larger file no longer authoritative, so it is the one dropped.
    Item.objects.filter(pk=collection["big"].item_id).update(authoritative_version=None)
    _same_as_a_recount()
    Version.objects.filter(pk=collection["broken"].pk).update(status=Version.Status.PENDING, byte_size=7)
    _same_as_a_recount()
    call_command("rebuild_clusters", stdout=io.StringIO(), stderr=io.StringIO())
    _same_as_a_recount()


def test_reading_the_dashboard_reads_no_member_once_the_changes_are_folded(collection):
    tallies_refresh()
    with CaptureQueriesContext(connection) as captured:
        figures = dashboard_figures()
    assert figures.duplicate_versions == 3
    assert not [q["sql"] for q in captured.captured_queries if "dedup_clustermember" in q["sql"]]
    assert not [q["sql"] for q in captured.captured_queries if "collections_app_version" in q["sql"]]


def test_dashboard_takes_a_fixed_number_of_queries(collection, django_assert_max_num_queries):
    # Folding changed clusters costs six queries per batch of up to SHARE_BATCH clusters, however many members.
    with django_assert_max_num_queries(13):
        dashboard_figures()
    with django_assert_max_num_queries(7):
        dashboard_figures()


def test_dashboard_recount_puts_wrong_tallies_right(collection):
    dashboard_figures()
    Tally.objects.filter(figure=Tally.Figure.ITEMS).update(n=12345)
    assert dashboard_figures().items == 12345
    out = io.StringIO()
    call_command("dashboard_recount", stdout=out)
    assert dashboard_figures().items == 7
    assert counts_tallied() == counts_recount()
    assert "figures" in out.getvalue()


def test_the_scheduled_fold_leaves_nothing_for_the_next_visitor(collection):
    assert StaleCluster.objects.exists() and TallyChange.objects.exists()
    assert fold_dashboard_tallies() == 2  # the resolved cluster and the open pair
    assert not StaleCluster.objects.exists() and not TallyChange.objects.exists()
    assert counts_tallied() == counts_recount()
