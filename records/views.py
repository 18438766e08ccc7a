"""Records-officer pages: authoritative choice and approval, audit trail export, identifier redirects, verification."""

import json
from datetime import UTC

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collections_app import selectors as catalogue
from collections_app.exports import content_disposition, csv_lines
from collections_app.failures import failure_text
from collections_app.models import AuditEvent, AuthorityRequest, Item
from collections_app.permissions import require_perm
from dedup.imaging.errors import FingerprintError
from records import embedded, selectors, statement, trail
from records import services as authority
from records.copy_check import VerificationTooLarge, copy_check
from records.forms import DecisionForm, MarkAuthoritativeForm, VerifyForm

# Times in exports are UTC, and the column says so; pages show Hong Kong time.
EXPORT_FIELDS = (
    "id",
    "time_utc",
    "actor",
    "action",
    "target",
    "reason",
    "before",
    "after",
    "previous_hash",
    "entry_hash",
)


def _outcome(request: HttpRequest, item_id: int, action, done: str) -> HttpResponse:
    try:
        action()
    except authority.AuthorityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("item-detail", item_id)


@require_perm(authority.MARK_PERM)
@require_POST
def item_mark_authoritative(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Item, pk=pk)
    form = MarkAuthoritativeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A written reason is required to mark a version authoritative."))
        return redirect("item-detail", item.pk)
    try:
        outcome = authority.item_mark_authoritative(
            item_id=item.pk,
            version_id=form.cleaned_data["version"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except authority.AuthorityError as exc:
        messages.error(request, str(exc))
    else:
        if outcome.applied:
            messages.success(request, _("The version is now authoritative; the change is in the audit trail."))
        else:
            messages.info(request, _("Recorded; it takes effect when a second records officer approves it."))
    return redirect("item-detail", item.pk)


@require_perm(authority.APPROVE_PERM)
@require_POST
def authority_request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, authority.authority_request_approve, _("Approved: the version is now authoritative."))


@require_perm(authority.APPROVE_PERM)
@require_POST
def authority_request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, authority.authority_request_reject, _("The request was turned down; nothing changed."))


def _decide(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    """A second records officer's approval or rejection of a pending request, with an optional note."""
    pending = get_object_or_404(AuthorityRequest, pk=pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _outcome(
        request, pending.item_id, lambda: service(request_id=pending.pk, actor=request.user, note=note), done
    )


def _event_row(event: AuditEvent) -> dict:
    return {
        "id": event.pk,
        "time_utc": event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "actor": event.actor_label,
        "action": event.action,
        "target": f"{event.target_type}:{event.target_id}",
        "reason": event.reason,
        "before": event.before,
        "after": event.after,
        "previous_hash": event.previous_hash,
        "entry_hash": event.entry_hash,
    }


@require_perm("collections_app.view_auditevent")
@require_GET
def item_audit_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    item = get_object_or_404(Item, pk=pk)
    rows = [_event_row(e) for e in selectors.item_audit_events(item=item)]
    if fmt == "json":
        response: HttpResponse = JsonResponse(
            {"item": item.identifier, "events": rows}, json_dumps_params={"ensure_ascii": False, "indent": 2}
        )
    else:
        cells = ({**row, "before": json.dumps(row["before"]), "after": json.dumps(row["after"])} for row in rows)
        response = HttpResponse(csv_lines(cells, header=EXPORT_FIELDS), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(f"audit-{item.identifier}.{fmt}")
    return response


@require_perm("collections_app.view_item")
@require_GET
def item_by_identifier(request: HttpRequest, identifier: str) -> HttpResponse:
    try:
        item = catalogue.item_by_identifier(identifier=identifier)
    except Item.DoesNotExist as exc:
        raise Http404(_("No item has this identifier or accession number.")) from exc
    return redirect("item-detail", item.pk)


@require_perm("collections_app.verify_copy")
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = copy_check(fileobj=upload, byte_size=upload.size)
        except FingerprintError as exc:
            form.add_error("file", failure_text(exc.code, exc.params))
            status = 400
        except VerificationTooLarge:
            form.add_error("file", _("The file is larger than the upload limit."))
            status = 400
        else:
            facts = statement.statement_facts(result, checked_by=request.user.get_username())
            context.update(result=result, statement=statement.statement_words(facts), token=statement.facts_sign(facts))
    elif request.method == "POST":
        status = 400
    return render(request, "records/verify.html", context, status=status)


@require_perm("collections_app.verify_copy")
@require_POST
def verify_statement_pdf(request: HttpRequest) -> HttpResponse:
    """Issue the statement of a check made on the verify page as a PDF; its SHA-256 goes in the audit trail."""
    try:
        facts = statement.facts_unsign(request.POST.get("statement", ""))
    except statement.StatementExpired:
        messages.error(request, _("That check is too old or its statement was altered; check the copy again."))
        return redirect("verify")
    issued = statement.statement_issue(facts=facts, actor=request.user, language=get_language())
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(f"statement-{issued.sha256[:12]}.pdf")
    return response


@require_perm("collections_app.view_item")
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        item = catalogue.item_with_versions(item_id=pk)
    except Exception as exc:
        raise Http404 from exc
    if item.merged_into_id:
        # A merged-away item keeps its identifier as a redirect to the surviving item.
        return redirect("item-detail", item.merged_into_id)
    record = selectors.item_record(item=item)
    # Shown beside each version and event; prefetched rows are the same objects the template iterates.
    for version in item.versions.all():
        version.embedded = embedded.version_metadata(version=version)
    labels = trail.target_labels(events=record.trail)
    changes = trail.merges_changes(events=record.merges)
    for event in record.trail:
        event.target_label = labels[event.target_type, event.target_id]
        event.changes = changes.get(event.pk, [])
    context = {
        "item": item,
        "record": record,
        "curated": embedded.curated_fields(item=item, versions=item.versions.all()),
        "mark_form": MarkAuthoritativeForm(),
        "decision_form": DecisionForm(),
        "approval_required": settings.DUPFINDER_AUTHORITY_APPROVAL,
    }
    return render(request, "records/item_detail.html", context)
