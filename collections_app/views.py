"""Catalogue pages: home, upload, batch progress, item detail, and authorised file streaming."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.http import Http404, HttpResponse, HttpResponseGone
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from collections_app import selectors, services
from collections_app.forms import UploadForm
from collections_app.models import IngestBatch, Version
from collections_app.permissions import require_perm
from collections_app.sidecar import SidecarError
from collections_app.streaming import original_download, stored_file_response
from collections_app.uploads import batch_upload


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
        metadata = form.cleaned_data.get("metadata")
        try:
            result = batch_upload(
                files=[(f, f.name, f.size) for f in form.cleaned_data["files"]],
                uploader=request.user,
                batch=continuing,
                source=form.cleaned_data["source"],
                label=_("Web upload"),
                metadata=metadata.read() if metadata else None,
            )
        except SidecarError as exc:
            form.add_error("metadata", str(exc))
        else:
            for row in result.files:
                if row.status == "refused":
                    messages.warning(
                        request, _("%(name)s was not stored: %(reason)s") % {"name": row.path, "reason": row.message}
                    )
            return redirect("batch-detail", result.batch.pk)
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
        "skipped_rows": selectors.batch_skipped_rows(batch=batch),
        "sidecar_rows": selectors.batch_sidecar_rows(batch=batch),
    }
    # static/js/batch.js polls the page for the live part alone while the worker is busy.
    partial = request.headers.get("X-Requested-With") == "fetch"
    template = "collections_app/_batch_live.html" if partial else "collections_app/batch_detail.html"
    response = render(request, template, context)
    # One URL, two bodies: Back must not show the bare partial from the cache.
    patch_vary_headers(response, ["X-Requested-With"])
    return response


@require_perm("collections_app.add_version")
@require_POST
def version_retry(request, pk: int):
    """Process a failed file again without anyone resending it."""
    version = get_object_or_404(Version, pk=pk)
    try:
        services.version_retry(version_id=version.pk, actor=request.user)
    except services.VersionNotRetryable as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, _("%(name)s is queued for processing again.") % {"name": version})
    if version.batch_id:
        return redirect("batch-detail", version.batch_id)
    return redirect(version.get_absolute_url())


@require_perm("collections_app.view_version")
def version_file(request, pk: int):
    version = get_object_or_404(Version, pk=pk)
    if version.quarantined_at:
        return _quarantined_file(request, version)
    content_type, download_name = original_download(version)
    return stored_file_response(name=version.file.name, download_name=download_name, content_type=content_type)


def _quarantined_file(request, version: Version) -> HttpResponse:
    """Storage reclamation moved the file aside: administrators still open it, others are told where it went."""
    if version.purged_at is None and request.user.has_perm("reports.view_quarantined_file"):
        content_type, download_name = original_download(version)
        return stored_file_response(
            name=version.quarantine_name,
            download_name=download_name,
            content_type=content_type,
            storage=storages["quarantine"],
        )
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
    return stored_file_response(name=name, download_name=f"{version.pk}-{size}.jpg", content_type="image/jpeg")
