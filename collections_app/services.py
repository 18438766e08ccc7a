"""Writes to the catalogue: ingest of files from every entry point, and the audit trail."""

import hashlib
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from PIL import Image

from collections_app.audit import AUDIT_LOCK_KEY, event_digest, json_normalise
from collections_app.models import AuditEvent, IngestBatch, Item, Source, Version

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one file offered for ingest."""

    status: str  # created | already_ingested | not_image | empty | too_large | unreadable
    message: str
    version: Version | None = None

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
    label = user.get_username() if user else (str(actor) if actor else "system")
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


def _looks_like_image(fileobj: IO[bytes]) -> bool:
    """Read only the header; full decoding and its limits happen in the worker."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fileobj) as image:
                image.size  # noqa: B018 - touching size makes Pillow parse the header
        return True
    except Image.DecompressionBombError:
        return True  # an image, but too big: the worker records why it failed
    except Exception:
        return False
    finally:
        fileobj.seek(0)


def source_get_or_create(*, name: str) -> Source:
    source, _created = Source.objects.get_or_create(name=name.strip())
    return source


def batch_create(*, source: Source, label: str = "", created_by: Any = None) -> IngestBatch:
    user = created_by if getattr(created_by, "is_authenticated", False) else None
    return IngestBatch.objects.create(source=source, label=label, created_by=user)


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
    """Store one file as a new item and version, then queue its processing after commit."""
    sha256, size = _digest(fileobj)
    if size == 0:
        return IngestOutcome("empty", _("The file is empty."))
    if size > settings.DUPFINDER_MAX_UPLOAD_BYTES:
        return IngestOutcome(
            "too_large",
            _("The file is larger than the limit of %(limit)d MB.")
            % {"limit": settings.DUPFINDER_MAX_UPLOAD_BYTES // (1024 * 1024)},
        )
    if not _looks_like_image(fileobj):
        return IngestOutcome("not_image", _("Not an image file this system can read."))
    if original_path:
        existing = Version.objects.filter(source=source, original_path=original_path, sha256=sha256).first()
        if existing:
            return IngestOutcome("already_ingested", _("Already ingested from this source and path."), existing)
    try:
        version = _version_create(
            fileobj=fileobj,
            original_filename=original_filename,
            original_path=original_path,
            source=source,
            uploader=uploader,
            batch=batch,
            sha256=sha256,
            size=size,
        )
    except IntegrityError:
        # Another process ingested the same file from the same path at the same moment.
        existing = Version.objects.filter(source=source, original_path=original_path, sha256=sha256).first()
        return IngestOutcome("already_ingested", _("Already ingested from this source and path."), existing)
    transaction.on_commit(partial(version_dispatch_processing, version_id=version.pk, inline=process_inline))
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
) -> Version:
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
    )
    version.file.save(original_filename, File(fileobj), save=False)
    version.save()
    item.authoritative_version = version
    item.save(update_fields=["authoritative_version"])
    audit_record(
        actor=uploader,
        action="version.ingest",
        target=version,
        after={"item": item.identifier, "original_path": original_path, "sha256": sha256, "source": source.name},
    )
    return version


def version_dispatch_processing(*, version_id: int, inline: bool = False) -> None:
    """Queue (or, for --inline, run here) the processing of one version."""
    from dedup.services import version_process
    from dedup.tasks import process_version

    if inline:
        version_process(version_id=version_id)
    else:
        process_version.delay(version_id)


def version_requeue_stuck(*, older_than_seconds: int = 600) -> int:
    """Re-enqueue versions still waiting, e.g. after the broker was down; tasks are idempotent."""
    from datetime import timedelta

    from django.utils import timezone

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Version.objects.filter(
            status__in=[Version.Status.PENDING, Version.Status.PROCESSING], uploaded_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        version_dispatch_processing(version_id=pk)
    return len(ids)
