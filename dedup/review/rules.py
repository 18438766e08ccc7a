"""Ordered rules that suggest which member of a cluster should be the authoritative version."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.models import ImportedMetadata, Version

LOSSLESS_FORMATS = frozenset({"TIFF", "PNG", "BMP"})
# Camera and file-system defaults that say nothing about when a picture was taken.
BOGUS_DATES = frozenset({date(1970, 1, 1), date(1980, 1, 1), date(1904, 1, 1), date(1601, 1, 1)})
FIRST_PHOTOGRAPH_YEAR = 1826
SUMMARY_FIELDS = ("capture_date", "camera", "title", "caption", "creator", "keywords", "rights", "gps")


def embedded_summary(version: Version) -> dict:
    """The normalised summary of a version's embedded metadata (uses prefetched rows when present)."""
    for row in version.imported_metadata.all():
        if row.origin == ImportedMetadata.Origin.EMBEDDED:
            return row.data.get("summary") or {}
    return {}


def capture_date(version: Version) -> datetime | None:
    """The plausible capture date of a version, or None when missing, a known default, or in the future."""
    fingerprint = getattr(version, "fingerprint", None)
    text = (fingerprint.captured_at if fingerprint else "") or embedded_summary(version).get("capture_date") or ""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    aware = parsed if parsed.tzinfo else timezone.make_aware(parsed)
    if parsed.date() in BOGUS_DATES or parsed.year < FIRST_PHOTOGRAPH_YEAR or aware > timezone.now():
        return None
    return aware


def metadata_completeness(version: Version) -> int:
    summary = embedded_summary(version)
    return sum(1 for name in SUMMARY_FIELDS if summary.get(name))


@dataclass(frozen=True)
class Rule:
    """key: larger is better; describe: why the winner won, in plain words."""

    key: Callable[[Version], float]
    describe: Callable[[Version], str]


def _capture_key(version: Version) -> float:
    when = capture_date(version)
    return -when.timestamp() if when else float("-inf")


RULES: dict[str, Rule] = {
    "source_trust": Rule(
        key=lambda v: v.source.trust_priority,
        describe=lambda v: _("most trusted source (%(source)s)") % {"source": v.source.name},
    ),
    "lossless_format": Rule(
        key=lambda v: (v.format or "").upper() in LOSSLESS_FORMATS,
        describe=lambda v: _("lossless master format (%(format)s)") % {"format": v.format},
    ),
    "pixel_count": Rule(
        key=lambda v: v.pixel_count,
        describe=lambda v: _("most pixels (%(w)s × %(h)s)") % {"w": v.width, "h": v.height},
    ),
    "earliest_capture": Rule(
        key=_capture_key,
        describe=lambda v: _("earliest capture date (%(date)s)")
        % {"date": date_format(capture_date(v), "SHORT_DATE_FORMAT")},
    ),
    "metadata_completeness": Rule(
        key=metadata_completeness,
        describe=lambda v: _("most complete metadata (%(n)d fields)") % {"n": metadata_completeness(v)},
    ),
}
RULE_LABELS = {
    "source_trust": gettext_lazy("Source trust priority"),
    "lossless_format": gettext_lazy("Lossless master format (TIFF, PNG) over JPEG"),
    "pixel_count": gettext_lazy("Highest pixel count"),
    "earliest_capture": gettext_lazy("Earliest plausible capture date"),
    "metadata_completeness": gettext_lazy("Most complete metadata"),
}


@dataclass(frozen=True)
class Suggestion:
    version: Version
    reason: str


def authority_suggest(versions: Sequence[Version], rule_names: Sequence[str] | None = None) -> Suggestion:
    """Apply the configured rules in order, each keeping only the best members, until one is left."""
    names = settings.DUPFINDER_AUTHORITY_RULES if rule_names is None else rule_names
    remaining = sorted(versions, key=lambda v: (v.uploaded_at, v.pk))
    reasons: list[str] = []
    for name in names:
        rule = RULES[name]
        best = max(rule.key(v) for v in remaining)
        kept = [v for v in remaining if rule.key(v) == best]
        if len(kept) < len(remaining):
            reasons.append(rule.describe(kept[0]))
            remaining = kept
        if len(remaining) == 1:
            break
    winner = remaining[0]
    if len(remaining) > 1:
        reasons.append(_("earliest upload among equals"))
    return Suggestion(winner, _("Suggested for: %(reasons)s.") % {"reasons": "; ".join(reasons)})
