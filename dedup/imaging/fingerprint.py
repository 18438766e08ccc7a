"""The two ways into the imaging core: `identify` a file from its header, `fingerprint_file` from one decode."""

from __future__ import annotations

import time
import warnings
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from dedup.imaging.decode import (
    PREVIEW_MIN_SIDE,
    Decoded,
    bit_depth,
    decode_display,
    open_image,
    page_count,
    pillow_errors,
)
from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.formats import PDF
from dedup.imaging.hashes import centre_phashes, hashes, reframed_phashes, trimmed_phash
from dedup.imaging.metadata import extract_metadata
from dedup.imaging.pdf import document_metadata, is_pdf, pdf_check, render_page
from dedup.imaging.reading import Source, read_source
from dedup.imaging.renditions import (
    RENDITION_SIDE,
    content_rendition,
    detail_rendition,
    may_need_preview,
    preview_thumbnail,
    reduced_renditions,
    renditions,
)
from dedup.imaging.sniff import SNIFF_BYTES, is_pdf_polyglot, is_polyglot

MAX_PAGES = 500
# The fingerprint contract: what a stored fingerprint means. Raise it when a change here or in the modules this
# calls gives a file already stored other hashes, renditions, trim box or detail (a reduced decode, a new trim,
# a pad), and say what changed in docs/fingerprint-contract.md; `manage.py refingerprint` then fingerprints the
# versions stored under an older number again. 1: before contracts were numbered; 2: the reduced JPEG decode,
# the band-by-band trim box and the detail rendition's paper pad.
CONTRACT = 2


@dataclass(frozen=True)
class Fingerprint:
    """Everything later stages need, so the original is never decoded again."""

    sha256: str
    byte_size: int
    format: str
    mode: str
    bit_depth: int
    page_count: int
    width: int
    height: int
    orientation: int
    phash: int
    dhash: int
    phash_dihedral: tuple[int, ...]
    phash_trimmed: int | None
    phash_centre: tuple[int, ...]
    phash_reframed: tuple[int, ...]  # straightened, then with each edge left out (hashes.reframed_phashes)
    rendition: bytes = field(repr=False)
    rendition_size: tuple[int, int]
    # The content inside a wide mat or letterbox, as its own rendition (b"" and (0, 0) when there is none).
    content: bytes = field(repr=False)
    content_size: tuple[int, int]
    # A page's text at DETAIL_SIDE, for a second reading by verification (b"" and (0, 0) for other pictures).
    detail: bytes = field(repr=False)
    detail_size: tuple[int, int]
    detail_box: tuple[float, ...]  # where the detail was cut, (top, bottom, left, right) as shares of the frame
    thumbnails: dict[int, bytes] = field(repr=False)
    metadata: dict[str, Any] = field(repr=False)
    timings: dict[str, float]


def identify(fp: BinaryIO, *, max_pixels: int = 200_000_000, max_pages: int = MAX_PAGES) -> str:
    """The format of a seekable image file or PDF, from its header and bytes alone (no pixel is decoded).

    Raises FingerprintError when the file is not one of OPEN_FORMATS or a PDF, claims more than `max_pixels`,
    or is a polyglot: an image that also carries a web page, a script or a ZIP archive; and for a PDF, when it
    has more than `max_pages` pages, a password, or active content (scripts, attachments, launch actions).
    """
    if _is_pdf(fp):
        pdf_pages(fp, max_pages=max_pages)
        return PDF
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # max_pixels decides, below
            with pillow_errors(max_pixels), open_image(fp, max_pixels) as image:
                image_format = image.format or ""
        if is_polyglot(fp):
            raise FingerprintError(Failure.POLYGLOT)
    finally:
        fp.seek(0)
    return image_format


def pdf_pages(fp: BinaryIO, *, max_pages: int = MAX_PAGES) -> int:
    """How many pages a PDF that may be stored has; FingerprintError with the reason it may not."""
    if is_pdf_polyglot(fp):
        raise FingerprintError(Failure.POLYGLOT)
    return pdf_check(fp, max_pages=max_pages)


def _is_pdf(fp: BinaryIO) -> bool:
    fp.seek(0)
    found = is_pdf(fp.read(SNIFF_BYTES))
    fp.seek(0)
    return found


def fingerprint_file(
    source: Source,
    *,
    max_pixels: int = 200_000_000,
    page: int | None = None,
    max_pages: int = MAX_PAGES,
    preview: bool = True,
) -> Fingerprint:
    """Fingerprint the first page or frame of an image file (a path or a binary file object), or page `page`
    (1-based) of a PDF; a PDF of one page may leave `page` out.

    With `preview=False` a file that decodes reduced (JPEG, JPEG 2000) is decoded just above RENDITION_SIDE and
    `thumbnails` may lack the THUMB_PREVIEW entry (`preview_file` makes it later); a picture that may be matted
    or a page is decoded again at preview size, so its content and detail renditions are cut as before.
    """
    watch = _Stopwatch()
    with ExitStack() as stack:
        fp, sha256, byte_size = read_source(source, stack)
        watch.lap("read")
        if _is_pdf(fp):
            return _fingerprint_page(
                fp, sha256, byte_size, watch, page=page, max_pixels=max_pixels, max_pages=max_pages
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pillow_errors(max_pixels):
                image = stack.enter_context(open_image(fp, max_pixels))
                pages, bits = page_count(image), bit_depth(image)
                decoded = decode_display(image, least=PREVIEW_MIN_SIDE if preview else RENDITION_SIDE)
        watch.lap("decode")
        metadata = extract_metadata(image)
        metadata["warnings"] = _decode_warnings(caught) + metadata["warnings"]
        watch.lap("metadata")
        made = reduced_renditions(decoded.display, decoded.preview_size) if decoded.preview_size else None
        if made and may_need_preview(made[0]):
            with warnings.catch_warnings(), pillow_errors(max_pixels):
                warnings.simplefilter("ignore")  # the same file's warnings were caught above
                fp.seek(0)
                decoded, made = decode_display(stack.enter_context(open_image(fp, max_pixels))), None
            watch.lap("decode_again")
        described = _Described(sha256, byte_size, image.format or "", image.mode, bits, pages, metadata)
        return _fingerprint_decoded(decoded, described, watch, made)


def preview_file(
    source: Source, *, max_pixels: int = 200_000_000, page: int | None = None, max_pages: int = MAX_PAGES
) -> bytes:
    """The JPEG preview (longest side up to THUMB_PREVIEW) that `fingerprint_file` makes with `preview=True`."""
    with ExitStack() as stack:
        fp, _sha256, _size = read_source(source, stack)
        if _is_pdf(fp):
            rendered = render_page(fp, page=page or 1, max_pages=max_pages, max_pixels=max_pixels)
            return preview_thumbnail(rendered.display)
        with warnings.catch_warnings(), pillow_errors(max_pixels):
            warnings.simplefilter("ignore")
            return preview_thumbnail(decode_display(stack.enter_context(open_image(fp, max_pixels))).display)


@dataclass(frozen=True)
class _Described:
    """What the file says about itself, beside the decoded pixels."""

    sha256: str
    byte_size: int
    format: str
    mode: str
    bit_depth: int
    page_count: int
    metadata: dict[str, Any]


def _fingerprint_page(
    fp: BinaryIO, sha256: str, byte_size: int, watch: _Stopwatch, *, page: int | None, max_pixels: int, max_pages: int
) -> Fingerprint:
    """One page of a PDF, rendered as a scan of it would be decoded, then fingerprinted the same way."""
    if page is None:  # a PDF not stored through identify: checked here, and only a single page stands for it
        pages = pdf_pages(fp, max_pages=max_pages)
        if pages > 1:
            raise FingerprintError(Failure.PDF_PAGE_NEEDED, pages=pages)
        page = 1
    rendered = render_page(fp, page=page, max_pages=max_pages, max_pixels=max_pixels)
    watch.lap("decode")
    metadata = extract_metadata(rendered.display)
    metadata["pdf"] = {"page": page, "pages": rendered.page_count, **document_metadata(fp, max_pages=max_pages)}
    watch.lap("metadata")
    decoded = Decoded(rendered.display, 1, rendered.width, rendered.height)
    described = _Described(sha256, byte_size, PDF, rendered.display.mode, 8, rendered.page_count, metadata)
    return _fingerprint_decoded(decoded, described, watch)


def _fingerprint_decoded(
    decoded: Decoded, described: _Described, watch: _Stopwatch, made: tuple[Image.Image, dict[int, bytes]] | None = None
) -> Fingerprint:
    """`made`: the rendition and thumbnails of a reduced decode, a picture with neither mat nor page."""
    if made:
        (grey, thumbnails), matted, detail, detail_box = made, None, None, ()
    else:
        grey, thumbnails = renditions(decoded.display)
        matted = content_rendition(decoded.display, grey)
        detail, detail_box = detail_rendition(decoded.display, grey) or (None, ())
    watch.lap("thumbs")
    phash, dhash, dihedral = hashes(grey)
    trimmed = trimmed_phash(np.asarray(grey))
    centre = centre_phashes(np.asarray(grey))
    reframed = reframed_phashes(np.asarray(grey))
    watch.lap("hash")
    return Fingerprint(
        sha256=described.sha256,
        byte_size=described.byte_size,
        format=described.format,
        mode=described.mode,
        bit_depth=described.bit_depth,
        page_count=described.page_count,
        width=decoded.width,
        height=decoded.height,
        orientation=decoded.orientation,
        phash=phash,
        dhash=dhash,
        phash_dihedral=dihedral,
        phash_trimmed=trimmed,
        phash_centre=centre,
        phash_reframed=reframed,
        rendition=grey.tobytes(),
        rendition_size=grey.size,
        content=matted.tobytes() if matted else b"",
        content_size=matted.size if matted else (0, 0),
        detail=detail.tobytes() if detail else b"",
        detail_size=detail.size if detail else (0, 0),
        detail_box=detail_box,
        thumbnails=thumbnails,
        metadata=described.metadata,
        timings=watch.laps,
    )


class _Stopwatch:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self._last = now


def _decode_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    # The pixel limit is enforced explicitly, so Pillow's own bomb warning is noise here.
    messages = (str(w.message) for w in caught if not issubclass(w.category, Image.DecompressionBombWarning))
    return [f"Image: {m}" for m in dict.fromkeys(messages)]
