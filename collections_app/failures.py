"""Failure and refusal codes in the reader's language, rendered when shown, never stored as words.

Image reasons are dedup.imaging.errors.Failure codes; reasons only intake has (names, archives, sidecars,
a folder's links and pipes) are Refusal codes here, and a sidecar row's problems SidecarProblem codes. All are
stored with their parameters and worded by `failure_text` (`problem_text` for a stored problem).
"""

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext, gettext_noop

from dedup.imaging.errors import Failure


class Refusal(StrEnum):
    """Why intake did not store a file, beyond the image's own reasons (Failure)."""

    ALREADY_INGESTED = "already_ingested"
    NAME_TOO_LONG = "name_too_long"  # length, limit
    PATH_TOO_LONG = "path_too_long"  # length, limit
    ZIP_UNREADABLE = "zip_unreadable"  # name
    ZIP_TOO_MANY = "zip_too_many"  # n, limit
    ZIP_OUTSIDE = "zip_outside"  # name
    ZIP_BOMB = "zip_bomb"  # name, ratio
    ZIP_TOO_BIG = "zip_too_big"  # mb
    CSV_NOT_UTF8 = "csv_not_utf8"  # line
    CSV_NUL = "csv_nul"  # line
    CSV_VALUE_TOO_LONG = "csv_value_too_long"  # line, limit
    CSV_UNREADABLE = "csv_unreadable"  # line, detail: the csv module's words
    CSV_TOO_LARGE = "csv_too_large"
    CSV_NO_FILENAME = "csv_no_filename"
    # A folder's own entries that `manage.py ingest` does not read.
    FOLDER_UNREADABLE = "folder_unreadable"  # reason: the system's words
    NAMED_PIPE = "named_pipe"
    DEVICE = "device"
    SOCKET = "socket"
    NOT_REGULAR = "not_regular"
    LINK_INSIDE = "link_inside"  # target
    LINK_OUTSIDE = "link_outside"  # target
    FILE_GREW = "file_grew"
    FILE_UNREADABLE = "file_unreadable"  # reason: the system's words


class SidecarProblem(StrEnum):
    """What is wrong with one row of a sidecar CSV (or with its header), kept on the row."""

    COLUMNS_UNUSED = "sidecar_columns_unused"  # names
    VALUE_TOO_LONG = "sidecar_value_too_long"  # column, limit
    IDENTIFIER_CONTROL = "sidecar_identifier_control"
    IDENTIFIER_TAKEN = "sidecar_identifier_taken"  # value
    EXTRA_VALUES = "sidecar_extra_values"  # values
    FILENAME_TOO_LONG = "sidecar_filename_too_long"  # limit
    NO_FILENAME = "sidecar_no_filename"
    DUPLICATE_ROW = "sidecar_duplicate_row"  # name
    AMBIGUOUS_NAME = "sidecar_ambiguous_name"  # n, name


_MESSAGES: dict[str, str] = {
    Refusal.ALREADY_INGESTED: gettext_noop("Already ingested from this source and path."),
    Refusal.NAME_TOO_LONG: gettext_noop(
        "The file name is %(length)d characters long; the catalogue keeps names of up to %(limit)d. "
        "Rename the file and send it again."
    ),
    Refusal.PATH_TOO_LONG: gettext_noop(
        "The path is %(length)d characters long; the catalogue keeps paths of up to %(limit)d. "
        "Shorten the folder names and send it again."
    ),
    Refusal.ZIP_UNREADABLE: gettext_noop("%(name)s is not a readable ZIP archive."),
    Refusal.ZIP_TOO_MANY: gettext_noop(
        "The ZIP holds %(n)d entries, more than the limit of %(limit)d; split it into smaller archives."
    ),
    Refusal.ZIP_OUTSIDE: gettext_noop(
        "The ZIP contains %(name)s, a path that points outside the archive; nothing was extracted."
    ),
    Refusal.ZIP_BOMB: gettext_noop(
        "%(name)s expands %(ratio)d times, which looks like a zip bomb; nothing was extracted."
    ),
    Refusal.ZIP_TOO_BIG: gettext_noop("The ZIP expands to %(mb)d MB, too much to extract."),
    Refusal.CSV_NOT_UTF8: gettext_noop(
        "Line %(line)d of the CSV is not UTF-8 text; save the file as “CSV UTF-8” and send it again."
    ),
    Refusal.CSV_NUL: gettext_noop(
        "Line %(line)d of the CSV holds a NUL character, which text cannot; "
        "save the file as “CSV UTF-8” and send it again."
    ),
    Refusal.CSV_VALUE_TOO_LONG: gettext_noop(
        "Line %(line)d of the CSV has a value longer than %(limit)d characters; shorten it and send the CSV again."
    ),
    Refusal.CSV_UNREADABLE: gettext_noop(
        "Line %(line)d of the CSV cannot be read as CSV (%(detail)s); correct it and send it again."
    ),
    Refusal.CSV_TOO_LARGE: gettext_noop("The CSV file is larger than 20 MB."),
    Refusal.CSV_NO_FILENAME: gettext_noop(
        "Line 1 of the CSV needs a column named filename that says which file each row describes."
    ),
    Refusal.FOLDER_UNREADABLE: gettext_noop("The folder could not be read (%(reason)s)."),
    Refusal.NAMED_PIPE: gettext_noop("A named pipe, not a file; not read."),
    Refusal.DEVICE: gettext_noop("A device, not a file; not read."),
    Refusal.SOCKET: gettext_noop("A socket, not a file; not read."),
    Refusal.NOT_REGULAR: gettext_noop("Not a regular file; not read."),
    Refusal.LINK_INSIDE: gettext_noop(
        "A symbolic link to %(target)s; links are not followed, so what it points to in the folder "
        "is ingested under its own path."
    ),
    Refusal.LINK_OUTSIDE: gettext_noop("A symbolic link to %(target)s, outside the folder; links are not followed."),
    Refusal.FILE_GREW: gettext_noop("The file grew while it was read; run ingest again once it is complete."),
    Refusal.FILE_UNREADABLE: gettext_noop("The file could not be read (%(reason)s)."),
    SidecarProblem.COLUMNS_UNUSED: gettext_noop(
        "Columns not used for item fields (kept with each row as sent): %(names)s"
    ),
    SidecarProblem.VALUE_TOO_LONG: gettext_noop("%(column)s is longer than %(limit)d characters; not applied."),
    SidecarProblem.IDENTIFIER_CONTROL: gettext_noop(
        "identifier contains a line break, tab or other control character; not applied."
    ),
    SidecarProblem.IDENTIFIER_TAKEN: gettext_noop("identifier %(value)s is already used by another item; not applied."),
    SidecarProblem.EXTRA_VALUES: gettext_noop("The row has more values than the header has columns: %(values)s"),
    SidecarProblem.FILENAME_TOO_LONG: gettext_noop(
        "The filename is longer than %(limit)d characters, so it matches no file."
    ),
    SidecarProblem.NO_FILENAME: gettext_noop("No filename: the row matches no file."),
    SidecarProblem.DUPLICATE_ROW: gettext_noop("Another row already describes %(name)s; this one is not applied."),
    SidecarProblem.AMBIGUOUS_NAME: gettext_noop("%(n)d files are named %(name)s; give the path instead."),
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


# Pillow's own words for a damaged file (kept as the CORRUPT code's detail, for administrators) and the plain
# words a reader sees instead, first match wins.
_DECODER_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("truncated",), gettext_noop("the file is truncated")),
    (
        ("tile cannot extend", "buffer is not large enough", "not enough data", "too short"),
        gettext_noop("the picture data is shorter than the size its header states"),
    ),
    (
        ("unsupported", "not supported", "unknown"),
        gettext_noop("it uses a kind of compression this system cannot read"),
    ),
    (
        ("broken data stream", "unrecognized data stream", "decoder error", "corrupt", "invalid", "bad "),
        gettext_noop("the picture data is damaged"),
    ),
)
_DECODER_DEFAULT = gettext_noop("the picture data could not be read")


def decoder_words(detail: str) -> str:
    """Pillow's message about a damaged file in plain words in the reader's language."""
    lowered = str(detail).lower()
    return gettext(next((words for keys, words in _DECODER_WORDS if any(k in lowered for k in keys)), _DECODER_DEFAULT))


def failure_text(code: str, params: dict[str, Any] | None = None) -> str:
    """The sentence for a failure code in the active language; an unknown code is shown as itself."""
    params = params or {}
    if code == Failure.CORRUPT and "detail" in params:
        params = {**params, "detail": decoder_words(params["detail"])}
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


def problem(code: str, **params: Any) -> dict[str, Any]:
    """A problem as stored: its code and parameters, worded by `problem_text` when shown."""
    return {"code": str(code), "params": params}


def problem_text(stored: dict[str, Any] | str) -> str:
    """A stored problem in the reader's language; one kept in words before problems were codes, as it was."""
    if isinstance(stored, str):
        return stored
    return failure_text(stored.get("code", ""), stored.get("params") or {})


def skipped_reason(row: dict[str, Any]) -> str:
    """Why a file of a batch was not stored: its code worded now, or a reason kept in words before codes."""
    if row.get("code"):
        return failure_text(row["code"], row.get("params") or {})
    return str(row.get("reason", ""))
