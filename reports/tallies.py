"""The dashboard's figures kept up to date as things happen, instead of counted from every member on each visit.

On PostgreSQL the triggers of migration 0004 write, in the same transaction as each change to a version, item,
cluster or cluster member, the change it makes to the simple figures (a `TallyChange` row: appended, so
concurrent writers never wait on one counter) and mark the clusters whose duplicate and reclaimable share may
have moved (`StaleCluster`). Catching the change in the database, not in Python, means every path counts: the
review services, matching, `QuerySet.update()`, bulk loads and raw SQL alike, from any host.

A reader folds what has gathered (`tallies_refresh`): it recomputes the stale clusters' shares from their own
members, adds new share minus old share, and sums the appended changes into `Tally`. Both run under one advisory
lock, so two readers never count one change twice. `tallies_recount` starts again from scratch (migration
0004, `manage.py dashboard_recount`). Other databases (the embedded SQLite stack) count from scratch every time.
"""

from collections import defaultdict
from collections.abc import Iterator

from django.db import connection, transaction

from reports.models import ClusterShare, StaleCluster, Tally, TallyChange
from reports.selectors import Counts, Figures, cluster_shares, counts_recount, counts_tallied, figures_from_counts

# pg_advisory_xact_lock key of the fold (any fixed number no other lock in the project uses).
FOLD_LOCK = 0x7A11
SHARE_BATCH = 5000

_FOLD_CHANGES_SQL = f"""
WITH folded AS (DELETE FROM {TallyChange._meta.db_table} RETURNING figure, label, n, bytes)
INSERT INTO {Tally._meta.db_table} (figure, label, n, bytes)
    SELECT figure, label, sum(n), sum(bytes) FROM folded GROUP BY figure, label
ON CONFLICT (figure, label) DO UPDATE
    SET n = {Tally._meta.db_table}.n + excluded.n, bytes = {Tally._meta.db_table}.bytes + excluded.bytes
"""


def tallies_kept() -> bool:
    """Whether this database keeps the tallies (the triggers are PostgreSQL's)."""
    return connection.vendor == "postgresql"


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), SHARE_BATCH):
        yield ids[start : start + SHARE_BATCH]


def _shares_refresh(cluster_ids: list[int]) -> None:
    """Replace these clusters' shares and record new minus old as changes to the figures."""
    change: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    old = ClusterShare.objects.filter(cluster_id__in=cluster_ids)
    for figure, label, n, size in old.values_list("figure", "label", "n", "bytes"):
        change[(figure, label)][0] -= n
        change[(figure, label)][1] -= size
    old.delete()
    shares = cluster_shares(cluster_ids=cluster_ids)
    for _cluster_id, figure, label, n, size in shares:
        change[(figure, label)][0] += n
        change[(figure, label)][1] += size
    ClusterShare.objects.bulk_create(
        ClusterShare(cluster_id=cluster_id, figure=figure, label=label, n=n, bytes=size)
        for cluster_id, figure, label, n, size in shares
    )
    TallyChange.objects.bulk_create(
        TallyChange(figure=figure, label=label, n=n, bytes=size)
        for (figure, label), (n, size) in change.items()
        if n or size
    )


@transaction.atomic
def tallies_refresh() -> int:
    """Fold every change committed so far into the tallies; returns how many clusters were recomputed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
        # A mark is seen only once its change is committed, so the shares computed after it include the change.
        cursor.execute(f"DELETE FROM {StaleCluster._meta.db_table} RETURNING cluster_id")
        stale = sorted({row[0] for row in cursor.fetchall()})
        for batch in _batches(stale):
            _shares_refresh(batch)
        cursor.execute(_FOLD_CHANGES_SQL)
    return len(stale)


@transaction.atomic
def tallies_recount() -> Counts:
    """Count every figure from scratch and keep that as the tallies (after a restore, or to check them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
        # Writers wait at their trigger until this commits, so each change is either counted here or after.
        tables = ", ".join(model._meta.db_table for model in (TallyChange, StaleCluster))
        cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
    TallyChange.objects.all().delete()
    StaleCluster.objects.all().delete()
    ClusterShare.objects.all().delete()
    Tally.objects.all().delete()
    counts = counts_recount()
    Tally.objects.bulk_create(
        Tally(figure=figure, label=label, n=n, bytes=size) for (figure, label), (n, size) in counts.items()
    )
    _shares_store_all()
    return counts


def _shares_store_all() -> None:
    """Every cluster's share, so that its next change takes back exactly what it added."""
    ClusterShare.objects.bulk_create(
        (
            ClusterShare(cluster_id=cluster_id, figure=figure, label=label, n=n, bytes=size)
            for cluster_id, figure, label, n, size in cluster_shares(cluster_ids=None)
        ),
        batch_size=SHARE_BATCH,
    )


def dashboard_figures() -> Figures:
    """The dashboard's figures, exactly what a full recount gives, without reading every member."""
    if not tallies_kept():
        return figures_from_counts(counts_recount())
    tallies_refresh()
    return figures_from_counts(counts_tallied())


def sources_report() -> Iterator[dict]:
    for row in dashboard_figures().by_source:
        yield {
            "source": row.label,
            "versions": row.versions,
            "bytes": row.bytes,
            "duplicate_versions": row.duplicate_versions,
            "duplicate_bytes": row.duplicate_bytes,
        }
