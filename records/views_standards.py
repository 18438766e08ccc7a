"""Records standards: PREMIS event logs, BagIt packages and IIIF manifests with their level-0 image service."""

import re

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from collections_app.exports import content_disposition
from collections_app.models import Item, Version
from collections_app.permissions import require_perm
from collections_app.streaming import stored_file_response
from dedup.models import Cluster
from records import iiif
from records.bagit_export import BagError, bag_items, bag_size, bag_zip
from records.forms_standards import BagSelectionForm, DateRangeForm
from records.premis import EmptyLog, item_premis, range_premis
from records.selectors import item_audit_events

EXPORT_PERM = "collections_app.export_records"
XML_TYPE = "application/xml; charset=utf-8"
# Image API request: {region}/{size}/{rotation}/{quality}.{format}; level 0 answers the whole picture only.
_SIZE = re.compile(r"(?P<w>\d+),(?P<h>\d+)")


def _exports_page(request: HttpRequest, *, premis=None, bag=None, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "premis_form": premis or DateRangeForm(),
        "bag_form": bag or BagSelectionForm(),
        "error": error,
        "bag_limit": settings.DUPFINDER_BAG_DOWNLOAD_MAX_BYTES,
    }
    return render(request, "records/exports.html", context, status=status)


@require_perm(EXPORT_PERM)
@require_GET
def exports(request: HttpRequest) -> HttpResponse:
    return _exports_page(request)


@require_perm("collections_app.view_auditevent")
@require_GET
def item_premis_download(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    item = get_object_or_404(Item, pk=pk)
    response = StreamingHttpResponse(item_premis(item=item, events=item_audit_events(item=item)), content_type=XML_TYPE)
    response["Content-Disposition"] = content_disposition(f"premis-{item.identifier}.xml")
    return response


@require_perm(EXPORT_PERM)
@require_GET
def premis_range_download(request: HttpRequest) -> HttpResponse:
    form = DateRangeForm(request.GET)
    if not form.is_valid():
        return _exports_page(request, premis=form, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    try:
        chunks = range_premis(first=start, last=end)
    except EmptyLog:
        error = _("No audit event in that range touched an item or a version.")
        return _exports_page(request, premis=form, error=error, status=404)
    response = StreamingHttpResponse(chunks, content_type=XML_TYPE)
    response["Content-Disposition"] = content_disposition(f"premis-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.xml")
    return response


@require_perm(EXPORT_PERM)
@require_GET
def bag_download(request: HttpRequest) -> HttpResponse:
    form = BagSelectionForm(request.GET)
    if not form.is_valid():
        return _exports_page(request, bag=form, status=400)
    selection = form.selection()
    try:
        size = bag_size(items=bag_items(selection=selection))
        limit = settings.DUPFINDER_BAG_DOWNLOAD_MAX_BYTES
        if size > limit:
            raise BagError(
                _(
                    "This selection holds %(size)s, more than the %(limit)s a download may hold; "
                    "narrow it, or make the package on the server with manage.py export_bag."
                )
                % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
            )
        archive = bag_zip(selection=selection)
    except BagError as exc:
        return _exports_page(request, bag=form, error=str(exc), status=400)
    name = f"bag-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(archive, as_attachment=True, filename=name, content_type="application/zip")


# --- IIIF ---------------------------------------------------------------------------------------------------


def _json(data: dict, content_type: str) -> JsonResponse:
    return JsonResponse(data, content_type=content_type, json_dumps_params={"ensure_ascii": False})


@require_perm("collections_app.view_item")
@require_perm("collections_app.view_version")
@require_GET
def iiif_item_manifest(request: HttpRequest, pk: int) -> JsonResponse:
    item = get_object_or_404(Item, pk=pk)
    return _json(iiif.item_manifest(item=item, absolute=request.build_absolute_uri), iiif.PRESENTATION_TYPE)


@require_perm("dedup.view_cluster")
@require_perm("collections_app.view_version")
@require_GET
def iiif_cluster_manifest(request: HttpRequest, pk: int) -> JsonResponse:
    cluster = get_object_or_404(Cluster, pk=pk)
    return _json(iiif.cluster_manifest(cluster=cluster, absolute=request.build_absolute_uri), iiif.PRESENTATION_TYPE)


def _picture(pk: int) -> iiif.Picture:
    pic = iiif.picture(get_object_or_404(Version.objects.select_related("source"), pk=pk))
    if pic is None:
        raise Http404(_("No thumbnail yet."))
    return pic


@require_perm("collections_app.view_version")
@require_GET
def iiif_image_base(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    """The service's base address sends clients on to its info.json, as the Image API asks."""
    response = HttpResponseRedirect(reverse("iiif-image-info", args=[pk]))
    response.status_code = 303
    return response


@require_perm("collections_app.view_version")
@require_GET
def iiif_image_info(request: HttpRequest, pk: int) -> JsonResponse:
    info = iiif.image_info(pic=_picture(pk), absolute=request.build_absolute_uri)
    response = _json(info, iiif.IMAGE_TYPE)
    response["Link"] = '<http://iiif.io/api/image/3/level0.json>;rel="profile"'
    return response


@require_perm("collections_app.view_version")
@require_GET
def iiif_image(request: HttpRequest, pk: int, region: str, size: str, rotation: str, quality: str, fmt: str):
    """Only what level 0 promises: the full region, unrotated, default quality, as JPEG, at a listed size."""
    version = get_object_or_404(Version, pk=pk)
    wanted = _SIZE.fullmatch(size)
    if region != "full" or rotation != "0" or quality != "default" or fmt != "jpg" or not (size == "max" or wanted):
        return HttpResponse(
            _("This image service is level 0: only full/max/0/default.jpg and the sizes listed in info.json."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    name = iiif.thumbnail_name(version=version, size=(int(wanted["w"]), int(wanted["h"])) if wanted else None)
    if name is None:
        raise Http404(_("That size is not offered; info.json lists the sizes there are."))
    return stored_file_response(name=name, download_name=f"{version.pk}.jpg", content_type="image/jpeg")
