"""Decode an image once at reduced size and derive its hashes, rendition, thumbnails and metadata."""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import os
import re
import shutil
import struct
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar

import numpy as np
import scipy.fftpack
from PIL import Image, ImageFile, TiffImagePlugin, UnidentifiedImageError

from dedup.formats import OPEN_FORMATS
from dedup.metadata import extract_metadata
from dedup.verify import trim_box

RENDITION_SIDE = 256
THUMB_SMALL = 256
THUMB_PREVIEW = 1024
DIHEDRAL: tuple[str, ...] = ("identity", "rot90", "rot180", "rot270", "flip_h", "flip_v", "transpose", "transverse")

_HASH_SIZE = 8
_PHASH_SIDE = _HASH_SIZE * 4  # imagehash's highfreq_factor=4
# JPEG can only scale by 1/2, 1/4 or 1/8; a 4000 px photo at 1/4 gives a 1000 px preview, which is
# worth far more speed than the missing 24 px.
_PREVIEW_MIN_SIDE = 896
_IN_MEMORY_LIMIT = 16 * 1024 * 1024  # larger files are hashed as a stream and read again by Pillow
_CHUNK = 1024 * 1024
_BAND_ROWS = 512  # rows converted at a time when a whole-image conversion would double peak memory
_JPEG_QUALITY = 85
_SNIFF_BYTES = 2048

# Orientation tag value -> the transpose that shows the picture upright (as ImageOps.exif_transpose).
_ORIENTATION_FIX: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_DIHEDRAL_TRANSPOSE: dict[str, Image.Transpose | None] = {
    "identity": None,
    "rot90": Image.Transpose.ROTATE_90,
    "rot180": Image.Transpose.ROTATE_180,
    "rot270": Image.Transpose.ROTATE_270,
    "flip_h": Image.Transpose.FLIP_LEFT_RIGHT,
    "flip_v": Image.Transpose.FLIP_TOP_BOTTOM,
    "transpose": Image.Transpose.TRANSPOSE,
    "transverse": Image.Transpose.TRANSVERSE,
}
_DIHEDRAL_ARRAY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda a: a,
    "rot90": lambda a: np.rot90(a, 1),
    "rot180": lambda a: np.rot90(a, 2),
    "rot270": lambda a: np.rot90(a, 3),
    "flip_h": lambda a: a[:, ::-1],
    "flip_v": lambda a: a[::-1],
    "transpose": lambda a: np.swapaxes(a, 0, 1),
    "transverse": lambda a: np.swapaxes(np.rot90(a, 2), 0, 1),
}

# Borders: scanner mats and letterbox bars are flat; photographic content is not.
_BORDER_TOLERANCE = 10  # grey levels from the border colour
_BORDER_MIN_UNIFORM = 0.98  # share of a line that must match (dust, JPEG ringing)
_BORDER_MIN_SHARE = 0.02  # a border thinner than this share of the side is not worth a second hash
_CONTENT_MIN_SHARE = 0.2  # less content than this is a mostly blank page, not a bordered picture

_MODE_BITS: dict[str, int] = {"1": 1, "I;16": 16, "I;16L": 16, "I;16B": 16, "I;16N": 16, "I": 32, "F": 32}
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F"})
_IMAGE_MAGIC: dict[bytes, str] = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG": "PNG",
    b"GIF8": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"BM": "BMP",
}
# Pillow raises all of these (not only OSError) on damaged or hostile files.
_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError)

Source = str | os.PathLike[str] | BinaryIO
_T = TypeVar("_T")


class FingerprintError(Exception):
    """The file cannot be fingerprinted; `reason` is one sentence a librarian understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    thumbnails: dict[int, bytes] = field(repr=False)
    metadata: dict[str, Any] = field(repr=False)
    timings: dict[str, float]


def fingerprint_file(source: Source, *, max_pixels: int = 200_000_000) -> Fingerprint:
    """Fingerprint the first page or frame of an image file (a path or a binary file object)."""
    watch = _Stopwatch()
    with ExitStack() as stack:
        fp, sha256, byte_size = _read(source, stack)
        watch.lap("read")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with _pillow_errors(max_pixels):
                image = stack.enter_context(_open(fp, max_pixels))
                page_count, bit_depth = _page_count(image), _bit_depth(image)
                decoded = _decode_display(image)
        watch.lap("decode")
        grey, thumbnails = _renditions(decoded.display)
        watch.lap("thumbs")
        phash, dhash, dihedral = _hashes(grey)
        trimmed = _trimmed_phash(np.asarray(grey))
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
            bit_depth=bit_depth,
            page_count=page_count,
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
            thumbnails=thumbnails,
            metadata=metadata,
            timings=watch.laps,
        )


def apply_dihedral(image_or_array: _T, name: str) -> _T:
    """Rotate or mirror a PIL image or an (H, W[, C]) array; "rot90" is counter-clockwise, as in Pillow."""
    if name not in _DIHEDRAL_TRANSPOSE:
        raise ValueError(f"Unknown dihedral transform {name!r}; expected one of {DIHEDRAL}.")
    if isinstance(image_or_array, Image.Image):
        method = _DIHEDRAL_TRANSPOSE[name]
        return image_or_array if method is None else image_or_array.transpose(method)  # type: ignore[return-value]
    return _DIHEDRAL_ARRAY[name](np.asarray(image_or_array))  # type: ignore[return-value]


class _Stopwatch:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self._last = now


# --- reading -------------------------------------------------------------------------


def _read(source: Source, stack: ExitStack) -> tuple[BinaryIO, str, int]:
    """Hash the bytes in one pass; small files stay in memory so Pillow does not read them again.

    I/O errors from the source propagate unchanged: the caller may want to retry them.
    """
    if isinstance(source, (str, os.PathLike)):
        fp: BinaryIO = stack.enter_context(open(source, "rb"))  # noqa: SIM115 - closed by the stack
    elif _seekable(source):
        fp = source
        fp.seek(0)
    else:
        fp = stack.enter_context(_spooled(source))
    head = _read_up_to(fp, _IN_MEMORY_LIMIT + 1)
    if not head:
        raise FingerprintError("The file is empty.")
    digest, size = hashlib.sha256(head), len(head)
    if size <= _IN_MEMORY_LIMIT:
        return io.BytesIO(head), digest.hexdigest(), size
    del head
    while chunk := fp.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    fp.seek(0)
    return fp, digest.hexdigest(), size


def _seekable(source: BinaryIO) -> bool:
    try:
        return bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        return False


@contextmanager
def _spooled(source: BinaryIO) -> Iterator[BinaryIO]:
    # Pillow needs to seek, so a pipe or network stream is copied first (to disk when large).
    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_LIMIT) as spool:
        shutil.copyfileobj(source, spool, _CHUNK)
        spool.seek(0)
        yield spool  # type: ignore[misc]


def _read_up_to(fp: BinaryIO, limit: int) -> bytes:
    # Chunks, not one read(limit): that allocates the whole limit even for a small file, and some
    # file objects (network storage) return short reads before the end.
    parts: list[bytes] = []
    size = 0
    while size < limit and (chunk := fp.read(min(_CHUNK, limit - size))):
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


# --- opening and decoding ------------------------------------------------------------


@contextmanager
def _pillow_errors(max_pixels: int) -> Iterator[None]:
    """Turn whatever Pillow raises on a damaged or hostile file into a FingerprintError."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning arrives here only where a warnings filter turned it into an error.
        raise _too_large(_pixels_in(str(exc)), _effective_limit(max_pixels)) from exc
    except MemoryError as exc:
        raise FingerprintError("The image is too large to process safely (it does not fit in memory).") from exc
    except _PILLOW_ERRORS as exc:
        detail = str(exc).strip().rstrip(".") or type(exc).__name__
        raise FingerprintError(f"The image is truncated or corrupt: {detail[:200]}.") from exc


@contextmanager
def _open(fp: BinaryIO, max_pixels: int) -> Iterator[ImageFile.ImageFile]:
    try:
        image = Image.open(fp, formats=OPEN_FORMATS)
    except UnidentifiedImageError as exc:
        fp.seek(0)
        raise FingerprintError(_unidentified_reason(fp.read(_SNIFF_BYTES))) from exc
    with image:
        # The header gives the size; refuse before any pixel buffer is allocated.
        if image.width * image.height > max_pixels:
            raise _too_large(image.width * image.height, max_pixels)
        yield image


def identify(fp: BinaryIO, *, max_pixels: int = 200_000_000) -> str:
    """The format of a seekable image file, from its header and bytes alone (no pixel is decoded).

    Raises FingerprintError when the file is not one of OPEN_FORMATS, claims more than `max_pixels`,
    or is a polyglot: an image that also carries a web page, a script or a ZIP archive.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # max_pixels decides, below
            with _pillow_errors(max_pixels), _open(fp, max_pixels) as image:
                image_format = image.format or ""
        if _is_polyglot(fp):
            raise FingerprintError(POLYGLOT_REASON)
    finally:
        fp.seek(0)
    return image_format


POLYGLOT_REASON = "The file is an image with a web page, script or archive hidden in it, so it is refused."
# Old browsers looked for markup anywhere in the first bytes of a file; PDF readers accept "%PDF-" there too.
_SNIFF_WINDOW = 1024
_MARKUP_NEAR_START = re.compile(
    rb"<(?:(?:!doctype|html|head|body|script|iframe|svg|img|object|embed|meta)[\s/>]|a\s+href\b|\?php)|%PDF-", re.I
)
# Long enough that pixel data never forms them by chance, short enough to catch a script anywhere.
_ACTIVE_ANYWHERE = re.compile(rb"<(?:script|iframe)[\s/>]", re.I)
_ACTIVE_OVERLAP = 16


def _is_polyglot(fp: BinaryIO) -> bool:
    fp.seek(0)
    if _MARKUP_NEAR_START.search(fp.read(_SNIFF_WINDOW)):
        return True
    fp.seek(0)
    tail = b""
    while chunk := fp.read(_CHUNK):
        if _ACTIVE_ANYWHERE.search(tail + chunk):
            return True
        tail = chunk[-_ACTIVE_OVERLAP:]
    return _holds_zip(fp)


def _holds_zip(fp: BinaryIO) -> bool:
    """A ZIP's directory at the end of the file (GIFAR and friends): unzip or Java would read it as an archive."""
    fp.seek(0)
    if not zipfile.is_zipfile(fp):
        return False
    fp.seek(0)
    try:
        with zipfile.ZipFile(fp) as archive:
            return bool(archive.infolist())  # a real central directory, not four stray bytes
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        return False


def _effective_limit(max_pixels: int) -> int:
    # Image.open refuses more than twice Image.MAX_IMAGE_PIXELS before our own check can run.
    pillow_limit = Image.MAX_IMAGE_PIXELS
    return min(max_pixels, 2 * pillow_limit) if pillow_limit else max_pixels


def _pixels_in(message: str) -> int | None:
    match = re.search(r"\((\d+) pixels\)", message)
    return int(match[1]) if match else None


def _megapixels(pixels: int) -> str:
    value = pixels / 1_000_000
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def _too_large(pixels: int | None, limit: int) -> FingerprintError:
    size = f"{_megapixels(pixels)} megapixels, " if pixels else ""
    return FingerprintError(f"The image is too large to process safely ({size}limit {_megapixels(limit)}).")


def _unidentified_reason(head: bytes) -> str:
    """Say what the file seems to be instead, from its first bytes."""
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[4:8] == b"ftyp":
        return "Not an image this system can read (HEIC/HEIF/AVIF photos are not supported yet)."
    if body.startswith(b"%PDF"):
        return "Not an image this system can read (looks like a PDF document)."
    if body.startswith(b"<") or _looks_like_text(head):
        return "Not an image this system can read (looks like HTML/SVG/text)."
    if fmt := next((f for magic, f in _IMAGE_MAGIC.items() if head.startswith(magic)), None):
        return f"The image is truncated or corrupt: the {fmt} header could not be read."
    return "Not an image this system can read (unsupported file type; expected JPEG, PNG, TIFF, WebP, GIF or BMP)."


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return not any(b < 0x09 or (0x0E <= b < 0x20 and b != 0x1B) for b in head)


def _page_count(image: ImageFile.ImageFile) -> int:
    return max(1, int(getattr(image, "n_frames", 1) or 1))


def _bit_depth(image: ImageFile.ImageFile) -> int:
    """Bits per sample as stored; Pillow's mode hides 16-bit RGB and 2/4-bit palettes."""
    if image.format == "TIFF":
        bits = image.tag_v2.get(258)  # type: ignore[attr-defined]  # BitsPerSample
        bits = bits[0] if isinstance(bits, tuple) and bits else bits
        if isinstance(bits, int) and bits > 0:
            return bits
    if image.format == "PNG" and image.tile:
        rawmode = image.tile[0].args
        match = re.search(r";(\d+)", rawmode if isinstance(rawmode, str) else "")
        if match:
            return int(match[1])
    return _MODE_BITS.get(image.mode, 8)


@dataclass(frozen=True)
class _Decoded:
    display: Image.Image  # upright, "L" or "RGB", a little above preview size
    orientation: int
    width: int  # of the full-size upright image
    height: int


def _decode_display(image: ImageFile.ImageFile) -> _Decoded:
    """Decode the first frame once, shrunk to just above preview size, in "L" or "RGB", upright."""
    width, height = image.size  # read before draft() shrinks it
    longest = max(width, height)
    scale = next((s for s in (8, 4, 2) if longest // s >= _PREVIEW_MIN_SIDE), 1)
    if scale > 1:
        # Only JPEG implements draft: libjpeg then skips most of the inverse DCT work.
        image.draft(None, (max(1, image.width // scale), max(1, image.height // scale)))
    factor = max(1, max(image.size) // THUMB_PREVIEW)
    display = _decode_tiff_in_bands(image, factor) if factor > 1 else None
    if display is None:
        image.load()
        display = _shrink(image, factor, _display_converter(image))
    orientation = _orientation(image)
    if orientation in _ORIENTATION_FIX:
        display = display.transpose(_ORIENTATION_FIX[orientation])
    if orientation >= 5:  # the transposing orientations swap width and height
        width, height = height, width
    return _Decoded(display, orientation, width, height)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except _PILLOW_ERRORS:
        return 1  # unreadable EXIF is reported by the metadata step
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _unchanged(image: Image.Image) -> Image.Image:
    return image


def _display_converter(image: Image.Image) -> Callable[[Image.Image], Image.Image]:
    """How to turn this image's pixels into "L" or "RGB"; decided once so every band agrees."""
    mode = image.mode
    has_alpha = mode in _ALPHA_MODES or "transparency" in image.info
    if mode in ("L", "RGB") and not has_alpha:
        return _unchanged
    if mode.startswith("I;16"):
        return _linear_to_l(255 / 65535, 0.0)
    if mode in ("I", "F"):
        return _linear_to_l(*_stretch(image))
    if has_alpha:
        return _on_white_grey if mode in _GREY_MODES else _on_white_rgb
    if mode == "1":
        return lambda im: im.convert("L")
    return lambda im: im.convert("RGB")  # CMYK (naive, no ICC), YCbCr, LAB, HSV, opaque palettes


def _stretch(image: Image.Image) -> tuple[float, float]:
    """Scale and offset that bring 32-bit integer or float samples into 0..255."""
    low, high = image.getextrema()  # type: ignore[misc]
    if image.mode == "I" and low >= 0 and high <= 255:
        return 1.0, 0.0
    if image.mode == "I" and low >= 0 and high <= 65535:
        return 255 / 65535, 0.0  # 16-bit samples that Pillow widened to 32 bits
    if image.mode == "F" and low >= 0 and high <= 1:
        return 255.0, 0.0
    span = float(high - low) or 1.0
    return 255 / span, -float(low) * 255 / span


def _linear_to_l(scale: float, offset: float) -> Callable[[Image.Image], Image.Image]:
    # Pillow's own I;16 -> L conversion clips at 255 instead of scaling, which turns scans white.
    def convert(image: Image.Image) -> Image.Image:
        samples = np.asarray(image, dtype=np.float32) * scale + offset
        return Image.fromarray(np.clip(samples + 0.5, 0, 255).astype(np.uint8))

    return convert


def _on_white_rgb(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")


def _on_white_grey(image: Image.Image) -> Image.Image:
    return _on_white_rgb(image).convert("L")


def _shrink(image: Image.Image, factor: int, convert: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Reduce a decoded image by `factor` and convert it, without a second full-size buffer."""
    if factor == 1:
        return convert(image)
    if convert is _unchanged:
        return image.reduce(factor)
    width, height = image.size
    step = factor * max(1, _BAND_ROWS // factor)
    return _assemble(
        (image.crop((0, top, width, min(height, top + step))) for top in range(0, height, step)), factor, convert
    )


def _assemble(bands: Iterable[Image.Image], factor: int, convert: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """Convert and reduce horizontal bands one at a time and stack the results.

    Every band but the last is a whole number of reduce blocks tall, so the result is exactly
    what one reduce of the whole image would give.
    """
    pieces = [convert(band).reduce(factor) for band in bands]
    result = Image.new(pieces[0].mode, (pieces[0].width, sum(piece.height for piece in pieces)))
    top = 0
    for piece in pieces:
        result.paste(piece, (0, top))
        top += piece.height
    return result


# --- TIFF strips ---------------------------------------------------------------------
# libtiff decodes a whole compressed TIFF at once, from a memory map of the file: a 50 MP RGB scan
# costs 200 MB of pixels plus the mapped file. Strip TIFFs (what scanners and Photoshop write) can
# instead be cut into small stand-alone TIFFs of a few strips each and decoded band by band.

_TIFF_DECODE_TAGS = (256, 258, 259, 262, 266, 277, 284, 317, 320, 338, 339)  # all a strip decoder reads
_TIFF_LONG = 4
_TIFF_BANDABLE_COMPRESSION = frozenset({1, 5, 8, 32773, 32946})  # none, LZW, Deflate, PackBits
_TIFF_BANDABLE_PHOTOMETRIC = frozenset({0, 1, 2, 3, 5})  # grey, RGB, palette, CMYK (not YCbCr)
_TIFF_SYNTHETIC_STRIP_ROWS = 64  # uncompressed single-strip files are cut at row boundaries


@dataclass(frozen=True)
class _Strips:
    offsets: tuple[int, ...]
    counts: tuple[int, ...]
    rows: int  # per strip


def _decode_tiff_in_bands(image: ImageFile.ImageFile, factor: int) -> Image.Image | None:
    bands = _tiff_bands(image, factor)
    if bands is None:
        return None
    try:
        return _assemble(bands, factor, _display_converter(image))
    except _PILLOW_ERRORS:
        return None  # a layout the band cutter does not know; the whole-image decode decides


def _tiff_bands(image: ImageFile.ImageFile, factor: int) -> Iterator[Image.Image] | None:
    """Stand-alone TIFFs of consecutive strips, or None when the file is not a simple strip TIFF."""
    strips = _tiff_strips(image)
    if strips is None:
        return None
    unit = math.lcm(strips.rows, factor) // strips.rows  # strips that fill whole reduce blocks
    per_band = unit * max(1, _BAND_ROWS // (unit * strips.rows))
    return (_tiff_band(image, strips, first, first + per_band) for first in range(0, len(strips.offsets), per_band))


def _tiff_strips(image: ImageFile.ImageFile) -> _Strips | None:
    if image.format != "TIFF" or image.mode in ("I", "F"):  # I and F need whole-image extrema
        return None
    tags = image.tag_v2  # type: ignore[attr-defined]
    if getattr(tags, "_bigtiff", False):
        return None
    samples = tags.get(277, 1)
    if (
        tags.get(259, 1) not in _TIFF_BANDABLE_COMPRESSION
        or tags.get(262) not in _TIFF_BANDABLE_PHOTOMETRIC
        or (tags.get(284, 1) != 1 and samples != 1)
        or 324 in tags  # tiled
    ):
        return None
    offsets, counts = _as_tuple(tags.get(273)), _as_tuple(tags.get(279))
    rows = min(int(tags.get(278, image.height)), image.height)
    if not offsets or len(offsets) != len(counts) or rows < 1 or sum(counts) > _stream_size(image):
        return None  # overlapping or oversized strips would make the band reads balloon
    if len(offsets) == 1 and tags.get(259, 1) == 1:
        return _split_raw_strip(image, offsets[0])
    return _Strips(offsets, counts, rows) if len(offsets) > 1 else None


def _stream_size(image: ImageFile.ImageFile) -> int:
    assert image.fp is not None
    position = image.fp.tell()
    size = image.fp.seek(0, os.SEEK_END)
    image.fp.seek(position)
    return size


def _as_tuple(value: Any) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,)
    return tuple(int(v) for v in value) if isinstance(value, tuple) else ()


def _split_raw_strip(image: ImageFile.ImageFile, offset: int) -> _Strips:
    bits = sum(_as_tuple(image.tag_v2.get(258, (1,))))  # type: ignore[attr-defined]
    row_bytes = (image.width * bits + 7) // 8
    rows = _TIFF_SYNTHETIC_STRIP_ROWS
    starts = range(0, image.height, rows)
    counts = tuple(row_bytes * min(rows, image.height - top) for top in starts)
    return _Strips(tuple(offset + top * row_bytes for top in starts), counts, rows)


def _tiff_band(image: ImageFile.ImageFile, strips: _Strips, first: int, stop: int) -> Image.Image:
    assert image.fp is not None
    data = bytearray()
    for offset, count in zip(strips.offsets[first:stop], strips.counts[first:stop], strict=True):
        image.fp.seek(offset)
        data += image.fp.read(count)
    height = min(strips.rows * (stop - first), image.height - first * strips.rows)
    band = _mini_tiff(image.tag_v2, height, strips.rows, strips.counts[first:stop], bytes(data))  # type: ignore[attr-defined]
    return Image.open(io.BytesIO(band), formats=("TIFF",))


def _mini_tiff(tags: Any, height: int, rows: int, counts: tuple[int, ...], data: bytes) -> bytes:
    """A one-band TIFF: header, an IFD with the decode tags, then the strips' bytes as they were."""
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=tags.prefix)
    for tag in _TIFF_DECODE_TAGS:
        if tag in tags:
            ifd[tag] = tags[tag]
            ifd.tagtype[tag] = tags.tagtype[tag]
    # Pillow writes StripOffsets relative to the end of the IFD, where it puts the pixel data.
    relative_offsets = tuple(itertools.accumulate(counts, initial=0))[:-1]
    for tag, value in ((257, height), (278, rows), (279, counts), (273, relative_offsets)):
        ifd[tag] = value
        ifd.tagtype[tag] = _TIFF_LONG
    endian = "<" if tags.prefix[:2] == b"II" else ">"
    header = tags.prefix + struct.pack(f"{endian}HL", 42, 8)
    return header + ifd.tobytes(len(header)) + data


# --- renditions and hashes -----------------------------------------------------------


def _fitted_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fit(image: Image.Image, side: int, resample: Image.Resampling = Image.Resampling.LANCZOS) -> Image.Image:
    """Shrink so the longest side is `side`; never enlarge."""
    if max(image.size) <= side:
        return image
    # A box reduce by the whole factor, then the filter over the last <2x: the same look as the
    # filter all the way for a third of the time (Pillow's reducing_gap pads the box and is slower).
    factor = max(image.size) // side
    if factor > 1:
        image = image.reduce(factor)
    return image.resize(_fitted_size(image.size, side), resample)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    (image if image.mode == "RGB" else image.convert("RGB")).save(buffer, "JPEG", quality=_JPEG_QUALITY)
    return buffer.getvalue()


def _renditions(display: Image.Image) -> tuple[Image.Image, dict[int, bytes]]:
    """The greyscale rendition and both JPEG thumbnails, each resized from the one before."""
    # Bicubic, as Image.thumbnail uses, for the big preview; Lanczos for what verification compares.
    preview = _fit(display, THUMB_PREVIEW, Image.Resampling.BICUBIC)
    small = _fit(preview, THUMB_SMALL)
    grey_source = small if RENDITION_SIDE == THUMB_SMALL else _fit(preview, RENDITION_SIDE)
    grey = grey_source.convert("L")
    return grey, {THUMB_SMALL: _jpeg(small), THUMB_PREVIEW: _jpeg(preview)}


def _bits_to_int(bits: np.ndarray) -> int:
    """Row-major bits, first bit most significant (imagehash's hex order)."""
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")


def _phash_batch(pixels: np.ndarray) -> tuple[int, ...]:
    """imagehash.phash for each (32, 32) greyscale slice: 2-D DCT, low 8x8 block, above its median.

    One batched DCT gives bit-for-bit the coefficients of separate calls, at a fraction of the overhead.
    """
    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=1), axis=2)
    low = dct[:, :_HASH_SIZE, :_HASH_SIZE].reshape(len(pixels), -1)
    bits = low > np.median(low, axis=1, keepdims=True)
    return tuple(_bits_to_int(row) for row in bits)


def _phash_of(grey: Image.Image) -> int:
    """imagehash.phash(image) as an unsigned 64-bit int."""
    pixels = np.asarray(grey.convert("L").resize((_PHASH_SIDE, _PHASH_SIDE), Image.Resampling.LANCZOS))
    return _phash_batch(pixels[np.newaxis])[0]


def _dihedral_phashes(grey: Image.Image) -> tuple[int, ...]:
    """pHash of the image under each of the eight rotations and mirrors, identity first.

    They transform the 32x32 image pHash works on: Lanczos resizing commutes with rotation and mirroring up
    to rounding, and this costs microseconds instead of eight resizes.
    """
    pixels = np.asarray(grey.resize((_PHASH_SIDE, _PHASH_SIDE), Image.Resampling.LANCZOS))
    return _phash_batch(np.stack([_DIHEDRAL_ARRAY[name](pixels) for name in DIHEDRAL]))


def _hashes(grey: Image.Image) -> tuple[int, int, tuple[int, ...]]:
    """pHash, dHash and the eight dihedral pHashes of the rendition."""
    dihedral = _dihedral_phashes(grey)
    small = np.asarray(grey.resize((_HASH_SIZE + 1, _HASH_SIZE), Image.Resampling.LANCZOS))
    dhash = _bits_to_int(small[:, 1:] > small[:, :-1])
    return dihedral[0], dhash, dihedral


def _border_depth(lines: np.ndarray) -> int:
    """How many leading rows match the colour of the first row (`lines` is signed, to subtract)."""
    reference = np.median(lines[0])
    matches = np.abs(lines - reference) <= _BORDER_TOLERANCE
    differs = np.flatnonzero(matches.mean(axis=1) < _BORDER_MIN_UNIFORM)
    return int(differs[0]) if differs.size else len(lines)


def _content_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) inside uniform borders, or None when there is no real border."""
    height, width = grey.shape
    lines = grey.astype(np.int16)
    depths = (_border_depth(lines), _border_depth(lines[::-1]), _border_depth(lines.T), _border_depth(lines.T[::-1]))
    sides = (height, height, width, width)
    if not any(d >= max(2, _BORDER_MIN_SHARE * s) for d, s in zip(depths, sides, strict=True)):
        return None
    # Step one more pixel in: the downscale blends the border into the first row of content.
    top, below, left, beyond = (d + 1 if d else 0 for d in depths)
    if height - top - below < _CONTENT_MIN_SHARE * height or width - left - beyond < _CONTENT_MIN_SHARE * width:
        return None
    return top, height - below, left, width - beyond


def _trimmed_phash(grey: np.ndarray) -> int | None:
    box = _content_box(grey)
    if box is None:
        return None
    top, bottom, left, right = box
    return _phash_of(Image.fromarray(np.ascontiguousarray(grey[top:bottom, left:right])))


# Share of the content box (inside margins and uniform borders) that the centre hashes cover.
CENTRE_SHARE = 0.9


def centre_phashes(grey: np.ndarray) -> tuple[int, ...]:
    """pHash of the middle of the content under each dihedral transform, from the greyscale rendition.

    A second way into the index for copies whose whole-image pHash moved beyond the search radius: a
    caption or stamp near an edge, a light crop, a scanner bed around a skewed rescan. Measuring from the
    content box puts the same part of the picture in the middle whatever was added or taken off around it
    (on the seed-2026 bench.accuracy set it brings 216 of the 237 true pairs beyond the other hashes' radius
    within it; 90 % did better there and on seed 7 than 60, 75, 80, 85 or 95 %).
    """
    top, bottom, left, right = trim_box(grey)
    margin_y = round((bottom - top) * (1 - CENTRE_SHARE) / 2)
    margin_x = round((right - left) * (1 - CENTRE_SHARE) / 2)
    middle = np.ascontiguousarray(grey[top + margin_y : bottom - margin_y, left + margin_x : right - margin_x])
    return _dihedral_phashes(Image.fromarray(middle))


def _decode_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    # The pixel limit is enforced explicitly, so Pillow's own bomb warning is noise here.
    messages = (str(w.message) for w in caught if not issubclass(w.category, Image.DecompressionBombWarning))
    return [f"Image: {m}" for m in dict.fromkeys(messages)]
