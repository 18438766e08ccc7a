"""How sure a cluster is, on a spread that orders the queue: from match kind, hash distance and verification margin.

The verification score alone sits at 0.99-1.00 for nearly every accepted pair, so ordering by it says
nothing. Here each member's match is placed on a scale by how far its evidence lies from the thresholds
verification applies: exact and same-pixel copies at the top, near copies by their narrowest margin, of
how little their hashes differ, how much of each other they cover, how small their largest local difference
is and, for pages, how small it is where the text is legible (the reading that tells one form or letter
from another, and that wrong clusters pass narrowly). A cluster is as sure as its least sure member.
"""

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

EXACT_CONFIDENCE = 1.0
SAME_PIXELS_CONFIDENCE = 0.97
NEAR_FLOOR, NEAR_SPAN = 0.30, 0.62  # near copies score 0.30-0.92: always below same-pixel ones
HASH_SCALE = 16  # bits: at or beyond this distance the hash term counts nothing
COVERAGE_FROM = 0.80  # below this verification would not have accepted the pair
LOCAL_DIFF_TO = 0.35  # local differences beyond this are rejected as other content
DETAIL_DIFF_TO = 0.40  # the same at detail size, which is held one step more leniently (compare.DETAIL_STRICTNESS)
REGION_FACTOR = 0.85  # one region differs (a caption or stamp, or a changed field): less sure
SIZE_FACTOR = 0.985  # each member beyond two: a longer chain has more ways to be wrong

WORDS = (
    (0.965, _("certain: identical files or pixels")),
    (0.70, _("very likely the same picture")),
    (0.50, _("likely the same picture")),
    (0.0, _("doubtful: check carefully")),
)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def member_confidence(kind: str, evidence: dict[str, Any]) -> float:
    """One member's match on a 0-1 scale: its narrowest margin, since one weak reading is enough to be wrong."""
    if kind == "exact":
        return EXACT_CONFIDENCE
    if kind == "same_pixels":
        return SAME_PIXELS_CONFIDENCE
    margins = [_clamp(1 - (evidence.get("hash_distance") or 0) / HASH_SCALE)]
    if (coverage := evidence.get("coverage")) is not None:
        margins.append(_clamp((coverage - COVERAGE_FROM) / (1 - COVERAGE_FROM)))
    if (local := evidence.get("local_max_diff")) is not None:
        margins.append(_clamp(1 - local / LOCAL_DIFF_TO))
    if (detail := (evidence.get("detail") or {}).get("local_max_diff")) is not None:
        margins.append(_clamp(1 - detail / DETAIL_DIFF_TO))
    value = NEAR_FLOOR + NEAR_SPAN * min(margins)
    return value * REGION_FACTOR if evidence.get("region") else value


def cluster_confidence(members: Iterable[tuple[str, dict[str, Any]]]) -> float:
    """The least sure member's confidence; a near-copy cluster is lowered a little for each member beyond two."""
    scores = [member_confidence(kind, evidence) for kind, evidence in members]
    if not scores:
        return 0.0
    weakest = min(scores)
    if weakest >= SAME_PIXELS_CONFIDENCE:
        return weakest  # identical files or pixels are certain however many copies there are
    return round(weakest * SIZE_FACTOR ** max(0, len(scores) - 2), 4)


def confidence_words(value: float) -> str:
    return str(next(words for floor, words in WORDS if value >= floor))
