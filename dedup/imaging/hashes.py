"""Perceptual hashes of the rendition: pHash (as imagehash computes it), dHash, rotations, trimmed and centre."""

import numpy as np
import scipy.fftpack
from PIL import Image

from dedup.imaging.borders import content_box, trim_box
from dedup.imaging.dihedral import DIHEDRAL, apply_dihedral
from dedup.imaging.renditions import is_page
from dedup.imaging.straighten import straightened_page, straightened_picture

_HASH_SIZE = 8
_PHASH_SIDE = _HASH_SIZE * 4  # imagehash's highfreq_factor=4
# Share of the content box (inside margins and uniform borders) that the centre hashes cover.
CENTRE_SHARE = 0.9


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
    return _phash_batch(np.stack([apply_dihedral(pixels, name) for name in DIHEDRAL]))


def hashes(grey: Image.Image) -> tuple[int, int, tuple[int, ...]]:
    """pHash, dHash and the eight dihedral pHashes of the rendition."""
    dihedral = _dihedral_phashes(grey)
    small = np.asarray(grey.resize((_HASH_SIZE + 1, _HASH_SIZE), Image.Resampling.LANCZOS))
    dhash = _bits_to_int(small[:, 1:] > small[:, :-1])
    return dihedral[0], dhash, dihedral


def trimmed_phash(grey: np.ndarray) -> int | None:
    box = content_box(grey)
    if box is None:
        return None
    top, bottom, left, right = box
    return _phash_of(Image.fromarray(np.ascontiguousarray(grey[top:bottom, left:right])))


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


# Share of the content left out, one edge at a time: a caption bar, stamp or note along one edge or in one
# corner covers less than this of the side, so one of the four hashes never sees it, whichever edge it is on.
LEAVE_OUT_SHARE = 0.18
# Each edge's hashes are XORed with a mask of their own: distances between two hashes of one edge are kept,
# while against any other hash (the whole picture, another edge) they are as far as random hashes, about 32
# bits. So a picture with its bottom left out meets only pictures with their bottom left out: both lose the
# same band, a caption there on one side is gone from both, and no left-out hash finds a crop of the whole.
EDGE_MASKS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)


def reframed_phashes(grey: np.ndarray) -> tuple[int, ...]:
    """Ways into the index for copies whose other hashes moved beyond the search radius, all upright: the
    picture straightened (a page's block of print levelled; a picture at a slant on a bed turned upright),
    then the content with a band left out at each edge in turn (top, bottom, left, right; EDGE_MASKS).

    Each holds wherever the difference falls: a turn moves every part of the picture, which straightening
    undoes; an added caption, stamp or note sits along one edge or in one corner, which one of the four
    leaves out. A page always has its levelled hash, so an upright original meets its skewed copies.
    """
    block = straightened_page(grey) if is_page(grey) else straightened_picture(grey)
    found = [] if block is None else [_phash_of(Image.fromarray(np.ascontiguousarray(block)))]
    top, bottom, left, right = trim_box(grey)
    content = grey[top:bottom, left:right]
    height, width = content.shape
    if min(height, width) < 4:  # a strip: nothing to leave out
        return tuple(found)
    rows, cols = round(height * LEAVE_OUT_SHARE), round(width * LEAVE_OUT_SHARE)
    parts = (content[rows:], content[: height - rows], content[:, cols:], content[:, : width - cols])
    for part, mask in zip(parts, EDGE_MASKS, strict=True):
        found.append(_phash_of(Image.fromarray(np.ascontiguousarray(part))) ^ mask)
    return tuple(found)
