"""Where the content sits inside uniform borders: two measures, for hashing and for verification."""

from __future__ import annotations

import itertools

import numpy as np

# Borders: scanner mats and letterbox bars are flat; photographic content is not.
_BORDER_TOLERANCE = 10  # grey levels from the border colour
_BORDER_MIN_UNIFORM = 0.98  # share of a line that must match (dust, JPEG ringing)
_BORDER_MIN_SHARE = 0.02  # a border thinner than this share of the side is not worth a second hash
_CONTENT_MIN_SHARE = 0.2  # less content than this is a mostly blank page, not a bordered picture
TRIM_TOL = 10  # grey levels; a border row/column deviates less than this from the border colour
PAPER_SHARE = 0.3  # of the content within TRIM_TOL of a band's tone: that band is the paper, not a mat


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


# A line of a mat, frame band, bevel or the paper's margin is one tone, or one smooth ramp of tone (a gradient
# mat, light fall-off), from end to end. Where bands meet at a mitred corner a line's ends carry the next band's
# tone: each round peels what it can inside the last round's box, a little further into the corner.
_LINE_FLAT = 0.98  # share of the line within TRIM_TOL of its straight-line fit (dust, JPEG ringing)
_STEP = TRIM_TOL / 2  # tone step between neighbouring lines that starts another band (a ramp moves less)
_PEEL_ROUNDS = 12


Box = tuple[int, int, int, int]


def trim_box(arr: np.ndarray, min_share: float = 0.3) -> Box:
    """(top, bottom, left, right) of the content inside its borders, peeled band by band from each side (a
    frame, a bevel line, a mat, the paper's margin), each band of its own tone; whole image if none, or if the
    content spans less than `min_share` of a side (a mostly blank image, where trimming would find a detail)."""
    peeled = _peel(arr, min_share)
    return peeled[0] if peeled else (0, arr.shape[0], 0, arr.shape[1])


def picture_box(arr: np.ndarray, min_share: float = 0.3) -> Box:
    """(top, bottom, left, right) of the picture inside its mats: the trim box, but a side with a band in the
    tone of the paper the content lies on (at least `PAPER_SHARE` of the content) stops outside that band, and
    a side whose opposite side is not peeled is not peeled either. A mat is no part of the picture; a page's
    margin is part of the page."""
    h, w = arr.shape
    peeled = _peel(arr, min_share)
    if peeled is None:
        return 0, h, 0, w
    (top, bottom, left, right), sides = peeled
    content = arr[top:bottom, left:right].astype(np.float32)
    depths = [side.depth_outside_paper(content) for side in sides]
    # A mat or letterbox lies on opposite sides; a band along one side alone is a caption bar laid over the
    # picture, or a flat part of it (sky, a wall), which the picture keeps.
    for first, second in ((0, 1), (2, 3)):
        if not (depths[first] and depths[second]):
            depths[first] = depths[second] = 0
    return depths[0], h - depths[1], depths[2], w - depths[3]


def _peel(arr: np.ndarray, min_share: float) -> tuple[Box, list[_Side]] | None:
    """The trim box and each side's bands (top, bottom, left, right), or None when nothing is left to trim to."""
    h, w = arr.shape
    signed = arr.astype(np.float32)
    sides = [_Side() for _ in range(4)]
    for _ in range(_PEEL_ROUNDS):
        top, bottom = sides[0].depth, h - sides[1].depth
        left, right = sides[2].depth, w - sides[3].depth
        inside = signed[top:bottom, left:right]
        if inside.shape[0] < 2 or inside.shape[1] < 2:
            return None
        lines = (inside, inside[::-1], inside.T, inside.T[::-1])
        moved = [side.peel(x) for side, x in zip(sides, lines, strict=True) if not side.done]
        if not any(moved):
            break
    top, bottom, left, right = sides[0].depth, h - sides[1].depth, sides[2].depth, w - sides[3].depth
    if bottom - top < min_share * h or right - left < min_share * w:
        return None
    return (top, bottom, left, right), sides


class _Side:
    """One side's bands peeled so far (tone ranges and where each starts, outermost first) and how deep they
    reach."""

    def __init__(self) -> None:
        self.depth, self.done = 0, False
        self.bands: list[tuple[float, float]] = []
        self.starts: list[int] = []

    def peel(self, lines: np.ndarray) -> bool:
        """Peel the leading bands of `lines` (rows, outermost first); whether the side moved. A band of the tone
        of one before the last is the paper again, inside a line printed on it (a form's outline, a table's
        rule): that line is content, and the side goes back to where it starts and stays there."""
        moved = False
        for start, end, tone in _leading_bands(lines):
            if self.bands and _same_tone(tone, self.bands[-1]):  # the band the last round stopped in, continued
                self.bands[-1] = (min(self.bands[-1][0], tone[0]), max(self.bands[-1][1], tone[1]))
            elif any(_same_tone(tone, earlier) for earlier in self.bands[:-1]):
                self.depth, self.done = self.starts[-1], True
                self.bands, self.starts = self.bands[:-1], self.starts[:-1]  # the line is content, not a band
                return True
            else:
                self.bands.append(tone)
                self.starts.append(self.depth)
            self.depth, moved = self.depth + end - start, True
        return moved

    def depth_outside_paper(self, content: np.ndarray) -> int:
        """How deep the side is peeled, but no deeper than the start of the innermost band in the tone of the
        paper of `content` (a page's margin; the bands inside it are lines printed on the page)."""
        for (low, high), start in zip(reversed(self.bands), reversed(self.starts), strict=True):
            if np.mean((content >= low - TRIM_TOL) & (content <= high + TRIM_TOL)) >= PAPER_SHARE:
                return start
        return self.depth


def _leading_bands(lines: np.ndarray) -> list[tuple[int, int, tuple[float, float]]]:
    """The runs of lines, from the first, that carry no content, split where the tone steps: (start, end,
    tone range) each, up to the first line with content."""
    n = _flat_lines(lines)
    means = lines[:n].mean(axis=1)
    steps = np.flatnonzero(np.abs(np.diff(means)) > _STEP) + 1
    edges = [0, *steps.tolist(), n] if n else []
    return [(a, b, (float(means[a:b].min()), float(means[a:b].max()))) for a, b in itertools.pairwise(edges)]


def _flat_lines(lines: np.ndarray) -> int:
    """How many leading lines are each one tone or one smooth ramp; read in growing chunks, since content
    usually starts within a few lines of the edge and the rest of the box need not be read."""
    t = np.arange(lines.shape[1], dtype=np.float32) - (lines.shape[1] - 1) / 2
    tt = max(float(t @ t), 1.0)
    n, chunk = 0, 16
    while n < len(lines):
        x = lines[n : n + chunk]
        means, slope = x.mean(axis=1), (x @ t) / tt
        residual = np.abs(x - means[:, None] - slope[:, None] * t)
        flat = (residual <= TRIM_TOL).mean(axis=1) >= _LINE_FLAT
        if not flat.all():
            return n + int(np.argmin(flat))
        n, chunk = n + len(x), chunk * 2
    return n


def _same_tone(x: tuple[float, float], y: tuple[float, float]) -> bool:
    return x[0] - TRIM_TOL <= y[1] and y[0] - TRIM_TOL <= x[1]
