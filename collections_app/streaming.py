"""Responses that hand a stored file to someone allowed to see it: typed by its decoded format, never sniffed."""

import mimetypes
from pathlib import PurePath
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext as _

from collections_app.exports import content_disposition
from collections_app.models import Version
from collections_app.storage import is_local
from dedup.imaging.formats import MEDIA_TYPES, SUFFIXES

# Opened on its own, a file is a sandboxed document that may run nothing and load nothing.
FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
SENDFILE_HEADERS = ("X-Accel-Redirect", "X-Sendfile")


def original_download(version: Version) -> tuple[str, str]:
    """Media type and download name for a version's original; the name's suffix agrees with the type."""
    content_type = MEDIA_TYPES.get(version.format)
    if content_type is None:
        return "application/octet-stream", version.original_filename
    if mimetypes.guess_type(version.original_filename)[0] == content_type:
        return content_type, version.original_filename
    return content_type, PurePath(version.original_filename).stem + SUFFIXES[version.format]


def stored_file_response(
    *, name: str, download_name: str, content_type: str, storage: Storage = default_storage, inline: bool = True
) -> HttpResponse:
    """Stream the file (or let the front-end server send it, see DUPFINDER_SENDFILE_HEADER) with safe headers."""
    if not name or not storage.exists(name):
        raise Http404(_("File not found."))
    inline = inline and content_type != "application/octet-stream"
    target = _sendfile_target(storage, name)
    if target is None:
        response: HttpResponse = FileResponse(storage.open(name, "rb"), content_type=content_type)
    else:
        response = HttpResponse(content_type=content_type)
        response[settings.DUPFINDER_SENDFILE_HEADER] = target
    response["Content-Disposition"] = content_disposition(download_name, attachment=not inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _sendfile_target(storage: Storage, name: str) -> str | None:
    header = settings.DUPFINDER_SENDFILE_HEADER
    if not header:
        return None
    if header not in SENDFILE_HEADERS:
        raise ImproperlyConfigured(f"DUPFINDER_SENDFILE_HEADER must be one of {SENDFILE_HEADERS} or empty.")
    if header == "X-Accel-Redirect":
        # One internal location maps the media root; other storages (quarantine, object storage) are streamed.
        if storage is not default_storage or not is_local(storage):
            return None
        return f"{settings.DUPFINDER_SENDFILE_PREFIX.rstrip('/')}/{quote(name)}"
    try:
        return storage.path(name)
    except NotImplementedError:  # object storage has no local path
        return None
