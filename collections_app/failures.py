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
    Failure.TEXT_DOCUMENT: gettext_noop("Not an image this system can read (looks like HTML/SVG/text)."),
    Failure.UNSUPPORTED_TYPE: gettext_noop(
        "Not an image this system can read (unsupported file type; expected JPEG, PNG, TIFF, WebP, GIF or BMP)."
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
