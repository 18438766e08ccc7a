"""The submitted copy and a stored version as two pictures lined up the way verification aligned them."""

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from dedup.imaging.dihedral import PIL_TRANSPOSE

PANEL = 480  # px; the longer side of each picture on the page and in the PDF
OUTLINE = (214, 40, 40)
SAME_SHAPE = 0.03  # aspect ratios this close: the region found on one side sits at the same place on the other


@dataclass(frozen=True)
class PicturePair:
    submitted: bytes  # JPEG, turned and mirrored to stand as the stored version does
    stored: bytes  # JPEG
    outlined: bool  # a differing region is drawn on the pictures


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def _fit(image: Image.Image) -> Image.Image:
    image = image.copy()
    image.thumbnail((PANEL, PANEL), Image.Resampling.LANCZOS)
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _outline(image: Image.Image, region: tuple[float, float, float, float]) -> None:
    """Draw (top, bottom, left, right), given as shares of the picture's height and width."""
    top, bottom, left, right = region
    w, h = image.size
    width = max(2, round(min(w, h) / 120))
    ImageDraw.Draw(image).rectangle(
        (left * w, top * h, max(left * w, right * w - 1), max(top * h, bottom * h - 1)), outline=OUTLINE, width=width
    )


def picture_pair(
    *,
    submitted_preview: bytes,
    stored_preview: bytes,
    transform: str = "identity",
    region: list[int] | None = None,
    rendition_size: tuple[int, int] | None = None,
) -> PicturePair:
    """Both previews fitted to one size, the submitted one under `transform` (the rotation or mirror that
    turns it into the stored one, as verification found), and `region` (top, bottom, left, right in the
    stored rendition's pixels, the part that differs) outlined on both when they have the same shape."""
    submitted, stored = _open(submitted_preview), _open(stored_preview)
    if (turn := PIL_TRANSPOSE.get(transform)) is not None:
        submitted = submitted.transpose(turn)
    submitted, stored = _fit(submitted), _fit(stored)
    outlined = False
    if region and rendition_size and all(rendition_size):
        rw, rh = rendition_size
        shares = (region[0] / rh, region[1] / rh, region[2] / rw, region[3] / rw)
        _outline(stored, shares)
        outlined = True
        if abs(submitted.width / submitted.height - stored.width / stored.height) <= SAME_SHAPE:
            _outline(submitted, shares)
    return PicturePair(_jpeg(submitted), _jpeg(stored), outlined)
