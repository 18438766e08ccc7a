"""Headline figures and downloadable reports match the database for a known collection."""

import json

import pytest
from django.core.management import call_command
from django.db.models import Sum

from collections_app.models import Item, Version
from reports.selectors import clusters_report, decisions_report, manifest_report, weekly_progress
from reports.tallies import dashboard_figures, sources_report

pytestmark = pytest.mark.django_db


def test_figures_match_the_database(collection):
    a, c, small = collection["a"], collection["c"], collection["small"]
    f = dashboard_figures()
    assert (f.items, f.items_merged_away) == (7, 2)
    assert f.versions == Version.objects.count() == 7
    assert f.bytes == Version.objects.aggregate(s=Sum("byte_size"))["s"]
    assert (f.waiting, f.failed) == (0, 1)
    assert f.clusters == {"open": 1, "resolved": 1, "dismissed": 0}
    assert f.duplicate_versions == 3
    assert f.duplicate_bytes == a.byte_size + c.byte_size + small.byte_size
    # The open pair keeps its larger file, so resolving it frees the smaller one.
    assert (f.open_duplicate_versions, f.open_duplicate_bytes) == (1, small.byte_size)
    assert (f.reclaimable_versions, f.reclaimable_bytes) == (2, a.byte_size + c.byte_size)
    assert (f.quarantined_versions, f.purged_versions, f.held_versions) == (0, 0, 0)
    by_source = {row.label: (row.versions, row.duplicate_versions, row.duplicate_bytes) for row in f.by_source}
    assert by_source == {
        "Photo Unit": (4, 2, a.byte_size + small.byte_size),
        "Archive": (1, 0, 0),
        "Portal": (2, 1, c.byte_size),
    }
    assert sum(row.duplicate_versions for row in f.by_kind) == 3
    assert sum(row.duplicate_bytes for row in f.by_kind) == f.duplicate_bytes


def test_progress_counts_this_weeks_merge(collection):
    weeks = weekly_progress(weeks=4)
    assert len(weeks) == 4
    assert (weeks[-1].resolved, weeks[-1].dismissed, weeks[-1].undone) == (1, 0, 0)
    assert sum(w.resolved for w in weeks[:-1]) == 0


def test_dedup_report_prints_the_headline_figures(collection, capsys):
    call_command("dedup_report")
    out = capsys.readouterr().out
    assert "1 open, 1 resolved, 0 dismissed" in out
    assert "0 waiting, 1 failed" in out
    assert "By source" in out and "Photo Unit" in out and "By match kind" in out
    call_command("dedup_report", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["duplicate_versions"] == 3 and data["clusters"]["resolved"] == 1


def test_clusters_report_has_members_and_decisions(collection):
    rows = {row["cluster_id"]: row for row in clusters_report()}
    resolved = rows[collection["resolved"].pk]
    assert resolved["status"] == "resolved"
    assert [d["action"] for d in resolved["decisions"]] == ["cluster.merge"]
    assert resolved["decisions"][0]["actor"] == "alice"
    authoritative = [m["version_id"] for m in resolved["members"] if m["authoritative"]]
    assert authoritative == [collection["b"].pk]
    assert not any(m["authoritative"] for m in rows[collection["open"].pk]["members"])


def test_decisions_and_sources_reports(collection):
    assert [(r["curator"], r["action"], r["count"]) for r in decisions_report()] == [("alice", "cluster.merge", 1)]
    assert {r["source"]: r["duplicate_versions"] for r in sources_report()} == {
        "Photo Unit": 2,
        "Portal": 1,
        "Archive": 0,
    }


def test_manifest_lists_one_authoritative_version_per_picture(collection):
    rows = list(manifest_report())
    listed = {row["version_id"] for row in rows}
    # b for the resolved cluster, the larger copy of the open pair, the unique picture; not failures.
    assert listed == {collection["b"].pk, collection["big"].pk, collection["unique"].pk}
    surviving = Item.objects.get(pk=collection["b"].item_id)
    row = next(r for r in rows if r["version_id"] == collection["b"].pk)
    assert (row["identifier"], row["creator"], row["subjects"]) == (
        surviving.identifier,
        surviving.creator,
        surviving.subjects,
    )
