"""Writes to the catalogue: ingest of files from every entry point, and the audit trail."""

import hashlib
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.audit import AUDIT_LOCK_KEY, event_digest, json_normalise
from collections_app.failures import Refusal, failure_text
from collections_app.models import AuditEvent, ImportedMetadata, IngestBatch, Item, Source, Version
from collections_app.signals import processing_requested
from collections_app.storage import STORAGE_ERRORS
from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.fingerprint import identify
from dedup.imaging.formats import PDF
from dedup.imaging.pdf import document_metadata, pdf_page_count

CHUNK = 1024 * 1024

logger = logging.getLogger(__name__)

# The actor name of an event no person made (a folder import, the worker, a scheduled task); pages word it.
SYSTEM_ACTOR = "system"


class StorageUnavailable(Exception):
    """The file store cannot be written to (full, read-only, unmounted): no item or version was made for the file.

    Not the uploader's fault and not a refusal of the file, so it stops the upload; pages and the API answer 503
    (collections_app.middleware, api.exceptions).
    """


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one file offered for ingest."""

    status: str  # created | already_ingested | not_image | empty | too_large | unreadable
    message: str
    version: Version | None = None
    code: str = ""  # a Failure or Refusal code (collections_app.failures) when the file was not stored
    params: dict = field(default_factory=dict)

    @property
    def created(self) -> bool:
        return self.status == "created"


def audit_record(
    *,
    actor: Any,
    action: str,
    target: Any,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail, chained by hash to the event before it."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = user.get_username() if user else (str(actor) if actor else SYSTEM_ACTOR)
    event = AuditEvent(
        actor=user,
        actor_label=label,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        reason=reason,
        before=json_normalise(before or {}),
        after=json_normalise(after or {}),
    )
    with transaction.atomic():
        # Held until the outermost transaction commits, so no two events ever share a predecessor.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])
        last = AuditEvent.objects.order_by("-pk").values_list("entry_hash", flat=True).first()
        event.previous_hash = last or ""
        event.entry_hash = event_digest(event, event.previous_hash)
        event.save()
    return event


def _digest(fileobj: IO[bytes]) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return sha.hexdigest(), size


def _refusal(error: FingerprintError) -> IngestOutcome:
    status = "too_large" if error.code in (Failure.TOO_LARGE, Failure.OUT_OF_MEMORY) else "not_image"
    return _outcome(status, error.code, **error.params)


def _outcome(status: str, code: str, version: Version | None = None, **params: Any) -> IngestOutcome:
    return IngestOutcome(status, failure_text(code, params), version, code, params)


def _processing_request(*, version_id: int, inline: bool = False) -> None:
    """Ask detection (dedup, which listens) to process a stored version; sent once the upload committed."""
    processing_requested.send(sender=Version, version_id=version_id, inline=inline)


def source_get_or_create(*, name: str) -> Source:
    source, _created = Source.objects.get_or_create(name=name.strip())
    return source


def batch_create(*, source: Source, label: str = "", created_by: Any = None, channel: str = "") -> IngestBatch:
    user = created_by if getattr(created_by, "is_authenticated", False) else None
    return IngestBatch.objects.create(source=source, label=label, channel=channel, created_by=user)


def version_ingest(
    *,
    fileobj: IO[bytes],
    original_filename: str,
    source: Source,
    original_path: str = "",
    uploader: Any = None,
    batch: IngestBatch | None = None,
    process_inline: bool = False,
) -> IngestOutcome:
    """Store one file as a new item and version, then queue its processing after commit.

    Raises StorageUnavailable when the file store cannot be written to.
    """
    sha256, size = _digest(fileobj)
    if size == 0:
        return _outcome("empty", Failure.EMPTY)
    if size > settings.DUPFINDER_MAX_UPLOAD_BYTES:
        limit_mb = settings.DUPFINDER_MAX_UPLOAD_BYTES // (1024 * 1024)
        return _outcome("too_large", Failure.FILE_TOO_LARGE, limit=limit_mb)
    if original_path:
        existing = Version.objects.filter(source=source, original_path=original_path, sha256=sha256).first()
        if existing:
            return _outcome("already_ingested", Refusal.ALREADY_INGESTED, existing)
    try:
        # The type comes from the bytes, never the name or declared type; only the header is parsed here,
        # so a file whose pixels turn out damaged fails later in the worker, with a reason.
        image_format = identify(
            fileobj, max_pixels=settings.DUPFINDER_MAX_PIXELS, max_pages=settings.DUPFINDER_MAX_PDF_PAGES
        )
    except FingerprintError as exc:
        return _refusal(exc)
    try:
        version, page_ids = _version_create(
            fileobj=fileobj,
            original_filename=original_filename,
            original_path=original_path,
            source=source,
            uploader=uploader,
            batch=batch,
            sha256=sha256,
            size=size,
            image_format=image_format,
        )
    except IntegrityError:
        # Another process ingested the same file from the same path at the same moment.
        existing = Version.objects.filter(source=source, original_path=original_path, sha256=sha256).first()
        return _outcome("already_ingested", Refusal.ALREADY_INGESTED, existing)
    for pk in page_ids or [version.pk]:
        transaction.on_commit(partial(_processing_request, version_id=pk, inline=process_inline))
    return IngestOutcome("created", _("Stored; processing is queued."), version)


@transaction.atomic
def _version_create(
    *,
    fileobj: IO[bytes],
    original_filename: str,
    original_path: str,
    source: Source,
    uploader: Any,
    batch: IngestBatch | None,
    sha256: str,
    size: int,
    image_format: str,
) -> tuple[Version, list[int]]:
    """The new version, and for a PDF the ids of its page versions (the ones to process)."""
    user = uploader if getattr(uploader, "is_authenticated", False) else None
    item = Item.objects.create(title=PurePath(original_filename).stem[:500])
    version = Version(
        item=item,
        original_filename=original_filename[:500],
        original_path=original_path[:1000],
        source=source,
        batch=batch,
        uploader=user,
        byte_size=size,
        sha256=sha256,
        format=image_format,  # decides the stored suffix and the type the file is served with
    )
    try:
        version.file.save(original_filename, File(fileobj), save=False)
    except STORAGE_ERRORS as exc:
        logger.error("Could not store %s: %s", original_filename, exc)
        raise StorageUnavailable(
            _(
                "The file store cannot be written to just now, so %(name)s and any files after it were not stored. "
                "Files stored before it are kept. Try again later; if this goes on, tell an administrator."
            )
            % {"name": original_filename}
        ) from exc
    if image_format == PDF:  # the document itself is not fingerprinted: its pages are, each as a version
        version.status, version.processed_at = Version.Status.DONE, timezone.now()
    version.save()
    item.authoritative_version = version
    item.save(update_fields=["authoritative_version"])
    facts = {"item": item.identifier, "original_path": original_path, "sha256": sha256, "source": source.name}
    pages = pdf_page_count(fileobj, max_pages=settings.DUPFINDER_MAX_PDF_PAGES) if image_format == PDF else 0
    audit_record(
        actor=uploader, action="version.ingest", target=version, after=facts | ({"pages": pages} if pages else {})
    )
    page_ids = (
        _document_pages_create(document=version, pages=pages, fileobj=fileobj, uploader=uploader) if pages else []
    )
    return version, page_ids


def _document_pages_create(*, document: Version, pages: int, fileobj: IO[bytes], uploader: Any) -> list[int]:
    """One item and version per page of a stored PDF, sharing its file; the document's metadata kept with it."""
    ImportedMetadata.objects.create(
        version=document,
        origin=ImportedMetadata.Origin.EMBEDDED,
        data={"pdf": {"pages": pages, **document_metadata(fileobj, max_pages=settings.DUPFINDER_MAX_PDF_PAGES)}},
    )
    stem = PurePath(document.original_filename).stem
    items = Item.objects.bulk_create(
        Item(title=(_("%(name)s, page %(page)d") % {"name": stem, "page": n})[:500]) for n in range(1, pages + 1)
    )
    versions = Version.objects.bulk_create(
        Version(
            item=item,
            parent=document,
            page_number=n,
            file=document.file.name,  # the document's file, stored once
            original_filename=document.original_filename,
            original_path=f"{document.original_path}#page={n}" if document.original_path else "",
            source=document.source,
            batch=document.batch,
            uploader=document.uploader,
            byte_size=document.byte_size,
            sha256=document.sha256,
            format=PDF,
        )
        for n, item in enumerate(items, start=1)
    )
    for item, version in zip(items, versions, strict=True):
        item.authoritative_version = version
    Item.objects.bulk_update(items, ["authoritative_version"])
    for version in versions:
        audit_record(
            actor=uploader,
            action="version.ingest",
            target=version,
            after={"item": version.item.identifier, "document": document.pk, "page": version.page_number},
        )
    return [version.pk for version in versions]


class VersionNotRetryable(Exception):
    """Only a version whose processing failed is put back in the queue."""


@transaction.atomic
def version_retry(*, version_id: int, actor: Any) -> Version:
    """Put a failed version back to waiting and queue its processing once this commits; the file is not resent."""
    version = Version.objects.select_for_update().get(pk=version_id)
    if version.status != Version.Status.FAILED:
        raise VersionNotRetryable(_("Only a file whose processing failed can be retried."))
    before = {"status": version.status, "error_code": version.error_code, "error_params": version.error_params}
    version.status, version.error_code, version.error_params = Version.Status.PENDING, "", {}
    version.processed_at = None
    version.save(update_fields=["status", "error_code", "error_params", "processed_at"])
    audit_record(actor=actor, action="version.retry", target=version, before=before, after={"status": version.status})
    transaction.on_commit(partial(_processing_request, version_id=version.pk))
    return version
