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
    small = _fit(preview, THUMB_SMALL)
    grey_source = small if RENDITION_SIDE == THUMB_SMALL else _fit(preview, RENDITION_SIDE)
    grey = grey_source.convert("L")
    return grey, {THUMB_SMALL: _jpeg(small), THUMB_PREVIEW: _jpeg(preview)}


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
    top, left = 0, 0
    for _ in range(2):  # a mat first, then the paper's margins inside it
        t, b, lft, r = trim_box(np.asarray(page), CONTENT_MIN_SHARE)
        if (t, b, lft, r) == (0, page.height, 0, page.width):
            break
        page, top, left = page.crop((lft, t, r, b)), top + t, left + lft
    box = (top / height, (top + page.height) / height, left / width, (left + page.width) / width)
    return _fit(page, DETAIL_SIDE), box
