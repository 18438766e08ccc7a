"""Where the content sits inside its borders: frames of several bands, gradient mats, lines printed on the paper."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dedup.imaging.borders import picture_box, trim_box
from dedup.imaging.compare import compare_pair, fingerprint_side
from dedup.imaging.fingerprint import fingerprint_file
from tests.images import encode
from tests.pictures import make_document_page, make_photo, random_layout

CONTENT = (40, 160, 30, 130)  # (top, bottom, left, right) of the picture in the 200 x 160 frames below


def _framed(bands: list[tuple[int, int]], *, gradient: bool = False) -> np.ndarray:
    """A textured picture inside bands of (width, tone), outermost first; the innermost band reaches it."""
    frame = np.zeros((200, 160), np.float32)
    depth = 0
    for width, tone in bands:
        frame[depth : 200 - depth, depth : 160 - depth] = tone
        depth += width
    if gradient:  # a ramp of 40 levels from left to right across the whole mat
        frame += np.linspace(-20, 20, 160, dtype=np.float32)[None, :]
    top, bottom, left, right = CONTENT
    frame[top:bottom, left:right] = np.random.default_rng(3).integers(0, 255, (bottom - top, right - left))
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_a_frame_band_a_bevel_line_and_a_mat_of_other_tones_are_peeled_to_the_picture() -> None:
    assert trim_box(_framed([(8, 60), (2, 240), (40, 190)])) == CONTENT


def test_a_gradient_mat_is_peeled_to_the_picture() -> None:
    assert trim_box(_framed([(30, 150)], gradient=True)) == CONTENT


def test_the_picture_inside_a_mat_is_the_trim_box() -> None:
    assert picture_box(_framed([(8, 60), (40, 190)])) == CONTENT


def test_a_page_in_a_mat_keeps_its_paper_margin_in_the_picture() -> None:
    # Mat, then paper, then text: the mat is left out, the paper's margin is part of the page.
    page = np.full((200, 160), 90, np.uint8)
    page[20:180, 15:145] = 250
    page[50:150:8, 35:125] = 0  # lines of text
    assert trim_box(page)[0] > 20
    assert picture_box(page) == (20, 180, 15, 145)


def test_a_band_along_one_side_only_stays_in_the_picture() -> None:
    # A caption bar across the foot of a photo, or a flat wall at its left: neither is a mat.
    frame = np.random.default_rng(4).integers(0, 255, (200, 160)).astype(np.uint8)
    frame[170:] = 30
    assert trim_box(frame)[1] == 170
    assert picture_box(frame) == (0, 200, 0, 160)


def test_a_line_printed_on_the_paper_is_content_not_a_band() -> None:
    # A form's outline: paper, a line, the same paper again inside it. Peeling stops at the line.
    page = np.full((200, 160), 250, np.uint8)
    ImageDraw.Draw(im := Image.fromarray(page)).rectangle((10, 12, 149, 187), outline=60, width=2)
    page = np.asarray(im).copy()
    page[60:64, 40:120] = 0  # a word inside
    assert trim_box(page) == (12, 188, 10, 150)


def _in_a_two_tone_frame(img: Image.Image) -> Image.Image:
    """A wooden frame band, a cream mat of about a third of the frame, a light bevel round the picture."""
    w, h = img.size
    pad_x, pad_y = w // 2, h // 2
    canvas = Image.new("RGB", (w + 2 * pad_x, h + 2 * pad_y), (238, 230, 210))
    draw = ImageDraw.Draw(canvas)
    band = min(pad_x, pad_y) // 3
    for i in range(band):  # lit from one side, as a moulding is
        shade = 0.75 + 0.35 * i / band
        draw.rectangle(
            (i, i, canvas.width - 1 - i, canvas.height - 1 - i), outline=tuple(int(v * shade) for v in (120, 30, 30))
        )
    draw.rectangle((pad_x - 3, pad_y - 3, pad_x + w + 2, pad_y + h + 2), outline=(250, 248, 240), width=3)
    canvas.paste(img, (pad_x, pad_y))
    return canvas


@pytest.mark.parametrize("content", ["page", "photo"])
def test_a_picture_in_a_two_tone_frame_verifies_against_the_picture_alone(content: str) -> None:
    rng = np.random.default_rng(21)
    img = make_document_page(rng, random_layout(rng), 4) if content == "page" else make_photo(rng, (640, 480))
    alone = fingerprint_side(fingerprint_file(io.BytesIO(encode(img, "PNG"))))
    framed = fingerprint_side(fingerprint_file(io.BytesIO(encode(_in_a_two_tone_frame(img), "PNG"))))
    assert framed.content is not None  # the picture inside the frame, for the pair to be judged on
    result = compare_pair(alone, framed, strictness="balanced")
    assert result.is_duplicate, result.evidence["reason"]
