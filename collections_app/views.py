"""Catalogue pages: home, upload, batch progress, item detail, and authorised file streaming."""

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from collections_app import selectors
from collections_app.forms import UploadForm
from collections_app.models import IngestBatch, Version
from collections_app.permissions import require_perm
from collections_app.services import batch_create, version_ingest


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
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        source = form.cleaned_data["source"]
        batch = batch_create(source=source, label=_("Web upload"), created_by=request.user)
        refused = []
        for uploaded in form.cleaned_data["files"]:
            outcome = version_ingest(
                fileobj=uploaded,
                original_filename=uploaded.name,
                original_path=uploaded.name,
                source=source,
                uploader=request.user,
                batch=batch,
            )
            if not outcome.created:
                refused.append({"path": uploaded.name, "reason": outcome.message})
        batch.skipped = refused
        batch.save(update_fields=["skipped"])
        for row in refused:
            messages.warning(
                request, _("%(name)s was not stored: %(reason)s") % {"name": row["path"], "reason": row["reason"]}
            )
        return redirect("batch-detail", batch.pk)
    return render(request, "collections_app/upload.html", {"form": form})


@require_perm("collections_app.view_version")
def batch_detail(request, pk: int):
    try:
        batch = selectors.batch_with_counts(batch_id=pk)
    except IngestBatch.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "collections_app/batch_detail.html",
        {"batch": batch, "versions": selectors.batch_versions(batch=batch)},
    )


@require_perm("collections_app.view_item")
def item_detail(request, pk: int):
    try:
        item = selectors.item_with_versions(item_id=pk)
    except Exception as exc:
        raise Http404 from exc
    if item.merged_into_id:
        # A merged-away item keeps its identifier as a redirect to the surviving item.
        return redirect("item-detail", item.merged_into_id)
    return render(request, "collections_app/item_detail.html", {"item": item})


def _stream(name: str, download_name: str) -> FileResponse:
    if not name or not default_storage.exists(name):
        raise Http404(_("File not found."))
    content_type = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type, filename=download_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_perm("collections_app.view_version")
def version_file(request, pk: int):
    version = get_object_or_404(Version, pk=pk)
    return _stream(version.file.name, version.original_filename)


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
