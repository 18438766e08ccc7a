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

from collections_app.models import CURATED_FIELDS, AuditEvent, Item, Version
from dedup.models import Cluster, ClusterMember, MatchKind

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


# The members a cluster does not keep (kept: the authoritative one, else the largest file; see _kept), summed
# in the database per cluster status, source and kind: the dashboard never brings members into Python.
_DUPLICATE_TOTALS_SQL = """
SELECT status, source, kind, count(*), coalesce(sum(byte_size), 0) FROM (
    SELECT c.status, s.name AS source, m.kind, v.byte_size, row_number() OVER (
        PARTITION BY m.cluster_id ORDER BY
            (v.duplicate_of_id IS NOT NULL),
            (coalesce(i.authoritative_version_id = v.id, false)) DESC,
            v.byte_size DESC,
            v.id
    ) AS rank
    FROM {member} m
    JOIN {cluster} c ON c.id = m.cluster_id
    JOIN {version} v ON v.id = m.version_id
    JOIN {source} s ON s.id = v.source_id
    JOIN {item} i ON i.id = v.item_id
    WHERE c.status <> %s
) AS ranked WHERE rank > 1 GROUP BY status, source, kind
"""


def _add_duplicates(figures: Figures, sources: dict[str, Breakdown], kinds: dict[str, Breakdown]) -> None:
    sql = _DUPLICATE_TOTALS_SQL.format(
        member=ClusterMember._meta.db_table,
        cluster=Cluster._meta.db_table,
        version=Version._meta.db_table,
        source=Version._meta.get_field("source").related_model._meta.db_table,
        item=Item._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [Cluster.Status.DISMISSED])
        totals = cursor.fetchall()
    for status, source, kind, n, total in totals:
        size = int(total)  # PostgreSQL sums bigints as numeric
        figures.duplicate_versions += n
        figures.duplicate_bytes += size
        if status == Cluster.Status.OPEN:
            figures.open_duplicate_versions += n
            figures.open_duplicate_bytes += size
        for row in (sources.setdefault(source, Breakdown(source)), kinds.setdefault(kind, Breakdown(kind))):
            row.duplicate_versions += n
            row.duplicate_bytes += size


def _size(queryset: QuerySet[Version]) -> tuple[int, int]:
    totals = queryset.aggregate(n=Count("pk"), bytes=Sum("byte_size"))
    return totals["n"], totals["bytes"] or 0


def dashboard_figures() -> Figures:
    status = Version.Status
    by_status = dict(Version.objects.values_list("status").annotate(n=Count("pk")))
    figures = Figures(
        items=Item.objects.count(),
        items_merged_away=Item.objects.filter(merged_into__isnull=False).count(),
        waiting=by_status.get(status.PENDING, 0) + by_status.get(status.PROCESSING, 0),
        failed=by_status.get(status.FAILED, 0),
    )
    counts = dict(Cluster.objects.values_list("status").annotate(n=Count("pk")))
    figures.clusters = {value: counts.get(value, 0) for value in Cluster.Status.values}
    sources: dict[str, Breakdown] = {}
    for name, n, size in Version.objects.values_list("source__name").annotate(n=Count("pk"), b=Sum("byte_size")):
        sources[name] = Breakdown(name, versions=n, bytes=size or 0)
        figures.versions += n
        figures.bytes += size or 0
    kinds = {kind: Breakdown(kind) for kind in MatchKind.values}
    _add_duplicates(figures, sources, kinds)
    figures.reclaimable_versions, figures.reclaimable_bytes = _size(reclaim_candidates())
    figures.quarantined_versions, figures.quarantined_bytes = _size(quarantined_versions())
    figures.purged_versions, figures.purged_bytes = _size(Version.objects.filter(purged_at__isnull=False))
    figures.held_versions = Version.objects.filter(legal_hold=True).count()
    figures.by_source = sorted(sources.values(), key=lambda b: (-b.duplicate_bytes, b.label))
    figures.by_kind = list(kinds.values())
    return figures


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


def sources_report() -> Iterator[dict]:
    for row in dashboard_figures().by_source:
        yield {
            "source": row.label,
            "versions": row.versions,
            "bytes": row.bytes,
            "duplicate_versions": row.duplicate_versions,
            "duplicate_bytes": row.duplicate_bytes,
        }


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
