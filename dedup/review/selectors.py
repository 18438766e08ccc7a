"""Reads for curator review: the queue, one cluster with its members, the merge table, plain-words evidence."""

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.models import CURATED_FIELDS, AuditEvent, Item, Version
from dedup.imaging.overlay import overlay_matrix
from dedup.models import Cluster, ClusterMember, ClusterSkip, MatchEdge
from dedup.reasons import evidence_reason
from dedup.review.rules import capture_date, embedded_summary

MERGE_FIELDS = CURATED_FIELDS
# Where a blank item field is filled from the version's embedded metadata summary.
SUMMARY_FALLBACK = {
    "title": "title",
    "description": "caption",
    "creator": "creator",
    "subjects": "keywords",
    "rights": "rights",
}
TRANSFORM_WORDS = {
    "rot90": gettext_lazy("rotated 90°"),
    "rot180": gettext_lazy("rotated 180°"),
    "rot270": gettext_lazy("rotated 270°"),
    "flip_h": gettext_lazy("mirrored left to right"),
    "flip_v": gettext_lazy("flipped upside down"),
    "transpose": gettext_lazy("rotated and mirrored"),
    "transverse": gettext_lazy("rotated and mirrored"),
}

UNDOABLE = ("cluster.merge", "cluster.split", "cluster.dismiss")


def cluster_token(cluster: Cluster) -> str:
    """Changes whenever the cluster is saved: a form carries it so a stale page cannot act."""
    return cluster.updated_at.isoformat()


def review_queue(*, user: Any) -> QuerySet[Cluster]:
    """Clusters with whether this user skipped them, and members for thumbnails (3 queries a page); the size
    and kinds the filters need are on the cluster row.

    Ordered surest first, along the (status, -confidence, id) index, so a page is read off the index.
    """
    members = ClusterMember.objects.select_related("version__source").only(
        "cluster_id", "version_id", "kind", "version__source__name", "version__width", "version__height"
    )
    return (
        Cluster.objects.annotate(skipped=Exists(ClusterSkip.objects.filter(cluster=OuterRef("pk"), user=user)))
        .prefetch_related(Prefetch("members", queryset=members.order_by("version_id")))
        .order_by("-confidence", "pk")
    )


def detail_members() -> QuerySet[ClusterMember]:
    """Members with what the page and the suggestion rules read of each version, in upload order."""
    return (
        ClusterMember.objects.select_related(
            "version__source", "version__uploader", "version__item", "version__fingerprint"
        )
        .defer(
            "version__fingerprint__rendition", "version__fingerprint__content", "version__fingerprint__phash_dihedral"
        )
        .prefetch_related("version__imported_metadata")
        .order_by("version_id")
    )


def cluster_detail(*, cluster_id: int) -> Cluster:
    return Cluster.objects.prefetch_related(Prefetch("members", queryset=detail_members())).get(pk=cluster_id)


def cluster_neighbours(*, cluster: Cluster, user: Any) -> tuple[int | None, int | None]:
    """Previous and next open clusters in queue order (highest confidence first), leaving out skipped ones.

    The plain bound on confidence lets each side start its walk of the queue index at this cluster's place
    instead of at the top; the OR then only passes over ties.
    """
    queue = Cluster.objects.filter(status=Cluster.Status.OPEN).filter(
        ~Exists(ClusterSkip.objects.filter(cluster=OuterRef("pk"), user=user))
    )
    confidence, pk = cluster.confidence, cluster.pk
    after = Q(confidence__lt=confidence) | Q(confidence=confidence, pk__gt=pk)
    before = Q(confidence__gt=confidence) | Q(confidence=confidence, pk__lt=pk)
    following = queue.filter(after, confidence__lte=confidence).order_by("-confidence", "pk")
    preceding = queue.filter(before, confidence__gte=confidence).order_by("confidence", "-pk")
    return preceding.values_list("pk", flat=True).first(), following.values_list("pk", flat=True).first()


def evidence_words(member: ClusterMember) -> str:
    """The match in plain words, e.g. "same pixels, re-saved as PNG" or "resized to 50%, 4 bits apart"."""
    ev, version = member.evidence, member.version
    other = ev.get("compared_with")
    mine, theirs = ("a", "b") if other is None or version.pk < other else ("b", "a")
    if member.kind == "exact":
        return _("identical file (same bytes)")
    parts = []
    fmt_mine, fmt_theirs = ev.get(f"format_{mine}"), ev.get(f"format_{theirs}")
    if member.kind == "same_pixels":
        parts.append(_("same pixels"))
    if ev.get("transform") in TRANSFORM_WORDS:
        parts.append(str(TRANSFORM_WORDS[ev["transform"]]))
    size_mine, size_theirs = ev.get(f"size_{mine}") or [0, 0], ev.get(f"size_{theirs}") or [0, 0]
    if size_mine[0] and size_theirs[0] and size_mine != size_theirs and sorted(size_mine) != sorted(size_theirs):
        ratio = max(size_mine) / max(size_theirs)
        parts.append(_("resized to %(pct)d%%") % {"pct": round(ratio * 100)})
    if fmt_mine and fmt_theirs and fmt_mine != fmt_theirs:
        parts.append(_("re-saved as %(format)s") % {"format": fmt_mine})
    coverage = ev.get("coverage")
    if coverage is not None and coverage < 0.97:
        parts.append(_("cropped or framed (%(pct)d%% overlap)") % {"pct": round(coverage * 100)})
    if member.kind == "near" and len(parts) == 0:
        parts.append(_("recompressed or lightly edited"))
    if ev.get("hash_distance"):
        parts.append(_("%(n)d bits apart") % {"n": ev["hash_distance"]})
    if member.kind == "same_pixels" and len(parts) == 1:
        parts.append(_("metadata or encoding changed"))
    return ", ".join(parts)


def is_file_name(version: Version, name: str, value: Any) -> bool:
    """A title that is only the uploaded file's name (ingest fills blank titles that way): not a curated title."""
    return name == "title" and bool(value) and value == PurePath(version.original_filename).stem


def _value(version: Version, name: str) -> Any:
    value = getattr(version.item, name)
    if is_file_name(version, name, value):
        value = ""
    if not value and name in SUMMARY_FALLBACK:
        value = embedded_summary(version).get(SUMMARY_FALLBACK[name]) or value
    if not value and name == "date" and (when := capture_date(version)):
        value = f"{when:%Y-%m-%d}"
    return list(value) if name == "subjects" else (value or "")


def _curated_by_person(version: Version, name: str) -> bool:
    return "user" in (version.item.provenance or {}).get(name, {})


@dataclass
class FieldRow:
    """One curated field: the distinct values members offer and the one chosen by default."""

    name: str
    label: str
    options: list[tuple[str, Any, list[int]]] = field(default_factory=list)  # (choice, value, version ids)
    default: str = ""

    @property
    def differs(self) -> bool:
        return len(self.options) > 1


def merge_table(*, versions: list[Version], preferred: Version | None = None) -> list[FieldRow]:
    """Per field, the values on offer and the one kept by default, whichever version becomes authoritative.

    The default is the curated value: one a person typed first, then the preferred (suggested) version's
    item, then the others in upload order. Choosing another authoritative version never changes it, so a
    curated title cannot be replaced by a file name through a choice of version. Subjects are united.
    """
    rows = []
    for name in MERGE_FIELDS:
        ordered = sorted(
            versions,
            key=lambda v: (not _curated_by_person(v, name), preferred is None or v.pk != preferred.pk, v.pk),
        )
        row = FieldRow(name=name, label=str(Item._meta.get_field(name).verbose_name))
        by_value: dict[str, tuple[str, Any, list[int]]] = {}
        for version in ordered:
            value = _value(version, name)
            if not value:
                continue
            key = repr(value)
            if key not in by_value:
                by_value[key] = (str(version.pk), value, [])
            by_value[key][2].append(version.pk)
        row.options = list(by_value.values())
        if name == "subjects" and len(row.options) > 1:
            union = list(dict.fromkeys(s for _c, value, _ids in row.options for s in value))
            row.options.append(("union", union, [v.pk for v in ordered]))
            row.default = "union"
        elif row.options:
            row.default = row.options[0][0]
        rows.append(row)
    return rows


def authority_rule_names() -> list[str]:
    return list(settings.DUPFINDER_AUTHORITY_RULES)


def cluster_last_undoable(*, cluster_id: int) -> AuditEvent | None:
    """The latest merge, split or dismissal of this cluster that has not been undone yet."""
    return clusters_last_undoable(cluster_ids=[cluster_id]).get(cluster_id)


def clusters_last_undoable(*, cluster_ids: list[int]) -> dict[int, AuditEvent]:
    """For each cluster, its latest decision not undone yet (one query for them all); none, no entry."""
    events = AuditEvent.objects.filter(
        target_type="dedup.cluster",
        target_id__in=[str(pk) for pk in cluster_ids],
        action__in=[*UNDOABLE, "cluster.undo"],
    ).order_by("created_at", "pk")
    stacks: dict[int, list[AuditEvent]] = {}
    for event in events:
        stack = stacks.setdefault(int(event.target_id), [])
        if event.action == "cluster.undo":
            stack[:] = [e for e in stack if e.pk != event.after.get("undid")]
        else:
            stack.append(event)
    return {pk: stack[-1] for pk, stack in stacks.items() if stack}


def _decision_events(cluster_ids: list[int]) -> dict[int, AuditEvent]:
    """The latest dismissal or emptying split of each cluster, with the members it let go."""
    events = AuditEvent.objects.filter(
        target_type="dedup.cluster",
        target_id__in=[str(pk) for pk in cluster_ids],
        action__in=["cluster.dismiss", "cluster.split"],
    ).order_by("created_at", "pk")
    return {int(event.target_id): event for event in events}


def _snapshot_members(cluster: Cluster, event: AuditEvent, versions: dict[int, Version]) -> list[ClusterMember]:
    rows = []
    for state in event.before.get("members", []):
        version = versions.get(state["version"])
        if version is not None:
            member = ClusterMember(cluster=cluster, version=version, kind=state["kind"], score=state["score"])
            member.evidence = state.get("evidence") or {}
            rows.append(member)
    return rows


def dismissed_snapshots(*, clusters: list[Cluster], detail: bool = False) -> dict[int, tuple[AuditEvent, list]]:
    """For dismissed clusters, the decision and the members they had when dismissed (two queries in all).

    Dismissal lets the memberships go, so a version can join a new cluster; the members are read back from
    the snapshot the audit event keeps, so nobody loses sight of what was declared not duplicates.
    """
    dismissed = [c for c in clusters if c.status == Cluster.Status.DISMISSED]
    if not dismissed:
        return {}
    events = _decision_events([c.pk for c in dismissed])
    ids = {m["version"] for e in events.values() for m in e.before.get("members", [])}
    versions = Version.objects.select_related("source")
    if detail:
        versions = (
            versions.select_related("uploader", "item", "fingerprint")
            .defer("fingerprint__rendition", "fingerprint__content", "fingerprint__phash_dihedral")
            .prefetch_related("imported_metadata")
        )
    by_id = versions.in_bulk(ids)
    return {c.pk: (events[c.pk], _snapshot_members(c, events[c.pk], by_id)) for c in dismissed if c.pk in events}


def cluster_edges(*, versions: list[Version]) -> list[dict]:
    """Verified pairs among these versions, as the compare view draws them (one query).

    `transform` turns b into a (verification aligns b onto a); `matrix` carries b's (x, y) fractions onto a's
    with the scale, shift and slight skew verification fitted as well, when it compared whole frames and
    stored its alignment; `region` is the one region that differs, as fractions (top, bottom, left, right)
    of a's frame, when verification compared whole frames.
    """
    by_id = {v.pk: v for v in versions}
    edges = MatchEdge.objects.filter(version_a__in=by_id, version_b__in=by_id, is_duplicate=True).values(
        "version_a", "version_b", "kind", "evidence"
    )
    rows = []
    for edge in edges:
        evidence, a = edge["evidence"] or {}, by_id[edge["version_a"]]
        matrix = _overlay(evidence)
        words = [str(TRANSFORM_WORDS[evidence["transform"]])] if evidence.get("transform") in TRANSFORM_WORDS else []
        if matrix and _scaled_or_shifted(matrix):
            words.append(_("scaled and shifted into place"))
        rows.append(
            {
                "a": edge["version_a"],
                "b": edge["version_b"],
                "kind": edge["kind"],
                "transform": evidence.get("transform") or "identity",
                "words": ", ".join(words),
                "reason": evidence_reason(evidence),
                "region": _region_fractions(evidence, a),
                "matrix": matrix,
            }
        )
    return rows


def _scaled_or_shifted(matrix: list[float]) -> bool:
    """More than a turn or mirror of the whole frame: scale off 1 or a corner moved, by over 1.5%."""
    xx, xy, x0, yx, yy, y0 = matrix
    off_scale = abs(abs(xx * yy - xy * yx) - 1) > 0.03
    return off_scale or any(min(abs(t), abs(1 - t)) > 0.015 for t in (x0, y0))


def _overlay(evidence: dict) -> list[float] | None:
    sizes, alignment = evidence.get("compared_size"), evidence.get("alignment")
    if evidence.get("compared") != "frame" or not alignment or not sizes or len(sizes) != 2:
        return None
    return overlay_matrix(
        alignment=alignment, transform=evidence.get("transform") or "identity", size_a=sizes[0], size_b=sizes[1]
    )


def _region_fractions(evidence: dict, a: Version) -> list[float] | None:
    region, fingerprint = evidence.get("region"), getattr(a, "fingerprint", None)
    if not region or evidence.get("compared") == "content" or fingerprint is None:
        return None
    width, height = fingerprint.rendition_width or 0, fingerprint.rendition_height or 0
    if not width or not height:
        return None
    top, bottom, left, right = region
    return [round(top / height, 4), round(bottom / height, 4), round(left / width, 4), round(right / width, 4)]
