"""Where the content sits inside uniform borders: two measures, for hashing and for verification."""

import numpy as np

# Borders: scanner mats and letterbox bars are flat; photographic content is not.
_BORDER_TOLERANCE = 10  # grey levels from the border colour
_BORDER_MIN_UNIFORM = 0.98  # share of a line that must match (dust, JPEG ringing)
_BORDER_MIN_SHARE = 0.02  # a border thinner than this share of the side is not worth a second hash
_CONTENT_MIN_SHARE = 0.2  # less content than this is a mostly blank page, not a bordered picture
TRIM_TOL = 10  # grey levels; a border row/column deviates less than this from the border colour


def _border_depth(lines: np.ndarray) -> int:
    """How many leading rows match the colour of the first row (`lines` is signed, to subtract)."""
    reference = np.median(lines[0])
    matches = np.abs(lines - reference) <= _BORDER_TOLERANCE
    differs = np.flatnonzero(matches.mean(axis=1) < _BORDER_MIN_UNIFORM)
    return int(differs[0]) if differs.size else len(lines)


def content_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
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


def trim_box(arr: np.ndarray, min_share: float = 0.3) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the content inside a uniform border; whole image if none, or if the
    content spans less than `min_share` of a side (a mostly blank image, where trimming would find a detail)."""
    h, w = arr.shape
    ring = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    colour = float(np.median(ring))
    off = np.abs(arr.astype(np.int16) - colour) > TRIM_TOL
    rows, cols = off.mean(axis=1) > 0.02, off.mean(axis=0) > 0.02
    if not rows.any() or not cols.any():
        return 0, h, 0, w
    top, bottom = int(np.argmax(rows)), h - int(np.argmax(rows[::-1]))
    left, right = int(np.argmax(cols)), w - int(np.argmax(cols[::-1]))
    if (bottom - top) < min_share * h or (right - left) < min_share * w:
        return 0, h, 0, w
    return top, bottom, left, right
