"""One comparison of two fingerprinted pictures, shared by matching and by copy verification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from dedup.imaging.dihedral import DIHEDRAL
from dedup.imaging.fingerprint import Fingerprint
from dedup.imaging.formats import GREY_MODES
from dedup.imaging.grouping import Box, overlapping, places_apart
from dedup.imaging.index import MASK64
from dedup.imaging.reasons import Reason
from dedup.imaging.verify import PRESETS, Rendition, Verdict, verify_pair

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
    phash_reframed: Sequence[int]


def searchable_hashes(fingerprint: Hashed) -> set[int]:
    """Every searchable hash, unsigned: pHash, its rotations and mirrors, the border-trimmed one, the
    middle of the picture under each rotation and mirror, and the picture reframed (straightened, each edge
    left out)."""
    values = {fingerprint.phash, *fingerprint.phash_dihedral, *fingerprint.phash_centre, *fingerprint.phash_reframed}
    if fingerprint.phash_trimmed is not None:
        values.add(fingerprint.phash_trimmed)
    return {h & MASK64 for h in values}


def upright_hashes(fingerprint: Hashed) -> set[int]:
    """The hashes of the picture as uploaded, unsigned: pHash, border-trimmed, centre and reframed, no
    rotation or mirror."""
    values = {fingerprint.phash, fingerprint.phash_trimmed, *fingerprint.phash_centre[:1], *fingerprint.phash_reframed}
    values -= {None}
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
    detail: Rendition | None = None  # a page's text at DETAIL_SIDE, when the picture is a page
    detail_box: Sequence[float] = ()  # where it was cut: (top, bottom, left, right) as shares of the frame


def fingerprint_side(fp: Fingerprint) -> Side:
    """A freshly fingerprinted file (not yet stored) as the comparison sees it."""
    content = Rendition(fp.content, fp.content_size) if fp.content_size[0] else None
    detail = Rendition(fp.detail, fp.detail_size) if fp.detail_size[0] else None
    rendition = Rendition(fp.rendition, fp.rendition_size)
    fields = (fp.sha256, fp.width, fp.height, fp.format, fp.mode, fp)
    return Side(*fields, rendition, content, detail, fp.detail_box)


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
        reason=str(verdict.reason),  # a code with its numbers, worded where shown (dedup.reasons)
        reason_params=dict(verdict.reason_params),
    )
    kind = verdict.kind if verdict.is_duplicate and verdict.kind in KINDS else ""
    if kind == SAME_PIXELS and not _same_pixel_grid(a, b):
        kind = NEAR  # renditions are grey: a greyscale or resized copy can look pixel-identical
    # Pages the first reading took for one picture, or for one picture but for a place, are read again where
    # their text is legible: marks that differ there on both sides are another form, letter or page.
    if (kind in (NEAR, ROTATED) or verdict.possible) and a.detail is not None and b.detail is not None:
        second = _detail_verdict(a.detail, b.detail, strictness, verdict.transform)
        evidence["detail"] = {
            "duplicate": second.is_duplicate,
            "possible": second.possible,
            "verification_score": round(second.score, 4),
            "local_max_diff": round(second.local_max_diff, 4),
        }
        if _content_differs(second, DETAIL_STRICTNESS[strictness]):
            kind = ""
            reason = {"reason": str(Reason.DETAIL_DIFFERS), "reason_params": {}}
            evidence.update(possible=False, **reason, **_on_frames(second, a, b))
    return PairResult(kind, round(verdict.score, 4), evidence)


# The second reading is held one step more leniently than the first: strokes at detail size differ more
# between true copies (resampling, JPEG), and a changed field differs several times more than that.
DETAIL_STRICTNESS = {"strict": "balanced", "balanced": "lenient", "lenient": "lenient"}


def _detail_verdict(a: Rendition, b: Rendition, strictness: str, transform: str) -> Verdict:
    """The pages read again where their text is legible, both at the size of the smaller, so a reduced copy
    is not held to detail it never had; under the rotation or mirror the first reading found."""
    side = min(max(a.size), max(b.size))
    held_to = DETAIL_STRICTNESS[strictness]
    return verify_pair(_fitted(a, side), _fitted(b, side), strictness=held_to, transforms=[transform])


def _fitted(r: Rendition, side: int) -> Rendition:
    if max(r.size) <= side:
        return r
    scale = side / max(r.size)
    size = (max(1, round(r.size[0] * scale)), max(1, round(r.size[1] * scale)))
    image = Image.frombytes("L", r.size, r.pixels).resize(size, Image.Resampling.LANCZOS)
    return Rendition(image.tobytes(), size)


def _on_frames(second: Verdict, a: Side, b: Side) -> dict[str, Any]:
    """The places the detail reading found, in each picture's whole-frame rendition pixels (where the review
    draws them), as the first reading reports its own."""
    sizes = [a.rendition.size, b.rendition.size]
    side = min(max(a.detail.size), max(b.detail.size))
    detail_sizes = [_fitted(a.detail, side).size, _fitted(b.detail, side).size]

    def frame_box(box: Sequence[int] | None, k: int) -> list[int] | None:
        cut = (a.detail_box, b.detail_box)[k]
        if box is None or len(cut) != 4:
            return None
        (w, h), (dw, dh) = sizes[k], detail_sizes[k]
        top, bottom, left, right = box
        return [
            round(h * (cut[0] + (cut[1] - cut[0]) * top / dh)),
            round(h * (cut[0] + (cut[1] - cut[0]) * bottom / dh)),
            round(w * (cut[2] + (cut[3] - cut[2]) * left / dw)),
            round(w * (cut[2] + (cut[3] - cut[2]) * right / dw)),
        ]

    regions = [
        {"box": frame_box(r.box, 0), "box_b": frame_box(r.box_b, 1), "carrier": r.carrier, "kind": r.kind}
        for r in second.regions
    ]
    first = regions[0]["box"] if regions else None
    return {"compared": "frame", "compared_size": [list(s) for s in sizes], "regions": regions, "region": first}


# Refused for what some place shows once the two lined up, not because they never lined up or look unalike.
LOCAL_REFUSALS = frozenset({Reason.REGION_DIFFERS, Reason.POSSIBLE_OVERLAY, Reason.DETAIL_DIFFERS})


def differing_places(evidence: dict[str, Any], side: int) -> tuple[str, list[Box]] | None:
    """Where a compared pair was found to differ, on side 0 (a) or 1 (b): what was compared (frame or
    content) and each region's box as fractions of that side's rendition; None when the evidence cannot say."""
    sizes, regions = evidence.get("compared_size"), evidence.get("regions")
    if not sizes or regions is None:
        return None
    width, height = sizes[side]
    places = []
    for region in regions:
        box = region.get("box" if side == 0 else "box_b")
        if not box:
            return None
        places.append((box[0] / height, box[1] / height, box[2] / width, box[3] / width))
    return evidence.get("compared", "frame"), places


def refusal_explained(
    refusal: dict[str, Any], node_side: int, to_node: tuple[dict[str, Any], int], to_member: tuple[dict[str, Any], int]
) -> bool:
    """Two copies refused each other only for their own edits: refused for places, each of which is a place
    where one of the two differs from a shared anchor, and those edits lie apart on the anchor (a stamp on one
    copy, a caption on the other). `refusal` is the evidence of the two copies' pair, the node on `node_side`
    (0 or 1); `to_node` and `to_member` are each copy's verified pair with the anchor and the anchor's side."""
    if refusal.get("reason") not in LOCAL_REFUSALS or not refusal.get("regions"):
        return False
    (node_edge, node_anchor), (member_edge, member_anchor) = to_node, to_member
    if not places_apart(differing_places(node_edge, node_anchor), differing_places(member_edge, member_anchor)):
        return False
    # Each copy's own edits on its own side, beside where the refusal found the two differ on that side.
    own = (differing_places(node_edge, 1 - node_anchor), differing_places(member_edge, 1 - member_anchor))
    found = (differing_places(refusal, node_side), differing_places(refusal, 1 - node_side))
    if None in own or None in found:
        return False
    return all(
        any(found[k][0] == own[k][0] and overlapping(found[k][1][n], own[k][1]) for k in (0, 1))
        for n in range(len(found[0][1]))
    )


def _content_differs(second: Verdict, strictness: str) -> bool:
    """Aligned at detail size and still departing in one place or more: what the coarse reading could not
    see (one field, one date). A detail reading that never lined up says nothing, and the first one stands."""
    limits = PRESETS[strictness]
    aligned = second.score >= limits.min_score and second.coverage >= limits.min_coverage
    return not second.is_duplicate and (second.possible or aligned)


def _compare_small(a: Side, b: Side, evidence: dict[str, Any]) -> PairResult:
    """Too small to verify: the same pixels on the same grid, or not the same picture."""
    same = _same_pixel_grid(a, b) and a.rendition == b.rendition
    evidence["reason"] = str(Reason.SAME_PIXELS_SMALL if same else Reason.TOO_SMALL)
    evidence["reason_params"] = {}
    return PairResult(SAME_PIXELS if same else "", 1.0 if same else 0.0, evidence)
