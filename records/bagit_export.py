"""BagIt (RFC 8493) packages of the authoritative versions of a selection of items, made with the bagit library.

Each item gets a folder under data/ holding its authoritative file, its Dublin Core record and its PREMIS event
log; the bag's manifests are SHA-256. A file whose bytes no longer match the checksum taken at ingest stops the
package: an archive must not receive a silently changed copy.
"""

import hashlib
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

import bagit
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.dublin_core import dc_xml
from collections_app.models import CURATED_FIELDS, Item, Source, Version
from collections_app.search import items_search
from collections_app.selectors import item_by_identifier
from collections_app.streaming import original_download
from records.premis import item_premis
from records.selectors import item_audit_events

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BagError(Exception):
    """The package cannot be made as asked; the message is meant for the records officer."""


@dataclass(frozen=True)
class BagSelection:
    """Which items go in: any combination of a catalogue search, a source, an upload date range (inclusive) and
    identifiers."""

    source: str = ""
    uploaded_from: date | None = None
    uploaded_to: date | None = None
    identifiers: tuple[str, ...] = ()
    search: str = ""  # what the catalogue's search box takes: the items that search finds

    def describe(self) -> str:
        parts = []
        if self.source:
            parts.append(f"source={self.source}")
        if self.uploaded_from or self.uploaded_to:
            parts.append(f"uploaded={self.uploaded_from or ''}..{self.uploaded_to or ''}")
        if self.identifiers:
            parts.append(f"items={len(self.identifiers)}")
        if self.search:
            parts.append(f"search={self.search}")
        return "; ".join(parts) or "all items"


def bag_items(*, selection: BagSelection) -> QuerySet[Item]:
    """Surviving items with an authoritative version, narrowed by the selection (every part must hold)."""
    items = Item.objects.filter(merged_into__isnull=True, authoritative_version__isnull=False)
    if selection.source:
        if not Source.objects.filter(name=selection.source).exists():
            raise BagError(_("There is no source named %(name)s.") % {"name": selection.source})
        items = items.filter(authoritative_version__source__name=selection.source)
    if selection.uploaded_from:
        items = items.filter(authoritative_version__uploaded_at__date__gte=selection.uploaded_from)
    if selection.uploaded_to:
        items = items.filter(authoritative_version__uploaded_at__date__lte=selection.uploaded_to)
    if selection.identifiers:
        items = items.filter(pk__in=_identified(selection.identifiers))
    if selection.search.strip():
        items = items.filter(pk__in=items_search(queryset=Item.objects.all(), text=selection.search).values("pk"))
    return items.select_related("authoritative_version__source").order_by("identifier")


def _identified(identifiers: tuple[str, ...]) -> set[int]:
    found, unknown = set(), []
    for identifier in identifiers:
        try:
            found.add(item_by_identifier(identifier=identifier).pk)
        except Item.DoesNotExist:
            unknown.append(identifier)
    if unknown:
        raise BagError(_("No item has these identifiers: %(list)s.") % {"list": ", ".join(unknown[:20])})
    return found


def bag_size(*, items: QuerySet[Item]) -> int:
    return sum(items.values_list("authoritative_version__byte_size", flat=True))


def _folder_name(item: Item, used: set[str]) -> str:
    name = _UNSAFE.sub("_", item.identifier).strip("._") or f"item-{item.pk}"
    if name.lower() in used:  # two identifiers that differ only in characters a file name cannot hold
        name = f"{name}-{item.pk}"
    used.add(name.lower())
    return name


def _copy_checked(version: Version, target: Path) -> None:
    sha = hashlib.sha256()
    try:
        with default_storage.open(version.file.name, "rb") as source, target.open("wb") as out:
            while chunk := source.read(CHUNK):
                sha.update(chunk)
                out.write(chunk)
    except FileNotFoundError as exc:
        raise BagError(
            _("The file of version %(id)d is missing from storage; run check_fixity.") % {"id": version.pk}
        ) from exc
    if sha.hexdigest() != version.sha256:
        raise BagError(
            _("The file of version %(id)d no longer matches its SHA-256 from ingest; run check_fixity.")
            % {"id": version.pk}
        )


def dc_row(item: Item, version: Version) -> dict:
    """An item and its authoritative version in the shape collections_app.dublin_core maps."""
    return {
        "identifier": item.identifier,
        **{name: getattr(item, name) for name in CURATED_FIELDS},
        "format": version.format,
        "source": version.source.name,
        "original_path": version.original_path,
    }


def _item_payload(item: Item, folder: Path) -> None:
    version = item.authoritative_version
    if version.quarantined_at:  # not expected: reclamation never moves an authoritative version
        raise BagError(_("The authoritative file of %(item)s is in quarantine.") % {"item": item.identifier})
    folder.mkdir()
    _content_type, download_name = original_download(version)
    _copy_checked(version, folder / (Path(download_name).name or f"version-{version.pk}"))
    (folder / "dublin-core.xml").write_bytes(dc_xml(dc_row(item, version)))
    with (folder / "premis.xml").open("wb") as out:
        for chunk in item_premis(item=item, events=item_audit_events(item=item)):
            out.write(chunk)


def bag_build(*, selection: BagSelection, target: Path) -> bagit.Bag:
    """Write the bag into `target` (a new or empty directory) and return it, already validated."""
    items = bag_items(selection=selection)
    if not items.exists():
        raise BagError(_("No item with an authoritative version matches this selection."))
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise BagError(_("The folder %(path)s is not empty.") % {"path": target})
    used: set[str] = set()
    for item in items.iterator(chunk_size=500):
        _item_payload(item, target / _folder_name(item, used))
    bag = bagit.make_bag(
        str(target),
        bag_info={
            "External-Description": f"Authoritative versions of a selection ({selection.describe()})",
            "Bag-Group-Identifier": f"dupfinder-{timezone.now():%Y%m%dT%H%M%S}",
        },
        checksums=["sha256"],
    )
    bag.validate()
    return bag


def bag_zip(*, selection: BagSelection) -> IO[bytes]:
    """The bag as a ZIP in a temporary file (gone when closed), its top folder named after the bag."""
    work = Path(tempfile.mkdtemp(prefix="bag-"))
    try:
        bag_dir = work / f"bag-{timezone.localdate():%Y-%m-%d}"
        bag_build(selection=selection, target=bag_dir)
        archive = tempfile.TemporaryFile()
        # Images are compressed already; storing them keeps the ZIP fast to write and to check.
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zipped:
            for path in sorted(bag_dir.rglob("*")):
                zipped.write(path, path.relative_to(work).as_posix())
        archive.seek(0)
        return archive
    finally:
        shutil.rmtree(work, ignore_errors=True)
