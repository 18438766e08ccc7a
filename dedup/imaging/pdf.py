"""PDF scans: opened with PDFium (no Ghostscript), refused when they carry active content, rendered page by page."""

from __future__ import annotations

import io
import mmap
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from dedup.imaging.decode import too_large
from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.renditions import THUMB_PREVIEW

PDF_MAGIC = b"%PDF-"
POINTS_PER_INCH = 72
# A page drawn from vector content has no pixel size of its own: it is counted as printed at scanning resolution.
NOMINAL_DPI = 300
# A page that is one picture (a scan) over this share of its area takes that picture's pixel size.
_SCAN_COVERAGE = 0.8
_DECOMPRESSED_LIMIT = 64 * 1024 * 1024  # object streams inflated for the scan below, at most, per file

# Names that make a reader act rather than show: scripts, attached files, launching programs or other files.
# XFA forms carry scripts; RichMedia and GoToE open embedded content.
_ACTIVE_NAMES: dict[bytes, Failure] = {
    b"JavaScript": Failure.PDF_JAVASCRIPT,
    b"JS": Failure.PDF_JAVASCRIPT,
    b"XFA": Failure.PDF_JAVASCRIPT,
    b"EmbeddedFile": Failure.PDF_EMBEDDED_FILE,
    b"EmbeddedFiles": Failure.PDF_EMBEDDED_FILE,
    b"GoToE": Failure.PDF_EMBEDDED_FILE,
    b"RichMedia": Failure.PDF_EMBEDDED_FILE,
    b"Launch": Failure.PDF_LAUNCH_ACTION,
}
_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]*)")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_START = re.compile(rb"stream(?:\r\n|\n|\r)")
_OBJECT_START = re.compile(rb"\d+\s+\d+\s+obj\b")


@dataclass(frozen=True)
class PdfPage:
    """One page rendered for fingerprinting, with the pixel size it counts as."""

    display: Image.Image  # "RGB", a little above preview size, as decode_display gives for an image
    width: int
    height: int
    page_count: int


def is_pdf(head: bytes) -> bool:
    return head.startswith(PDF_MAGIC)


@contextmanager
def open_pdf(fp: BinaryIO, *, max_pages: int) -> Iterator[pdfium.PdfDocument]:
    """Open a PDF with PDFium; refused when unreadable, locked by a password, empty or over `max_pages` pages."""
    fp.seek(0)
    try:
        document = pdfium.PdfDocument(fp)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise FingerprintError(Failure.PDF_PASSWORD) from exc
        raise FingerprintError(Failure.PDF_UNREADABLE, detail=str(exc).strip().rstrip(".")[:200]) from exc
    try:
        pages = len(document)
        if pages == 0:
            raise FingerprintError(Failure.PDF_NO_PAGES)
        if pages > max_pages:
            raise FingerprintError(Failure.PDF_TOO_MANY_PAGES, pages=pages, limit=max_pages)
        yield document
    finally:
        document.close()


def pdf_check(fp: BinaryIO, *, max_pages: int) -> int:
    """The page count of a PDF that may be stored; refused with a reason when it carries active content."""
    with open_pdf(fp, max_pages=max_pages) as document:
        pages = len(document)
        found = _active_in_document(document)
    if not found:
        with _whole_file(fp) as data:
            found = _active_in_bytes(data)
    if found:
        raise FingerprintError(found)
    return pages


@contextmanager
def _whole_file(fp: BinaryIO) -> Iterator[bytes | mmap.mmap]:
    """The file's bytes for scanning: mapped when it is a file on disk (an upload may be hundreds of MB)."""
    try:
        mapped = mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        fp.seek(0)
        yield fp.read()
    else:
        with mapped:
            yield mapped
    fp.seek(0)


def _active_in_document(document: pdfium.PdfDocument) -> Failure | None:
    """What PDFium itself finds: document scripts, attachments, XFA forms."""
    if pdfium_c.FPDFDoc_GetJavaScriptActionCount(document) > 0:
        return Failure.PDF_JAVASCRIPT
    if document.get_formtype() in (pdfium_c.FORMTYPE_XFA_FULL, pdfium_c.FORMTYPE_XFA_FOREGROUND):
        return Failure.PDF_JAVASCRIPT
    if document.count_attachments() > 0:
        return Failure.PDF_EMBEDDED_FILE
    return None


def _active_in_bytes(data: bytes | mmap.mmap) -> Failure | None:
    """Active names anywhere in the file's objects, including those packed in compressed object streams.

    Stream bodies other than object streams (pictures, page drawing) are skipped: binary data spells "/JS" by
    chance. Names written with #-escapes (/J#61vaScript) are read as a reader reads them.
    """
    budget = [_DECOMPRESSED_LIMIT]
    pos = 0
    while True:
        start = _STREAM_START.search(data, pos)
        head = data[pos : start.start() if start else len(data)]
        if found := _active_names(head):
            return found
        if start is None:
            return None
        end = data.find(b"endstream", start.end())
        end = len(data) if end < 0 else end
        if _is_object_stream(head) and (found := _active_names(_inflate(data[start.end() : end], budget))):
            return found
        pos = end + len(b"endstream")


def _active_names(text: bytes) -> Failure | None:
    for match in _NAME.finditer(text):
        name = _NAME_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), match[1])
        if name in _ACTIVE_NAMES:
            return _ACTIVE_NAMES[name]
    return None


def _is_object_stream(head: bytes) -> bool:
    objects = list(_OBJECT_START.finditer(head))
    dictionary = head[objects[-1].end() :] if objects else head
    return bool(re.search(rb"/Type\s*/ObjStm\b", dictionary))


def _inflate(body: bytes, budget: list[int]) -> bytes:
    """Decompress a Flate stream within what is left of the budget; what cannot be inflated is scanned as is."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(body, max(1, budget[0]))
    except zlib.error:
        return body
    budget[0] -= len(text)
    return text


def render_page(fp: BinaryIO, *, page: int, max_pages: int, max_pixels: int) -> PdfPage:
    """Render page `page` (1-based) at the size an image of the page's pixel size would be decoded to."""
    with open_pdf(fp, max_pages=max_pages) as document:
        count = len(document)
        if not 1 <= page <= count:
            raise FingerprintError(Failure.PDF_PAGE_MISSING, page=page, pages=count)
        pdf_page = document[page - 1]
        try:
            width, height = _pixel_size(pdf_page, max_pixels)
            if width * height > max_pixels:
                raise too_large(width * height, max_pixels)
            factor = max(1, max(width, height) // THUMB_PREVIEW)
            page_width, _page_height = pdf_page.get_size()
            scale = (width / factor) / page_width
            rendered = pdf_page.render(scale=scale, may_draw_forms=False)
            try:
                display = rendered.to_pil().convert("RGB")
            finally:
                rendered.close()
        except pdfium.PdfiumError as exc:
            raise FingerprintError(Failure.PDF_UNREADABLE, detail=str(exc).strip().rstrip(".")[:200]) from exc
        finally:
            pdf_page.close()
    return PdfPage(display, width, height, count)


def _pixel_size(page: pdfium.PdfPage, max_pixels: int) -> tuple[int, int]:
    """A scan's own pixel size when one picture covers the page, else the page at NOMINAL_DPI (as shown, rotated).

    Every picture on the page is held to the pixel limit: PDFium decodes each one whole to draw it.
    """
    page_width, page_height = page.get_size()
    biggest: tuple[int, int] | None = None
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        px_width, px_height = image.get_px_size()
        if px_width * px_height > max_pixels:
            raise too_large(px_width * px_height, max_pixels)
        left, bottom, right, top = image.get_bounds()
        covers = (right - left) * (top - bottom) >= _SCAN_COVERAGE * page_width * page_height
        if covers and (biggest is None or px_width * px_height > biggest[0] * biggest[1]):
            biggest = (px_width, px_height)
    if biggest:
        # The picture's own orientation on the page: a landscape scan placed upright keeps its long side across.
        landscape_page = page_width > page_height
        long_side, short_side = max(biggest), min(biggest)
        return (long_side, short_side) if landscape_page else (short_side, long_side)
    return (
        max(1, round(page_width * NOMINAL_DPI / POINTS_PER_INCH)),
        max(1, round(page_height * NOMINAL_DPI / POINTS_PER_INCH)),
    )


def document_metadata(fp: BinaryIO, *, max_pages: int) -> dict[str, str]:
    """The document information dictionary (title, author, dates), blank entries left out."""
    with open_pdf(fp, max_pages=max_pages) as document:
        info = document.get_metadata_dict(skip_empty=True)
    fp.seek(0)
    return {key: str(value)[:1000] for key, value in info.items()}


def pdf_page_count(fp: BinaryIO, *, max_pages: int) -> int:
    with open_pdf(fp, max_pages=max_pages) as document:
        pages = len(document)
    fp.seek(0)
    return pages
