"""Verification reasons (dedup.imaging.reasons.Reason codes with their numbers) in the reader's language."""

import re
from typing import Any

from django.utils.translation import gettext, gettext_noop

from dedup.imaging.reasons import Reason

_MESSAGES: dict[str, str] = {
    Reason.COVERAGE_LOW: gettext_noop(
        "Each image shows parts the other lacks (coverage %(coverage).2f): a different shot or crop."
    ),
    Reason.SMALL_PART: gettext_noop("One image is only a small part of the other (coverage %(coverage).2f)."),
    Reason.NOT_ALIKE: gettext_noop("The aligned images do not look alike (correlation %(correlation).2f)."),
    Reason.REGION_DIFFERS: gettext_noop(
        "A region differs after alignment (local difference %(local_difference).2f): other content."
    ),
    Reason.SAME_AFTER_ALIGNMENT: gettext_noop("Same picture after alignment."),
    Reason.SAME_WITH_OVERLAY: gettext_noop(
        "Same picture; one side carries something laid over the other (a caption, stamp or mark)."
    ),
    Reason.POSSIBLE_OVERLAY: gettext_noop(
        "Same picture except one region, which may be laid over it or may be other content."
    ),
    Reason.DETAIL_DIFFERS: gettext_noop(
        "Read at detail size, the pages differ in one place or more (a field, a date, a note): other content."
    ),
    Reason.TOO_SMALL: gettext_noop(
        "An image is too small or too thin to compare; only identical files or pixels count."
    ),
    Reason.SAME_PIXELS_SMALL: gettext_noop(
        "Too small to align, but the same pixels on the same grid: the same picture saved again."
    ),
}
# The bracketed number of a sentence, in either language's brackets: left out when the numbers are missing.
_NUMBERS = re.compile(r"\s*[(（][^()（）]*%\(\w+\)[^()（）]*[)）]")


def reason_text(code: str, params: dict[str, Any] | None = None) -> str:
    """The sentence for a verification reason in the active language; an unknown code is shown as itself."""
    params = params or {}
    if code == Reason.RECORDED:
        return str(params.get("text", ""))  # recorded in words before reasons were codes: shown as it was
    if code not in _MESSAGES:
        return str(code or "")  # a sentence kept in an audit snapshot from before codes reads as it was
    try:
        return gettext(_MESSAGES[code]) % params
    except (KeyError, TypeError, ValueError):
        return _NUMBERS.sub("", gettext(_MESSAGES[code]))  # numbers that do not fit must not hide the reason


def evidence_reason(evidence: dict[str, Any] | None) -> str:
    """The reason stored in a comparison's evidence, worded; blank for an exact copy, which has none."""
    evidence = evidence or {}
    return reason_text(evidence.get("reason") or "", evidence.get("reason_params") or {})


def reason_fields(evidence: dict[str, Any] | None) -> dict[str, Any]:
    """Code, numbers and words of an evidence's reason, as the API gives them."""
    evidence = evidence or {}
    return {
        "reason": evidence.get("reason") or "",
        "reason_params": evidence.get("reason_params") or {},
        "reason_text": evidence_reason(evidence),
    }
