"""Ordered rules that suggest which member of a cluster should be the authoritative version."""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

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


# libjpeg's standard luminance quantisation table (quality 50), row by row as Pillow reports it.
_STANDARD_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
LOSSLESS_QUALITY = 101.0  # ranks above any JPEG


def jpeg_quality(version: Version) -> float:
    """Encoding quality 1-100 estimated from the JPEG's luminance quantisation table; lossless formats rank above.

    The encoder scaled the standard table by a factor that follows from the quality setting; the factor is
    recovered from the stored table and turned back into the setting. 0 when the file cannot be read.
    """
    if (version.format or "").upper() in LOSSLESS_FORMATS:
        return LOSSLESS_QUALITY
    if (version.format or "").upper() != "JPEG":
        return 0.0
    try:
        with version.file.open("rb") as handle, Image.open(handle) as image:
            table = list(getattr(image, "quantization", {}).get(0, []))
    except (OSError, ValueError):
        return 0.0
    if len(table) != len(_STANDARD_LUMINANCE):
        return 0.0
    factor = sum(q * 100 / s for q, s in zip(table, _STANDARD_LUMINANCE, strict=True)) / len(table)
    quality = (200 - factor) / 2 if factor <= 100 else 5000 / factor
    return float(max(1, min(100, round(quality))))


def has_added_border(version: Version) -> bool:
    """A uniform border or mat was found around the picture when it was fingerprinted."""
    fingerprint = getattr(version, "fingerprint", None)
    if fingerprint is None:
        return False
    return bool(fingerprint.content_width) or (
        fingerprint.phash_trimmed is not None and fingerprint.phash_trimmed != fingerprint.phash
    )


def overlaid_versions(members: Sequence[tuple[int, dict]]) -> set[int]:
    """Versions that carry a caption, stamp or credit the others lack, read from the verification evidence.

    Each member's evidence compares it with the cluster's anchor; a `region` there means one of the two has
    something laid over one region. Members that match the anchor cleanly show the anchor is clean, so the
    ones with a region carry the overlay; when every other member differs from the anchor in a region, the
    anchor is the odd one out. Two members alone cannot say which side carries it.
    """
    anchors = Counter(ev.get("compared_with") for _v, ev in members if ev.get("compared_with"))
    if not anchors:
        return set()
    anchor = anchors.most_common(1)[0][0]
    # The anchor's own row repeats one of these comparisons from its side.
    against_anchor = [(v, ev) for v, ev in members if v != anchor and ev.get("compared_with") == anchor]
    with_region = {v for v, ev in against_anchor if ev.get("region")}
    if not with_region:
        return set()
    if len(with_region) < len(against_anchor):
        return with_region
    return {anchor} if len(with_region) >= 2 else set()


@dataclass(frozen=True)
class ClusterFacts:
    """What the rules know about the cluster as a whole, beyond each version's own fields."""

    overlaid: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Rule:
    """key: larger is better; describe: why the winner won, in plain words."""

    key: Callable[[Version, ClusterFacts], float]
    describe: Callable[[Version], str]


def _capture_key(version: Version, facts: ClusterFacts) -> float:
    when = capture_date(version)
    return -when.timestamp() if when else float("-inf")


def _quality_words(version: Version) -> str:
    quality = jpeg_quality(version)
    if quality == LOSSLESS_QUALITY:
        return _("lossless file (%(format)s)") % {"format": version.format}
    return _("highest JPEG quality (about %(q)d)") % {"q": quality}


RULES: dict[str, Rule] = {
    "no_overlay": Rule(
        key=lambda v, facts: v.pk not in facts.overlaid,
        describe=lambda v: _("no caption, stamp or credit laid over the picture"),
    ),
    "no_border": Rule(
        key=lambda v, facts: not has_added_border(v),
        describe=lambda v: _("no added border or mat"),
    ),
    "not_derivative": Rule(
        key=lambda v, facts: v.duplicate_of_id is None,
        describe=lambda v: _("not recorded as a copy of another version"),
    ),
    "source_trust": Rule(
        key=lambda v, facts: v.source.trust_priority,
        describe=lambda v: _("most trusted source (%(source)s)") % {"source": v.source.name},
    ),
    "lossless_format": Rule(
        key=lambda v, facts: (v.format or "").upper() in LOSSLESS_FORMATS,
        describe=lambda v: _("lossless master format (%(format)s)") % {"format": v.format},
    ),
    "pixel_count": Rule(
        key=lambda v, facts: v.pixel_count,
        describe=lambda v: _("most pixels (%(w)s × %(h)s)") % {"w": v.width, "h": v.height},
    ),
    "jpeg_quality": Rule(key=lambda v, facts: jpeg_quality(v), describe=_quality_words),
    "bit_depth": Rule(
        key=lambda v, facts: getattr(getattr(v, "fingerprint", None), "bit_depth", 8),
        describe=lambda v: _("greatest bit depth (%(n)d bits)") % {"n": v.fingerprint.bit_depth},
    ),
    "file_size": Rule(
        key=lambda v, facts: v.byte_size,
        describe=lambda v: _("largest file (%(size)s) at the same pixel count") % {"size": filesizeformat(v.byte_size)},
    ),
    "earliest_capture": Rule(
        key=_capture_key,
        describe=lambda v: _("earliest capture date (%(date)s)")
        % {"date": date_format(capture_date(v), "SHORT_DATE_FORMAT")},
    ),
    "metadata_completeness": Rule(
        key=lambda v, facts: metadata_completeness(v),
        describe=lambda v: _("most complete metadata (%(n)d fields)") % {"n": metadata_completeness(v)},
    ),
}
RULE_LABELS = {
    "no_overlay": gettext_lazy("No caption, stamp or credit laid over the picture (from verification)"),
    "no_border": gettext_lazy("No added border or mat"),
    "not_derivative": gettext_lazy("Not already recorded as a copy of another version"),
    "source_trust": gettext_lazy("Source trust priority"),
    "lossless_format": gettext_lazy("Lossless master format (TIFF, PNG) over JPEG"),
    "pixel_count": gettext_lazy("Highest pixel count"),
    "jpeg_quality": gettext_lazy("Lossless, or the highest JPEG quality (from its quantisation tables)"),
    "bit_depth": gettext_lazy("Greatest bit depth"),
    "file_size": gettext_lazy("Largest file at equal pixels"),
    "earliest_capture": gettext_lazy("Earliest plausible capture date"),
    "metadata_completeness": gettext_lazy("Most complete metadata"),
}


@dataclass(frozen=True)
class Suggestion:
    version: Version
    reason: str
    rule: str = ""  # the rule that decided; "" when the upload order broke the tie


def authority_suggest(
    versions: Sequence[Version], rule_names: Sequence[str] | None = None, *, facts: ClusterFacts | None = None
) -> Suggestion:
    """Apply the configured rules in order, each keeping only the best members, until one is left."""
    names = settings.DUPFINDER_AUTHORITY_RULES if rule_names is None else rule_names
    facts = facts or ClusterFacts()
    remaining = sorted(versions, key=lambda v: (v.uploaded_at, v.pk))
    reasons: list[str] = []
    decided_by = ""
    for name in names:
        rule = RULES[name]
        keys = {v.pk: rule.key(v, facts) for v in remaining}
        best = max(keys.values())
        kept = [v for v in remaining if keys[v.pk] == best]
        if len(kept) < len(remaining):
            reasons.append(rule.describe(kept[0]))
            remaining = kept
            decided_by = name
        if len(remaining) == 1:
            break
    winner = remaining[0]
    if len(remaining) > 1:
        reasons.append(_("earliest upload among equals"))
        decided_by = ""
    return Suggestion(winner, _("Suggested for: %(reasons)s.") % {"reasons": "; ".join(reasons)}, decided_by)


def cluster_suggest(members: Sequence, rule_names: Sequence[str] | None = None) -> Suggestion:
    """The suggestion for a cluster's members (ClusterMember rows with their versions)."""
    facts = ClusterFacts(overlaid=frozenset(overlaid_versions([(m.version_id, m.evidence) for m in members])))
    return authority_suggest([m.version for m in members], rule_names, facts=facts)
