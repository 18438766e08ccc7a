"""'Is this copy the official one?': a submitted file checked against the collection, nothing stored."""

from dataclasses import dataclass, field, replace
from typing import IO, Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.models import AuditEvent, ImportedMetadata, Item, Version
from collections_app.selectors import item_surviving
from dedup.imaging.compare import fingerprint_side, searchable_hashes, upright_hashes
from dedup.imaging.fingerprint import Fingerprint as FileFingerprint
from dedup.imaging.fingerprint import fingerprint_file, preview_file
from dedup.imaging.renditions import THUMB_PREVIEW
from dedup.matching.candidates import candidates_for_hashes
from dedup.matching.edges import sides_compare, stored_side
from dedup.models import Fingerprint, MatchKind

KIND_RANK = {MatchKind.EXACT: 0, MatchKind.SAME_PIXELS: 1, MatchKind.NEAR: 2, MatchKind.ROTATED: 3}
# Normalised metadata fields compared with the authoritative version (dedup.imaging.metadata.summarise).
SUMMARY_FIELDS = {
    "camera": _("Camera"),
    "software": _("Software"),
    "title": _("Embedded title"),
    "caption": _("Embedded caption"),
    "creator": _("Embedded creator"),
    "keywords": _("Embedded keywords"),
    "rights": _("Embedded rights"),
    "gps": _("GPS position"),
    "orientation": _("EXIF orientation"),
}
# Timestamps as written in the file: EXIF and XMP.
TIMESTAMP_FIELDS = (
    ("exif", "DateTimeOriginal"),
    ("exif", "DateTimeDigitized"),
    ("exif", "DateTime"),
    ("xmp", "xmp:CreateDate"),
    ("xmp", "xmp:ModifyDate"),
    ("xmp", "xmp:MetadataDate"),
)


class VerificationTooLarge(Exception):
    """The submitted file is above the upload limit."""


@dataclass(frozen=True)
class Difference:
    field: str
    label: str
    submitted: str
    authoritative: str


BASIC_FIELDS = {
    "pixel_size": _("Pixel size"),
    "format": _("Format"),
    "byte_size": _("File size (bytes)"),
    "sha256": _("SHA-256"),
}


def difference_label(key: str) -> str:
    """The words for a compared field, in the active language (timestamps keep their EXIF/XMP names)."""
    name = key.split(".", 1)[-1]
    return str(BASIC_FIELDS.get(key) or SUMMARY_FIELDS.get(name) or name)


@dataclass(frozen=True)
class VersionMatch:
    version: Version
    kind: str
    score: float
    evidence: dict = field(default_factory=dict)  # dedup.imaging.compare: transform, region, sizes, formats
    fingerprint: Fingerprint | None = None  # the stored side: its preview and rendition size


@dataclass(frozen=True)
class Decision:
    """How the authoritative version came to be chosen, from the audit event that made it so."""

    how: str  # "chosen", "approved", "merged" or "uploaded" (the item's first version, nobody chose)
    actor: str
    at: Any
    reason: str
    requested_by: str = ""
    event_id: int | None = None


@dataclass
class ItemAnswer:
    item: Item
    matches: list[VersionMatch]
    authoritative: Version | None
    is_authoritative: bool  # the submitted bytes are exactly the authoritative file
    differences: list[Difference] = field(default_factory=list)
    decision: Decision | None = None

    @property
    def kind(self) -> str:
        return self.matches[0].kind

    @property
    def authoritative_match(self) -> VersionMatch | None:
        """The comparison with the authoritative version; None if the copy did not match it."""
        return next((m for m in self.matches if self.authoritative and m.version.pk == self.authoritative.pk), None)

    @property
    def authoritative_kind(self) -> str:
        """How the submitted copy matches the authoritative version; blank if it did not match it."""
        match = self.authoritative_match
        return match.kind if match else ""


@dataclass(frozen=True)
class Verification:
    submitted: FileFingerprint
    items: list[ItemAnswer]
    checked_at: Any = None
    chain_head: str = ""  # the audit chain's last hash when the check was made

    @property
    def matched(self) -> bool:
        return bool(self.items)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value if v not in (None, ""))
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in sorted(value.items()))
    return str(value)


def _embedded(version: Version) -> dict:
    row = next((r for r in version.imported_metadata.all() if r.origin == ImportedMetadata.Origin.EMBEDDED), None)
    return row.data if row else {}


def _size(width: int | None, height: int | None) -> str:
    return f"{width} × {height}" if width else ""


def differences(submitted: FileFingerprint, version: Version) -> list[Difference]:
    """What disagrees between the submitted file and a stored version: pixels, format, file, metadata, times."""
    stored = _embedded(version)
    rows = [
        ("pixel_size", _size(submitted.width, submitted.height), _size(version.width, version.height)),
        ("format", submitted.format, version.format),
        ("byte_size", str(submitted.byte_size), str(version.byte_size)),
        ("sha256", submitted.sha256, version.sha256),
    ]
    rows = [(key, BASIC_FIELDS[key], a, b) for key, a, b in rows]
    ours, theirs = submitted.metadata.get("summary", {}), stored.get("summary", {})
    rows += [(f"metadata.{n}", label, _text(ours.get(n)), _text(theirs.get(n))) for n, label in SUMMARY_FIELDS.items()]
    for section, name in TIMESTAMP_FIELDS:
        mine, other = submitted.metadata.get(section, {}).get(name), stored.get(section, {}).get(name)
        rows.append((f"{section}.{name}", name, _text(mine), _text(other)))
    return [Difference(key, str(label), a, b) for key, label, a, b in rows if a != b]


def authority_decision(*, version: Version) -> Decision | None:
    """The latest audit event that made `version` authoritative: a records officer's choice (perhaps approved
    by a second one), a curator's merge, or its upload as the item's first version."""
    event = (
        AuditEvent.objects.filter(
            Q(action="item.mark_authoritative", after__authoritative_version__id=version.pk)
            | Q(action="cluster.merge", after__authoritative_version=version.pk)
            | Q(action="version.ingest", target_type="collections_app.version", target_id=str(version.pk))
        )
        .order_by("-pk")
        .first()
    )
    if event is None:
        return None
    how = {"cluster.merge": "merged", "version.ingest": "uploaded"}.get(event.action, "chosen")
    requested_by = str(event.after.get("requested_by") or "") if how == "chosen" else ""
    if requested_by:
        how = "approved"
    return Decision(how, event.actor_label, event.created_at, event.reason, requested_by, event.pk)


def chain_head() -> str:
    """The hash of the audit trail's last event: what a statement says the trail stood at."""
    return AuditEvent.objects.order_by("-pk").values_list("entry_hash", flat=True).first() or ""


def _answers(submitted: FileFingerprint, matches: list[VersionMatch]) -> list[ItemAnswer]:
    by_item: dict[int, list[VersionMatch]] = {}
    items: dict[int, Item] = {}
    for match in sorted(matches, key=lambda m: (KIND_RANK[m.kind], -m.score, m.version.pk)):
        item = item_surviving(item=match.version.item)
        items[item.pk] = item
        by_item.setdefault(item.pk, []).append(match)
    ids = [v.authoritative_version_id for v in items.values() if v.authoritative_version_id]
    authoritative = Version.objects.select_related("source").prefetch_related("imported_metadata").in_bulk(ids)
    answers = []
    for pk, found in by_item.items():
        chosen = authoritative.get(items[pk].authoritative_version_id)
        exact = chosen is not None and chosen.sha256 == submitted.sha256
        diffs = differences(submitted, chosen) if chosen and not exact else []
        decision = authority_decision(version=chosen) if chosen else None
        answers.append(ItemAnswer(items[pk], found, chosen, exact, diffs, decision))
    return sorted(answers, key=lambda a: (KIND_RANK[a.kind], -a.matches[0].score, a.item.pk))


def copy_check(*, fileobj: IO[bytes], byte_size: int | None = None) -> Verification:
    """Fingerprint the copy in memory, verify each candidate, and answer per matching item.

    Raises FingerprintError (with a reason) for a file that is not a readable image; nothing is saved.
    """
    if byte_size is not None and byte_size > settings.DUPFINDER_MAX_UPLOAD_BYTES:
        raise VerificationTooLarge
    # Fingerprinted as the worker fingerprints a stored version (a JPEG photo from its reduced decode), so this
    # answer and matching compare the same hashes; the statement's picture of the copy is made apart.
    submitted = fingerprint_file(fileobj, max_pixels=settings.DUPFINDER_MAX_PIXELS, preview=False)
    if THUMB_PREVIEW not in submitted.thumbnails:
        fileobj.seek(0)
        preview = preview_file(fileobj, max_pixels=settings.DUPFINDER_MAX_PIXELS)
        submitted = replace(submitted, thumbnails={**submitted.thumbnails, THUMB_PREVIEW: preview})
    candidates = candidates_for_hashes(
        upright=upright_hashes(submitted), hashes=searchable_hashes(submitted), sha256=submitted.sha256
    )
    checked_at, head = timezone.now(), chain_head()
    stored = Fingerprint.objects.select_related("version__item", "version__source").filter(
        version_id__in=list(candidates)
    )
    side = fingerprint_side(submitted)
    matches = []
    for fingerprint in stored:
        # The very comparison matching stores as an edge, so this answer and the cluster page agree.
        result = sides_compare(stored_side(fingerprint), side)
        if result.is_duplicate:
            matches.append(VersionMatch(fingerprint.version, result.kind, result.score, result.evidence, fingerprint))
    return Verification(submitted, _answers(submitted, matches), checked_at, head)
