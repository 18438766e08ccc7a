"""Strip TIFFs cut into small stand-alone TIFFs, so a large scan is decoded a band at a time.

libtiff decodes a whole compressed TIFF at once, from a memory map of the file: a 50 MP RGB scan
costs 200 MB of pixels plus the mapped file. Strip TIFFs (what scanners and Photoshop write) can
instead be cut into small stand-alone TIFFs of a few strips each and decoded band by band.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFile, TiffImagePlugin

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


def tiff_bands(image: ImageFile.ImageFile, factor: int, band_rows: int) -> Iterator[Image.Image] | None:
    """Stand-alone TIFFs of consecutive strips, or None when the file is not a simple strip TIFF."""
    strips = _tiff_strips(image)
    if strips is None:
        return None
    unit = math.lcm(strips.rows, factor) // strips.rows  # strips that fill whole reduce blocks
    per_band = unit * max(1, band_rows // (unit * strips.rows))
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
