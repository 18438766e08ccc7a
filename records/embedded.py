"""The item page's metadata: what each version carried (EXIF, IPTC, XMP, sidecar), where curated values came from."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.models import CURATED_FIELDS, ImportedMetadata, Item, Version

# The normalised summary dedup.imaging.metadata.summarise stores, in the order a reader looks for it.
SUMMARY_LABELS = {
    "caption": gettext_lazy("Description"),
    "title": gettext_lazy("Title"),
    "capture_date": gettext_lazy("Captured"),
    "camera": gettext_lazy("Camera or scanner"),
    "software": gettext_lazy("Software"),
    "creator": gettext_lazy("Creator"),
    "keywords": gettext_lazy("Keywords"),
    "rights": gettext_lazy("Rights"),
    "gps": gettext_lazy("GPS position"),
}
SECTIONS = {"exif": "EXIF", "iptc": "IPTC", "xmp": "XMP"}
# Which summary field of a file speaks to which curated field (title_zh has none: files carry one title).
CURATED_SUMMARY = {
    "title": "title",
    "description": "caption",
    "creator": "creator",
    "date": "capture_date",
    "subjects": "keywords",
    "rights": "rights",
}
MAX_SHOWN_CHARS = 300


@dataclass
class EmbeddedMetadata:
    """One version's imported metadata, ready to show."""

    summary: list[tuple[str, str]] = field(default_factory=list)
    # (section name, [(tag, value)]) for EXIF, IPTC, XMP and the sidecar CSV row, as imported.
    sections: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)


def _text(value: Any) -> str:
    if isinstance(value, list):
        text = "; ".join(_text(v) for v in value)
    elif isinstance(value, dict):
        text = "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    else:
        text = str(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "…"


def version_metadata(*, version: Version) -> EmbeddedMetadata:
    """From the version's prefetched `imported_metadata`."""
    shown = EmbeddedMetadata()
    for row in version.imported_metadata.all():
        data = row.data or {}
        if row.origin == ImportedMetadata.Origin.EMBEDDED:
            summary = data.get("summary") or {}
            shown.summary = [
                (str(label), _text(summary[key])) for key, label in SUMMARY_LABELS.items() if summary.get(key)
            ]
            for key, name in SECTIONS.items():
                if data.get(key):
                    shown.sections.append((name, [(str(tag), _text(value)) for tag, value in data[key].items()]))
        elif data:
            shown.sections.append((str(row.get_origin_display()), [(str(k), _text(v)) for k, v in data.items()]))
    return shown


def provenance_text(entry: Any) -> str:
    """{"version": 35} → "from version 35"; {"versions": [..]}; {"user": "amy"} → "set by amy"."""
    if not isinstance(entry, dict):
        return ""
    if entry.get("version"):
        return _("from version %(id)s") % {"id": entry["version"]}
    if entry.get("versions"):
        return _("from versions %(ids)s") % {"ids": ", ".join(map(str, entry["versions"]))}
    if entry.get("user"):
        return _("set by %(name)s") % {"name": entry["user"]}
    return ""


def _carried(versions: Iterable[Version]) -> dict[str, list[tuple[int, str]]]:
    """Curated field → [(version id, what that version's file carried for it)], from prefetched metadata."""
    carried: dict[str, list[tuple[int, str]]] = {name: [] for name in CURATED_SUMMARY}
    for version in versions:
        rows = version.imported_metadata.all()
        embedded = [r.data or {} for r in rows if r.origin == ImportedMetadata.Origin.EMBEDDED]
        summary = (embedded[0].get("summary") or {}) if embedded else {}
        for name, key in CURATED_SUMMARY.items():
            if summary.get(key):
                carried[name].append((version.pk, _text(summary[key])))
    return carried


CuratedRow = tuple[str, str, str, list[tuple[int, str]]]


def curated_fields(*, item: Item, versions: Iterable[Version] = ()) -> list[CuratedRow]:
    """(label, value, where it came from, what each version's file carried for it) of each curated field."""
    carried = _carried(versions)
    rows = []
    for name in CURATED_FIELDS:
        value = getattr(item, name)
        if isinstance(value, list):
            value = "; ".join(map(str, value))
        label = str(Item._meta.get_field(name).verbose_name)
        origin = provenance_text(item.provenance.get(name))
        rows.append((label[:1].upper() + label[1:], value or "—", origin, carried.get(name, [])))
    return rows
