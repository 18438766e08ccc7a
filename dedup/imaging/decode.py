"""Opening an image safely (format, pixel limit, Pillow's errors as reasons) and decoding it once, reduced."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.formats import GREY_MODES, OPEN_FORMATS
from dedup.imaging.renditions import THUMB_PREVIEW
from dedup.imaging.sniff import SNIFF_BYTES, unidentified
from dedup.imaging.tiff_bands import tiff_bands

# JPEG can only scale by 1/2, 1/4 or 1/8; a 4000 px photo at 1/4 gives a 1000 px preview, which is
# worth far more speed than the missing 24 px.
PREVIEW_MIN_SIDE = 896
_BAND_ROWS = 512  # rows converted at a time when a whole-image conversion would double peak memory

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
_MODE_BITS: dict[str, int] = {"1": 1, "I;16": 16, "I;16L": 16, "I;16B": 16, "I;16N": 16, "I": 32, "F": 32}
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
# Pillow raises all of these (not only OSError) on damaged or hostile files.
PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError)


@dataclass(frozen=True)
class Decoded:
    display: Image.Image  # upright, "L" or "RGB", a little above preview size (or above `least`, when reduced)
    orientation: int
    width: int  # of the full-size upright image
    height: int
    # Decoded at a smaller scale than the preview needs (JPEG draft, JPEG 2000 levels): the display is only
    # good for what is RENDITION_SIDE or smaller, and preview_size is the (upright) size it would have had.
    reduced: bool = False
    preview_size: tuple[int, int] | None = None


@contextmanager
def pillow_errors(max_pixels: int) -> Iterator[None]:
    """Turn whatever Pillow raises on a damaged or hostile file into a FingerprintError."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning arrives here only where a warnings filter turned it into an error.
        raise too_large(_pixels_in(str(exc)), _effective_limit(max_pixels)) from exc
    except MemoryError as exc:
        raise FingerprintError(Failure.OUT_OF_MEMORY) from exc
    except PILLOW_ERRORS as exc:
        detail = str(exc).strip().rstrip(".") or type(exc).__name__
        raise FingerprintError(Failure.CORRUPT, detail=detail[:200]) from exc


@contextmanager
def open_image(fp: BinaryIO, max_pixels: int) -> Iterator[ImageFile.ImageFile]:
    try:
        image = Image.open(fp, formats=OPEN_FORMATS)
    except UnidentifiedImageError as exc:
        fp.seek(0)
        raise unidentified(fp.read(SNIFF_BYTES)) from exc
    with image:
        # The header gives the size; refuse before any pixel buffer is allocated.
        if image.width * image.height > max_pixels:
            raise too_large(image.width * image.height, max_pixels)
        yield image


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


def too_large(pixels: int | None, limit: int) -> FingerprintError:
    """The refusal of a picture over the pixel limit, in megapixels as shown."""
    if pixels:
        return FingerprintError(Failure.TOO_LARGE, pixels=_megapixels(pixels), limit=_megapixels(limit))
    return FingerprintError(Failure.TOO_LARGE, limit=_megapixels(limit))


def page_count(image: ImageFile.ImageFile) -> int:
    return max(1, int(getattr(image, "n_frames", 1) or 1))


def bit_depth(image: ImageFile.ImageFile) -> int:
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


def decode_display(image: ImageFile.ImageFile, *, least: int = PREVIEW_MIN_SIDE) -> Decoded:
    """Decode the first frame once, shrunk to just above preview size, in "L" or "RGB", upright.

    With a smaller `least`, a format that decodes reduced (JPEG in the DCT domain, JPEG 2000 by wavelet level)
    stops just above `least` instead, and says so (`reduced`); other formats decode as for the preview.
    """
    width, height = image.size  # read before draft() shrinks it
    longest = max(width, height)
    scale = _draft_scale(longest, least)
    # Only JPEG (and MPO) implement draft: libjpeg then skips most of the inverse DCT work.
    drafted = scale > 1 and image.draft(None, (max(1, image.width // scale), max(1, image.height // scale)))
    preview_size = None
    if drafted and scale > _draft_scale(longest, PREVIEW_MIN_SIDE):
        drafted_size = _drafted_size(width, height, _draft_scale(longest, PREVIEW_MIN_SIDE))
        preview_size = _preview_size(drafted_size, max(drafted_size))
    levels = _jpeg2000_levels(image, longest, least) if image.format == "JPEG2000" else 0
    if levels:
        image.reduce = levels  # OpenJPEG decodes only the wavelet levels down to this size
        preview_levels = _jpeg2000_levels(image, longest)
        if levels > preview_levels:
            power = 1 << preview_levels  # OpenJPEG rounds each side to the nearest
            reduced_size = ((width + power // 2) // power, (height + power // 2) // power) if preview_levels else None
            preview_size = _preview_size(reduced_size or (width, height), longest >> preview_levels)
    factor = (
        max(1, (max(width, height) >> levels) // THUMB_PREVIEW) if levels else max(1, max(image.size) // THUMB_PREVIEW)
    )
    display = _decode_tiff_in_bands(image, factor) if factor > 1 else None
    if display is None:
        image = _load(image, levels)
        display = _shrink(image, factor, _display_converter(image))
    orientation = _orientation(image)
    if orientation in _ORIENTATION_FIX:
        display = display.transpose(_ORIENTATION_FIX[orientation])
    if orientation >= 5:  # the transposing orientations swap width and height
        width, height = height, width
        preview_size = preview_size[::-1] if preview_size else None
    return Decoded(display, orientation, width, height, preview_size is not None, preview_size)


def _draft_scale(longest: int, least: int) -> int:
    return next((s for s in (8, 4, 2) if longest // s >= least), 1)


def _drafted_size(width: int, height: int, wanted: int) -> tuple[int, int]:
    """The size JpegImageFile.draft gives when asked for 1/`wanted` (it may pick another power of two)."""
    if wanted == 1:
        return width, height
    scale = min(width // max(1, width // wanted), height // max(1, height // wanted))
    chosen = next(s for s in (8, 4, 2, 1) if scale >= s)
    return (width + chosen - 1) // chosen, (height + chosen - 1) // chosen


def _preview_size(decoded: tuple[int, int], longest: int) -> tuple[int, int]:
    """The display's size after the shrink below, from the size the preview-scale decode gives."""
    factor = max(1, longest // THUMB_PREVIEW)
    return (decoded[0] + factor - 1) // factor, (decoded[1] + factor - 1) // factor


def _load(image: ImageFile.ImageFile, levels: int) -> ImageFile.ImageFile:
    try:
        image.load()
        if levels:
            image.reduce = 0  # decoded: Image.reduce() is a method again (the plugin shadows it with this setting)
    except PILLOW_ERRORS:
        if not levels:
            raise
        # A tile whose own header allows fewer levels than the main header: decoded whole after all.
        image.fp.seek(0)
        image = Image.open(image.fp, formats=["JPEG2000"])
        image.load()
    return image


# --- JPEG 2000 levels ---------------------------------------------------------------
# A JPEG 2000 file holds its picture as wavelet levels, each half the size of the one above: decoding stops
# at the level just above preview size, so a 100 MP master costs a fraction of its full decode, in time and memory.
_SOC_SIZ, _COD, _COC, _SOT = b"\xff\x4f\xff\x51", b"\xff\x52", b"\xff\x53", b"\xff\x90"
_HEADER_BYTES = 64 * 1024
_MAX_LEVELS = 5


def _jpeg2000_levels(image: ImageFile.ImageFile, longest: int, least: int = PREVIEW_MIN_SIDE) -> int:
    """How many wavelet levels to skip: the codestream's own count (main header), kept above `least`."""
    wanted = 0
    while wanted < _MAX_LEVELS and longest >> (wanted + 1) >= least:
        wanted += 1
    if not wanted or image.fp is None:
        return 0
    position = image.fp.tell()
    image.fp.seek(0)
    head = image.fp.read(_HEADER_BYTES)
    image.fp.seek(position)
    stored = _codestream_levels(head)
    return min(wanted, stored) if stored else 0


def _codestream_levels(head: bytes) -> int | None:
    """The fewest decomposition levels the main header's COD and COC segments name, None when unread."""
    start = head.find(_SOC_SIZ)
    if start < 0:
        return None
    marker = start + 2
    components = struct.unpack_from(">H", head, marker + 38)[0] if len(head) >= marker + 40 else 0
    found: list[int] = []
    while marker + 4 <= len(head) and head[marker : marker + 2] != _SOT:
        kind, length = head[marker : marker + 2], struct.unpack_from(">H", head, marker + 2)[0]
        if kind == _COD and marker + 9 < len(head):
            found.append(head[marker + 9])  # Lcod, Scod, SGcod (4 bytes), then the level count
        elif kind == _COC:
            offset = marker + 5 + (2 if components >= 257 else 1)  # Lcoc, Ccoc (1 or 2 bytes), Scoc
            if offset < len(head):
                found.append(head[offset])
        if length < 2:
            return None
        marker += 2 + length
    return min(found) if found else None


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except PILLOW_ERRORS:
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
        return _on_white_grey if mode in GREY_MODES else _on_white_rgb
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


def _decode_tiff_in_bands(image: ImageFile.ImageFile, factor: int) -> Image.Image | None:
    bands = tiff_bands(image, factor, _BAND_ROWS)
    if bands is None:
        return None
    try:
        return _assemble(bands, factor, _display_converter(image))
    except PILLOW_ERRORS:
        return None  # a layout the band cutter does not know; the whole-image decode decides
