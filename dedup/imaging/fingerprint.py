"""The two ways into the imaging core: `identify` a file from its header, `fingerprint_file` from one decode."""

from __future__ import annotations

import time
import warnings
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from dedup.imaging.decode import bit_depth, decode_display, open_image, page_count, pillow_errors
from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.hashes import centre_phashes, hashes, trimmed_phash
from dedup.imaging.metadata import extract_metadata
from dedup.imaging.reading import Source, read_source
from dedup.imaging.renditions import content_rendition, renditions
from dedup.imaging.sniff import is_polyglot


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
    rendition: bytes = field(repr=False)
    rendition_size: tuple[int, int]
    # The content inside a wide mat or letterbox, as its own rendition (b"" and (0, 0) when there is none).
    content: bytes = field(repr=False)
    content_size: tuple[int, int]
    thumbnails: dict[int, bytes] = field(repr=False)
    metadata: dict[str, Any] = field(repr=False)
    timings: dict[str, float]


def identify(fp: BinaryIO, *, max_pixels: int = 200_000_000) -> str:
    """The format of a seekable image file, from its header and bytes alone (no pixel is decoded).

    Raises FingerprintError when the file is not one of OPEN_FORMATS, claims more than `max_pixels`,
    or is a polyglot: an image that also carries a web page, a script or a ZIP archive.
    """
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


def fingerprint_file(source: Source, *, max_pixels: int = 200_000_000) -> Fingerprint:
    """Fingerprint the first page or frame of an image file (a path or a binary file object)."""
    watch = _Stopwatch()
    with ExitStack() as stack:
        fp, sha256, byte_size = read_source(source, stack)
        watch.lap("read")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pillow_errors(max_pixels):
                image = stack.enter_context(open_image(fp, max_pixels))
                pages, bits = page_count(image), bit_depth(image)
                decoded = decode_display(image)
        watch.lap("decode")
        grey, thumbnails = renditions(decoded.display)
        matted = content_rendition(decoded.display, grey)
        watch.lap("thumbs")
        phash, dhash, dihedral = hashes(grey)
        trimmed = trimmed_phash(np.asarray(grey))
        centre = centre_phashes(np.asarray(grey))
        watch.lap("hash")
        metadata = extract_metadata(image)
        metadata["warnings"] = _decode_warnings(caught) + metadata["warnings"]
        watch.lap("metadata")
        return Fingerprint(
            sha256=sha256,
            byte_size=byte_size,
            format=image.format or "",
            mode=image.mode,
            bit_depth=bits,
            page_count=pages,
            width=decoded.width,
            height=decoded.height,
            orientation=decoded.orientation,
            phash=phash,
            dhash=dhash,
            phash_dihedral=dihedral,
            phash_trimmed=trimmed,
            phash_centre=centre,
            rendition=grey.tobytes(),
            rendition_size=grey.size,
            content=matted.tobytes() if matted else b"",
            content_size=matted.size if matted else (0, 0),
            thumbnails=thumbnails,
            metadata=metadata,
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
