"""Why a file cannot be taken or processed: a code with parameters, worded for readers elsewhere."""

from enum import StrEnum
from typing import Any


class Failure(StrEnum):
    """Every reason a file is refused at intake or a version fails in processing."""

    EMPTY = "empty"
    FILE_TOO_LARGE = "file_too_large"  # limit: the upload limit in MB
    OUT_OF_MEMORY = "out_of_memory"
    TOO_LARGE = "too_large"  # limit, and pixels when known: megapixels as shown
    HEADER_UNREADABLE = "header_unreadable"  # format
    CORRUPT = "corrupt"  # detail: the decoder's own words
    HEIF_UNSUPPORTED = "heif_unsupported"
    PDF_DOCUMENT = "pdf_document"  # before PDFs were read; now only for text that merely starts like one
    PDF_UNREADABLE = "pdf_unreadable"  # detail: PDFium's words
    PDF_PASSWORD = "pdf_password"
    PDF_NO_PAGES = "pdf_no_pages"
    PDF_TOO_MANY_PAGES = "pdf_too_many_pages"  # pages, limit
    PDF_PAGE_MISSING = "pdf_page_missing"  # page, pages
    PDF_PAGE_NEEDED = "pdf_page_needed"  # pages: a multi-page PDF offered where one picture is expected
    PDF_JAVASCRIPT = "pdf_javascript"
    PDF_EMBEDDED_FILE = "pdf_embedded_file"
    PDF_LAUNCH_ACTION = "pdf_launch_action"
    NETPBM = "netpbm"
    VIDEO = "video"
    TEXT_DOCUMENT = "text_document"
    UNSUPPORTED_TYPE = "unsupported_type"
    POLYGLOT = "polyglot"
    STORED_FILE_MISSING = "stored_file_missing"
    STORAGE_UNREADABLE = "storage_unreadable"  # detail
    STORAGE_UNWRITABLE = "storage_unwritable"  # detail: the operating system's words, e.g. "No space left on device"
    TIMED_OUT = "timed_out"
    UNEXPECTED = "unexpected"  # version
    RECORDED = "recorded"  # text: a reason stored as a sentence before reasons were codes


class FingerprintError(Exception):
    """The file cannot be fingerprinted: `code` says why, `params` fill in the words."""

    def __init__(self, code: Failure, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params
