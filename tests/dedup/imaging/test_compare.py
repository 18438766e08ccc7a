"""The one pair comparison: kinds, and pictures too small or too thin to verify."""

import io

import pytest
from PIL import Image

from dedup.imaging.compare import NEAR, SAME_PIXELS, Side, compare_pair, fingerprint_side
from dedup.imaging.fingerprint import fingerprint_file
from dedup.imaging.reasons import Reason
from dedup.imaging.verify import Rendition, verify_pair
from tests.images import encode, scene


def side(data: bytes) -> Side:
    return fingerprint_side(fingerprint_file(io.BytesIO(data)))


def solid(size: tuple[int, int], fmt: str = "PNG", colour=(120, 30, 200)) -> bytes:
    return encode(Image.new("RGB", size, colour), fmt)


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        (solid((1, 1)), solid((1, 1), "BMP"), SAME_PIXELS),
        (solid((1, 100_000)), solid((1, 100_000), "BMP"), SAME_PIXELS),
        (solid((1, 1)), solid((2, 2)), ""),
        (solid((3, 40)), solid((3, 41)), ""),
        (solid((1, 1)), solid((1, 1), colour=(0, 0, 0)), ""),
    ],
    ids=["1x1 re-saved", "1x100000 re-saved", "1x1 and 2x2", "3x40 and 3x41", "1x1 of another colour"],
)
def test_pictures_too_thin_to_verify_match_on_equal_pixels_only(first, second, kind):
    assert compare_pair(side(first), side(second), strictness="balanced").kind == kind


def test_verification_of_a_thin_rendition_is_a_refusal_with_a_reason_not_an_error():
    verdict = verify_pair(Rendition(bytes(3), (1, 3)), Rendition(bytes(300), (100, 3)))
    assert not verdict.is_duplicate and verdict.reason == Reason.TOO_SMALL


def test_a_resized_copy_is_near_and_a_re_saved_one_same_pixels():
    picture = scene(5, (640, 480))
    original = side(encode(picture, "PNG"))
    assert compare_pair(original, side(encode(picture, "BMP")), strictness="balanced").kind == SAME_PIXELS
    assert compare_pair(original, side(encode(picture.resize((320, 240)), "PNG")), strictness="balanced").kind == NEAR
