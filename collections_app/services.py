"""Writes to the catalogue: ingest of files from every entry point, and the audit trail."""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from collections_app.audit import AUDIT_LOCK_KEY, event_digest, json_normalise
from collections_app.models import AuditEvent, IngestBatch, Item, Source, Version
from dedup.fingerprint import FingerprintError, identify
from dedup.reasons import reason_translate

CHUNK = 1024 * 1024
# After a failed publish, later versions skip the broker for this long (the requeue sweep queues them),
# so storing many files during a broker outage is not slowed by one failed connection per file.
BROKER_BACKOFF_SECONDS = 15.0
_broker_down_until = 0.0

logger = logging.getLogger(__name__)


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


def _refusal(error: FingerprintError) -> IngestOutcome:
    status = "too_large" if error.reason.startswith("The image is too large") else "not_image"
    return IngestOutcome(status, reason_translate(error.reason))


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
    if original_path:
        existing = Version.objects.filter(source=source, original_path=original_path, sha256=sha256).first()
        if existing:
            return IngestOutcome("already_ingested", _("Already ingested from this source and path."), existing)
    try:
        # The type comes from the bytes, never the name or declared type; only the header is parsed here,
        # so a file whose pixels turn out damaged fails later in the worker, with a reason.
        image_format = identify(fileobj, max_pixels=settings.DUPFINDER_MAX_PIXELS)
    except FingerprintError as exc:
        return _refusal(exc)
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
            image_format=image_format,
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
    image_format: str,
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
        format=image_format,  # decides the stored suffix and the type the file is served with
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


def version_dispatch_processing(*, version_id: int, inline: bool = False, record_queued: bool = True) -> None:
    """Queue (or, for --inline, run here) the processing of one version, and note when it was queued.

    Runs after the upload committed: if the broker is down the file is already stored, so the version is
    left waiting for the requeue sweep (`requeue_stuck`, Celery beat) instead of failing the upload.
    """
    from dedup.services import version_process
    from dedup.tasks import process_version

    global _broker_down_until
    if inline:
        version_process(version_id=version_id)
        return
    if time.monotonic() < _broker_down_until:
        logger.warning("Broker unavailable: version %s left waiting for the requeue sweep.", version_id)
        return
    try:
        process_version.delay(version_id)
    except OperationalError:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("Could not queue version %s; left waiting for the requeue sweep.", version_id, exc_info=True)
        return
    if record_queued:
        Version.objects.filter(pk=version_id).update(queued_at=timezone.now())


class VersionNotRetryable(Exception):
    """Only a version whose processing failed is put back in the queue."""


@transaction.atomic
def version_retry(*, version_id: int, actor: Any) -> Version:
    """Put a failed version back to waiting and queue its processing once this commits; the file is not resent."""
    version = Version.objects.select_for_update().get(pk=version_id)
    if version.status != Version.Status.FAILED:
        raise VersionNotRetryable(_("Only a file whose processing failed can be retried."))
    before = {"status": version.status, "error": version.error}
    version.status, version.error, version.processed_at = Version.Status.PENDING, "", None
    version.save(update_fields=["status", "error", "processed_at"])
    audit_record(actor=actor, action="version.retry", target=version, before=before, after={"status": version.status})
    transaction.on_commit(partial(version_dispatch_processing, version_id=version.pk))
    return version


def version_requeue_stuck(*, older_than_seconds: int | None = None) -> int:
    """Re-enqueue versions queued (or, never queued, uploaded) too long ago and still waiting or processing.

    Covers a broker that was down and a worker that was killed. Tasks are idempotent: a message for a version
    already finished, or held by a live worker, changes nothing.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.DUPFINDER_REQUEUE_AFTER_SECONDS
    ids = _versions_claim_for_requeue(cutoff=timezone.now() - timedelta(seconds=older_than_seconds))
    for pk in ids:
        version_dispatch_processing(version_id=pk, record_queued=False)
    return len(ids)


@transaction.atomic
def _versions_claim_for_requeue(*, cutoff: datetime) -> list[int]:
    """Mark the due versions queued now and return them; committed before any message is sent.

    SKIP LOCKED plus the moved queued_at keep two sweeps running at once (two beat hosts, beat and cron)
    from both queuing the same version: the second skips rows the first holds, or finds them no longer due.
    """
    ids = list(
        Version.objects.select_for_update(skip_locked=True)
        .filter(status__in=[Version.Status.PENDING, Version.Status.PROCESSING])
        .alias(last_queued=Coalesce("queued_at", "uploaded_at"))
        .filter(last_queued__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Version.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    return ids
