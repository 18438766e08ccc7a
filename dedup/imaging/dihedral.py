"""The eight rotations and mirrors of a picture, one table for images and arrays alike."""

import numpy as np
from PIL import Image

DIHEDRAL: tuple[str, ...] = ("identity", "rot90", "rot180", "rot270", "flip_h", "flip_v", "transpose", "transverse")
QUARTER_TURNS = frozenset({"rot90", "rot270", "transpose", "transverse"})  # they swap width and height

# What undoes each: the quarter turns undo each other, every other one undoes itself.
INVERSE: dict[str, str] = {name: name for name in DIHEDRAL} | {"rot90": "rot270", "rot270": "rot90"}

# The same operations as Pillow's Image.Transpose ("rot90" is ROTATE_90, counter-clockwise).
PIL_TRANSPOSE: dict[str, Image.Transpose | None] = {
    "identity": None,
    "rot90": Image.Transpose.ROTATE_90,
    "rot180": Image.Transpose.ROTATE_180,
    "rot270": Image.Transpose.ROTATE_270,
    "flip_h": Image.Transpose.FLIP_LEFT_RIGHT,
    "flip_v": Image.Transpose.FLIP_TOP_BOTTOM,
    "transpose": Image.Transpose.TRANSPOSE,
    "transverse": Image.Transpose.TRANSVERSE,
}
_ARRAY_OPS = {
    "identity": lambda a: a,
    "rot90": lambda a: np.rot90(a, 1),
    "rot180": lambda a: np.rot90(a, 2),
    "rot270": lambda a: np.rot90(a, 3),
    "flip_h": lambda a: a[:, ::-1],
    "flip_v": lambda a: a[::-1],
    "transpose": lambda a: np.swapaxes(a, 0, 1),
    "transverse": lambda a: np.swapaxes(np.rot90(a, 2), 0, 1),
}


def apply_dihedral(arr: np.ndarray, name: str) -> np.ndarray:
    """Rotate or mirror an (H, W[, C]) array as Pillow would transpose the image; C-contiguous."""
    if name not in _ARRAY_OPS:
        raise ValueError(f"Unknown dihedral transform {name!r}; expected one of {DIHEDRAL}.")
    return np.ascontiguousarray(_ARRAY_OPS[name](np.asarray(arr)))
