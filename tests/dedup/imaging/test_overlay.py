"""Verification's alignment as an overlay map: a turned, cropped or resized copy is carried onto the original."""

import numpy as np
import pytest
from PIL import Image

from dedup.imaging.dihedral import DIHEDRAL, apply_dihedral
from dedup.imaging.overlay import overlay_matrix
from dedup.imaging.verify import verify_pair
from tests.dedup.imaging.test_verify import rendition
from tests.pictures import make_photo

IDENTITY_ALIGNMENT = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]


def _carry(matrix: list[float], x: float, y: float) -> tuple[float, float]:
    xx, xy, x0, yx, yy, y0 = matrix
    return xx * x + xy * y + x0, yx * x + yy * y + y0


@pytest.mark.parametrize("name", DIHEDRAL)
def test_each_turn_carries_a_pixel_of_the_copy_back_to_where_the_turn_put_it(name: str) -> None:
    b = np.zeros((40, 60), dtype=np.uint8)
    b[7, 45] = 255  # row 7, column 45 of the copy as uploaded
    turned = apply_dihedral(b, name)
    row, col = (int(v[0]) for v in np.nonzero(turned))
    size_a = (turned.shape[1], turned.shape[0])  # a is the copy turned, pixel for pixel
    matrix = overlay_matrix(alignment=IDENTITY_ALIGNMENT, transform=name, size_a=size_a, size_b=(60, 40))
    x, y = _carry(matrix, (45 + 0.5) / 60, (7 + 0.5) / 40)
    assert x == pytest.approx((col + 0.5) / size_a[0], abs=1e-6)
    assert y == pytest.approx((row + 0.5) / size_a[1], abs=1e-6)


@pytest.mark.parametrize(
    ("turn", "name"),
    [(None, "identity"), (Image.Transpose.ROTATE_90, "rot270"), (Image.Transpose.FLIP_LEFT_RIGHT, "flip_h")],
)
def test_a_cropped_and_resized_copy_lies_over_the_part_of_the_original_it_shows(turn, name: str) -> None:
    photo = make_photo(np.random.default_rng(11), (720, 540))
    crop = photo.crop((90, 54, 630, 459)).resize((400, 300), Image.Resampling.LANCZOS)  # 75% wide, from (1/8, 1/10)
    copy = crop.transpose(turn) if turn is not None else crop
    ra, rb = rendition(photo), rendition(copy)
    verdict = verify_pair(ra, rb)
    assert verdict.is_duplicate and verdict.transform == name
    matrix = overlay_matrix(alignment=verdict.alignment, transform=verdict.transform, size_a=ra.size, size_b=rb.size)
    corners = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    landed = np.array([_carry(matrix, x, y) for x, y in corners])
    crop_corners = np.array([(0.125, 0.1), (0.125, 0.85), (0.875, 0.1), (0.875, 0.85)])  # in the original
    nearest = np.linalg.norm(crop_corners[:, None] - landed[None], axis=2).min(axis=1)
    assert nearest.max() < 0.01


def test_an_alignment_that_cannot_be_inverted_draws_nothing() -> None:
    flat = [[0.0, 0.0, 3.0], [0.0, 0.0, 4.0]]
    assert overlay_matrix(alignment=flat, transform="identity", size_a=(10, 10), size_b=(10, 10)) is None
    assert overlay_matrix(alignment=[], transform="identity", size_a=(10, 10), size_b=(10, 10)) is None
