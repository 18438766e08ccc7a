"""Failure codes (dedup.imaging.errors) in the reader's language, rendered when shown, never stored as words."""

from typing import Any

from django.utils.translation import gettext, gettext_noop

from dedup.imaging.errors import Failure

_MESSAGES: dict[str, str] = {
    Failure.EMPTY: gettext_noop("The file is empty."),
    Failure.FILE_TOO_LARGE: gettext_noop("The file is larger than the limit of %(limit)d MB."),
    Failure.OUT_OF_MEMORY: gettext_noop("The image is too large to process safely (it does not fit in memory)."),
    Failure.HEADER_UNREADABLE: gettext_noop(
        "The image is truncated or corrupt: the %(format)s header could not be read."
    ),
    Failure.CORRUPT: gettext_noop("The image is truncated or corrupt: %(detail)s."),
    Failure.HEIF_UNSUPPORTED: gettext_noop(
        "Not an image this system can read (HEIC/HEIF/AVIF photos are not supported yet)."
    ),
    Failure.PDF_DOCUMENT: gettext_noop("Not an image this system can read (looks like a PDF document)."),
    Failure.PDF_UNREADABLE: gettext_noop("The PDF is damaged or not a PDF after all: %(detail)s."),
    Failure.PDF_PASSWORD: gettext_noop("The PDF is locked with a password, so its pages cannot be read."),
    Failure.PDF_NO_PAGES: gettext_noop("The PDF has no pages."),
    Failure.PDF_TOO_MANY_PAGES: gettext_noop(
        "The PDF has %(pages)s pages, more than the limit of %(limit)s; split it into smaller files."
    ),
    Failure.PDF_PAGE_MISSING: gettext_noop("The PDF has no page %(page)s (it has %(pages)s)."),
    Failure.PDF_PAGE_NEEDED: gettext_noop(
        "The PDF has %(pages)s pages; check one page at a time, as an image, or add the PDF to the collection."
    ),
    Failure.PDF_JAVASCRIPT: gettext_noop(
        "The PDF contains JavaScript (or a form that runs scripts), so it is refused: a reader could run it."
    ),
    Failure.PDF_EMBEDDED_FILE: gettext_noop(
        "The PDF carries embedded files or media, so it is refused; save the pages without attachments."
    ),
    Failure.PDF_LAUNCH_ACTION: gettext_noop(
        "The PDF has an action that starts a program or opens another file, so it is refused."
    ),
    Failure.NETPBM: gettext_noop(
        "Netpbm images (PPM, PGM, PBM, PAM) are not accepted: they carry no metadata. Convert them to TIFF or PNG."
    ),
    Failure.VIDEO: gettext_noop("Not an image this system can read (looks like a video or audio file)."),
    Failure.TEXT_DOCUMENT: gettext_noop("Not an image this system can read (looks like HTML/SVG/text)."),
    Failure.UNSUPPORTED_TYPE: gettext_noop(
        "Not an image this system can read (unsupported file type; expected JPEG, PNG, TIFF, WebP, GIF, BMP, "
        "HEIC/HEIF, AVIF, JPEG 2000 or PDF)."
    ),
    Failure.POLYGLOT: gettext_noop(
        "The file is an image with a web page, script or archive hidden in it, so it is refused."
    ),
    Failure.STORED_FILE_MISSING: gettext_noop("The stored file is missing."),
    Failure.STORAGE_UNREADABLE: gettext_noop("The stored file could not be read: %(detail)s"),
    Failure.STORAGE_UNWRITABLE: gettext_noop(
        "The file store could not be written to, so the thumbnails were not saved (%(detail)s). The file is kept; "
        "retry once an administrator has fixed the store."
    ),
    Failure.TIMED_OUT: gettext_noop("Processing took too long and was stopped."),
    Failure.UNEXPECTED: gettext_noop(
        "An unexpected error stopped processing; the file is kept. Reference: version %(version)s."
    ),
}
_TOO_LARGE = gettext_noop("The image is too large to process safely (%(pixels)s megapixels, limit %(limit)s).")
_TOO_LARGE_NO_COUNT = gettext_noop("The image is too large to process safely (limit %(limit)s).")


def failure_text(code: str, params: dict[str, Any] | None = None) -> str:
    """The sentence for a failure code in the active language; an unknown code is shown as itself."""
    params = params or {}
    if code == Failure.RECORDED:
        return str(params.get("text", ""))  # recorded in words before reasons were codes: shown as it was
    if code == Failure.TOO_LARGE:
        template = _TOO_LARGE if "pixels" in params else _TOO_LARGE_NO_COUNT
    elif code in _MESSAGES:
        template = _MESSAGES[code]
    else:
        return code
    try:
        return gettext(template) % params
    except (KeyError, TypeError, ValueError):
        return gettext(template)  # parameters that do not fit the words must not hide the failure
