"""Writes for curator review: merge, split, dismiss, not-duplicate pairs, skip and undo, each audited."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.models import AuditEvent, Item, Version
from collections_app.services import audit_record
from dedup.matching.clusters import clusters_count_members, version_match
from dedup.models import Cluster, ClusterMember, ClusterSkip, NotDuplicatePair
from dedup.review.rules import cluster_suggest
from dedup.review.selectors import MERGE_FIELDS, cluster_last_undoable, cluster_token, merge_table

ACTION_WORDS = {
    "cluster.merge": gettext_lazy("merged"),
    "cluster.split": gettext_lazy("split"),
    "cluster.dismiss": gettext_lazy("marked as not duplicates"),
    "cluster.undo": gettext_lazy("undone"),
}


class ReviewError(Exception):
    """An action that cannot be applied; the message is meant for the curator."""


class ClusterConflict(ReviewError):
    """Someone else acted on the cluster since the page was loaded; nothing was changed."""


def _conflict_message(cluster: Cluster) -> str:
    event = AuditEvent.objects.filter(target_type="dedup.cluster", target_id=str(cluster.pk)).first()
    if event is None or event.action not in ACTION_WORDS:
        return _("This cluster changed since you opened it (new matches arrived); nothing was changed. Reload it.")
    return _("Already %(action)s by %(actor)s at %(time)s; nothing was changed.") % {
        "action": ACTION_WORDS[event.action],
        "actor": event.actor_label,
        "time": date_format(timezone.localtime(event.created_at), "SHORT_DATETIME_FORMAT"),
    }


def _cluster_lock(*, cluster_id: int, token: str | None, statuses: tuple[str, ...]) -> Cluster:
    """Lock the cluster row; refuse if it changed since the curator's page was rendered."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
    if (token is not None and token != cluster_token(cluster)) or cluster.status not in statuses:
        raise ClusterConflict(_conflict_message(cluster))
    return cluster


def _member_rows(cluster: Cluster) -> list[ClusterMember]:
    return list(cluster.members.select_related("version__item", "version__source", "version__fingerprint"))


def _item_state(item: Item) -> dict:
    state = {name: getattr(item, name) for name in MERGE_FIELDS}
    state.update(
        provenance=item.provenance,
        authoritative_version=item.authoritative_version_id,
        merged_into=item.merged_into_id,
    )
    return state


def _merge_state(cluster: Cluster, item_ids: set[int]) -> dict:
    items = Item.objects.filter(pk__in=item_ids).order_by("pk")
    versions = Version.objects.filter(item_id__in=item_ids).order_by("pk")
    return {
        "cluster": {"status": cluster.status},
        "items": {str(item.pk): _item_state(item) for item in items},
        "versions": {str(v.pk): {"item": v.item_id, "duplicate_of": v.duplicate_of_id} for v in versions},
    }


def _chosen(row, choice: str | None, custom: str | None, actor: Any) -> tuple[Any, dict] | None:
    """The value picked for one field and where it came from; None keeps the field as it is."""
    if custom:
        value: Any = [s.strip() for s in custom.split(";") if s.strip()] if row.name == "subjects" else custom
        return value, {"user": actor.get_username()}
    options = {option[0]: option for option in row.options}
    picked = options.get(choice or row.default)
    if picked is None:
        return None
    _choice, value, version_ids = picked
    if picked[0] == "union":
        return value, {"versions": version_ids}
    return value, {"version": int(picked[0])}


@transaction.atomic
def cluster_merge(
    *,
    cluster_id: int,
    actor: Any,
    authoritative_id: int,
    token: str | None = None,
    choices: dict[str, str] | None = None,
    custom: dict[str, str] | None = None,
    reason: str = "",
    bulk_run: int | None = None,
    keep_separate: list[int] | None = None,
) -> Cluster:
    """One surviving item holds every version; the chosen one is authoritative, the others its duplicates.

    Versions in `keep_separate` leave the cluster first, as "Not this one" takes them out (remembered as
    different pictures, undone separately), and stay items of their own.
    """
    cluster = _cluster_lock(cluster_id=cluster_id, token=token, statuses=(Cluster.Status.OPEN,))
    member_rows = _member_rows(cluster)
    kept = [m for m in member_rows if m.version_id in set(keep_separate or ()) and m.version_id != authoritative_id]
    if kept and len(kept) >= len(member_rows) - 1:
        raise ReviewError(_("Keeping all the others separate leaves nothing to merge: use “Not duplicates”."))
    for leaving in kept:
        others = [m.version_id for m in member_rows if m.pk != leaving.pk]
        _members_remove(cluster, actor, "cluster.split", [leaving], _pairs_record(leaving.version_id, others, actor))
    member_rows = [m for m in member_rows if m not in kept]
    versions = [m.version for m in member_rows]
    authoritative = next((v for v in versions if v.pk == authoritative_id), None)
    if authoritative is None:
        raise ReviewError(_("The chosen authoritative version is not in this cluster."))
    item_ids = {v.item_id for v in versions}
    # Items merged earlier into one of these are redirected too, so their state is kept for undo.
    affected = item_ids | set(Item.objects.filter(merged_into_id__in=item_ids).values_list("pk", flat=True))
    list(Item.objects.select_for_update().filter(pk__in=affected))
    before = _merge_state(cluster, affected)
    surviving = authoritative.item
    # The same defaults the page showed: they follow the suggestion, never the version chosen.
    preferred = cluster_suggest(member_rows).version
    for row in merge_table(versions=versions, preferred=preferred):
        picked = _chosen(row, (choices or {}).get(row.name), (custom or {}).get(row.name), actor)
        if picked is not None:
            setattr(surviving, row.name, picked[0])
            surviving.provenance = {**surviving.provenance, row.name: picked[1]}
    surviving.authoritative_version = authoritative
    surviving.merged_into = None
    surviving.save()
    Item.objects.filter(pk__in=item_ids - {surviving.pk}).update(merged_into=surviving)
    # Items merged earlier into a merged-away item follow it, so every redirect is one hop.
    Item.objects.filter(merged_into_id__in=item_ids - {surviving.pk}).update(merged_into=surviving)
    Version.objects.filter(item_id__in=item_ids).update(item=surviving)
    member_ids = [v.pk for v in versions]
    Version.objects.filter(pk__in=member_ids).exclude(pk=authoritative.pk).update(duplicate_of=authoritative)
    Version.objects.filter(pk=authoritative.pk).update(duplicate_of=None)
    cluster.status = Cluster.Status.RESOLVED
    cluster.save(update_fields=["status", "updated_at"])
    ClusterSkip.objects.filter(cluster=cluster).delete()
    audit_record(
        actor=actor,
        action="cluster.merge",
        target=cluster,
        reason=reason,
        before=before,
        after={
            **_merge_state(cluster, affected),
            "authoritative_version": authoritative.pk,
            "members": member_ids,
            "bulk_run": bulk_run,
        },
    )
    return cluster


def _pairs_record(version_id: int, others: list[int], actor: Any) -> list[list[int]]:
    """Remember 'not duplicates' for each pair; returns the pairs that were new (undo removes only those)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    created = []
    for other in others:
        a, b = sorted((version_id, other))
        _pair, is_new = NotDuplicatePair.objects.get_or_create(
            version_a_id=a, version_b_id=b, defaults={"decided_by": user}
        )
        if is_new:
            created.append([a, b])
    return created


def _member_state(member: ClusterMember) -> dict:
    return {
        "version": member.version_id,
        "kind": member.kind,
        "score": member.score,
        "evidence": member.evidence,
        "added_at": member.added_at.isoformat(),
    }


def _members_remove(
    cluster: Cluster, actor: Any, action: str, removed: list[ClusterMember], pairs: list, reason: str = ""
) -> None:
    before = {"status": cluster.status, "members": [_member_state(m) for m in removed]}
    ClusterMember.objects.filter(pk__in=[m.pk for m in removed]).delete()
    clusters_count_members(cluster_ids=[cluster.pk])
    if not cluster.members.exists():
        cluster.status = Cluster.Status.DISMISSED
    cluster.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        target=cluster,
        reason=reason,
        before=before,
        after={"status": cluster.status, "pairs": pairs},
    )


@transaction.atomic
def cluster_split(*, cluster_id: int, version_id: int, actor: Any, token: str | None = None) -> Cluster:
    """Take one member out and remember it differs from every other member, so matching never re-adds it."""
    cluster = _cluster_lock(cluster_id=cluster_id, token=token, statuses=(Cluster.Status.OPEN,))
    members = list(cluster.members.all())
    leaving = next((m for m in members if m.version_id == version_id), None)
    if leaving is None:
        raise ReviewError(_("That version is not in this cluster."))
    others = [m for m in members if m.pk != leaving.pk]
    pairs = _pairs_record(version_id, [m.version_id for m in others], actor)
    # A single member left is no longer a cluster.
    _members_remove(cluster, actor, "cluster.split", [leaving, *others] if len(others) < 2 else [leaving], pairs)
    return cluster


@transaction.atomic
def cluster_dismiss(*, cluster_id: int, actor: Any, token: str | None = None, reason: str = "") -> Cluster:
    """The whole cluster is not duplicates: every pair is remembered, the members are let go."""
    cluster = _cluster_lock(cluster_id=cluster_id, token=token, statuses=(Cluster.Status.OPEN,))
    members = list(cluster.members.all())
    ids = [m.version_id for m in members]
    pairs = [pair for n, a in enumerate(ids) for pair in _pairs_record(a, ids[n + 1 :], actor)]
    _members_remove(cluster, actor, "cluster.dismiss", members, pairs, reason)
    return cluster


@transaction.atomic
def pair_mark_not_duplicate(*, version_a_id: int, version_b_id: int, actor: Any) -> NotDuplicatePair:
    """Two versions are different pictures; their clusters are regrouped at once without that pair."""
    if version_a_id == version_b_id:
        raise ReviewError(_("Choose two different versions."))
    a, b = sorted((version_a_id, version_b_id))
    user = actor if getattr(actor, "is_authenticated", False) else None
    pair, _created = NotDuplicatePair.objects.get_or_create(
        version_a_id=a, version_b_id=b, defaults={"decided_by": user}
    )
    audit_record(actor=actor, action="pair.not_duplicate", target=pair, after={"versions": [a, b]})
    version_match(version_id=a)
    return pair


@transaction.atomic
def cluster_skip(*, cluster_id: int, actor: Any) -> ClusterSkip:
    cluster = Cluster.objects.get(pk=cluster_id)
    skip, _created = ClusterSkip.objects.update_or_create(
        cluster=cluster, user=actor, defaults={"skipped_at": timezone.now()}
    )
    audit_record(actor=actor, action="cluster.skip", target=cluster)
    return skip


def _merge_restore(state: dict) -> None:
    for pk, values in state["items"].items():
        fields = {name: values[name] for name in MERGE_FIELDS}
        Item.objects.filter(pk=int(pk)).update(
            **fields,
            provenance=values["provenance"],
            authoritative_version_id=values["authoritative_version"],
            merged_into_id=values["merged_into"],
        )
    for pk, values in state["versions"].items():
        Version.objects.filter(pk=int(pk)).update(item_id=values["item"], duplicate_of_id=values["duplicate_of"])


def _members_restore(cluster: Cluster, event: AuditEvent) -> None:
    for a, b in event.after.get("pairs", []):
        NotDuplicatePair.objects.filter(version_a_id=a, version_b_id=b).delete()
    ids = [m["version"] for m in event.before["members"]]
    if ClusterMember.objects.filter(version_id__in=ids).exists():
        raise ReviewError(_("Some of these versions are now in another cluster; undo that cluster first."))
    ClusterMember.objects.bulk_create(
        ClusterMember(
            cluster=cluster,
            version_id=m["version"],
            kind=m["kind"],
            score=m["score"],
            evidence=m["evidence"],
            added_at=parse_datetime(m["added_at"]),
        )
        for m in event.before["members"]
    )
    clusters_count_members(cluster_ids=[cluster.pk])


@transaction.atomic
def cluster_undo(*, cluster_id: int, actor: Any, token: str | None = None) -> Cluster:
    """Put back exactly what the latest merge, split or dismissal changed, metadata included."""
    statuses = tuple(Cluster.Status.values)
    cluster = _cluster_lock(cluster_id=cluster_id, token=token, statuses=statuses)
    event = cluster_last_undoable(cluster_id=cluster_id)
    if event is None:
        raise ReviewError(_("There is nothing to undo on this cluster."))
    if event.action == "cluster.merge":
        _merge_restore(event.before)
        cluster.status = event.before["cluster"]["status"]
    else:
        _members_restore(cluster, event)
        cluster.status = event.before["status"]
    cluster.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="cluster.undo",
        target=cluster,
        reason=_("Undo of %(action)s #%(id)d") % {"action": event.action, "id": event.pk},
        before=event.after,
        after={"undid": event.pk, "status": cluster.status},
    )
    return cluster
