"""A turned copy set upright again, so the index can find a skewed rescan or a photographed print by its hash.

Two ways, as the picture allows: a page's lines of ink are level when the rows of ink are most unequal (the
projection profile document scanners use to deskew); a picture on a scanner bed or inside a fill is the
largest patch unlike the bed, and its smallest enclosing rectangle gives the turn.
"""

import cv2
import numpy as np

from dedup.imaging.renditions import PAPER_TOLERANCE

INK_BELOW_PAPER = 60  # grey levels darker than the paper: print, handwriting, lines of a form
BED_TOLERANCE = 10  # grey levels from the bed's colour (the frame's edge), as borders.TRIM_TOL
# Turns tried on a page, coarse then fine around the best: rescans and photographed prints lean up to ~10 degrees.
COARSE_TURNS = np.arange(-12.0, 12.01, 1.5)
FINE_STEP = 0.25
# A picture turned less than this is upright already; more than MAX_TURN is not a skew but a rotation.
MIN_TURN, MAX_TURN = 0.7, 15.0
FILLS_FRAME = 0.97  # share of the frame unlike its edge: a picture filling it has no bed to be turned on
MIN_INK = 30  # pixels of ink: fewer are a mark or two, no lines to level
MIN_SIDE = 16  # pixels: a smaller straightened patch holds too little to hash
_SOLID = np.ones((7, 7), np.uint8)
_EDGE = np.ones((11, 11), np.uint8)


def _turned(pixels: np.ndarray, degrees: float, fill: int, nearest: bool = False) -> np.ndarray:
    height, width = pixels.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.warpAffine(pixels, matrix, (width, height), flags=flags, borderValue=fill)


def _largest_patch(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The largest connected patch of the mask with its holes filled (text on a page, the inside of a print),
    and its outline's points."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return None
    largest = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    outline, _ = cv2.findContours(largest, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(largest)
    cv2.drawContours(filled, outline, -1, 1, thickness=-1)
    return filled, np.concatenate(outline)


def _level_turn(ink: np.ndarray) -> float:
    """The turn that makes lines of ink level: the one whose row sums vary most."""

    def spread(degrees: float) -> float:
        return float(np.var(_turned(ink, degrees, 0, nearest=True).sum(axis=1, dtype=np.float64)))

    coarse = max(COARSE_TURNS, key=spread)
    fine = np.arange(coarse - 1.5, coarse + 1.51, FINE_STEP)
    return float(max(fine, key=spread))


def straightened_page(grey: np.ndarray) -> np.ndarray | None:
    """What a page's ink covers, levelled: the same block of print whether the sheet was scanned straight, at a
    slant, on a dark bed or smaller in the frame. None when the page carries too little ink to level."""
    paper = float(np.percentile(grey, 90))
    signed = grey.astype(np.int16)
    blank = cv2.morphologyEx((np.abs(signed - paper) <= PAPER_TOLERANCE).astype(np.uint8), cv2.MORPH_CLOSE, _SOLID)
    found = _largest_patch(blank)
    if found is None:
        return None
    # The sheet's edge, blended with the bed by the downscale and widened by the closing, is not ink; nor is
    # where the sheet runs off the frame (eroded as if the frame were bed).
    sheet = cv2.erode(found[0], _EDGE, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    ink = ((signed < paper - INK_BELOW_PAPER) & (sheet > 0)).astype(np.uint8)
    if ink.sum() < MIN_INK:
        return None
    turn = _level_turn(ink)
    level = _turned(grey, turn, int(paper))
    rows, cols = np.nonzero(_turned(ink, turn, 0, nearest=True))
    if rows.size < MIN_INK:  # the turn carried the ink off the frame
        return None
    # The outermost half percent of ink is dust or a speck at the sheet's edge, not the block of print.
    top, bottom = np.percentile(rows, [0.5, 99.5]).astype(int)
    left, right = np.percentile(cols, [0.5, 99.5]).astype(int)
    block = level[top : bottom + 1, left : right + 1]
    return block if min(block.shape) >= MIN_SIDE else None


def straightened_picture(grey: np.ndarray) -> np.ndarray | None:
    """A picture lying at a slant on a bed or inside a fill, turned upright and cut from it; None when it is
    upright already, fills its frame, or leans more than MAX_TURN."""
    ring = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    bed = float(np.median(ring))
    unlike = (np.abs(grey.astype(np.int16) - bed) > BED_TOLERANCE).astype(np.uint8)
    if unlike.mean() > FILLS_FRAME:  # no bed around it to lean against
        return None
    found = _largest_patch(cv2.morphologyEx(unlike, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)))
    if found is None:
        return None
    (centre_x, centre_y), (width, height), degrees = cv2.minAreaRect(found[1])
    while degrees <= -45:  # OpenCV's angle convention differs across versions: bring it within +-45
        degrees, width, height = degrees + 90, height, width
    while degrees > 45:
        degrees, width, height = degrees - 90, height, width
    if not MIN_TURN <= abs(degrees) <= MAX_TURN:
        return None
    matrix = cv2.getRotationMatrix2D((centre_x, centre_y), degrees, 1.0)
    level = cv2.warpAffine(grey, matrix, grey.shape[::-1], flags=cv2.INTER_LINEAR, borderValue=int(bed))
    top, left = max(0, int(centre_y - height / 2 + 1)), max(0, int(centre_x - width / 2 + 1))
    block = level[top : int(centre_y + height / 2 - 1), left : int(centre_x + width / 2 - 1)]
    return block if min(block.shape) >= MIN_SIDE else None
