"""Dashboard, failures list, report downloads and legal holds."""

import json
from collections.abc import Callable, Iterable, Iterator

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collections_app.dublin_core import CSV_HEADER, dc_csv_rows, dc_xml_chunks
from collections_app.exports import content_disposition, csv_lines
from collections_app.permissions import require_perm
from reports import charts, selectors, tallies
from reports.forms import LegalHoldForm
from reports.services import ReclaimError, version_set_legal_hold

REPORTS: dict[str, dict[str, Callable[[], Iterable[dict]]]] = {
    "clusters": {"csv": selectors.clusters_report_flat, "json": selectors.clusters_report},
    "decisions": {"csv": selectors.decisions_report, "json": selectors.decisions_report},
    "sources": {"csv": tallies.sources_report, "json": tallies.sources_report},
    "manifest": {"csv": selectors.manifest_report, "json": selectors.manifest_report},
}


def _charts(figures: selectors.Figures, weeks: list[selectors.Week]) -> dict[str, charts.Chart]:
    sources = [(r.label, r.duplicate_bytes, filesizeformat(r.duplicate_bytes)) for r in figures.by_source[:12]]
    kinds = [
        (str(selectors.KIND_WORDS.get(r.label, r.label)), r.duplicate_versions, intcomma(r.duplicate_versions))
        for r in figures.by_kind
    ]
    columns = [(f"{w.start:%m-%d}", [w.resolved, w.dismissed]) for w in weeks]
    return {
        "weekly": charts.stacked_columns(
            columns, label=_("Clusters resolved and dismissed per week"), series=["resolved", "dismissed"]
        ),
        "sources": charts.horizontal_bars(sources, label=_("Duplicate bytes by source")),
        "kinds": charts.horizontal_bars(kinds, label=_("Duplicate versions by kind of match")),
    }


@require_perm("reports.view_reports")
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = tallies.dashboard_figures()
    weeks = selectors.weekly_progress()
    context = {"figures": figures, "weeks": weeks, "charts": _charts(figures, weeks), "reports": list(REPORTS)}
    if request.user.has_perm("collections_app.set_legal_hold"):
        context.update(hold_form=LegalHoldForm(), holds=selectors.legal_holds()[:100])
    return render(request, "reports/dashboard.html", context)


@require_perm("reports.view_reports")
@require_GET
def failures(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.failed_versions_page(), 50).get_page(request.GET.get("page"))
    return render(request, "reports/failures.html", {"page": page})


def _json_chunks(rows: Iterable[dict]) -> Iterator[str]:
    yield "["
    for n, row in enumerate(rows):
        yield ("," if n else "") + "\n" + json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False)
    yield "\n]\n"


@require_perm("reports.view_reports")
@require_GET
def download(request: HttpRequest, name: str, fmt: str) -> StreamingHttpResponse:
    report = REPORTS.get(name, {}).get(fmt)
    if report is None:
        raise Http404(_("No such report."))
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(report()), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(_json_chunks(report()), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition(f"{name}-{timezone.localdate():%Y-%m-%d}.{fmt}")
    return response


@require_perm("reports.view_reports")
@require_GET
def manifest_dublin_core(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    """The de-duplicated manifest as simple Dublin Core, one record per surviving item."""
    rows = selectors.manifest_report()
    if fmt == "csv":
        body, content_type = csv_lines(dc_csv_rows(rows), header=CSV_HEADER), "text/csv; charset=utf-8"
    elif fmt == "xml":
        body, content_type = dc_xml_chunks(rows), "application/xml; charset=utf-8"
    else:
        raise Http404(_("No such report."))
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition(f"manifest-dublin-core-{timezone.localdate():%Y-%m-%d}.{fmt}")
    return response


@require_perm("collections_app.set_legal_hold")
@require_POST
def legal_hold(request: HttpRequest) -> HttpResponse:
    form = LegalHoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a version number, an action and a reason."))
        return redirect("reports-dashboard")
    data = form.cleaned_data
    try:
        version = version_set_legal_hold(
            version_id=data["version"], hold=data["hold"], actor=request.user, reason=data["reason"]
        )
    except ReclaimError as exc:
        messages.error(request, str(exc))
    else:
        text = (
            _("Legal hold placed on version %(id)d.")
            if version.legal_hold
            else _("Legal hold lifted on version %(id)d.")
        )
        messages.success(request, text % {"id": version.pk})
    return redirect("reports-dashboard")
