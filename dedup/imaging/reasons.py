"""Why verification decided as it did: stable codes with their numbers, worded outside the core when shown."""

from enum import StrEnum


class Reason(StrEnum):
    """The reason a pair is or is not one picture; the comment names the numbers it carries."""

    COVERAGE_LOW = "coverage_low"  # coverage: the better-covered side's share covered by the other
    SMALL_PART = "small_part"  # coverage: the less-covered side's share
    NOT_ALIKE = "not_alike"  # correlation: global correlation after alignment
    REGION_DIFFERS = "region_differs"  # local_difference: worst local difference after alignment
    SAME_AFTER_ALIGNMENT = "same_after_alignment"
    SAME_WITH_OVERLAY = "same_with_overlay"  # one side carries a caption, stamp or mark the other lacks
    POSSIBLE_OVERLAY = "possible_overlay"  # one region may be laid over or may be other content
    DETAIL_DIFFERS = "detail_differs"  # pages read again at detail size differ in one place or more
    TOO_SMALL = "too_small"  # too small or thin to align; only equal bytes or pixels count
    SAME_PIXELS_SMALL = "same_pixels_small"  # too small to align, but the same pixels on the same grid
    RECORDED = "recorded"  # text: a reason stored as a sentence before reasons were codes
