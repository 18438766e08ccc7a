"""Catalogue pages: home, browse and search, upload, batch progress, and authorised file streaming."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import TooManyFilesSent
from django.core.files.storage import storages
from django.http import Http404, HttpResponse, HttpResponseGone
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from collections_app import selectors, services, sidecar
from collections_app.filters import ItemFilter, VersionFilter
from collections_app.forms import UploadForm
from collections_app.models import IngestBatch, Version
from collections_app.permissions import require_perm
from collections_app.search import COUNT_LIMIT, CappedPaginator
from collections_app.signals import preview_wanted
from collections_app.streaming import original_download, stored_file_response
from collections_app.uploads import (
    BatchNotYours,
    SidecarRefused,
    batch_check_open,
    batch_upload,
    unreadable_upload_text,
)


@login_required
def home(request):
    return render(
        request,
        "collections_app/home.html",
        {"counts": selectors.catalogue_counts(), "batches": IngestBatch.objects.select_related("source")[:10]},
    )


CATALOGUE_PAGE_SIZE = 24
LAYOUTS = ("grid", "list")


def _catalogue_page(request, filterset, template: str, **extra):
    """One page of a filtered list, with the query string kept for the page links and the layout switch."""
    page = CappedPaginator(filterset.qs, CATALOGUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    layout = request.GET.get("layout") if request.GET.get("layout") in LAYOUTS else LAYOUTS[0]
    without_layout = query.copy()
    without_layout.pop("layout", None)
    context = {
        "filter": filterset,
        "page": page,
        "query": query.urlencode(),
        "query_without_layout": without_layout.urlencode(),
        "layout": layout,
        "match_limit": COUNT_LIMIT,
        **extra,
    }
    status = 200 if filterset.is_bound and filterset.is_valid() else 400
    return render(request, template, context, status=status)


@require_perm("collections_app.view_item")
def item_list(request):
    """Browse and search the catalogue: items, each with its thumbnail and number of versions."""
    filterset = ItemFilter(request.GET, queryset=selectors.items_for_catalogue())
    return _catalogue_page(request, filterset, "collections_app/item_list.html")


@require_perm("collections_app.view_version")
def version_list(request):
    """Every stored file, filtered as the catalogue is."""
    filterset = VersionFilter(request.GET, queryset=selectors.versions_for_catalogue())
    return _catalogue_page(request, filterset, "collections_app/version_list.html")


# CsrfViewMiddleware reads the body before any view runs and answers a bare 400 when Django cannot parse it
# (a file name over the multipart header limit, too many files); exempt from it, the view checks the token
# itself in _upload_form, after answering such a request in words. Nothing is stored before that check.
@csrf_exempt
@require_perm("collections_app.add_version")
@require_http_methods(["GET", "POST"])
def upload(request):
    """Bulk upload; with JavaScript each file goes to the API on its own, without it the form posts them all."""
    if request.method == "POST":
        try:
            request.POST, request.FILES  # noqa: B018 - parsed here so that a failure is caught here
        except (MultiPartParserError, TooManyFilesSent) as exc:
            return _upload_page(request, UploadForm(), refusal=unreadable_upload_text(exc), status=400)
    return _upload_form(request)


@csrf_protect
def _upload_form(request):
    continuing, refusal, refusal_status = _batch_or_none(request)
    if refusal:
        return _upload_page(request, UploadForm(), refusal=refusal, status=refusal_status)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        metadata = form.cleaned_data.get("metadata")
        try:
            result = batch_upload(
                files=[(f, f.name, f.size) for f in form.cleaned_data["files"]],
                uploader=request.user,
                batch=continuing,
                source=form.cleaned_data["source"],
                channel=IngestBatch.Channel.WEB,
                metadata=metadata.read(sidecar.MAX_BYTES + 1) if metadata else None,
            )
        except SidecarRefused as exc:
            form.add_error(exc.field, str(exc))
        except BatchNotYours as exc:
            return _upload_page(request, UploadForm(), refusal=str(exc), status=403)
        else:
            for row in result.files:
                if row.status == "refused":
                    messages.warning(
                        request, _("%(name)s was not stored: %(reason)s") % {"name": row.path, "reason": row.message}
                    )
            return redirect("batch-detail", result.batch.pk)
    status = 400 if request.method == "POST" else 200
    return _upload_page(request, form, continuing=continuing, status=status)


def _upload_page(request, form: UploadForm, *, continuing=None, refusal: str = "", status: int = 200):
    context = {
        "form": form,
        "continuing": continuing,
        "refusal": refusal,
        "max_bytes": settings.DUPFINDER_MAX_UPLOAD_BYTES,
    }
    return render(request, "collections_app/upload.html", context, status=status)


def _batch_or_none(request) -> tuple[IngestBatch | None, str, int]:
    """The batch ?batch= names, or None; a batch that is missing or not the user's is a refusal in words."""
    value = request.GET.get("batch")
    if not value:
        return None, "", 200
    batch = None
    if value.isdigit():
        batch = IngestBatch.objects.select_related("source").filter(pk=int(value)).first()
    if batch is None:
        return None, _("There is no batch %(batch)s. Choose a source below to start a new one.") % {"batch": value}, 404
    try:
        batch_check_open(batch=batch, user=request.user)
    except BatchNotYours as exc:
        return None, str(exc), 403
    return batch, "", 200


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
    name = fingerprint.thumb_small if size == "small" else fingerprint.thumb_preview or _preview_made(version.pk)
    # The small thumbnail stands in for a preview that could not be made (the original gone or unreadable).
    name = name or fingerprint.thumb_small
    return stored_file_response(name=name, download_name=f"{version.pk}-{size}.jpg", content_type="image/jpeg")


def _preview_made(version_id: int) -> str:
    """The preview made now by detection, which left it out when it fingerprinted a reduced decode."""
    names = (name for _receiver, name in preview_wanted.send(sender=Version, version_id=version_id))
    return next((name for name in names if name), "")
