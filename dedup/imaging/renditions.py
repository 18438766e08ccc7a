"""The greyscale rendition verification compares and the two JPEG thumbnails people see."""

import io

import numpy as np
from PIL import Image

from dedup.imaging.borders import trim_box

Box = tuple[float, float, float, float]

RENDITION_SIDE = 256
THUMB_SMALL = 256
THUMB_PREVIEW = 1024
_JPEG_QUALITY = 85
# Content filling less of the frame than this (a page in a wide mat, a letterboxed photo) gets a rendition of
# its own, cut from the preview, so verification compares text at a size where its strokes survive.
CONTENT_RENDITION_BELOW = 0.6
CONTENT_MIN_SHARE = 0.1  # of each side: narrower content in a uniform frame is a detail on a blank page
# A page of text or a form holds its differences (one field, one date) in strokes a few pixels tall at
# RENDITION_SIDE; verification reads such pictures a second time at this size, cut to what the paper carries.
DETAIL_SIDE = 640
# Paper kept round the print, as a share of the longest side: verification leaves out a few pixels at a
# rendition's edge, and a note or date written out to the edge of the print would be left out with them.
DETAIL_PAD = 0.015
PAPER_TOLERANCE = 24  # grey levels from the paper's tone
PAPER_SHARE = 0.5  # of the picture: blank paper at least this share makes a page
PAPER_TONE = 140  # paper is lighter than this (a scan of a white or cream sheet)


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


def renditions(display: Image.Image) -> tuple[Image.Image, dict[int, bytes]]:
    """The greyscale rendition and both JPEG thumbnails, each resized from the one before."""
    # Bicubic, as Image.thumbnail uses, for the big preview; Lanczos for what verification compares.
    preview = _fit(display, THUMB_PREVIEW, Image.Resampling.BICUBIC)
    grey, small = _small(preview)
    return grey, {THUMB_SMALL: _jpeg(small), THUMB_PREVIEW: _jpeg(preview)}


def reduced_renditions(display: Image.Image, preview_size: tuple[int, int]) -> tuple[Image.Image, dict[int, bytes]]:
    """From a decode reduced below preview size: the greyscale rendition and the small thumbnail alone, at the
    size `renditions` gives a display of `preview_size` (rounding differs between the two chains)."""
    size = _fit_size(_fit_size(preview_size, THUMB_PREVIEW), THUMB_SMALL)
    factor = min(display.width // size[0], display.height // size[1])
    small = display.reduce(factor) if factor > 1 else display
    small = small if small.size == size else small.resize(size, Image.Resampling.LANCZOS)
    grey = small if RENDITION_SIDE == THUMB_SMALL else _fit(display, RENDITION_SIDE)
    return grey.convert("L"), {THUMB_SMALL: _jpeg(small)}


def _fit_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size `_fit` gives an image of `size`."""
    if max(size) <= side:
        return size
    factor = max(size) // side
    if factor > 1:
        size = ((size[0] + factor - 1) // factor, (size[1] + factor - 1) // factor)
    return _fitted_size(size, side)


def preview_thumbnail(display: Image.Image) -> bytes:
    """The JPEG preview of a preview-sized decode, as `renditions` makes it."""
    return _jpeg(_fit(display, THUMB_PREVIEW, Image.Resampling.BICUBIC))


def _small(source: Image.Image) -> tuple[Image.Image, Image.Image]:
    small = _fit(source, THUMB_SMALL)
    grey_source = small if RENDITION_SIDE == THUMB_SMALL else _fit(source, RENDITION_SIDE)
    return grey_source.convert("L"), small


# How far short of the thresholds a rendition from a reduced decode may fall and still be decoded again at
# preview size: its pixels differ a little from the preview decode's, which then decides exactly. Set on the
# JPEGs of a bench.dataset set (seed 5): no picture with a content or detail rendition was missed.
_NEAR_SHARE = 0.05
_NEAR_TONE = 5
_PAPER_SHIFTS = (-6, -3, 0, 3, 6)  # a page's 90th-percentile tone moves a few levels with the decode scale


def may_need_preview(grey: Image.Image) -> bool:
    """Whether a picture might have a content or detail rendition (a mat, a letterbox, a page), judged leniently
    on its rendition: those are cut from a preview-sized decode, so a picture decoded smaller is decoded again."""
    small = np.asarray(grey)
    whole = (0, grey.height, 0, grey.width)
    boxes = {trim_box(small, CONTENT_MIN_SHARE), trim_box(small, CONTENT_MIN_SHARE * 0.9), whole}
    frame = grey.width * grey.height
    if any((b - t) * (r - lft) < (CONTENT_RENDITION_BELOW + _NEAR_SHARE) * frame for t, b, lft, r in boxes):
        return True
    return any(_near_page(small[t:b, lft:r]) for t, b, lft, r in boxes)


def _near_page(grey: np.ndarray) -> bool:
    paper = float(np.percentile(grey, 90))
    if paper < PAPER_TONE - _NEAR_TONE:
        return False
    signed = grey.astype(np.int16)
    blank = max(float(np.mean(np.abs(signed - (paper + shift)) <= PAPER_TOLERANCE)) for shift in _PAPER_SHIFTS)
    return blank >= PAPER_SHARE - _NEAR_SHARE


def content_rendition(display: Image.Image, grey: Image.Image) -> Image.Image | None:
    """The content inside a wide mat or letterbox, greyscale, longest side RENDITION_SIDE; None without one.

    Decided on the small rendition (cheap), cut from the display image at the largest size available.
    """
    top, bottom, left, right = trim_box(np.asarray(grey), CONTENT_MIN_SHARE)
    if (bottom - top) * (right - left) >= CONTENT_RENDITION_BELOW * grey.width * grey.height:
        return None
    page = _fit(display, THUMB_PREVIEW, Image.Resampling.BICUBIC).convert("L")
    top, bottom, left, right = trim_box(np.asarray(page), CONTENT_MIN_SHARE)
    return _fit(page.crop((left, top, right, bottom)), RENDITION_SIDE)


def is_page(grey: np.ndarray) -> bool:
    """Mostly blank paper of one light tone: a text page, a letter or a form, not a photograph."""
    paper = float(np.percentile(grey, 90))
    blank = float(np.mean(np.abs(grey.astype(np.int16) - paper) <= PAPER_TOLERANCE))
    return paper >= PAPER_TONE and blank >= PAPER_SHARE


def detail_rendition(display: Image.Image, grey: Image.Image) -> tuple[Image.Image, Box] | None:
    """For a page: what the paper carries, inside any mat and the paper's own blank margins, greyscale, longest
    side DETAIL_SIDE, from the preview-sized decode, with where it was cut (top, bottom, left, right as shares
    of the frame); None for a picture that is not a page."""
    small = np.asarray(grey)
    top, bottom, left, right = trim_box(small, CONTENT_MIN_SHARE)
    if not is_page(small[top:bottom, left:right]):  # the paper inside a mat, however wide the mat
        return None
    page = _fit(display, THUMB_PREVIEW, Image.Resampling.BICUBIC).convert("L")
    width, height = page.size
    top, bottom, left, right = trim_box(np.asarray(page), CONTENT_MIN_SHARE)  # any mat, then the paper's margins
    if (top, bottom, left, right) != (0, height, 0, width):
        pad = round(DETAIL_PAD * max(width, height))
        top, left = max(0, top - pad), max(0, left - pad)
        bottom, right = min(height, bottom + pad), min(width, right + pad)
        page = page.crop((left, top, right, bottom))
    return _fit(page, DETAIL_SIDE), (top / height, bottom / height, left / width, right / width)
