"""One comparison of two fingerprinted pictures, shared by matching and by copy verification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dedup.imaging.dihedral import DIHEDRAL
from dedup.imaging.formats import GREY_MODES
from dedup.imaging.index import MASK64
from dedup.imaging.verify import Rendition, verify_pair

EXACT, SAME_PIXELS, NEAR, ROTATED = "exact", "same_pixels", "near", "rotated"
KINDS = (EXACT, SAME_PIXELS, NEAR, ROTATED)
# Renditions thinner than this (a 1 x N strip, a favicon) hold too little to align: such pairs match on
# equal bytes or equal pixels only.
MIN_VERIFY_SIDE = 16


class Hashed(Protocol):
    """A stored or freshly computed fingerprint: signed (stored) or unsigned (computed) 64-bit hashes."""

    phash: int
    phash_trimmed: int | None
    phash_dihedral: Sequence[int]
    phash_centre: Sequence[int]


def searchable_hashes(fingerprint: Hashed) -> set[int]:
    """Every searchable hash, unsigned: pHash, its rotations and mirrors, the border-trimmed one and the
    middle of the picture under each rotation and mirror."""
    values = {fingerprint.phash, *fingerprint.phash_dihedral, *fingerprint.phash_centre}
    if fingerprint.phash_trimmed is not None:
        values.add(fingerprint.phash_trimmed)
    return {h & MASK64 for h in values}


def upright_hashes(fingerprint: Hashed) -> set[int]:
    """The hashes of the picture as uploaded, unsigned: pHash, border-trimmed and centre, no rotation or mirror."""
    values = {fingerprint.phash, fingerprint.phash_trimmed, *fingerprint.phash_centre[:1]} - {None}
    return {h & MASK64 for h in values}


def likely_transform(a: Hashed, b: Hashed) -> str:
    """The rotation or mirror of b whose hashes come nearest a's: the way up under which the index saw the pair."""
    pairs = [(a.phash, b.phash_dihedral)]
    if a.phash_centre and b.phash_centre:
        pairs.append((a.phash_centre[0], b.phash_centre))
    _distance, k = min((((x & MASK64) ^ (y & MASK64)).bit_count(), k) for x, ys in pairs for k, y in enumerate(ys))
    return DIHEDRAL[k]


@dataclass(frozen=True)
class Side:
    """What the comparison needs of one picture, however it was obtained."""

    sha256: str
    width: int | None
    height: int | None
    format: str
    mode: str
    hashes: Hashed
    rendition: Rendition
    content: Rendition | None = None  # the content inside a wide mat or letterbox, when there is one


@dataclass(frozen=True)
class PairResult:
    kind: str  # one of KINDS, or "" when the pair is not the same picture
    score: float
    evidence: dict[str, Any]

    @property
    def is_duplicate(self) -> bool:
        return bool(self.kind)


def hash_distance(a: Hashed, b: Hashed) -> int:
    """The fewest bits between any searchable hash of a and any of b."""
    hb = searchable_hashes(b)
    return min((x ^ y).bit_count() for x in searchable_hashes(a) for y in hb)


def _same_pixel_grid(a: Side, b: Side) -> bool:
    return (a.width, a.height) == (b.width, b.height) and (a.mode in GREY_MODES) == (b.mode in GREY_MODES)


def compare_pair(a: Side, b: Side, *, strictness: str) -> PairResult:
    """Are a and b the same picture, and how: the kind, a score and the evidence behind it."""
    evidence: dict[str, Any] = {
        "hash_distance": hash_distance(a.hashes, b.hashes),
        "size_a": [a.width, a.height],
        "size_b": [b.width, b.height],
        "format_a": a.format,
        "format_b": b.format,
    }
    if a.sha256 == b.sha256:
        return PairResult(EXACT, 1.0, evidence)
    if min(*a.rendition.size, *b.rendition.size) < MIN_VERIFY_SIDE:
        return _compare_small(a, b, evidence)
    # A page in a wide mat shows too little detail in the whole frame to tell it from its neighbours, or to
    # prove it is a copy: such pairs are judged on their content alone.
    matted = a.content is not None or b.content is not None
    first, second = (a.content or a.rendition, b.content or b.rendition) if matted else (a.rendition, b.rendition)
    hint = likely_transform(a.hashes, b.hashes)
    verdict = verify_pair(first, second, strictness=strictness, hint=hint)
    evidence.update(
        compared="content" if matted else "frame",
        compared_size=[list(first.size), list(second.size)],  # the renditions the regions' boxes refer to
        region=list(verdict.region) if verdict.region else None,
        regions=[
            {"box": list(r.box), "box_b": list(r.box_b) if r.box_b else None, "carrier": r.carrier, "kind": r.kind}
            for r in verdict.regions
        ],
        possible=verdict.possible,
        transform=verdict.transform,
        verification_score=round(verdict.score, 4),
        coverage=round(verdict.coverage, 4),
        local_max_diff=round(verdict.local_max_diff, 4),
        scale=round(verdict.scale, 4),
        alignment=[list(row) for row in verdict.alignment],  # a (row, col) -> turned b, see `overlay_matrix`
        reason=verdict.reason,
    )
    kind = verdict.kind if verdict.is_duplicate and verdict.kind in KINDS else ""
    if kind == SAME_PIXELS and not _same_pixel_grid(a, b):
        kind = NEAR  # renditions are grey: a greyscale or resized copy can look pixel-identical
    return PairResult(kind, round(verdict.score, 4), evidence)


def _compare_small(a: Side, b: Side, evidence: dict[str, Any]) -> PairResult:
    """Too small to verify: the same pixels on the same grid, or not the same picture."""
    same = _same_pixel_grid(a, b) and a.rendition == b.rendition
    evidence["reason"] = "too_small" if not same else "same_pixels_small"
    return PairResult(SAME_PIXELS if same else "", 1.0 if same else 0.0, evidence)
