"""Review pages: the queue of clusters, one cluster side by side, and the curator's actions on it."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collections_app.permissions import require_perm
from collections_app.search import COUNT_LIMIT, IdsFirstPaginator
from dedup.models import BulkRule, BulkRun, Cluster
from dedup.reasons import evidence_reason
from dedup.review import bulk, selectors, services
from dedup.review.filters import QueueFilter
from dedup.review.forms import ActionForm, BulkRuleForm, DismissForm, MergeForm, PairForm, SplitForm
from dedup.review.rules import RULE_LABELS, capture_date, cluster_suggest

PAGE_SIZE = 25


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request") or request.headers.get("X-Requested-With"))


@require_perm("dedup.view_cluster")
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    clusters = QueueFilter(request.GET or None, queryset=selectors.review_queue(user=request.user))
    # Counting every open cluster costs more than the page itself: count to the page asked for, or to
    # COUNT_LIMIT, then say "more than"; Next stays while rows remain beyond the page. A deep page reads
    # its ids off the queue index first instead of loading every cluster before it.
    wanted = request.GET.get("page", "")
    limit = max(COUNT_LIMIT, (int(wanted) if wanted.isdigit() and len(wanted) < 7 else 1) * PAGE_SIZE)
    page = IdsFirstPaginator(clusters.qs, PAGE_SIZE, limit=limit).get_page(wanted)
    snapshots = selectors.dismissed_snapshots(clusters=list(page.object_list))
    for cluster in page.object_list:
        cluster.shown_members = snapshots[cluster.pk][1] if cluster.pk in snapshots else cluster.members.all()
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": clusters, "page": page, "query": query.urlencode()}
    return render(request, "dedup/review/queue.html", context)


def member_key(n: int) -> tuple[str, str]:
    """The key shown for member n and the key code that picks it: 1-9, 0 for the tenth, then Shift with a digit."""
    if n > 20:
        return "", ""
    digit = str(n % 10)
    return (digit, f"Digit{digit}") if n <= 10 else (f"⇧{digit}", f"shift+Digit{digit}")


def _authoritative(request: HttpRequest, cluster: Cluster, versions: list, suggested):
    wanted = request.GET.get("authoritative", "")
    chosen = next((v for v in versions if str(v.pk) == wanted), None)
    if chosen is None and cluster.status == Cluster.Status.RESOLVED:
        chosen = next((v for v in versions if v.item.authoritative_version_id == v.pk), None)
    return chosen or suggested


def _cluster_context(request: HttpRequest, cluster_id: int) -> dict:
    try:
        cluster = selectors.cluster_detail(cluster_id=cluster_id)
    except Cluster.DoesNotExist as exc:
        raise Http404(_("No such cluster.")) from exc
    members = list(cluster.members.all())
    decision = None
    if not members and (snapshot := selectors.dismissed_snapshots(clusters=[cluster], detail=True).get(cluster.pk)):
        decision, members = snapshot
    versions = [m.version for m in members]
    suggestion = cluster_suggest(members) if members else None
    authoritative = _authoritative(request, cluster, versions, suggestion.version if suggestion else None)
    previous, following = selectors.cluster_neighbours(cluster=cluster, user=request.user)
    rows = selectors.merge_table(versions=versions, preferred=suggestion.version) if suggestion else []
    return {
        "cluster": cluster,
        "token": selectors.cluster_token(cluster),
        "members": [
            {
                "n": n,
                "key": member_key(n)[0],
                "code": member_key(n)[1],
                "m": m,
                "v": m.version,
                "words": selectors.evidence_words(m),
                "reason": evidence_reason(m.evidence),
                "captured": capture_date(m.version),
                "file_title": selectors.is_file_name(m.version, "title", m.version.item.title),
            }
            for n, m in enumerate(members, start=1)
        ],
        "suggestion": suggestion,
        "authoritative": authoritative,
        "differing": [row for row in rows if row.differs],
        "agreeing": [row for row in rows if not row.differs and row.options],
        "previous": previous,
        "following": following,
        "undoable": selectors.cluster_last_undoable(cluster_id=cluster.pk),
        "rules": [RULE_LABELS[name] for name in selectors.authority_rule_names()],
        "is_open": cluster.status == Cluster.Status.OPEN,
        "decision": decision,
        "edges": selectors.cluster_edges(versions=versions) if len(versions) > 1 else [],
        "suggestion_rule_label": RULE_LABELS.get(suggestion.rule, "") if suggestion else "",
    }


def _after_context(request: HttpRequest, after_id: int | None) -> dict | None:
    """The cluster merged just before this one, while its merge is still the step undo would take back."""
    if after_id is None:
        return None
    cluster = Cluster.objects.filter(pk=after_id).first()
    latest = cluster and selectors.cluster_last_undoable(cluster_id=after_id)
    if not latest or latest.action != "cluster.merge":
        return None
    return {"cluster": cluster, "token": selectors.cluster_token(cluster)}


def _cluster_response(request: HttpRequest, cluster_id: int, after_id: int | None = None) -> HttpResponse:
    template = "dedup/review/_cluster_panel.html" if _is_partial(request) else "dedup/review/cluster.html"
    if after_id is None and request.GET.get("after", "").isdigit():
        after_id = int(request.GET["after"])
    context = {**_cluster_context(request, cluster_id), "after": _after_context(request, after_id)}
    response = render(request, template, context)
    response["X-Page-Url"] = reverse("review-cluster", args=[cluster_id])
    return response


@require_perm("dedup.view_cluster")
@require_GET
def cluster_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _cluster_response(request, pk)


def _after_action(request: HttpRequest, cluster_id: int) -> HttpResponse:
    if _is_partial(request):
        return _cluster_response(request, cluster_id)
    return redirect("review-cluster", cluster_id)


def _act(
    request: HttpRequest,
    pk: int,
    form: ActionForm | PairForm,
    action: Callable[[], object],
    done: str,
    on_success: Callable[[], HttpResponse] | None = None,
):
    if not form.is_valid():
        messages.error(request, _("The form was incomplete; reload the page and try again."))
        return _after_action(request, pk)
    try:
        action()
    except services.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
        if on_success is not None:
            return on_success()
    return _after_action(request, pk)


@require_perm("dedup.change_cluster")
@require_POST
def cluster_merge(request: HttpRequest, pk: int) -> HttpResponse:
    form = MergeForm(request.POST)
    response = _act(
        request,
        pk,
        form,
        lambda: services.cluster_merge(
            cluster_id=pk,
            actor=request.user,
            authoritative_id=form.cleaned_data["authoritative"],
            token=form.cleaned_data["token"],
            choices=form.choices(),
            custom=form.custom(),
            reason=form.cleaned_data["reason"],
            keep_separate=form.kept,
        ),
        _("Merged. The other versions are kept as duplicates of the authoritative one."),
        on_success=lambda: _next_cluster(request, pk),
    )
    return response


def _next_cluster(request: HttpRequest, done_id: int) -> HttpResponse:
    """After a merge the next open cluster opens, with the merge's undo one key away."""
    _previous, following = selectors.cluster_neighbours(cluster=Cluster.objects.get(pk=done_id), user=request.user)
    if following is None:
        return _after_action(request, done_id)
    if _is_partial(request):
        return _cluster_response(request, following, after_id=done_id)
    return redirect(f"{reverse('review-cluster', args=[following])}?after={done_id}")


@require_perm("dedup.change_cluster")
@require_POST
def cluster_split(request: HttpRequest, pk: int) -> HttpResponse:
    form = SplitForm(request.POST)
    return _act(
        request,
        pk,
        form,
        lambda: services.cluster_split(
            cluster_id=pk, version_id=form.cleaned_data["version"], actor=request.user, token=form.cleaned_data["token"]
        ),
        _("The version was taken out of the cluster and will not be matched with these again."),
    )


@require_perm("dedup.change_cluster")
@require_POST
def cluster_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    form = DismissForm(request.POST)
    return _act(
        request,
        pk,
        form,
        lambda: services.cluster_dismiss(
            cluster_id=pk, actor=request.user, token=form.cleaned_data["token"], reason=form.cleaned_data["reason"]
        ),
        _("Marked as not duplicates; these versions will not be grouped again."),
    )


@require_perm("dedup.change_cluster")
@require_POST
def cluster_undo(request: HttpRequest, pk: int) -> HttpResponse:
    form = ActionForm(request.POST)
    return _act(
        request,
        pk,
        form,
        lambda: services.cluster_undo(cluster_id=pk, actor=request.user, token=form.cleaned_data["token"]),
        _("Undone: everything is as it was before."),
    )


@require_perm("dedup.change_cluster")
@require_POST
def cluster_skip(request: HttpRequest, pk: int) -> HttpResponse:
    services.cluster_skip(cluster_id=pk, actor=request.user)
    messages.info(request, _("Skipped for later: cluster #%(id)d.") % {"id": pk})
    cluster = Cluster.objects.get(pk=pk)
    _previous, following = selectors.cluster_neighbours(cluster=cluster, user=request.user)
    if following is None:
        return redirect("review-queue") if not _is_partial(request) else _cluster_response(request, pk)
    return _after_action(request, following)


@require_perm("dedup.change_cluster")
@require_POST
def pair_not_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    form = PairForm(request.POST)
    return _act(
        request,
        pk,
        form,
        lambda: services.pair_mark_not_duplicate(
            version_a_id=form.cleaned_data["version_a"], version_b_id=form.cleaned_data["version_b"], actor=request.user
        ),
        _("These two versions are remembered as different pictures; the cluster was regrouped."),
    )


@require_perm("dedup.change_cluster")
def bulk_rules(request: HttpRequest) -> HttpResponse:
    """The bulk rules, a form to add one, and the latest runs with their undo."""
    form = BulkRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = bulk.bulk_rule_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            kinds=form.cleaned_data["kinds"],
            max_size=form.cleaned_data["max_size"],
        )
        messages.success(request, _("Rule “%(name)s” saved. Preview it before running it.") % {"name": rule.name})
        return redirect("review-bulk-preview", rule.pk)
    context = {
        "form": form,
        "rules": BulkRule.objects.all(),
        "runs": BulkRun.objects.select_related("rule", "started_by", "undone_by")[:20],
    }
    return render(request, "dedup/review/bulk_rules.html", context)


@require_perm("dedup.change_cluster")
@require_GET
def bulk_preview(request: HttpRequest, pk: int) -> HttpResponse:
    rule = BulkRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404(_("No such rule."))
    return render(
        request, "dedup/review/bulk_preview.html", {"rule": rule, "preview": bulk.bulk_rule_preview(rule=rule)}
    )


@require_perm("dedup.change_cluster")
@require_POST
def bulk_run(request: HttpRequest, pk: int) -> HttpResponse:
    if not BulkRule.objects.filter(pk=pk).exists():
        raise Http404(_("No such rule."))
    run = bulk.bulk_rule_run(rule_id=pk, actor=request.user)
    messages.success(
        request,
        _("Run #%(run)d merged %(n)d clusters; %(skipped)d changed meanwhile and were left alone.")
        % {"run": run.pk, "n": len(run.cluster_ids), "skipped": len(run.skipped_ids)},
    )
    return redirect("review-bulk-rules")


@require_perm("dedup.change_cluster")
@require_POST
def bulk_undo(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        run = bulk.bulk_run_undo(run_id=pk, actor=request.user)
    except BulkRun.DoesNotExist as exc:
        raise Http404(_("No such run.")) from exc
    except services.ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Run #%(run)d undone.") % {"run": run.pk})
    return redirect("review-bulk-rules")
