"""Bulk rules: standing rules a curator defines for the obvious clusters, previewed, run as one batch, undone."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.services import audit_record
from dedup.models import KIND_FLAGS, BulkRule, BulkRun, Cluster
from dedup.review.rules import Suggestion, cluster_suggest
from dedup.review.selectors import cluster_detail, clusters_last_undoable, detail_members
from dedup.review.services import ReviewError, cluster_merge, cluster_undo

SAMPLE_SIZE = 8


def bulk_rule_clusters(*, rule: BulkRule) -> QuerySet[Cluster]:
    """Open clusters whose every member matched by one of the rule's kinds, within its size limit, in queue
    order: read off the cluster rows (size and kinds kept by clusters_count_members), never their members."""
    other_kinds = {flag: False for kind, flag in KIND_FLAGS.items() if kind not in rule.kinds}
    clusters = Cluster.objects.filter(status=Cluster.Status.OPEN, member_count__gte=2, **other_kinds)
    if rule.max_size:
        clusters = clusters.filter(member_count__lte=rule.max_size)
    return clusters.order_by("-confidence", "pk")


@dataclass(frozen=True)
class Preview:
    clusters: int
    versions: int
    sample: list[Cluster]
    kept: dict[int, Suggestion]  # per sample cluster, the version a run would keep and why

    @property
    def rows(self) -> list[tuple[Cluster, Suggestion]]:
        return [(cluster, self.kept[cluster.pk]) for cluster in self.sample]


def bulk_rule_preview(*, rule: BulkRule) -> Preview:
    """How many clusters and versions a run would touch, and the first few in queue order with the version a run
    would keep in each, decided as the run decides it (four queries)."""
    qualifying = bulk_rule_clusters(rule=rule)
    totals = qualifying.aggregate(clusters=Count("pk"), versions=Sum("member_count"))
    if not totals["clusters"]:
        return Preview(clusters=0, versions=0, sample=[], kept={})
    sample = list(qualifying.prefetch_related(Prefetch("members", queryset=detail_members()))[:SAMPLE_SIZE])
    kept = {cluster.pk: cluster_suggest(list(cluster.members.all())) for cluster in sample}
    return Preview(clusters=totals["clusters"], versions=totals["versions"], sample=sample, kept=kept)


@transaction.atomic
def bulk_rule_create(*, actor: Any, name: str, kinds: list[str], max_size: int | None) -> BulkRule:
    user = actor if getattr(actor, "is_authenticated", False) else None
    rule = BulkRule.objects.create(name=name, kinds=kinds, max_size=max_size, created_by=user)
    audit_record(actor=actor, action="bulkrule.create", target=rule, after={"kinds": kinds, "max_size": max_size})
    return rule


@transaction.atomic
def bulk_rule_run(*, rule_id: int, actor: Any) -> BulkRun:
    """Merge every qualifying cluster, keeping its suggested version; one audited batch."""
    rule = BulkRule.objects.get(pk=rule_id)
    user = actor if getattr(actor, "is_authenticated", False) else None
    run = BulkRun.objects.create(rule=rule, started_by=user)
    done, skipped = [], []
    for cluster_id in bulk_rule_clusters(rule=rule).values_list("pk", flat=True):
        members = list(cluster_detail(cluster_id=cluster_id).members.all())
        suggestion = cluster_suggest(members)
        try:
            with transaction.atomic():
                cluster_merge(
                    cluster_id=cluster_id,
                    actor=actor,
                    authoritative_id=suggestion.version.pk,
                    reason=_("Bulk rule “%(rule)s”, run #%(run)d") % {"rule": rule.name, "run": run.pk},
                    bulk_run=run.pk,
                )
        except ReviewError:
            skipped.append(cluster_id)  # changed by someone meanwhile: left for a person
        else:
            done.append(cluster_id)
    run.cluster_ids, run.skipped_ids = done, skipped
    run.save(update_fields=["cluster_ids", "skipped_ids"])
    audit_record(actor=actor, action="bulk.run", target=run, after={"rule": rule.pk, "clusters": done})
    return run


@transaction.atomic
def bulk_run_undo(*, run_id: int, actor: Any) -> BulkRun:
    """Undo every merge of the run that is still its cluster's latest decision; the others are left as they are."""
    run = BulkRun.objects.select_for_update().get(pk=run_id)
    if run.undone_at is not None:
        raise ReviewError(_("This run was already undone."))
    undone, latest_of = [], clusters_last_undoable(cluster_ids=run.cluster_ids)
    for cluster_id in run.cluster_ids:
        latest = latest_of.get(cluster_id)
        if latest is not None and latest.action == "cluster.merge" and latest.after.get("bulk_run") == run.pk:
            cluster_undo(cluster_id=cluster_id, actor=actor)
            undone.append(cluster_id)
    run.undone_at = timezone.now()
    run.undone_by = actor if getattr(actor, "is_authenticated", False) else None
    run.save(update_fields=["undone_at", "undone_by"])
    audit_record(actor=actor, action="bulk.undo", target=run, after={"clusters": undone})
    return run
