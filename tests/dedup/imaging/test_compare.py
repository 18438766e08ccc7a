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


def test_differing_places_are_read_on_either_side_as_fractions_of_its_rendition():
    from dedup.imaging.compare import differing_places

    evidence = {
        "compared": "content",
        "compared_size": [[200, 100], [100, 50]],
        "regions": [{"box": [10, 30, 50, 100], "box_b": [5, 15, 25, 50], "carrier": "", "kind": "bar"}],
    }
    assert differing_places(evidence, 0) == ("content", [(0.1, 0.3, 0.25, 0.5)])
    assert differing_places(evidence, 1) == ("content", [(0.1, 0.3, 0.25, 0.5)])
    assert differing_places({**evidence, "regions": []}, 1) == ("content", [])
    unplaced = {**evidence, "regions": [{"box": [10, 30, 50, 100], "box_b": None}]}
    assert differing_places(unplaced, 1) is None  # a box on one side only says nothing of the other
    assert differing_places({"hash_distance": 0}, 0) is None  # an exact copy was never compared by region


def _evidence(reason, boxes_a, boxes_b, compared="frame"):
    regions = [{"box": a, "box_b": b, "carrier": "", "kind": "other"} for a, b in zip(boxes_a, boxes_b, strict=True)]
    return {"reason": reason, "compared": compared, "compared_size": [[100, 100], [100, 100]], "regions": regions}


def test_a_refusal_is_explained_only_by_each_copys_own_edit_against_the_anchor():
    from dedup.imaging.compare import refusal_explained

    stamp, caption = [0, 20, 0, 30], [80, 100, 50, 100]
    # Anchor on side 0 of both pairs: the stamped copy differs at the stamp, the captioned one at the caption.
    to_stamped = (_evidence("same_with_overlay", [stamp], [stamp]), 0)
    to_captioned = (_evidence("same_with_overlay", [caption], [caption]), 0)
    refusal = _evidence("possible_overlay", [stamp, caption], [stamp, caption])  # stamped copy on side 0
    assert refusal_explained(refusal, 0, to_stamped, to_captioned)
    elsewhere = _evidence("possible_overlay", [stamp, [40, 60, 40, 60]], [stamp, [40, 60, 40, 60]])
    assert not refusal_explained(elsewhere, 0, to_stamped, to_captioned)  # they differ where neither was edited
    assert not refusal_explained({**refusal, "reason": "not_alike"}, 0, to_stamped, to_captioned)
    assert not refusal_explained({**refusal, "regions": []}, 0, to_stamped, to_captioned)  # no place to explain
    same_field = (_evidence("same_with_overlay", [stamp], [stamp]), 0)
    assert not refusal_explained(_evidence("region_differs", [stamp], [stamp]), 0, to_stamped, same_field)
