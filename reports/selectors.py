"""Reads for the dashboard, the reports and storage reclamation."""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from collections_app.models import CURATED_FIELDS, AuditEvent, Item, Source, Version
from dedup.models import Cluster, ClusterMember, MatchKind
from reports.models import Tally

DECISION_ACTIONS = (
    "cluster.merge",
    "cluster.split",
    "cluster.dismiss",
    "cluster.undo",
    "pair.not_duplicate",
    "pair.confirmed_duplicate",
)
CHUNK = 2000
KIND_WORDS = {
    MatchKind.EXACT: gettext_lazy("Exact copy"),
    MatchKind.SAME_PIXELS: gettext_lazy("Same pixels"),
    MatchKind.NEAR: gettext_lazy("Near duplicate"),
    MatchKind.ROTATED: gettext_lazy("Rotated or mirrored"),
}


# --- storage reclamation -------------------------------------------------------------------------------------


def reclaim_candidates() -> QuerySet[Version]:
    """Superseded files of resolved clusters still in main storage, not held, whose kept copy is in place."""
    return (
        Version.objects.filter(
            duplicate_of__isnull=False,
            cluster_memberships__cluster__status=Cluster.Status.RESOLVED,
            status=Version.Status.DONE,
            legal_hold=False,
            quarantined_at__isnull=True,
            duplicate_of__quarantined_at__isnull=True,
            parent__isnull=True,  # a page of a PDF shares the document's file with the other pages: never moved alone
        )
        .exclude(Exists(Item.objects.filter(authoritative_version=OuterRef("pk"), merged_into__isnull=True)))
        .select_related("source", "duplicate_of")
        .order_by("pk")
    )


def quarantined_versions() -> QuerySet[Version]:
    return Version.objects.filter(quarantined_at__isnull=False, purged_at__isnull=True).order_by("quarantined_at", "pk")


def quarantined_not_superseded() -> QuerySet[Version]:
    """Quarantined files whose merge was undone or whose cluster reopened: they should be restored."""
    resolved = ClusterMember.objects.filter(version=OuterRef("pk"), cluster__status=Cluster.Status.RESOLVED)
    return quarantined_versions().filter(Q(duplicate_of__isnull=True) | ~Exists(resolved))


def purge_due(*, older_than_days: int) -> QuerySet[Version]:
    """Quarantined longer than the given days (legal holds included; the caller decides what to refuse)."""
    return quarantined_versions().filter(quarantined_at__lt=timezone.now() - timedelta(days=older_than_days))


# --- headline figures -----------------------------------------------------------------------------------------


@dataclass
class Breakdown:
    """Versions and duplicates under one label (a source or a match kind)."""

    label: str
    versions: int = 0
    bytes: int = 0
    duplicate_versions: int = 0
    duplicate_bytes: int = 0


@dataclass
class Figures:
    items: int = 0
    items_merged_away: int = 0
    versions: int = 0
    bytes: int = 0
    waiting: int = 0
    failed: int = 0
    clusters: dict[str, int] = field(default_factory=dict)
    duplicate_versions: int = 0
    duplicate_bytes: int = 0
    open_duplicate_versions: int = 0
    # Freed by resolving the open clusters, assuming the largest file of each is kept.
    open_duplicate_bytes: int = 0
    reclaimable_versions: int = 0
    reclaimable_bytes: int = 0
    held_versions: int = 0
    quarantined_versions: int = 0
    quarantined_bytes: int = 0
    purged_versions: int = 0
    purged_bytes: int = 0
    by_source: list[Breakdown] = field(default_factory=list)
    by_kind: list[Breakdown] = field(default_factory=list)


@dataclass(frozen=True)
class MemberRow:
    cluster_id: int
    cluster_status: str
    version_id: int
    kind: str
    byte_size: int
    source: str
    superseded: bool
    authoritative: bool


def _member_rows() -> Iterator[MemberRow]:
    """Every member of every open or resolved cluster, one cluster after another, without loading them all."""
    rows = (
        ClusterMember.objects.exclude(cluster__status=Cluster.Status.DISMISSED)
        .order_by("cluster_id", "version_id")
        .values_list(
            "cluster_id",
            "cluster__status",
            "version_id",
            "kind",
            "version__byte_size",
            "version__source__name",
            "version__duplicate_of_id",
            "version__item__authoritative_version_id",
        )
    )
    for cluster_id, status, version_id, kind, size, source, dup_of, auth_id in rows.iterator(chunk_size=CHUNK):
        yield MemberRow(cluster_id, status, version_id, kind, size, source, dup_of is not None, auth_id == version_id)


def _kept(members: list[MemberRow]) -> MemberRow:
    """The member a cluster keeps: the chosen authoritative one, else (open clusters) the largest file."""
    return min(members, key=lambda m: (m.superseded, not m.authoritative, -m.byte_size, m.version_id))


def cluster_duplicates() -> Iterator[tuple[MemberRow, list[MemberRow]]]:
    """(kept member, duplicate members) for each open or resolved cluster."""
    for _cluster_id, group in groupby(_member_rows(), key=lambda m: m.cluster_id):
        members = list(group)
        kept = _kept(members)
        yield kept, [m for m in members if m.version_id != kept.version_id]


# --- the dashboard's figures as tallies: (figure, label) -> (count, bytes) ------------------------------------

Counts = dict[tuple[str, str], tuple[int, int]]
Figure = Tally.Figure

# The members a cluster does not keep (kept: the authoritative one, else the largest file; see _kept), summed
# in the database: over every cluster for a recount, per cluster for the shares the tallies keep.
_DUPLICATE_TOTALS_SQL = """
SELECT {keys}, count(*), coalesce(sum(byte_size), 0) FROM (
    SELECT m.cluster_id, c.status, v.source_id, m.kind, v.byte_size, row_number() OVER (
        PARTITION BY m.cluster_id ORDER BY
            (v.duplicate_of_id IS NOT NULL),
            (coalesce(i.authoritative_version_id = v.id, false)) DESC,
            v.byte_size DESC,
            v.id
    ) AS rank
    FROM {member} m
    JOIN {cluster} c ON c.id = m.cluster_id
    JOIN {version} v ON v.id = m.version_id
    JOIN {item} i ON i.id = v.item_id
    WHERE c.status <> %s {only}
) AS ranked WHERE rank > 1 GROUP BY {keys}
"""


def duplicate_label(status: str, source_id: int, kind: str) -> str:
    return f"{status}:{source_id}:{kind}"


def _duplicate_totals(*, per_cluster: bool, cluster_ids: list[int] | None = None) -> list[tuple]:
    keys = "cluster_id, status, source_id, kind" if per_cluster else "status, source_id, kind"
    sql = _DUPLICATE_TOTALS_SQL.format(
        keys=keys,
        only="" if cluster_ids is None else "AND m.cluster_id = ANY(%s)",
        member=ClusterMember._meta.db_table,
        cluster=Cluster._meta.db_table,
        version=Version._meta.db_table,
        item=Item._meta.db_table,
    )
    params = [Cluster.Status.DISMISSED] + ([] if cluster_ids is None else [cluster_ids])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _size(queryset: QuerySet[Version]) -> tuple[int, int]:
    totals = queryset.aggregate(n=Count("pk"), bytes=Sum("byte_size"))
    return totals["n"], int(totals["bytes"] or 0)


def cluster_shares(*, cluster_ids: list[int] | None) -> list[tuple[int, str, str, int, int]]:
    """(cluster, figure, label, count, bytes): what each of these clusters (None: every cluster) adds to the
    duplicate and reclaimable figures, read from their own members only."""
    shares = [
        (cluster_id, Figure.DUPLICATES, duplicate_label(status, source_id, kind), n, int(size))
        for cluster_id, status, source_id, kind, n, size in _duplicate_totals(per_cluster=True, cluster_ids=cluster_ids)
    ]
    candidates = reclaim_candidates()
    if cluster_ids is not None:
        # Through a subquery: a second filter on the membership would join it a second time.
        members = ClusterMember.objects.filter(cluster_id__in=cluster_ids)
        candidates = candidates.filter(pk__in=members.values("version"))
    reclaimable = (
        candidates.order_by()
        .values_list("cluster_memberships__cluster_id")
        .annotate(n=Count("pk"), bytes=Sum("byte_size"))
    )
    shares += [(cluster_id, Figure.RECLAIMABLE, "", n, int(size)) for cluster_id, n, size in reclaimable]
    return shares


def counts_recount() -> Counts:
    """Every figure the dashboard shows, counted from scratch (the reference the kept tallies must equal)."""
    counts: Counts = {}
    versions = Version.objects.order_by()
    for source_id, n, size in versions.values_list("source_id").annotate(n=Count("pk"), b=Sum("byte_size")):
        counts[(Figure.VERSIONS, str(source_id))] = (n, int(size or 0))
    for status, n in versions.values_list("status").annotate(n=Count("pk")):
        counts[(Figure.STATUS, status)] = (n, 0)
    for status, n in Cluster.objects.order_by().values_list("status").annotate(n=Count("pk")):
        counts[(Figure.CLUSTERS, status)] = (n, 0)
    for status, source_id, kind, n, size in _duplicate_totals(per_cluster=False):
        counts[(Figure.DUPLICATES, duplicate_label(status, source_id, kind))] = (n, int(size))
    counts[(Figure.ITEMS, "")] = (Item.objects.count(), 0)
    counts[(Figure.MERGED_AWAY, "")] = (Item.objects.filter(merged_into__isnull=False).count(), 0)
    counts[(Figure.RECLAIMABLE, "")] = _size(reclaim_candidates())
    counts[(Figure.QUARANTINED, "")] = _size(quarantined_versions())
    counts[(Figure.PURGED, "")] = _size(versions.filter(purged_at__isnull=False))
    counts[(Figure.HELD, "")] = (versions.filter(legal_hold=True).count(), 0)
    return {key: value for key, value in counts.items() if value != (0, 0)}


def counts_tallied() -> Counts:
    """The figures as the tallies last folded them (reports.tallies keeps them up to date)."""
    rows = Tally.objects.exclude(n=0, bytes=0).values_list("figure", "label", "n", "bytes")
    return {(figure, label): (n, size) for figure, label, n, size in rows}


def _headline(counts: Counts) -> Figures:
    def n(figure: str, label: str = "") -> int:
        return counts.get((figure, label), (0, 0))[0]

    def size(figure: str, label: str = "") -> int:
        return counts.get((figure, label), (0, 0))[1]

    status = Version.Status
    return Figures(
        items=n(Figure.ITEMS),
        items_merged_away=n(Figure.MERGED_AWAY),
        waiting=n(Figure.STATUS, status.PENDING) + n(Figure.STATUS, status.PROCESSING),
        failed=n(Figure.STATUS, status.FAILED),
        clusters={value: n(Figure.CLUSTERS, value) for value in Cluster.Status.values},
        reclaimable_versions=n(Figure.RECLAIMABLE),
        reclaimable_bytes=size(Figure.RECLAIMABLE),
        held_versions=n(Figure.HELD),
        quarantined_versions=n(Figure.QUARANTINED),
        quarantined_bytes=size(Figure.QUARANTINED),
        purged_versions=n(Figure.PURGED),
        purged_bytes=size(Figure.PURGED),
    )


def _add_duplicates(figures: Figures, label: str, count: int, total: int) -> list[str]:
    """Adds one duplicate tally to the totals; returns its source id and kind."""
    cluster_status, source_id, kind = label.split(":")
    figures.duplicate_versions += count
    figures.duplicate_bytes += total
    if cluster_status == Cluster.Status.OPEN:
        figures.open_duplicate_versions += count
        figures.open_duplicate_bytes += total
    return [source_id, kind]


def figures_from_counts(counts: Counts) -> Figures:
    """The dashboard's figures from tallies, however they were counted."""
    figures = _headline(counts)
    names = dict(Source.objects.values_list("pk", "name"))
    sources: dict[str, Breakdown] = {}
    for (figure, label), (count, total) in counts.items():
        if figure == Figure.VERSIONS:
            sources[names[int(label)]] = Breakdown(names[int(label)], versions=count, bytes=total)
            figures.versions += count
            figures.bytes += total
    kinds = {kind: Breakdown(kind) for kind in MatchKind.values}
    for (figure, label), (count, total) in counts.items():
        if figure == Figure.DUPLICATES:
            source_id, kind = _add_duplicates(figures, label, count, total)
            name = names[int(source_id)]
            for row in (sources.setdefault(name, Breakdown(name)), kinds.setdefault(kind, Breakdown(kind))):
                row.duplicate_versions += count
                row.duplicate_bytes += total
    figures.by_source = sorted(sources.values(), key=lambda b: (-b.duplicate_bytes, b.label))
    figures.by_kind = list(kinds.values())
    return figures


def figures_recount() -> Figures:
    return figures_from_counts(counts_recount())


@dataclass(frozen=True)
class Week:
    start: date
    resolved: int
    dismissed: int
    undone: int


def weekly_progress(*, weeks: int = 12) -> list[Week]:
    """Clusters merged, dismissed and undone per week (Monday first), oldest first, from the audit trail."""
    today = timezone.localdate()
    first = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    rows = (
        AuditEvent.objects.filter(
            target_type="dedup.cluster",
            action__in=["cluster.merge", "cluster.dismiss", "cluster.undo"],
            created_at__date__gte=first,
        )
        .annotate(week=TruncWeek("created_at"))
        .values_list("week", "action")
        .annotate(n=Count("pk"))
    )
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for week, action, n in rows:
        counts[(week.date(), action)] += n
    starts = [first + timedelta(weeks=n) for n in range(weeks)]
    return [
        Week(
            start, counts[(start, "cluster.merge")], counts[(start, "cluster.dismiss")], counts[(start, "cluster.undo")]
        )
        for start in starts
    ]


def failed_versions_page() -> QuerySet[Version]:
    return Version.objects.filter(status=Version.Status.FAILED).select_related("source", "batch").order_by("-pk")


def legal_holds() -> QuerySet[Version]:
    return Version.objects.filter(legal_hold=True).select_related("source", "item").order_by("pk")


# --- downloadable reports (each yields flat rows, or nested ones for JSON) -------------------------------------


def _member_dict(member: ClusterMember, resolved: bool) -> dict:
    version = member.version
    return {
        "version_id": version.pk,
        "item": version.item.identifier,
        "source": version.source.name,
        "original_path": version.original_path,
        "kind": member.kind,
        "score": round(member.score, 4),
        "byte_size": version.byte_size,
        "authoritative": resolved and version.item.authoritative_version_id == version.pk,
        "duplicate_of": version.duplicate_of_id,
        "file": "purged" if version.purged_at else ("quarantine" if version.quarantined_at else "stored"),
    }


def _decisions(cluster_ids: list[int]) -> dict[str, list[dict]]:
    events = AuditEvent.objects.filter(
        target_type="dedup.cluster", target_id__in=[str(pk) for pk in cluster_ids], action__in=DECISION_ACTIONS
    ).order_by("created_at", "pk")
    found: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        found[event.target_id].append(
            {
                "action": event.action,
                "actor": event.actor_label,
                "time": event.created_at.isoformat(),
                "reason": event.reason,
            }
        )
    return found


def clusters_report() -> Iterator[dict]:
    """Each cluster with its members and the decisions taken on it, in batches of a few hundred."""
    members = ClusterMember.objects.select_related("version__item", "version__source").order_by("version_id")
    ids = list(Cluster.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        batch = list(
            Cluster.objects.filter(pk__in=ids[start : start + 500])
            .prefetch_related(Prefetch("members", queryset=members))
            .order_by("pk")
        )
        decisions = _decisions([c.pk for c in batch])
        for cluster in batch:
            yield {
                "cluster_id": cluster.pk,
                "status": cluster.status,
                "confidence": round(cluster.confidence, 4),
                "created_at": cluster.created_at.isoformat(),
                "members": [_member_dict(m, cluster.status == Cluster.Status.RESOLVED) for m in cluster.members.all()],
                "decisions": decisions.get(str(cluster.pk), []),
            }


def clusters_report_flat() -> Iterator[dict]:
    """One row per cluster member, with the cluster's latest decision (for spreadsheets)."""
    for cluster in clusters_report():
        last = cluster["decisions"][-1] if cluster["decisions"] else {}
        head = {k: cluster[k] for k in ("cluster_id", "status", "confidence")}
        decision = {f"last_decision_{k}": last.get(k, "") for k in ("action", "actor", "time", "reason")}
        for member in cluster["members"]:
            yield {**head, **member, **decision}


def decisions_report() -> Iterator[dict]:
    """How many decisions of each kind each curator took on each day."""
    rows = (
        AuditEvent.objects.filter(action__in=DECISION_ACTIONS)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "actor_label", "action")
        .annotate(n=Count("pk"))
        .order_by("day", "actor_label", "action")
    )
    for day, actor, action, n in rows:
        yield {"date": day.isoformat(), "curator": actor, "action": action, "count": n}


def _hidden_open_duplicates() -> set[int]:
    """Versions an open cluster would drop: the manifest lists one picture per cluster even before review."""
    return {m.version_id for kept, dups in cluster_duplicates() if kept.cluster_status == "open" for m in dups}


def manifest_report() -> Iterator[dict]:
    """One row per surviving item: its authoritative version and curated metadata, never two copies of a picture."""
    hidden = _hidden_open_duplicates()
    items = (
        Item.objects.filter(
            merged_into__isnull=True,
            authoritative_version__isnull=False,
            authoritative_version__duplicate_of__isnull=True,
            authoritative_version__status=Version.Status.DONE,
        )
        .select_related("authoritative_version__source")
        .order_by("pk")
    )
    for item in items.iterator(chunk_size=CHUNK):
        version = item.authoritative_version
        if version.pk in hidden:
            continue
        yield {
            "identifier": item.identifier,
            **{name: getattr(item, name) for name in CURATED_FIELDS},
            "version_id": version.pk,
            "sha256": version.sha256,
            "format": version.format,
            "width": version.width,
            "height": version.height,
            "byte_size": version.byte_size,
            "source": version.source.name,
            "original_path": version.original_path,
            "file_url": reverse("version-file", args=[version.pk]),
        }
