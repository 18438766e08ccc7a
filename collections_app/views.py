"""Catalogue pages: home, upload, batch progress, item detail, and authorised file streaming."""

import mimetypes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import Storage, default_storage, storages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseGone
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from collections_app import selectors
from collections_app.forms import DecisionForm, MarkAuthoritativeForm, UploadForm
from collections_app.models import IngestBatch, Version
from collections_app.permissions import require_perm
from collections_app.services import batch_create
from collections_app.uploads import batch_files_upload


@login_required
def home(request):
    return render(
        request,
        "collections_app/home.html",
        {"counts": selectors.catalogue_counts(), "batches": IngestBatch.objects.select_related("source")[:10]},
    )


@require_perm("collections_app.add_version")
@require_http_methods(["GET", "POST"])
def upload(request):
    """Bulk upload; with JavaScript each file goes to the API on its own, without it the form posts them all."""
    continuing = _batch_or_none(request.GET.get("batch"))
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        batch = continuing or batch_create(
            source=form.cleaned_data["source"], label=_("Web upload"), created_by=request.user
        )
        files = [(f, f.name, f.size) for f in form.cleaned_data["files"]]
        if form.cleaned_data.get("metadata"):
            files.append((form.cleaned_data["metadata"], form.cleaned_data["metadata"].name, 0))
        result = batch_files_upload(batch=batch, files=files, uploader=request.user)
        for row in result.files:
            if row.status == "refused":
                messages.warning(
                    request, _("%(name)s was not stored: %(reason)s") % {"name": row.path, "reason": row.message}
                )
        return redirect("batch-detail", batch.pk)
    context = {
        "form": form,
        "continuing": continuing,
        "max_bytes": settings.DUPFINDER_MAX_UPLOAD_BYTES,
    }
    return render(request, "collections_app/upload.html", context)


def _batch_or_none(value: str | None) -> IngestBatch | None:
    if not value or not value.isdigit():
        return None
    return IngestBatch.objects.select_related("source").filter(pk=int(value)).first()


@require_perm("collections_app.view_version")
def batch_detail(request, pk: int):
    try:
        batch = selectors.batch_with_counts(batch_id=pk)
    except IngestBatch.DoesNotExist as exc:
        raise Http404 from exc
    versions = list(selectors.batch_versions(batch=batch).select_related("uploader"))
    already = selectors.versions_already_in_collection(versions=versions)
    context = {
        "batch": batch,
        "rows": [(version, already.get(version.pk)) for version in versions],
        "sidecar_rows": selectors.batch_sidecar_rows(batch=batch),
    }
    return render(request, "collections_app/batch_detail.html", context)


@require_perm("collections_app.view_item")
def item_detail(request, pk: int):
    try:
        item = selectors.item_with_versions(item_id=pk)
    except Exception as exc:
        raise Http404 from exc
    if item.merged_into_id:
        # A merged-away item keeps its identifier as a redirect to the surviving item.
        return redirect("item-detail", item.merged_into_id)
    record = selectors.item_record(item=item)
    context = {
        "item": item,
        "record": record,
        "mark_form": MarkAuthoritativeForm(),
        "decision_form": DecisionForm(),
        "approval_required": settings.DUPFINDER_AUTHORITY_APPROVAL,
    }
    return render(request, "collections_app/item_detail.html", context)


def _stream(name: str, download_name: str, storage: Storage = default_storage) -> FileResponse:
    if not name or not storage.exists(name):
        raise Http404(_("File not found."))
    content_type = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    response = FileResponse(storage.open(name, "rb"), content_type=content_type, filename=download_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_perm("collections_app.view_version")
def version_file(request, pk: int):
    version = get_object_or_404(Version, pk=pk)
    if version.quarantined_at:
        return _quarantined_file(request, version)
    return _stream(version.file.name, version.original_filename)


def _quarantined_file(request, version: Version) -> HttpResponse:
    """Storage reclamation moved the file aside: administrators still open it, others are told where it went."""
    if version.purged_at is None and request.user.has_perm("reports.view_quarantined_file"):
        return _stream(version.quarantine_name, version.original_filename, storages["quarantine"])
    if version.purged_at:
        text = _("This superseded file was deleted for good; the authoritative version is number %(id)s.")
    else:
        text = _("This superseded file was moved to quarantine; the authoritative version is number %(id)s.")
    return HttpResponseGone(text % {"id": version.duplicate_of_id}, content_type="text/plain; charset=utf-8")


@require_perm("collections_app.view_version")
def version_thumbnail(request, pk: int, size: str):
    version = get_object_or_404(Version.objects.select_related("fingerprint"), pk=pk)
    fingerprint = getattr(version, "fingerprint", None)
    if fingerprint is None:
        raise Http404(_("No thumbnail yet."))
    name = fingerprint.thumb_small if size == "small" else fingerprint.thumb_preview
    response = _stream(name, f"{version.pk}-{size}.jpg")
    response["Content-Disposition"] = "inline"
    return response
