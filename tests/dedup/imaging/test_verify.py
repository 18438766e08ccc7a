"""Pair verification: real copies join, look-alikes (bursts, pages, forms, crops) do not."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from dedup.imaging.compare import compare_pair, fingerprint_side, likely_transform
from dedup.imaging.fingerprint import Fingerprint as FileFingerprint
from dedup.imaging.fingerprint import fingerprint_file
from dedup.imaging.verify import Rendition, _shifted, verify_pair
from tests.pictures import (
    border,
    caption,
    make_document_page,
    make_form,
    make_photo,
    random_form_template,
    random_form_values,
    random_layout,
    rescan,
)


def rendition(img: Image.Image) -> Rendition:
    """As the fingerprint contract makes it: greyscale, longest side 256."""
    grey = img.convert("L")
    grey.thumbnail((256, 256), Image.Resampling.LANCZOS)
    return Rendition.from_array(np.asarray(grey))


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return make_photo(np.random.default_rng(11), (720, 540))


def test_a_half_size_copy_verifies_as_near(photo: Image.Image) -> None:
    small = photo.resize((360, 270), Image.Resampling.LANCZOS)
    verdict = verify_pair(rendition(photo), rendition(small))
    assert verdict.is_duplicate and verdict.kind == "near"


def test_a_copy_rotated_90_degrees_verifies_and_names_the_rotation(photo: Image.Image) -> None:
    verdict = verify_pair(rendition(photo), rendition(photo.transpose(Image.Transpose.ROTATE_90)))
    assert verdict.is_duplicate and verdict.kind == "rotated"
    assert verdict.transform == "rot270"  # what turns b back into a


def test_a_mirrored_copy_verifies(photo: Image.Image) -> None:
    verdict = verify_pair(rendition(photo), rendition(photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    assert verdict.is_duplicate and verdict.transform == "flip_h"


def test_a_copy_with_a_border_verifies(photo: Image.Image) -> None:
    bordered = border(np.random.default_rng(1), photo)
    assert verify_pair(rendition(photo), rendition(bordered)).is_duplicate


@pytest.mark.parametrize("colour", [(255, 255, 255), (40, 40, 40), (200, 190, 170)])
def test_a_cropped_copy_in_a_narrow_mat_verifies(photo: Image.Image, colour: tuple[int, int, int]) -> None:
    # Cropped by 4 % of each side, then matted: neither frame covers the other, but the copy's picture lies
    # wholly inside the original, and the mat asks for no cover.
    w, h = photo.size
    cropped = photo.crop((int(0.04 * w), int(0.04 * h), int(0.96 * w), int(0.96 * h)))
    pad = int(0.07 * max(w, h))
    matted = Image.new("RGB", (cropped.width + 2 * pad, cropped.height + 2 * pad), colour)
    matted.paste(cropped, (pad, pad))
    verdict = verify_pair(rendition(photo), rendition(matted))
    assert verdict.is_duplicate, verdict.reason


def test_a_copy_with_a_caption_in_a_corner_verifies(photo: Image.Image) -> None:
    captioned = caption(np.random.default_rng(2), photo)
    assert verify_pair(rendition(photo), rendition(captioned)).is_duplicate


def test_a_quarter_turned_copy_verifies_against_a_captioned_copy(photo: Image.Image) -> None:
    turned = photo.transpose(Image.Transpose.ROTATE_90)
    captioned = caption(np.random.default_rng(2), photo)  # the caption runs down the turned copy's height
    verdict = verify_pair(rendition(turned), rendition(captioned))
    assert verdict.is_duplicate and verdict.transform == "rot90"


def test_naming_the_transform_gives_the_verdict_that_ranking_all_transforms_finds(photo: Image.Image) -> None:
    a, b = rendition(photo), rendition(photo.transpose(Image.Transpose.ROTATE_270).resize((300, 400)))
    ranked, named = verify_pair(a, b), verify_pair(a, b, transforms=["rot90"])  # rot90 turns b back into a
    assert replace(ranked, elapsed_ms=0) == replace(named, elapsed_ms=0)
    assert named.is_duplicate and named.transform == "rot90"


def test_identical_renditions_are_reported_as_same_pixels(photo: Image.Image) -> None:
    verdict = verify_pair(rendition(photo), rendition(photo.copy()))
    assert verdict.is_duplicate and verdict.kind == "same_pixels" and verdict.coverage == pytest.approx(1.0)


def test_two_burst_shots_of_one_scene_are_not_duplicates() -> None:
    scene = make_photo(np.random.default_rng(5), (800, 600))
    first = scene.crop((20, 20, 740, 560))
    arr = np.asarray(scene.crop((50, 38, 770, 578)), dtype=np.float32) * 1.1  # camera moved, brighter
    second = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    assert not verify_pair(rendition(first), rendition(second)).is_duplicate


def test_two_crops_of_one_photo_are_not_duplicates() -> None:
    big = make_photo(np.random.default_rng(6), (1000, 800))
    left, right = big.crop((0, 0, 820, 660)), big.crop((180, 140, 1000, 800))
    assert not verify_pair(rendition(left), rendition(right)).is_duplicate


def test_one_form_filled_with_two_different_names_is_not_a_duplicate() -> None:
    rng = np.random.default_rng(8)
    template = random_form_template(rng)
    values = random_form_values(rng, template)
    first = make_form(template, {**values, "Name": "Chan Tai-man"})
    second = make_form(template, {**values, "Name": "Wong Siu-fong"})
    assert not verify_pair(rendition(first), rendition(second)).is_duplicate


def fingerprinted(img: Image.Image) -> Rendition:
    """The rendition ingest stores, from a PNG of img: its reduced decode blurs thin lines unlike LANCZOS."""
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    fp = fingerprint_file(buf)
    return Rendition(fp.rendition, tuple(fp.rendition_size))


def two_filled_forms(seed: int) -> tuple[Image.Image, Image.Image]:
    rng = np.random.default_rng(seed)
    template = random_form_template(rng)
    values = random_form_values(rng, template)
    return make_form(template, {**values, "Name": "Chan Tai-man"}), make_form(
        template, {**values, "Name": "Wong Siu-fong"}
    )


def half_size(img: Image.Image) -> Image.Image:
    return img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS)


def test_a_form_saved_at_half_size_verifies_although_every_thin_line_renders_differently() -> None:
    form, _ = two_filled_forms(6)
    assert verify_pair(fingerprinted(form), fingerprinted(half_size(form))).is_duplicate


def test_a_rescanned_form_verifies_despite_skew_noise_and_a_new_exposure() -> None:
    form, _ = two_filled_forms(0)
    assert verify_pair(fingerprinted(form), fingerprinted(rescan(np.random.default_rng(0), form))).is_duplicate


def test_a_half_size_copy_of_the_form_filled_with_another_name_is_not_a_duplicate() -> None:
    form, other = two_filled_forms(6)
    assert not verify_pair(fingerprinted(form), fingerprinted(half_size(other))).is_duplicate


def test_two_pages_of_one_document_are_not_duplicates() -> None:
    rng = np.random.default_rng(9)
    layout = random_layout(rng)
    page1, page2 = make_document_page(rng, layout, 1), make_document_page(rng, layout, 2)
    assert not verify_pair(rendition(page1), rendition(page2)).is_duplicate


def page_in_a_mat(seed: int) -> tuple[FileFingerprint, FileFingerprint]:
    """A document page (odd seeds) or a filled form, and the same page framed or letterboxed by a mat."""
    rng = np.random.default_rng(seed)
    if seed % 2:
        page = make_document_page(rng, random_layout(rng), int(rng.integers(1, 300)))
    else:
        template = random_form_template(rng)
        page = make_form(template, random_form_values(rng, template))
    return fingerprint_png(page), fingerprint_png(border(rng, page))


def fingerprint_png(img: Image.Image) -> FileFingerprint:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    buf.seek(0)
    return fingerprint_file(buf)


def as_rendition(fp: FileFingerprint) -> Rendition:
    return Rendition(fp.rendition, tuple(fp.rendition_size))


@pytest.mark.parametrize("seed", [5, 37])
def test_a_page_in_a_mat_verifies_under_the_transform_its_hashes_matched(seed: int) -> None:
    # Thumbnails of a text page look alike under every mirror, so ranking alone tries the wrong ones.
    page, framed = page_in_a_mat(seed)
    assert likely_transform(page, framed) == "identity"
    verdict = verify_pair(as_rendition(page), as_rendition(framed), hint=likely_transform(page, framed))
    assert verdict.is_duplicate
    assert verdict.transform == "identity"


@pytest.mark.parametrize("seed", [4, 6])
def test_a_form_in_a_mat_verifies_from_the_content_inside_the_mat(seed: int) -> None:
    # In the whole frame the form is a few dozen pixels of print: the pair is judged on what the mat holds.
    page, framed = page_in_a_mat(seed)
    assert framed.content_size[0]
    assert compare_pair(fingerprint_side(page), fingerprint_side(framed), strictness="balanced").is_duplicate


def caption_bar(
    img: Image.Image, width: float, height: float, corner: str, alpha: float, colour: tuple[int, int, int] | None = None
) -> Image.Image:
    """A credit bar with text laid over one corner, as a press copy carries it; dark unless `colour` is given."""
    w, h = img.size
    bw, bh = int(w * width), int(h * height)
    x, y = (0 if "l" in corner else w - bw), (0 if "t" in corner else h - bh)
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rectangle((x, y, x + bw, y + bh), fill=(*(colour or (20, 20, 20)), int(255 * alpha)))
    draw.text((x + 8, y + bh // 3), "Photo: Hong Kong Museum of History, 2024", fill=(255, 255, 255, 255))
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


@pytest.mark.parametrize(
    ("width", "height", "corner", "alpha"),
    [(0.3, 0.08, "tl", 1.0), (0.45, 0.1, "br", 0.5), (0.6, 0.15, "bl", 1.0), (1.0, 0.1, "tr", 0.5)],
)
def test_a_photo_with_a_caption_bar_laid_over_an_edge_verifies_and_names_the_region(
    photo: Image.Image, width: float, height: float, corner: str, alpha: float
) -> None:
    original = rendition(photo)
    verdict = verify_pair(original, rendition(caption_bar(photo, width, height, corner, alpha)))
    assert verdict.is_duplicate, verdict.reason
    w, h = original.size
    bar_top, bar_bottom = (0, height * h) if "t" in corner else (h - height * h, h)
    bar_left, bar_right = (0, width * w) if "l" in corner else (w - width * w, w)
    for region in verdict.regions:  # left out as laid over, rather than within the usual tolerance
        top, bottom, left, right = region.box
        assert region.carrier == "b"
        assert top < bar_bottom and bottom > bar_top and left < bar_right and right > bar_left


@pytest.mark.parametrize(("corner", "width"), [("tr", 0.3), ("br", 0.3), ("br", 0.5)])
def test_a_caption_bar_in_the_tone_of_the_photo_under_it_verifies(
    photo: Image.Image, corner: str, width: float
) -> None:
    w, h = photo.size
    bw, bh = int(w * width), h // 8
    x, y = (0 if "l" in corner else w - bw), (0 if "t" in corner else h - bh)
    under = np.asarray(photo.crop((x, y, x + bw, y + bh))).reshape(-1, 3).mean(axis=0)  # no tone of its own
    captioned = caption_bar(photo, width, 0.125, corner, 1.0, tuple(int(v) for v in under))
    verdict = verify_pair(rendition(photo), rendition(captioned))
    assert verdict.is_duplicate, verdict.reason
    assert [r.carrier for r in verdict.regions if r.carrier] == ["b"]


@pytest.mark.parametrize(
    ("seed", "corner", "colour", "size"),
    [
        (11, "br", (20, 30, 80), 26),
        (11, "tr", (20, 30, 80), 26),
        (12, "tr", (240, 232, 210), 26),
        (13, "tl", (128,) * 3, 18),
    ],
)
def test_a_caption_bar_whose_lettering_is_much_of_where_the_pair_departs_verifies(
    seed: int, corner: str, colour: tuple[int, int, int], size: int
) -> None:
    # Where the bar departs from the photo under it, its lettering is a large share: the fill alone is not most.
    photo = make_photo(np.random.default_rng(seed), (720, 540))
    w, h = photo.size
    bw, bh = int(w * 0.3), int(h * 0.12)
    x, y = (0 if "l" in corner else w - bw), (0 if "t" in corner else h - bh)
    captioned = photo.copy()
    draw = ImageDraw.Draw(captioned)
    draw.rectangle((x, y, x + bw, y + bh), fill=colour)
    ink = (255, 255, 255) if sum(colour) < 400 else (10, 10, 10)
    draw.text((x + 8, y + bh // 3), "Copy for reference only", fill=ink, font=ImageFont.load_default(size=size))
    verdict = verify_pair(rendition(photo), rendition(captioned))
    assert verdict.is_duplicate, verdict.reason
    assert [r.carrier for r in verdict.regions if r.carrier] == ["b"]


@pytest.mark.parametrize("seed", range(4))
def test_forms_differing_in_one_field_stay_apart_although_only_one_region_differs(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    template = random_form_template(rng)
    values = random_form_values(rng, template)
    field = sorted(values)[seed % len(values)]
    other = {**values, field: random_form_values(rng, template)[field]}
    verdict = verify_pair(rendition(make_form(template, values)), rendition(make_form(template, other)))
    assert values[field] == other[field] or not verdict.is_duplicate


@pytest.mark.parametrize("degrees", [3, 6, -10])
def test_a_photo_skewed_within_its_own_frame_verifies(photo: Image.Image, degrees: float) -> None:
    skewed = photo.rotate(degrees, Image.Resampling.BICUBIC, expand=False, fillcolor=(0, 0, 0))
    assert verify_pair(rendition(photo), rendition(skewed)).is_duplicate


@pytest.mark.parametrize("degrees", [7, -10])
def test_a_page_skewed_on_a_scanner_bed_verifies(degrees: float) -> None:
    rng = np.random.default_rng(5)
    page = make_document_page(rng, random_layout(rng), 1)
    skewed = page.convert("RGB").rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=(235, 235, 235))
    assert verify_pair(rendition(page), rendition(skewed)).is_duplicate


def test_a_caption_bar_is_read_as_laid_over_the_copy_that_carries_it(photo: Image.Image) -> None:
    captioned = rendition(caption_bar(photo, 0.6, 0.15, "bl", 1.0))
    verdict = verify_pair(rendition(photo), captioned)
    assert verdict.is_duplicate
    assert [r.carrier for r in verdict.regions if r.carrier] == ["b"]
    flipped = verify_pair(captioned, rendition(photo))
    assert [r.carrier for r in flipped.regions if r.carrier] == ["a"]


def _stamped(page: Image.Image, text: str, where: tuple[float, float]) -> Image.Image:
    """A red rubber stamp with `text`, the way a registry marks a letter it received."""
    out = page.convert("RGB")
    draw = ImageDraw.Draw(out)
    w, h = out.size
    x, y = int(where[0] * w), int(where[1] * h)
    draw.rectangle((x, y, x + int(0.3 * w), y + int(0.08 * h)), outline=(190, 30, 30), width=5)
    draw.text((x + 12, y + 10), text, fill=(190, 30, 30), font=ImageFont.load_default(size=int(0.025 * h)))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_letter_with_a_received_stamp_added_verifies_and_names_the_stamped_copy(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    page = make_document_page(rng, random_layout(rng), 1).convert("RGB")
    stamped = _stamped(page, "RECEIVED 12 MAR 2024", (0.6, 0.86))
    verdict = verify_pair(rendition(page), rendition(stamped))
    assert verdict.is_duplicate, verdict.reason
    assert {r.carrier for r in verdict.regions if r.carrier} <= {"b"}


@pytest.mark.parametrize("seed", range(3))
def test_one_letter_stamped_on_two_dates_is_not_a_duplicate(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    page = make_document_page(rng, random_layout(rng), 1).convert("RGB")
    first = _stamped(page, "RECEIVED 12 MAR 2024", (0.6, 0.86))
    second = _stamped(page, "RECEIVED 19 JUN 2025", (0.6, 0.86))
    assert not verify_pair(rendition(first), rendition(second)).is_duplicate


def _slanted(img: Image.Image, shifts: list[tuple[float, float]], bed: tuple[int, int, int]) -> Image.Image:
    """A print photographed at a slant: each corner moved on its own (shares of the side), on a bed."""
    w, h = img.size
    margin = 0.04
    src = np.array([(0, 0), (w, 0), (w, h), (0, h)], float)
    dst = src + np.array(shifts) * [w, h] + [w * margin, h * margin]
    # the homography from the output (dst) back to the input (src), as Pillow wants it
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y, -u], [0, 0, 0, x, y, 1, -v * x, -v * y, -v]]
    solution = np.linalg.svd(np.array(rows))[2][-1]
    coefficients = tuple((solution / solution[-1])[:8])
    size = (int(w * (1 + 2 * margin)), int(h * (1 + 2 * margin)))
    return img.convert("RGB").transform(size, Image.PERSPECTIVE, coefficients, Image.BICUBIC, fillcolor=bed)


SLANTS = [
    [(0.025, -0.02), (-0.01, 0.025), (0.02, 0.015), (-0.025, -0.01)],
    [(-0.02, -0.025), (0.028, 0.0), (-0.015, 0.02), (0.01, 0.028)],
]


@pytest.mark.parametrize("slant", SLANTS)
def test_a_page_photographed_at_a_slant_verifies(slant: list[tuple[float, float]]) -> None:
    """A keystoned copy bends straight lines' spacing across the page: no turn, scale and shift lines every
    text line up at once, a perspective map does."""
    rng = np.random.default_rng(8)
    page = make_document_page(rng, random_layout(rng), 1)
    assert verify_pair(rendition(page), rendition(_slanted(page, slant, (70, 60, 50)))).is_duplicate


@pytest.mark.parametrize("slant", SLANTS)
def test_pages_of_one_document_photographed_at_a_slant_stay_apart(slant: list[tuple[float, float]]) -> None:
    rng = np.random.default_rng(8)
    layout = random_layout(rng)
    first, second = make_document_page(rng, layout, 1), make_document_page(rng, layout, 2)
    assert not verify_pair(rendition(first), rendition(_slanted(second, slant, (70, 60, 50)))).is_duplicate


@pytest.mark.parametrize("shift", [(0.0, 0.0), (0.5, -1.5), (-2.0, 2.0), (1.0, 0.5), (-0.5, -2.0)])
def test_a_region_shifted_by_slices_is_what_scipy_shifts(shift: tuple[float, float]) -> None:
    # The displaced-content reading weighs four slices in place of ndimage.shift: the same bilinear values.
    x = np.random.default_rng(3).normal(size=(21, 34))
    expected = ndimage.shift(x, shift, order=1)[3:-3, 3:-3]
    assert np.allclose(_shifted(x, *shift, 3), expected, atol=1e-12)
