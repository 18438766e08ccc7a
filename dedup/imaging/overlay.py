"""Where one copy lies over another: verification's alignment as a map between the two pictures' fractions."""

from collections.abc import Sequence

import numpy as np

from dedup.imaging.dihedral import DIHEDRAL, QUARTER_TURNS

# b's (x, y) as fractions of its width and height -> the same point in b turned by the transform.
_TURNS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "identity": ((1, 0, 0), (0, 1, 0)),
    "rot90": ((0, 1, 0), (-1, 0, 1)),
    "rot180": ((-1, 0, 1), (0, -1, 1)),
    "rot270": ((0, -1, 1), (1, 0, 0)),
    "flip_h": ((-1, 0, 1), (0, 1, 0)),
    "flip_v": ((1, 0, 0), (0, -1, 1)),
    "transpose": ((0, 1, 0), (1, 0, 0)),
    "transverse": ((0, -1, 1), (-1, 0, 1)),
}
assert set(_TURNS) == set(DIHEDRAL)


def _square(rows: Sequence[Sequence[float]]) -> np.ndarray:
    return np.vstack([np.asarray(rows, dtype=np.float64)[:2], [0.0, 0.0, 1.0]])


def overlay_matrix(
    *, alignment: Sequence[Sequence[float]], transform: str, size_a: Sequence[int], size_b: Sequence[int]
) -> list[float] | None:
    """The affine map from b's (x, y) fractions to a's, so b drawn through it lies over a.

    `alignment` is verification's map from a's rendition (row, col) pixel indices to b's rendition turned by
    `transform`; sizes are the renditions' (width, height), b's as uploaded. Returned as its top rows
    [xx, xy, x0, yx, yy, y0] (x' = xx·x + xy·y + x0), or None when the alignment cannot be inverted.
    """
    if transform not in _TURNS or len(alignment) < 2:
        return None
    (wa, ha), (wb, hb) = size_a, size_b
    wt, ht = (hb, wb) if transform in QUARTER_TURNS else (wb, hb)
    (r00, r01, r02), (r10, r11, r12) = alignment[0], alignment[1]
    index_map = _square([(r11, r10, r12), (r01, r00, r02)])  # (row, col) -> (x, y) order
    to_index = _square([(1, 0, -0.5), (0, 1, -0.5)])  # pixel centres sit half a pixel in
    a_to_turned = (
        np.linalg.inv(_square([(wt, 0, 0), (0, ht, 0)]))
        @ np.linalg.inv(to_index)
        @ index_map
        @ to_index
        @ _square([(wa, 0, 0), (0, ha, 0)])
    )
    if abs(np.linalg.det(a_to_turned)) < 1e-9:
        return None
    b_to_a = np.linalg.inv(a_to_turned) @ _square(_TURNS[transform])
    return [round(float(x), 5) for x in b_to_a[:2].ravel()]
