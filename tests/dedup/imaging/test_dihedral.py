"""The eight rotations and mirrors: arrays turn exactly as Pillow turns images."""

import numpy as np
import pytest
from PIL import Image

from dedup.imaging.dihedral import DIHEDRAL, PIL_TRANSPOSE, apply_dihedral
from tests.images import scene


def test_dihedral_operations_match_pillow() -> None:
    img = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4))
    pillow = {
        "rot90": Image.Transpose.ROTATE_90,
        "rot180": Image.Transpose.ROTATE_180,
        "rot270": Image.Transpose.ROTATE_270,
        "flip_h": Image.Transpose.FLIP_LEFT_RIGHT,
        "flip_v": Image.Transpose.FLIP_TOP_BOTTOM,
        "transpose": Image.Transpose.TRANSPOSE,
        "transverse": Image.Transpose.TRANSVERSE,
    }
    for name in DIHEDRAL[1:]:
        assert np.array_equal(apply_dihedral(np.asarray(img), name), np.asarray(img.transpose(pillow[name]))), name


@pytest.mark.parametrize("name", DIHEDRAL)
def test_apply_dihedral_transforms_arrays_exactly_as_it_transforms_images(name: str):
    image = scene(7, (7, 5))
    from_image = np.asarray(image if PIL_TRANSPOSE[name] is None else image.transpose(PIL_TRANSPOSE[name]))
    from_array = apply_dihedral(np.asarray(image), name)
    assert np.array_equal(from_image, from_array)


def test_apply_dihedral_rot90_turns_counter_clockwise_and_rejects_unknown_names():
    array = np.array([[1, 2], [3, 4]])
    assert apply_dihedral(array, "rot90").tolist() == [[2, 4], [1, 3]]
    with pytest.raises(ValueError):
        apply_dihedral(array, "rot45")
