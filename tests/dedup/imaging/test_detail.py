"""Pages are read a second time at detail size: a form that differs from another in one number is not its copy,
nor a possible duplicate left for a curator: the marks differ there on both sides."""

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from dedup.imaging.compare import NEAR, compare_pair, fingerprint_side
from dedup.imaging.fingerprint import fingerprint_file
from dedup.imaging.reasons import Reason
from dedup.imaging.renditions import DETAIL_SIDE
from tests.images import encode, scene
from tests.pictures import make_document_page, make_form, random_form_template, random_form_values, random_layout

SEEDS = range(8)


def _side(image, fmt="PNG"):
    return fingerprint_side(fingerprint_file(io.BytesIO(encode(image, fmt))))


def _three_quarters(image):
    return image.resize((image.width * 3 // 4, image.height * 3 // 4))


def _form_and_neighbour(seed: int):
    """A filled form, and the same form with the last digit of one number changed (the next file's)."""
    rng = np.random.default_rng(seed)
    template = random_form_template(rng)
    values = random_form_values(rng, template)
    label = next(f for f in template.fields if f not in ("Name", "Date"))
    changed = {**values, label: values[label][:-1] + str((int(values[label][-1]) + 3) % 10)}
    return make_form(template, values), make_form(template, changed)


def test_a_page_gets_a_detail_rendition_cut_to_its_text_and_a_photograph_none():
    form, _ = _form_and_neighbour(0)
    page = fingerprint_file(io.BytesIO(encode(form, "PNG")))
    assert max(page.detail_size) == DETAIL_SIDE and len(page.detail) == page.detail_size[0] * page.detail_size[1]
    photo = fingerprint_file(io.BytesIO(encode(scene(3), "JPEG")))
    assert (photo.detail, photo.detail_size) == (b"", (0, 0))


@pytest.mark.parametrize("seed", SEEDS)
def test_forms_differing_in_one_digit_are_other_content_read_at_detail_size(seed):
    form, neighbour = _form_and_neighbour(seed)
    result = compare_pair(_side(form), _side(_three_quarters(neighbour), "JPEG"), strictness="balanced")
    assert not result.is_duplicate and not result.evidence["possible"]
    assert result.evidence["reason"] == Reason.DETAIL_DIFFERS and result.evidence["regions"]
    assert result.evidence["reason_params"] == {}


def test_without_the_detail_reading_most_such_forms_were_joined_or_left_for_a_curator():
    """What the second reading is for: at 256 px a changed digit is a few pixels and passes."""
    undecided = 0
    for seed in SEEDS:
        form, neighbour = _form_and_neighbour(seed)
        a, b = _side(form), _side(_three_quarters(neighbour), "JPEG")
        first = compare_pair(replace(a, detail=None), replace(b, detail=None), strictness="balanced")
        undecided += first.is_duplicate or first.evidence["possible"]
    assert undecided >= len(SEEDS) // 2


@pytest.mark.parametrize("seed", SEEDS)
def test_a_reduced_jpeg_copy_of_a_form_is_still_its_copy(seed):
    form, _ = _form_and_neighbour(seed)
    result = compare_pair(_side(form), _side(_three_quarters(form), "JPEG"), strictness="balanced")
    assert result.kind == NEAR and result.evidence["detail"]["duplicate"]


def test_the_differing_number_is_located_where_it_is_on_both_whole_pictures():
    rng = np.random.default_rng(0)
    template = random_form_template(rng)
    label = next(f for f in template.fields if f not in ("Name", "Date"))
    form, neighbour = _form_and_neighbour(0)
    a, b = _side(form), _side(_three_quarters(neighbour), "JPEG")
    evidence = compare_pair(a, b, strictness="balanced").evidence
    assert evidence["compared"] == "frame"
    # make_form writes field k's value at y = (180 + 70 k) / 850 of the width, from x = 310 / 850
    line = (180 + 70 * template.fields.index(label)) * form.width / 850 / form.height
    for box, side in ((evidence["regions"][0]["box"], a), (evidence["regions"][0]["box_b"], b)):
        width, height = side.rendition.size
        top, bottom, left, right = box
        assert top / height - 0.02 <= line <= bottom / height + 0.02
        assert left / width >= 0.3


def _letter_with_a_note(note: str, at: tuple[int, int]) -> Image.Image:
    """One letter with a note written under its last line, `at` (right, down) from where the print ends: the
    note is the print's outermost ink, and the edge of what the paper carries."""
    rng = np.random.default_rng(5)
    printed = make_document_page(rng, random_layout(rng), 3)
    page = Image.new("RGB", (printed.width, printed.height + 300), printed.getpixel((2, 2)))  # room below
    page.paste(printed, (0, 0))
    ink = np.argwhere(np.asarray(page.convert("L")) < 200)
    bottom, left = int(ink[:, 0].max()), int(ink[:, 1].min())
    draw = ImageDraw.Draw(page)
    draw.text((left + at[0], bottom + at[1]), note, fill=(200, 50, 50), font=ImageFont.load_default(size=34))
    return page


@pytest.mark.parametrize("shift", [(0, 0), (150, 14), (300, 28), (150, 28), (0, 28), (300, 0)])
def test_a_different_note_written_out_to_the_edge_of_the_print_is_read_at_detail_size(shift):
    # Two copies of one letter, each annotated in its own words at about the same place below the signature.
    # Where the notes hardly overlap, both fall in one region: the side with the shorter note is not blank
    # where the pair departs, so neither note is read as laid over a blank page.
    first = _side(_letter_with_a_note("Return to sender", (150, 40)))
    second = _side(_letter_with_a_note("Urgent!", (150 + shift[0], 40 + shift[1])))
    result = compare_pair(first, second, strictness="balanced")
    assert not result.is_duplicate, result.evidence["reason"]
