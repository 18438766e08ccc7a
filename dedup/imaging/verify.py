"""Decide whether two candidate images are the same picture, from their small greyscale renditions."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
import scipy.fft
from PIL import Image
from scipy import ndimage

from dedup.imaging.borders import TRIM_TOL, picture_box, trim_box
from dedup.imaging.dihedral import DIHEDRAL, INVERSE, QUARTER_TURNS, apply_dihedral
from dedup.imaging.reasons import Reason


@dataclass(frozen=True)
class Rendition:
    """Greyscale rendition as stored by fingerprinting: raw row-major uint8 and (width, height)."""

    pixels: bytes
    size: tuple[int, int]

    @classmethod
    def from_array(cls, arr: np.ndarray) -> Rendition:
        arr = np.ascontiguousarray(arr, dtype=np.uint8)
        return cls(arr.tobytes(), (arr.shape[1], arr.shape[0]))

    def array(self) -> np.ndarray:
        w, h = self.size
        return np.frombuffer(self.pixels, dtype=np.uint8).reshape(h, w)


@dataclass(frozen=True)
class Thresholds:
    """Limits a pair must meet to count as one picture."""

    min_coverage: float  # the better-covered side must be at least this fully covered by the other
    min_other_coverage: float  # the other side too, so a detail is not the whole picture
    min_score: float  # global correlation after alignment
    max_local_diff: float  # worst local difference outside the regions left out


# Chosen on bench/verify_eval.py (synthetic photos, artwork, documents, forms; bursts, crops, pages and
# filled forms as hard negatives). The local difference is the part the pair's typical difference per unit
# of contrast leaves unexplained: resized and rescanned forms mostly below 0.3 (raw: 0.42-0.55), forms
# differing by a name or tick 0.33 and up (raw 0.42), bursts far above. Coverage separates crops and bursts
# (<= 0.97 on the better side). "balanced" joins none of 3,408 look-alike pairs; "strict" trades a few %
# recall of edited copies for margin; "lenient" joins some filled forms.
PRESETS: dict[str, Thresholds] = {
    "strict": Thresholds(0.98, 0.35, 0.90, 0.25),
    "balanced": Thresholds(0.975, 0.30, 0.85, 0.30),
    "lenient": Thresholds(0.965, 0.25, 0.80, 0.40),
}
STRICTEST_LOCAL = min(t.max_local_diff for t in PRESETS.values())  # below it, every preset accepts
CLEARLY = 2.5  # times the local limit: rejected at half resolution, where fine misalignment cannot explain it
BLOCK = 32  # phase-correlation block for local shift estimates
CELL = 9  # px; window of the local comparison: a few text lines, one form field
PRE_BLUR = 3  # px box; removes the finest detail, which aliases differently in each resampled copy
HALF_CELL = 5  # px at half resolution: the comparison cell
INK_PERCENTILE = 60  # cells at least this contrasty set the pair's typical difference per unit of contrast
SECOND_TRANSFORM_MARGIN = 0.15  # thumbnail correlation; closer than this, both transforms are aligned
THUMB = 24  # px; thumbnail side for ranking the dihedral transforms
TURN_EXCUSED_FROM = 2.0  # degrees; a turn this large explains the corners a copy skewed in its frame lacks
# Where a pair departs after alignment is read region by region (`_regions`): a region that one side
# carries on top of the other (a caption bar, a tinted credit strip, a stamp or note on blank paper, dark
# marks added over text) is left out of the comparison; a region where both sides show different content
# (another name in a field, another date in a stamp) makes the pair at most a possible duplicate.
OVERLAY_MIN_SCORE = 0.4  # correlation of the whole frame below which no region is looked for
OVERLAY_MIN_MATCHING = 0.75  # share of places alike within the limit: the rest may be one overlay
OVERLAY_MIN_COVERAGE = 0.98  # one side covered (nearly) entirely: a different shot lacks parts of both
OVERLAY_MAX_AREA = 0.25  # all left-out regions together, share of the frame
OVERLAY_MAX_REGIONS = 3
POSSIBLE_MAX_AREA = 0.12  # one region of different content, share of the frame: larger is another picture
REGION_GROW = 4  # px at half resolution: the letters of one caption, stamp or field make one region
REGION_PAD = 2  # px at half resolution around a region (antialiased edges, descenders)
PLAIN = 0.12  # local contrast (units of global contrast) below which a place holds no marks: paper, sky
PLAIN_SHARE = 0.85  # share of a region's cells that must be plain for the side to count as plain there
PLAIN_WHERE_DEPARTING = 0.75  # and of the cells where the pair departs: a second note there leaves ~2/3 plain
MARK = 0.45  # |difference| in units of contrast that counts as a mark added or removed
ONE_SIGNED = 0.15  # marks of the other sign, as a share of the region's marks: more is changed content
PLATEAU = 0.12  # units of contrast around a region's median tone that count as one flat fill
PLATEAU_SHARE = 0.55  # a bar's fill covers at least this share of its box
RING = 3  # px around a region, read for the tone the picture has there
TONE_SHARED = 0.3  # share of a place in one tone that makes the tone that place's own (paper round a field)
PLATEAU_APART = 0.35  # tone difference of two fills that makes them different fills (a bar over paper)
TINT_GAIN = 0.75  # a region whose contrast is at most this share of the other's, tone for tone, is tinted
TINT_INLIERS = 0.6  # share of the region's pixels the tint explains
SHIFT = 2  # px; the furthest a region's content may sit from where the whole-frame alignment puts it
SHIFT_EXPLAINS = 0.5  # a shift that leaves at most this share of the difference: the same content, displaced
SHIFT_RESIDUAL = 0.3  # RMS in units of contrast left after the shift: more is content that moved and changed
MIN_SIDE = 8  # px; a thinner rendition has no half-resolution level to align on
PROJECTIVE_MIN_POINTS = 12  # block shifts a perspective fit needs (8 unknowns)
PROJECTIVE_MIN_SPREAD = 0.5  # the points' narrower extent, as a share of the wider one
PROJECTIVE_GAIN = 0.7  # the perspective fit must leave at most this share of the affine fit's residual
PROJECTIVE_MIN_RESIDUAL = 0.25  # px; an affine fit this close needs no bending
PROJECTIVE_MAX_BEND = 0.06  # the furthest a corner moves from the affine fit, as a share of the side
FEATURES = 300  # ORB features per rendition: enough to tie a turned copy, few enough to stay cheap
FEATURES_MAX_TURN = 45.0  # degrees; beyond, a quarter turn (a dihedral transform) is nearer: that one is tried instead
FEATURES_AGREE = 12  # matched features a turn, scale and shift must explain before it is tried
GUESS_APART = 4.0  # px at full resolution; a moments map this close to another starting map seldom aligns differently


Box = tuple[int, int, int, int]  # (top, bottom, left, right) in a's rendition pixels


@dataclass(frozen=True)
class Region:
    """One place where the pair departs after alignment, and which side carries something the other lacks."""

    box: Box
    carrier: str  # "a" or "b": laid over that side (a caption, stamp, mark); "" when neither side carries it
    # "plain" (on blank), "marks" (dark marks added), "bar" (a flat fill), "tint", "tone" (blank on both
    # sides, shaded differently), or "content" (both sides show something, and it differs)
    kind: str
    box_b: Box | None = None  # the same place in b's own rendition pixels, as uploaded


@dataclass(frozen=True)
class Verdict:
    """Outcome of verifying one pair, with the numbers that explain it."""

    is_duplicate: bool
    kind: str  # same_pixels / near / rotated, or different
    transform: str  # one of DIHEDRAL: what turns b into a
    score: float  # 0..1 global correlation after alignment
    coverage: float  # max of coverage_a, coverage_b
    coverage_a: float  # share of a that b covers
    coverage_b: float  # share of b that a covers
    local_max_diff: float  # worst local difference outside the places left out
    scale: float  # b rendition pixels per a rendition pixel
    reason: Reason
    reason_params: dict[str, float] = field(default_factory=dict)  # the numbers the reason names
    elapsed_ms: float = 0.0
    region: Box | None = None  # the first place left out (or, when possible, the place that differs), in a
    regions: tuple[Region, ...] = ()  # every place where the pair departs, read
    possible: bool = False  # one place of other content: a curator decides
    # The fitted map from a's rendition (row, col) to b's rendition turned by `transform`, as its top two rows
    # (scale, shift and slight skew); empty when nothing was aligned.
    alignment: tuple[tuple[float, float, float], tuple[float, float, float]] | tuple[()] = ()


# --- small helpers -------------------------------------------------------------------------------


def _ink_moments(arr: np.ndarray, trim: tuple[int, int, int, int]) -> tuple[float, float, float, float] | None:
    """(row mean, row spread, column mean, column spread) of the content's departure from its background,
    inside the uniform border.

    Moments move with the picture under scale and shift, and a few thin marks (a page number that one
    rendition keeps and another blurs away) barely move them, unlike the edges of a content box.
    """
    top, bottom, left, right = trim
    content = arr[top:bottom, left:right].astype(np.float32)
    weight = np.abs(content - np.median(content))
    weight[weight <= TRIM_TOL] = 0
    total = float(weight.sum())
    if total == 0:
        return None
    moments = []
    for profile, offset in ((weight.sum(axis=1), top), (weight.sum(axis=0), left)):
        positions = np.arange(len(profile))
        mean = float(positions @ profile) / total
        spread = math.sqrt(float(((positions - mean) ** 2) @ profile) / total)
        moments += [offset + mean, spread]
    return moments[0], moments[1], moments[2], moments[3]


def _moments_affine(ma: tuple[float, float, float, float], mb: tuple[float, float, float, float]) -> np.ndarray:
    """3x3 map from a (row, col) to b (row, col) sending a's content moments onto b's."""
    sy, sx = mb[1] / max(ma[1], 1e-3), mb[3] / max(ma[3], 1e-3)
    return np.array([[sy, 0, mb[0] - sy * ma[0]], [0, sx, mb[2] - sx * ma[2]], [0, 0, 1]], dtype=np.float64)


def _box_affine(box_a: tuple[int, int, int, int], box_b: tuple[int, int, int, int]) -> np.ndarray:
    """3x3 map from a (row, col) to b (row, col) sending box_a onto box_b."""
    sy = (box_b[1] - box_b[0]) / max(1, box_a[1] - box_a[0])
    sx = (box_b[3] - box_b[2]) / max(1, box_a[3] - box_a[2])
    ty = box_b[0] - sy * box_a[0] + 0.5 * (sy - 1)
    tx = box_b[2] - sx * box_a[2] + 0.5 * (sx - 1)
    return np.array([[sy, 0, ty], [0, sx, tx], [0, 0, 1]], dtype=np.float64)


# (row, col) pixel indices <-> Pillow's (x, y) coordinates, whose pixel centres lie at +0.5.
_TO_PIL = np.array([[0, 1, 0.5], [1, 0, 0.5], [0, 0, 1]], dtype=np.float64)
_FROM_PIL = np.linalg.inv(_TO_PIL)


def _pil_transform(amap: np.ndarray) -> tuple[Image.Transform, tuple[float, ...]]:
    """amap in (row, col) index coordinates as Pillow's transform and coefficients: affine, or perspective
    when the map has a projective part (a print photographed at a slant)."""
    m = _TO_PIL @ amap @ _FROM_PIL
    if not np.any(amap[2, :2]):
        return Image.Transform.AFFINE, tuple(float(x) for x in m[:2].ravel())
    return Image.Transform.PERSPECTIVE, tuple(float(x) for x in (m / m[2, 2]).ravel()[:8])


def _warp(b: np.ndarray, amap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """b resampled into a's frame; Pillow's bilinear transform is several times faster than scipy's (and
    OpenCV's saves only ~0.3 ms a pair while quantising positions to 1/32 px)."""
    img = Image.fromarray(b.astype(np.float32), "F")
    out = img.transform((shape[1], shape[0]), *_pil_transform(amap), Image.Resampling.BILINEAR)
    return np.asarray(out)


def _valid_mask(
    amap: np.ndarray, shape: tuple[int, int], b_shape: tuple[int, int], margin: int = 0, box: Box | None = None
) -> np.ndarray:
    """Pixels of a's frame that land inside b, or inside `box` of b (at least `margin` pixels in, away from
    interpolated edges)."""
    top, bottom, left, right = box or (0, b_shape[0], 0, b_shape[1])
    ones = Image.new("L", (b_shape[1], b_shape[0]), 0)
    ones.paste(1, (left + margin, top + margin, right - margin, bottom - margin))
    out = ones.transform((shape[1], shape[0]), *_pil_transform(amap), Image.Resampling.NEAREST)
    return np.asarray(out).astype(bool)


def _apply(amap: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(n, 2) (row, col) points carried by the map, projective division included."""
    moved = np.hstack([points, np.ones((len(points), 1))]) @ amap.T
    return moved[:, :2] / moved[:, 2:3]


def _box_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over a size x size window, edges mirrored: scipy's uniform_filter, five times faster from OpenCV
    (equal within float rounding); scipy where OpenCV has no answer (a window wider than the array)."""
    if x.ndim != 2 or min(x.shape) < size:
        return ndimage.uniform_filter(x, size)
    return cv2.blur(np.ascontiguousarray(x), (size, size), borderType=cv2.BORDER_REFLECT)


def _half(arr: np.ndarray) -> np.ndarray:
    """Means of 2x2 blocks; four strided sums cost a fraction of a mean over reshaped axes."""
    h, w = (arr.shape[0] // 2) * 2, (arr.shape[1] // 2) * 2
    return (arr[0:h:2, 0:w:2] + arr[1:h:2, 0:w:2] + arr[0:h:2, 1:w:2] + arr[1:h:2, 1:w:2]) * 0.25


HALF = np.array([[2, 0, 0.5], [0, 2, 0.5], [0, 0, 1]], dtype=np.float64)
HALF_INV = np.linalg.inv(HALF)


def _scale_of(amap: np.ndarray) -> float:
    return math.sqrt(abs(float(np.linalg.det(amap[:2, :2]))))


def _rows_of(amap: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    (a00, a01, a02), (a10, a11, a12) = (tuple(round(float(x), 5) for x in row) for row in amap[:2])
    return (a00, a01, a02), (a10, a11, a12)


def _angle_of(amap: np.ndarray) -> float:
    """Rotation in degrees of the map's similarity part (a -> b, row/col coordinates)."""
    return math.degrees(math.atan2(amap[1, 0] - amap[0, 1], amap[0, 0] + amap[1, 1]))


@functools.lru_cache(maxsize=4096)
def _corner_loss_cached(aspect: float, degrees: float) -> float:
    h, w = 96, max(1, round(96 * aspect))
    frame = Image.new("L", (w, h), 1)
    turned = np.asarray(frame.rotate(degrees, Image.Resampling.NEAREST, expand=False, fillcolor=0))
    return 1.0 - float(turned.mean())


def _corner_loss(shape: tuple[int, int], degrees: float) -> float:
    """Share of a frame that a turn by `degrees` about its centre moves out of that same frame; nothing below
    TURN_EXCUSED_FROM, so the slight roll of a burst shot is never excused."""
    if abs(degrees) < TURN_EXCUSED_FROM:
        return 0.0
    return _corner_loss_cached(round(shape[1] / shape[0], 2), round(abs(degrees), 1))


def _match_resolution(a: np.ndarray, b: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Blur the sharper image so both carry the same detail (b has `scale` pixels per a pixel)."""
    if scale > 1.15:
        b = ndimage.gaussian_filter(b, 0.5 * math.sqrt(scale * scale - 1))
    elif scale < 1 / 1.15:
        a = ndimage.gaussian_filter(a, 0.5 * math.sqrt(1 / (scale * scale) - 1))
    return a, b


# --- alignment -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Blocks:
    """One image level cut into phase-correlation blocks, done once per pair: every alignment step reuses it."""

    step: int  # between block corners
    centres: np.ndarray  # (row, col) per block
    std: np.ndarray  # contrast per block
    spectra: np.ndarray  # spectrum of each mean-free, windowed block


def _blocks(a: np.ndarray, block: int = BLOCK) -> _Blocks | None:
    h, wd = a.shape
    if h < block or wd < block:
        return None
    step = block // 2 if h * wd <= 128 * 128 else block  # enough blocks at either level, few FFTs
    ys = np.arange(0, h - block + 1, step)
    xs = np.arange(0, wd - block + 1, step)
    win = _windows(a, step, block)
    centres = np.stack(np.meshgrid(ys + block / 2 - 0.5, xs + block / 2 - 0.5, indexing="ij"), -1).reshape(-1, 2)
    spectra = scipy.fft.rfft2((win - win.mean(axis=(1, 2), keepdims=True)) * _hann(block))
    return _Blocks(step, centres, win.std(axis=(1, 2)), spectra)


def _windows(x: np.ndarray, step: int, block: int) -> np.ndarray:
    """Blocks at every `step` pixels, as (n, block, block); slicing keeps the view until the final copy."""
    return np.lib.stride_tricks.sliding_window_view(x, (block, block))[::step, ::step].reshape(-1, block, block)


@functools.cache
def _hann(block: int) -> np.ndarray:
    return np.outer(np.hanning(block), np.hanning(block))


def _block_shifts(a: _Blocks | None, w: np.ndarray, valid: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Local shifts by phase correlation of half-overlapping blocks: (points, shifts) in (row, col)."""
    if a is None:
        return np.empty((0, 2)), np.empty((0, 2))
    keep = _windows(valid, a.step, block).all(axis=(1, 2)) & (a.std > 3)
    win_w = _windows(w, a.step, block)[keep]
    textured = win_w.std(axis=(1, 2)) > 3
    keep[keep] = textured
    if keep.sum() < 3:
        return np.empty((0, 2)), np.empty((0, 2))
    win_w = win_w[textured]
    fw = scipy.fft.rfft2((win_w - win_w.mean(axis=(1, 2), keepdims=True)) * _hann(block))
    cross = fw * np.conj(a.spectra[keep])
    corr = scipy.fft.irfft2(cross / (np.abs(cross) + 1e-6), s=(block, block))
    flat = corr.reshape(len(corr), -1)
    idx = flat.argmax(axis=1)
    peak = flat[np.arange(len(flat)), idx]
    py, px = np.divmod(idx, block)
    shifts = np.stack([_subpixel(corr, py, px, 0), _subpixel(corr, py, px, 1)], -1)
    shifts = (shifts + block / 2) % block - block / 2
    good = (peak > 0.12) & (np.abs(shifts).max(axis=1) < block / 3)
    return a.centres[keep][good], shifts[good]


def _subpixel(corr: np.ndarray, py: np.ndarray, px: np.ndarray, axis: int) -> np.ndarray:
    n = corr.shape[1]
    i = np.arange(len(corr))
    if axis == 0:
        c0, cm, cp = corr[i, py, px], corr[i, (py - 1) % n, px], corr[i, (py + 1) % n, px]
        base = py
    else:
        c0, cm, cp = corr[i, py, px], corr[i, py, (px - 1) % n], corr[i, py, (px + 1) % n]
        base = px
    denom = cm - 2 * c0 + cp
    frac = np.where(np.abs(denom) > 1e-9, 0.5 * (cm - cp) / np.where(denom == 0, 1, denom), 0.0)
    return base + np.clip(frac, -0.5, 0.5)


def _fit_map(points: np.ndarray, targets: np.ndarray) -> np.ndarray | None:
    """Least-squares affine points -> targets, dropping outliers twice, then bent into a perspective map where
    the points it kept show one (`_fit_projective`); None when too few agree."""
    keep = np.ones(len(points), dtype=bool)
    model = None
    design_all = np.hstack([points, np.ones((len(points), 1))])
    for _ in range(3):
        if keep.sum() < 4:
            return model
        design = design_all[keep]
        gram = design.T @ design
        if np.linalg.cond(gram) < 1e10:  # normal equations: far cheaper than lstsq's SVD of a few dozen rows
            sol = np.linalg.solve(gram, design.T @ targets[keep])
        else:  # (nearly) all points on one line: lstsq's minimum-norm solution
            sol, *_ = np.linalg.lstsq(design, targets[keep], rcond=None)
        model = np.vstack([sol.T, [0, 0, 1]])
        resid = np.linalg.norm(design_all @ sol - targets, axis=1)
        keep = resid < max(0.75, 2.5 * float(np.median(resid[keep])))
    if model is not None:
        return _fit_projective(points[keep], targets[keep], model)
    return model


def _fit_projective(points: np.ndarray, targets: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """The perspective map through the points, where it explains them clearly better than `affine` and bends
    the frame only as a print photographed at a slant does; `affine` otherwise. Spread across the frame is
    required: points along one band cannot say how the far side leans."""
    if len(points) < PROJECTIVE_MIN_POINTS or np.ptp(points, axis=0).min() < PROJECTIVE_MIN_SPREAD * np.ptp(points):
        return affine
    fit, _mask = cv2.findHomography(points.astype(np.float64), targets.astype(np.float64), 0)
    if fit is None or abs(fit[2, 2]) < 1e-9:
        return affine
    fit = fit / fit[2, 2]
    before = float(np.median(np.linalg.norm(_apply(affine, points) - targets, axis=1)))
    after = float(np.median(np.linalg.norm(_apply(fit, points) - targets, axis=1)))
    if after > PROJECTIVE_GAIN * before or before < PROJECTIVE_MIN_RESIDUAL:
        return affine
    lo, hi = points.min(axis=0), points.max(axis=0)
    corners = np.array([[lo[0], lo[1]], [lo[0], hi[1]], [hi[0], lo[1]], [hi[0], hi[1]]])
    bend = np.linalg.norm(_apply(fit, corners) - _apply(affine, corners), axis=1).max()
    return fit if bend <= PROJECTIVE_MAX_BEND * float(np.ptp(points, axis=0).max()) else affine


def _refine(a: np.ndarray, a_blocks: _Blocks | None, b: np.ndarray, amap: np.ndarray, iterations: int) -> np.ndarray:
    """Improve amap (a -> b coordinates) from local block shifts between a and warped b, bent into a perspective
    map where the shifts show one."""
    for _ in range(iterations):
        warped = _warp(b, amap, a.shape)
        valid = _valid_mask(amap, a.shape, b.shape)
        points, shifts = _block_shifts(a_blocks, warped, valid, BLOCK)
        if len(points) < 4:
            break
        update = _fit_map(points, points + shifts)
        if update is None:
            break
        amap = amap @ update
        if np.abs(shifts).max() < 0.3:
            break
    return amap


def _align_coarse(a: _Content, b_half: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Half resolution takes the large shifts; returns the map in half-resolution coordinates."""
    return _refine(a.half, a.half_blocks, b_half, HALF_INV @ guess @ HALF, iterations=2)


def _align_fine(a: _Content, b: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    return _refine(a.arr, a.full_blocks, b, HALF @ coarse @ HALF_INV, iterations=1)


# --- comparison --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Comparison:
    score: float
    coverage_a: float
    coverage_b: float
    local_max_diff: float


@dataclass(frozen=True)
class _Maps:
    """What a comparison saw, kept for reading the places where the pair departs."""

    a_n: np.ndarray  # a in units of its contrast
    w_n: np.ndarray  # b warped onto a, in units of its contrast
    inner: np.ndarray  # pixels compared
    local: np.ndarray  # unexplained local difference, at half a's resolution


def _compare(
    a: np.ndarray,
    b: np.ndarray,
    amap: np.ndarray,
    enough: float = 0.0,
    exclude: Sequence[Box] = (),
    pictures: tuple[Box, Box] | None = None,
) -> tuple[_Comparison, _Maps | None]:
    """Coverage, correlation and worst local difference of b warped onto a, leaving out the boxes `exclude`
    (in a), with the maps behind them when the pixels were compared. Each side is compared and covered inside
    its box in `pictures` (a mat is no part of the picture: a copy cropped and matted is covered by the
    picture it was cut from, and its mat is not compared with what the crop took away), or its whole frame.

    A raw local difference at or below `enough` already meets every limit it will be held to; it is kept
    as is, since the unexplained part (never larger) costs more to compute.
    """
    pic_a, pic_b = pictures or (_frame(a.shape), _frame(b.shape))
    valid = _valid_mask(amap, a.shape, b.shape, box=pic_b) & _box_mask(a.shape, pic_a)
    n_valid = int(np.count_nonzero(valid))
    # A copy turned within its own frame loses the four corners: that loss is the turn's, not a crop's.
    turned = _corner_loss(a.shape, _angle_of(amap))
    cov_a = min(1.0, n_valid / _area(pic_a) + turned)
    cov_b = min(1.0, n_valid * _scale_of(amap) ** 2 / _area(pic_b) + turned)
    if n_valid < 64:
        return _Comparison(0.0, cov_a, cov_b, 9.0), None
    a_n, w_n, inner, score = _aligned(a, b, amap, n_valid, valid, exclude, (pic_a, pic_b))
    local = np.where(inner, _local_dissimilarity(a_n, w_n, inner), 0.0)
    worst = float(local.max())
    half_local = None
    if worst > enough:
        half_local = _unexplained(local, a_n, w_n, inner)
        worst = float(half_local.max())
    maps = _Maps(a_n, w_n, inner, half_local if half_local is not None else local[::2, ::2])
    return _Comparison(score, cov_a, cov_b, worst), maps


def _frame(shape: tuple[int, int]) -> Box:
    return (0, shape[0], 0, shape[1])


def _box_mask(shape: tuple[int, int], box: Box, margin: int = 0) -> np.ndarray:
    top, bottom, left, right = box
    mask = np.zeros(shape, dtype=bool)
    mask[top + margin : bottom - margin, left + margin : right - margin] = True
    return mask


def _area(box: Box) -> int:
    return max(0, box[1] - box[0]) * max(0, box[3] - box[2])


def _halved(box: Box) -> Box:
    return (box[0] // 2, box[1] // 2, box[2] // 2, box[3] // 2)


def _aligned(
    a: np.ndarray,
    b: np.ndarray,
    amap: np.ndarray,
    n_valid: int,
    valid: np.ndarray,
    exclude: Sequence[Box],
    pictures: tuple[Box, Box],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """a and b warped onto it, each in units of its own contrast, the pixels compared, and their correlation."""
    a_m, b_m = _match_resolution(a, b, _scale_of(amap))
    warped = _warp(b_m, amap, a.shape)
    pic_a, pic_b = pictures
    inner = _valid_mask(amap, a.shape, b.shape, margin=4, box=pic_b) if n_valid > 400 else valid.copy()
    # a's own edge: a border or letterbox in b bleeds in through resampling
    inner &= _box_mask(a.shape, pic_a, margin=4 if min(a.shape) > 32 else 0)
    for top, bottom, left, right in exclude:
        inner[top:bottom, left:right] = False
    if not inner.any():
        inner = valid.copy()
    av, wv = a_m[inner], warped[inner]
    (a_mean, a_std), (w_mean, w_std) = (av.mean(), av.std()), (wv.mean(), wv.std())
    a_n = (a_m - a_mean) / (a_std + 2.0)
    w_n = (warped - w_mean) / (w_std + 2.0)
    score = float(np.clip(np.mean((av - a_mean) * (wv - w_mean)) / (a_std * w_std + 1e-6), 0, 1))
    return a_n, w_n, inner, score


def _regions(maps: _Maps, limit: float) -> list[Region] | None:
    """The places where the pair departs by more than `limit`, each read for what it is; None when there are
    too many or they cover too much of the frame to be anything but another picture."""
    departs = maps.local > limit
    if not departs.any():
        return []
    grown = ndimage.binary_dilation(departs, iterations=REGION_GROW)
    labels, count = ndimage.label(grown)
    if count > OVERLAY_MAX_REGIONS:
        return None
    h, w = maps.a_n.shape
    rows_in, cols_in = np.flatnonzero(maps.inner.any(axis=1)), np.flatnonzero(maps.inner.any(axis=0))
    if not len(rows_in):
        return None
    # read inside the pixels compared: a's own edge and what b does not cover say nothing of content
    in_top, in_bottom, in_left, in_right = rows_in[0], rows_in[-1] + 1, cols_in[0], cols_in[-1] + 1
    boxes = []
    for rows, cols in ndimage.find_objects(labels):
        top, bottom = max(in_top, 2 * (rows.start - REGION_PAD)), min(in_bottom, 2 * (rows.stop + REGION_PAD))
        left, right = max(in_left, 2 * (cols.start - REGION_PAD)), min(in_right, 2 * (cols.stop + REGION_PAD))
        if bottom - top >= 2 and right - left >= 2:
            boxes.append((int(top), int(bottom), int(left), int(right)))
    if sum((b - t) * (r - le) for t, b, le, r in boxes) > OVERLAY_MAX_AREA * h * w:
        return None
    # Reported out to the frame's edge when it reaches the edge of what was compared: a caption bar is
    # flush with the frame, although its outermost pixels were left out of the reading.
    edges = (in_top, in_bottom, in_left, in_right)
    return [
        replace(r, box=_to_frame_edges(r.box, edges, (h, w))) for r in (_read_region(maps, b, limit) for b in boxes)
    ]


def _to_frame_edges(box: Box, compared: Box, shape: tuple[int, int]) -> Box:
    top, bottom, left, right = box
    return (
        0 if top <= compared[0] else top,
        shape[0] if bottom >= compared[1] else bottom,
        0 if left <= compared[2] else left,
        shape[1] if right >= compared[3] else right,
    )


def _read_region(maps: _Maps, box: Box, limit: float) -> Region:
    """Which side carries something laid over the other in `box`, and what: each test asks whether one side
    is the other plus something, never where on the frame the place is."""
    top, bottom, left, right = box
    a, w = maps.a_n[top:bottom, left:right], maps.w_n[top:bottom, left:right]
    plain_a, plain_w = _plain(a), _plain(w)
    # A mark, stamp or caption on blank paper or sky: the blank side is blank where the pair departs, so a
    # box holding a long note on one side and a short one on the other is not read as one note.
    if plain_a != plain_w and _plain(w if plain_w else a, _departing(maps, box, limit)):
        return Region(box, "b" if plain_a else "a", "plain")
    if plain_a and plain_w:  # blank on both sides: light fall-off or a mat's shading, no content to differ
        return Region(box, "", "tone")
    # A flat fill with lettering where the pair departs, over a picture: a bar's box also holds the picture
    # around it, and the texture the bar hides would otherwise read as marks on the other side.
    if (carrier := _bar_where_departing(maps, box, limit)) is not None:
        return Region(box, carrier, "bar")
    diff = w - a  # unblurred: blurred, another name's strokes merge into one darker smudge
    darker, lighter = int(np.count_nonzero(diff < -MARK)), int(np.count_nonzero(diff > MARK))
    if darker > 0 and lighter <= ONE_SIGNED * darker:  # ink added, none taken away: a stamp or note on b
        return Region(box, "b", "marks")
    if lighter > 0 and darker <= ONE_SIGNED * lighter:
        return Region(box, "a", "marks")
    fill_a, fill_w = _fill(a), _fill(w)
    # A bar: a flat fill in a tone the other side does not have there (paper under a stamp is no bar).
    if fill_w is not None and abs(fill_w - (fill_a if fill_a is not None else float(np.median(a)))) > PLATEAU_APART:
        return Region(box, "b", "bar")
    if fill_a is not None and abs(fill_a - (fill_w if fill_w is not None else float(np.median(w)))) > PLATEAU_APART:
        return Region(box, "a", "bar")
    if fill_a is None and fill_w is None and (carrier := _tinted(a, w)) is not None:
        return Region(box, carrier, "tint")
    if _displaced(maps, box):
        return Region(box, "", "shift")
    return Region(box, "", "content")


def _departing(maps: _Maps, box: Box, limit: float) -> np.ndarray:
    """Which of the box's pixels lie where the pair departs by more than `limit` (read at half resolution)."""
    top, bottom, left, right = box
    half = maps.local[top // 2 : (bottom + 1) // 2, left // 2 : (right + 1) // 2] > limit
    full = np.repeat(np.repeat(half, 2, axis=0), 2, axis=1)[top % 2 :, left % 2 :]
    out = np.zeros((bottom - top, right - left), dtype=bool)
    out[: full.shape[0], : full.shape[1]] = full[: bottom - top, : right - left]
    return out


def _bar_where_departing(maps: _Maps, box: Box, limit: float) -> str | None:
    """The side that is one flat fill (with its lettering) where the pair departs, in a tone that neither the
    other side there nor its own surroundings have: a bar laid over a photograph of about its own tone. A
    fill of the tone around it is the page's paper, where another field, note or date was written."""
    departs = _departing(maps, box, limit)
    if int(np.count_nonzero(departs)) < 16:
        return None
    top, bottom, left, right = box
    h, w = maps.a_n.shape
    around_box = (max(0, top - RING), min(h, bottom + RING), max(0, left - RING), min(w, right + RING))
    t, b, le, r = around_box
    # Where the pair departs around the box (more of the same bar) says nothing of the picture's own tone.
    ring = maps.inner[t:b, le:r] & ~_departing(maps, around_box, limit)
    ring[top - t : bottom - t, left - le : right - le] = False
    for x, y, side in ((maps.w_n, maps.a_n, "b"), (maps.a_n, maps.w_n, "a")):
        here, there = x[top:bottom, left:right][departs], y[top:bottom, left:right][departs]
        fill = _fill_and_lettering(here)
        if fill is None or _share_near(there, fill) >= TONE_SHARED:
            continue
        around = x[t:b, le:r][ring]
        if around.size == 0 or _share_near(around, fill) < TONE_SHARED:
            return side
    return None


def _fill_and_lettering(x: np.ndarray) -> float | None:
    """The tone of a fill that, with one other tone (its lettering), covers most of `x`, or None. Where a bar
    departs from the picture under it, its lettering is a large share: at 256 px strokes are a few pixels wide."""
    fill = _mode(x)
    apart = x[np.abs(x - fill) > PLATEAU_APART]
    lettering = _mode(apart) if apart.size else fill
    covered = _share_near(x, fill) + (_share_near(x, lettering) if lettering != fill else 0.0)
    return fill if covered >= PLATEAU_SHARE else None


def _mode(x: np.ndarray) -> float:
    """The tone with the most of `x` within PLATEAU of it."""
    counts, edges = np.histogram(x, bins=max(1, int(np.ptp(x) / (PLATEAU / 4)) + 1))
    window = np.convolve(counts, np.ones(9), mode="same")  # +-PLATEAU around each bin
    i = int(np.argmax(window))
    return float((edges[i] + edges[i + 1]) / 2)


def _share_near(x: np.ndarray, tone: float) -> float:
    return float(np.mean(np.abs(x - tone) < PLATEAU))


def _displaced(maps: _Maps, box: Box) -> bool:
    """The same content a pixel or two away (paper warp, lens distortion, a slightly bent scan): shifting b
    within the box, in half pixels, explains most of the difference, as it never does for another name."""
    top, bottom, left, right = box
    h, w = maps.w_n.shape
    m = SHIFT + 1
    if top < m or left < m or bottom > h - m or right > w - m:
        return False
    a = maps.a_n[top:bottom, left:right]
    around = maps.w_n[top - m : bottom + m, left - m : right + m].astype(np.float64)
    still = float(np.sqrt(np.mean((around[m:-m, m:-m] - a) ** 2)))
    steps = np.arange(-SHIFT, SHIFT + 0.25, 0.5)
    best = min(float(np.sqrt(np.mean((_shifted(around, dy, dx, m) - a) ** 2))) for dy in steps for dx in steps)
    return best <= SHIFT_EXPLAINS * still and best <= SHIFT_RESIDUAL


def _shifted(x: np.ndarray, dy: float, dx: float, m: int) -> np.ndarray:
    """x moved by (dy, dx) with bilinear interpolation, inside a margin of m >= the shift: four slices weighed,
    as `ndimage.shift(x, (dy, dx), order=1)[m:-m, m:-m]` gives at a small fraction of its cost."""
    h, w = x.shape
    iy, ix = math.floor(-dy), math.floor(-dx)
    fy, fx = -dy - iy, -dx - ix

    def at(oy: int, ox: int) -> np.ndarray:
        return x[m + oy : h - m + oy, m + ox : w - m + ox]

    top = (1 - fx) * at(iy, ix) + fx * at(iy, ix + 1) if fx else at(iy, ix)
    if not fy:
        return top
    return (1 - fy) * top + fy * ((1 - fx) * at(iy + 1, ix) + fx * at(iy + 1, ix + 1) if fx else at(iy + 1, ix))


def _plain(x: np.ndarray, where: np.ndarray | None = None) -> bool:
    """No marks: nearly every cell's own contrast is low (most cells where `where` is true, when given)."""
    local = np.sqrt(np.maximum(_box_mean(x * x, CELL) - _box_mean(x, CELL) ** 2, 0))
    if where is None or not where.any():
        return float(np.mean(local < PLAIN)) >= PLAIN_SHARE
    return float(np.mean(local[where] < PLAIN)) >= PLAIN_WHERE_DEPARTING


def _fill(x: np.ndarray) -> float | None:
    """The tone of a flat fill covering most of the box (a bar, or paper), or None."""
    median = float(np.median(x))
    return median if _share_near(x, median) >= PLATEAU_SHARE else None


def _tinted(a: np.ndarray, w: np.ndarray) -> str | None:
    """The side seen through a semi-transparent bar: the same picture, its contrast reduced tone for tone."""
    av, wv = a.ravel().astype(np.float64), w.ravel().astype(np.float64)
    if av.std() < PLAIN or wv.std() < PLAIN:
        return None
    for x, y, side in ((av, wv, "b"), (wv, av, "a")):
        gain, offset = np.polyfit(x, y, 1)
        inliers = np.abs(y - (gain * x + offset)) < PLATEAU
        if float(inliers.mean()) >= TINT_INLIERS and 0 < gain <= TINT_GAIN:
            return side
    return None


def _local_dissimilarity(a_n: np.ndarray, w_n: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """RMS difference of local structure, in units of the image's global contrast.

    Units of global contrast make a changed name or tick on a plain form count heavily (the page is
    mostly paper), while a local tone shift (local mean removed) and finest detail (pre-blur) do not.
    A plain ratio to local contrast separated forms from copies far worse; `_unexplained` instead
    compares each cell's ratio with the pair's typical one.
    """
    d = _box_mean((a_n - w_n).astype(np.float32), PRE_BLUR)  # linear: the blur of the difference
    mask = inner.astype(np.float32)
    weight = np.maximum(_box_mean(mask, CELL), 0.3)

    def smooth(x: np.ndarray) -> np.ndarray:
        return _box_mean(x * mask, CELL) / weight

    var_d = smooth(d * d) - smooth(d) ** 2  # structure only: a local tone shift is not other content
    return np.sqrt(np.maximum(var_d, 0))


def _unexplained(local: np.ndarray, a_n: np.ndarray, w_n: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Local difference beyond what the pair's typical difference per unit of local contrast explains.

    Resampling, scan noise and blur change every stroke a little, so a true copy differs in proportion to
    the ink everywhere; a changed name or tick differs far more than that in one place while all other ink
    matches. The typical ratio is the median over the inkier cells, so a few changed fields barely move it.
    Worked at half resolution: both maps are smooth over a cell, and it halves the cost of a comparison.
    """
    a_h, w_h = _half(a_n), _half(w_n)
    h, w = a_h.shape
    local, inner = local[: 2 * h : 2, : 2 * w : 2], inner[: 2 * h : 2, : 2 * w : 2]
    mask = inner.astype(np.float32)
    weight = np.maximum(_box_mean(mask, HALF_CELL), 0.3)

    def smooth(x: np.ndarray) -> np.ndarray:
        return _box_mean(x * mask, HALF_CELL) / weight

    variance = smooth(a_h * a_h + w_h * w_h) - smooth(a_h) ** 2 - smooth(w_h) ** 2
    contrast = np.sqrt(np.maximum(variance, 0))
    inside = contrast[inner]
    if inside.size == 0:
        return local
    ink = inner & (contrast >= max(float(np.percentile(inside, INK_PERCENTILE)), 1e-3))
    typical = float(np.median(local[ink] / contrast[ink])) if ink.any() else 0.0
    return np.where(inner, np.maximum(local - typical * contrast, 0.0), 0.0)


# --- the decision ---------------------------------------------------------------------------------------


class _Content:
    """One image under one rotation or mirror, with what every comparison of it reads, each computed once:
    where the picture sits (trim box, moments, picture box), its half-resolution level, the phase-correlation
    blocks of both levels and its local features."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        self.trim = trim_box(arr)
        self.moments = _ink_moments(arr, self.trim)

    @functools.cached_property
    def half(self) -> np.ndarray:
        return _half(self.arr)

    @functools.cached_property
    def half_blocks(self) -> _Blocks | None:
        return _blocks(self.half)

    @functools.cached_property
    def full_blocks(self) -> _Blocks | None:  # most look-alikes are rejected before full resolution
        return _blocks(self.arr)

    @functools.cached_property
    def features(self) -> tuple[tuple, np.ndarray | None]:
        """ORB keypoints and their descriptors."""
        orb = cv2.ORB_create(nfeatures=FEATURES, edgeThreshold=15, patchSize=15, fastThreshold=10)
        return orb.detectAndCompute(np.clip(self.arr, 0, 255).astype(np.uint8), None)

    @functools.cached_property
    def picture(self) -> Box:
        """Where the picture lies: inside any mat or letterbox, with the paper's margins (`picture_box`); the
        whole frame when what is left is too thin to compare."""
        top, bottom, left, right = box = picture_box(self.arr)
        h, w = self.arr.shape
        return box if bottom - top >= MIN_SIDE and right - left >= MIN_SIDE else (0, h, 0, w)

    @functools.cached_property
    def spread_box(self) -> tuple[int, int, int, int]:
        """Two spreads either side of the content's centre, inside the trim box: the same part of the picture
        whatever the scale, border or mirroring, where a trim box's edge can hang on one faint mark."""
        if self.moments is None:
            return self.trim
        row, row_spread, col, col_spread = self.moments
        top, bottom = max(self.trim[0], int(row - 2 * row_spread)), min(self.trim[1], math.ceil(row + 2 * row_spread))
        left, right = max(self.trim[2], int(col - 2 * col_spread)), min(self.trim[3], math.ceil(col + 2 * col_spread))
        return (top, bottom, left, right) if bottom - top >= 4 and right - left >= 4 else self.trim


# The version being matched meets each candidate in turn: its renditions (frame, content, detail) under the few
# turns tried stay among these while each candidate passes through.
CONTENTS_KEPT = 24


@functools.lru_cache(maxsize=CONTENTS_KEPT)
def _turned(rendition: Rendition, name: str) -> _Content:
    """A rendition under one rotation or mirror, made ready for comparison once however many pictures it meets;
    its array is read-only, since every comparison shares it."""
    arr = apply_dihedral(rendition.array().astype(np.float32), name)
    arr.flags.writeable = False
    return _Content(arr)


def _transform_scores(a: _Content, b: _Content, names: Sequence[str]) -> list[tuple[float, str]]:
    """Cheap correlation of 24x24 thumbnails under each dihedral transform, the better of two framings: the
    trimmed content, and the content's spread (when a faint mark throws one trim box off, the other holds)."""
    if len(names) == 1:
        return [(1.0, names[0])]
    framings = [
        (_thumb(a.arr, a.trim), _thumb(b.arr, b.trim)),
        (_thumb(a.arr, a.spread_box), _thumb(b.arr, b.spread_box)),
    ]
    scores = [(max(float(np.mean(ta * apply_dihedral(tb, n))) for ta, tb in framings), n) for n in names]
    return sorted(scores, reverse=True)


def _thumb(arr: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    top, bottom, left, right = box
    crop = Image.fromarray(arr[top:bottom, left:right].astype(np.uint8))
    small = np.asarray(crop.resize((THUMB, THUMB), Image.Resampling.BOX), dtype=np.float32)
    return (small - small.mean()) / (small.std() + 1e-3)


def _guesses(a: _Content, b: _Content) -> Iterator[np.ndarray]:
    """Starting maps: frame onto frame, content box onto content box, and content moments onto moments
    (a page in a mat whose faint marks put the two content boxes' edges in different places), then, when
    none of those verified, local features matched with a robust fit (a copy turned several degrees, or
    photographed at a slant, where boxes and moments say nothing of the turn). A map that moves no corner
    of a more than GUESS_APART from one already tried is left out."""
    h, w = a.arr.shape
    corners = np.array([[0, 0, 1], [0, w, 1], [h, 0, 1], [h, w, 1]], dtype=np.float64).T
    tried: list[np.ndarray] = []

    def new(amap: np.ndarray | None) -> bool:
        if amap is None or any(np.abs((amap - known) @ corners).max() <= GUESS_APART for known in tried):
            return False
        tried.append(amap)
        return True

    full = _box_affine((0, a.arr.shape[0], 0, a.arr.shape[1]), (0, b.arr.shape[0], 0, b.arr.shape[1]))
    trimmed = _box_affine(a.trim, b.trim)
    for amap in (full, trimmed, _moments_affine(a.moments, b.moments) if a.moments and b.moments else None):
        if new(amap):
            yield amap
    if new(amap := _features_affine(a, b)):
        yield amap


def _features_affine(a: _Content, b: _Content) -> np.ndarray | None:
    """3x3 map from a (row, col) to b (row, col) from ORB features matched across the two and a RANSAC fit of
    a turn, scale and shift; None when too few features agree."""
    (kp_a, des_a), (kp_b, des_b) = a.features, b.features
    if des_a is None or des_b is None or len(kp_a) < FEATURES_AGREE or len(kp_b) < FEATURES_AGREE:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(des_a, des_b)
    if len(matches) < FEATURES_AGREE:
        return None
    src = np.float32([kp_a[m.queryIdx].pt for m in matches])
    dst = np.float32([kp_b[m.trainIdx].pt for m in matches])
    fit, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if fit is None or int(inliers.sum()) < FEATURES_AGREE:
        return None
    swap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float64)  # (x, y) <-> (row, col)
    amap = swap @ np.vstack([fit.astype(np.float64), [0, 0, 1]]) @ swap
    # Larger turns are the dihedral transforms' to name (a quarter or half turn fitted here would be reported
    # as the transform tried, not as the turn it is).
    return amap if abs(_angle_of(amap)) <= FEATURES_MAX_TURN else None


def meets(verdict: Verdict, strictness: str) -> bool:
    """Re-decide a stored verdict under another preset, from its evidence numbers alone."""
    cmp = _Comparison(verdict.score, verdict.coverage_a, verdict.coverage_b, verdict.local_max_diff)
    return _decide(cmp, PRESETS[strictness])[0]


def _decide(cmp: _Comparison, limits: Thresholds) -> tuple[bool, Reason, dict[str, float]]:
    cov_hi, cov_lo = max(cmp.coverage_a, cmp.coverage_b), min(cmp.coverage_a, cmp.coverage_b)
    if cov_hi < limits.min_coverage:
        return False, Reason.COVERAGE_LOW, {"coverage": round(cov_hi, 4)}
    if cov_lo < limits.min_other_coverage:
        return False, Reason.SMALL_PART, {"coverage": round(cov_lo, 4)}
    if cmp.score < limits.min_score:
        return False, Reason.NOT_ALIKE, {"correlation": round(cmp.score, 4)}
    if cmp.local_max_diff > limits.max_local_diff:
        return False, Reason.REGION_DIFFERS, {"local_difference": round(cmp.local_max_diff, 4)}
    return True, Reason.SAME_AFTER_ALIGNMENT, {}


def verify_pair(
    a: Rendition,
    b: Rendition,
    *,
    strictness: str = "balanced",
    transforms: Sequence[str] | None = None,
    hint: str | None = None,
) -> Verdict:
    """Align b onto a (dihedral transform, scale, shift, slight skew) and check coverage and local differences.

    `transforms` narrows the dihedral transforms tried; by default the two that look most promising on tiny
    thumbnails are aligned fully, and then `hint` (the transform under which the hashes matched), since
    the thumbnails of a text page look much alike under every mirror.
    Where the aligned pair still departs, each place is read (`_read_region`): what one side carries over the
    other is left out; one place of other content on both sides makes a possible duplicate.
    """
    start = time.perf_counter()
    limits = PRESETS[strictness]
    if min(*a.size, *b.size) < MIN_SIDE:
        return _too_small(a, b, start)
    names = list(transforms) if transforms else list(DIHEDRAL)
    content_a, content_b = _turned(a, "identity"), _turned(b, "identity")
    arr_a = content_a.arr
    ranked = _transform_scores(content_a, content_b, names)
    # A second transform is worth aligning only when the thumbnails cannot tell them apart.
    tried = [n for sc, n in ranked[:2] if sc >= ranked[0][0] - SECOND_TRANSFORM_MARGIN]
    # The hint, and the picture as uploaded: a skewed page's thumbnails and hashes can point elsewhere.
    tried += [n for n in dict.fromkeys((hint, "identity")) if n in names and n not in tried]
    best: Verdict | None = None
    coarse_maps: list[np.ndarray] = []
    for name in tried:
        turned_b = _turned(b, name)
        bt, b_half = turned_b.arr, turned_b.half
        pictures = (content_a.picture, turned_b.picture)
        halves = (_halved(pictures[0]), _halved(pictures[1]))
        for guess in _guesses(content_a, turned_b):
            coarse = _align_coarse(content_a, b_half, guess)
            coarse_maps.append(coarse)
            enough = CLEARLY * limits.max_local_diff
            half, half_maps = _compare(content_a.half, b_half, coarse, enough=enough, pictures=halves)
            if _clearly_different(half, limits):
                left_out = _without_regions(content_a.half, b_half, coarse, half, half_maps, limits, enough, halves)
                half = left_out[0] if left_out else half
            if _clearly_different(half, limits):
                continue  # most look-alike candidates end here, at a quarter of the cost
            amap = _align_fine(content_a, bt, coarse)
            cmp, maps = _compare(arr_a, bt, amap, enough=STRICTEST_LOCAL, pictures=pictures)
            ok, reason, params = _decide(cmp, limits)
            verdict = _verdict(ok, reason, params, name, cmp, amap, a, b)
            left_out = None if ok else _without_regions(arr_a, bt, amap, cmp, maps, limits, STRICTEST_LOCAL, pictures)
            if left_out:
                verdict = _read_regions(verdict, left_out, limits, name, amap, a, b)
            if verdict.is_duplicate:
                return _with_time(verdict, start)
            if best is None or _rank(verdict) > _rank(best):
                best = verdict
    if best is None:  # every attempt was rejected at half resolution: report the first at full
        name = tried[0]
        turned_b = _turned(b, name)
        bt = turned_b.arr
        amap = HALF @ coarse_maps[0] @ HALF_INV
        pictures = (content_a.picture, turned_b.picture)
        cmp, _maps = _compare(arr_a, bt, amap, enough=STRICTEST_LOCAL, pictures=pictures)
        best = _verdict(*_decide(cmp, limits), name, cmp, amap, a, b)
    return _with_time(best, start)


def _box_in_b(box: Box, amap: np.ndarray, name: str, b_size: tuple[int, int]) -> Box | None:
    """A box in a, carried by the alignment into b turned by `name`, then turned back to b as uploaded."""
    w, h = b_size
    shape = (w, h) if name in QUARTER_TURNS else (h, w)
    top, bottom, left, right = box
    corners = np.array([[top, left], [top, right], [bottom, left], [bottom, right]], dtype=np.float64)
    rows, cols = _apply(amap, corners).T
    t, b = max(0, int(rows.min())), min(shape[0], math.ceil(rows.max()))
    le, r = max(0, int(cols.min())), min(shape[1], math.ceil(cols.max()))
    if b <= t or r <= le:
        return None
    mask = np.zeros(shape, dtype=bool)
    mask[t:b, le:r] = True
    ys, xs = np.nonzero(apply_dihedral(mask, INVERSE[name]))
    return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


def _rank(v: Verdict) -> tuple[bool, float]:
    """The attempt worth reporting: a possible duplicate first, then the closest to passing."""
    return v.possible, v.score - v.local_max_diff


def _without_regions(
    a: np.ndarray,
    b: np.ndarray,
    amap: np.ndarray,
    cmp: _Comparison,
    maps: _Maps | None,
    limits: Thresholds,
    enough: float,
    pictures: tuple[Box, Box],
) -> tuple[_Comparison, list[Region]] | None:
    """The comparison again with the places where the pair departs left out, and those places read; None
    when the pair is not aligned well enough for them to explain the rest, or departs too widely."""
    if maps is None or not _may_be_overlaid(cmp, maps, limits):
        return None
    regions = _regions(maps, limits.max_local_diff)
    if not regions:
        return None
    again, _maps = _compare(a, b, amap, enough=enough, exclude=[r.box for r in regions], pictures=pictures)
    return again, regions


def _read_regions(
    verdict: Verdict,
    left_out: tuple[_Comparison, list[Region]],
    limits: Thresholds,
    name: str,
    amap: np.ndarray,
    a: Rendition,
    b: Rendition,
) -> Verdict:
    """One picture when every departing place is something one side (always the same side) carries over the
    other; a possible duplicate when one or two compact places show other content on both sides, or each side
    carries something the other lacks; otherwise the verdict stands."""
    again, regions = left_out
    if not _decide(again, limits)[0]:
        return verdict
    regions = [replace(r, box_b=_box_in_b(r.box, amap, name, b.size)) for r in regions]
    content = [r for r in regions if r.kind == "content"]
    carriers = {r.carrier for r in regions if r.carrier}
    if len(carriers) > 1:  # each side carries something the other lacks: other content on both sides
        content = [r for r in regions if r.carrier]
    if not content:
        reason = Reason.SAME_WITH_OVERLAY if any(r.carrier for r in regions) else Reason.SAME_AFTER_ALIGNMENT
        accepted = _verdict(True, reason, {}, name, again, amap, a, b)
        return replace(accepted, regions=tuple(regions), region=regions[0].box)
    area = sum((bottom - top) * (right - left) for top, bottom, left, right in (r.box for r in content))
    if len(content) <= 2 and area <= POSSIBLE_MAX_AREA * a.size[0] * a.size[1]:
        return replace(
            verdict,
            possible=True,
            regions=tuple(regions),
            region=content[0].box,
            reason=Reason.POSSIBLE_OVERLAY,
            reason_params={},
        )
    return verdict


def _too_small(a: Rendition, b: Rendition, start: float) -> Verdict:
    verdict = Verdict(False, "different", "identity", 0.0, 0.0, 0.0, 0.0, 9.0, 1.0, Reason.TOO_SMALL)
    return _with_time(verdict, start)


def _may_be_overlaid(cmp: _Comparison, maps: _Maps, limits: Thresholds) -> bool:
    """Aligned well enough (one side covered nearly entirely, and broadly alike or alike in most places) that
    what one side carries over the other may explain the rest. A dark bar across a white page carries most of
    the page's contrast, so the whole frame's correlation says little; the share of places that match does."""
    if max(cmp.coverage_a, cmp.coverage_b) < OVERLAY_MIN_COVERAGE:
        return False
    if cmp.score >= OVERLAY_MIN_SCORE:
        return True
    inner = maps.inner[: 2 * maps.local.shape[0] : 2, : 2 * maps.local.shape[1] : 2]
    compared = maps.local[inner[: maps.local.shape[0], : maps.local.shape[1]]]
    return compared.size > 0 and float(np.mean(compared <= limits.max_local_diff)) >= OVERLAY_MIN_MATCHING


def _clearly_different(cmp: _Comparison, limits: Thresholds) -> bool:
    """Far outside the limits at half resolution, where fine misalignment cannot explain it."""
    return (
        max(cmp.coverage_a, cmp.coverage_b) < limits.min_coverage - 0.06
        or cmp.score < limits.min_score - 0.15
        or cmp.local_max_diff > CLEARLY * limits.max_local_diff
    )


def _verdict(
    ok: bool,
    reason: Reason,
    params: dict[str, float],
    name: str,
    cmp: _Comparison,
    amap: np.ndarray,
    a: Rendition,
    b: Rendition,
) -> Verdict:
    kind = "different"
    if ok:
        same_size = a.size == b.size and name == "identity"
        identical = same_size and bool(np.abs(a.array().astype(np.int16) - b.array()).max() <= 1)
        kind = "same_pixels" if identical else ("near" if name == "identity" else "rotated")
    return Verdict(
        is_duplicate=ok,
        kind=kind,
        transform=name,
        score=round(cmp.score, 4),
        coverage=round(max(cmp.coverage_a, cmp.coverage_b), 4),
        coverage_a=round(cmp.coverage_a, 4),
        coverage_b=round(cmp.coverage_b, 4),
        local_max_diff=round(cmp.local_max_diff, 4),
        scale=round(_scale_of(amap), 4),
        reason=reason,
        reason_params=params,
        alignment=_rows_of(amap),
    )


def _with_time(v: Verdict, start: float) -> Verdict:
    return replace(v, elapsed_ms=round((time.perf_counter() - start) * 1000, 2))
