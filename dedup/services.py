"""Writes for duplicate detection: the processing lifecycle of a version, from queue to fingerprint."""

import logging
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from collections_app.models import ImportedMetadata, Version
from collections_app.progress import Progress, no_progress
from collections_app.storage import STORAGE_ERRORS, storage_replace
from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.fingerprint import CONTRACT, fingerprint_file, preview_file
from dedup.imaging.fingerprint import Fingerprint as FingerprintData
from dedup.imaging.index import to_signed
from dedup.imaging.renditions import THUMB_PREVIEW, THUMB_SMALL
from dedup.matching.clusters import version_match
from dedup.matching.hash_entries import hash_entries_replace
from dedup.models import Fingerprint, RefingerprintRequest

# After a failed publish, later versions skip the broker for this long (the requeue sweep queues them),
# so storing many files during a broker outage is not slowed by one failed connection per file.
BROKER_BACKOFF_SECONDS = 15.0
_broker_down_until = 0.0

logger = logging.getLogger(__name__)


class TransientStorageError(Exception):
    """The file store could not be read just now; worth retrying."""


# Session advisory locks "dupv" + version id: one per version being processed, apart from the audit and match keys.
PROCESSING_LOCK_BASE = 0x64757076 << 32


@contextmanager
def _processing_lock(version_id: int) -> Iterator[bool]:
    """Yield whether this run may process the version: no other live run holds it.

    PostgreSQL releases a session lock when its connection closes, so the lock of a worker killed mid-task
    (SIGKILL, lost host) disappears with it and its row left in 'processing' can be taken over at once.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = PROCESSING_LOCK_BASE | version_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            # A broken connection has already dropped the lock; its error must not hide the original one.
            with suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _claim(version_id: int) -> bool:
    """Move pending → processing; a 'processing' row is taken over (its lock is free, so its run is gone).

    A version already done or failed is left alone, so a redelivered or re-queued message changes nothing.
    """
    return bool(
        Version.objects.filter(pk=version_id, status__in=[Version.Status.PENDING, Version.Status.PROCESSING]).update(
            status=Version.Status.PROCESSING
        )
    )


def version_mark_failed(*, version_id: int, failure: FingerprintError) -> None:
    """Record why processing failed, as a code with its parameters."""
    Version.objects.filter(pk=version_id).exclude(status=Version.Status.DONE).update(
        status=Version.Status.FAILED,
        error_code=failure.code,
        error_params=failure.params,
        processed_at=timezone.now(),
    )


def version_process(
    *, version_id: int, failure_reason: Callable[[Exception], FingerprintError | None] | None = None
) -> str | None:
    """Fingerprint one version and record the result; returns the final status, None if nothing to do.

    Safe to run twice and from several workers at once: one run holds the version, the others return None.
    `failure_reason` maps an error of this run to the failure the version is marked with; None lets it propagate.
    """
    with _processing_lock(version_id) as held:
        if not held or not _claim(version_id):
            return None
        try:
            return _process(version_id)
        except Exception as exc:
            reason = failure_reason(exc) if failure_reason else None
            if reason is None:
                raise
            # Recorded before the lock is released: after that another worker may have taken the version
            # over, and a late 'failed' from this run would overwrite its work.
            version_mark_failed(version_id=version_id, failure=reason)
            return Version.Status.FAILED


def _process(version_id: int) -> str:
    version = Version.objects.get(pk=version_id)
    if version.is_document:  # a PDF is fingerprinted page by page, each page its own version
        Version.objects.filter(pk=version_id).update(status=Version.Status.DONE, processed_at=timezone.now())
        return Version.Status.DONE
    try:
        data = _fingerprint_stored(version)
    except FingerprintError as exc:
        version_mark_failed(version_id=version_id, failure=exc)
        return Version.Status.FAILED
    fingerprint_record(version=version, data=data)
    version_match(version_id=version_id)
    # Done only once matched, so `ingest --wait` followed by `export_clusters` sees every cluster.
    Version.objects.filter(pk=version_id, status=Version.Status.PROCESSING).update(
        status=Version.Status.DONE, error_code="", error_params={}, processed_at=timezone.now()
    )
    return Version.Status.DONE


def _fingerprint_stored(version: Version) -> FingerprintData:
    """Fingerprint the version's stored file as the worker does; FingerprintError when it cannot be decoded or is
    gone, TransientStorageError when the store cannot be read just now."""
    try:
        with version.file.open("rb") as handle:
            return fingerprint_file(
                handle,
                max_pixels=settings.DUPFINDER_MAX_PIXELS,
                page=version.page_number,
                max_pages=settings.DUPFINDER_MAX_PDF_PAGES,
                preview=False,  # a JPEG photo decodes at 1/8; its preview is made when first shown
            )
    except FileNotFoundError as exc:
        raise FingerprintError(Failure.STORED_FILE_MISSING) from exc
    except STORAGE_ERRORS as exc:
        raise TransientStorageError(str(exc)) from exc


def version_refingerprint(
    *, version_id: int, failure_reason: Callable[[Exception], FingerprintError | None] | None = None
) -> bool | None:
    """Fingerprint a done version again under the core's CONTRACT, then match it (`manage.py refingerprint`).

    True when the fingerprint, its hashes and thumbnails were replaced and matching ran; False when the file
    could not be read or decoded: the old fingerprint stays, the version stays done and the reason is kept on
    its RefingerprintRequest; None when there was nothing to do (the version is gone or not done). Edges,
    clusters and curators' decisions are never touched here: matching only adds the pairs the new hashes reach.
    `failure_reason` maps an error of this run to the reason kept, as for version_process; None lets it propagate.
    """
    try:
        return _refingerprint(version_id)
    except Exception as exc:
        reason = failure_reason(exc) if failure_reason else None
        if reason is None:
            raise
        _refingerprint_kept(version_id=version_id, failure=reason)
        return False


def _refingerprint(version_id: int) -> bool | None:
    version = Version.objects.filter(pk=version_id, status=Version.Status.DONE, fingerprint__isnull=False).first()
    if version is None:
        RefingerprintRequest.objects.filter(version_id=version_id).delete()
        return None
    try:
        recorded = _refingerprint_record(version=version, data=_fingerprint_stored(version))
    except FingerprintError as exc:  # unreadable, undecodable or gone; or thumbnails the store would not take
        _refingerprint_kept(version_id=version_id, failure=exc)
        return False
    if not recorded:
        RefingerprintRequest.objects.filter(version_id=version_id).delete()
        return None
    version_match(version_id=version_id)
    # Only now: a run stopped before matching leaves the request, and the next run takes the version again.
    RefingerprintRequest.objects.filter(version_id=version_id).delete()
    return True


@transaction.atomic
def _refingerprint_record(*, version: Version, data: FingerprintData) -> bool:
    """Replace the fingerprint in one transaction under the version's row lock, while it is still done.

    A normal run claims only pending or processing versions, and a done version never goes back, so holding
    the row done is all the claim a refingerprint needs; the file was decoded before, outside the lock.
    """
    if not Version.objects.select_for_update().filter(pk=version.pk, status=Version.Status.DONE).exists():
        return False
    fingerprint_record(version=version, data=data)
    return True


def _refingerprint_kept(*, version_id: int, failure: FingerprintError) -> None:
    """Keep the reason the old fingerprint stays, as a code with its parameters; the version is not failed."""
    RefingerprintRequest.objects.update_or_create(
        version_id=version_id, defaults={"error_code": failure.code, "error_params": failure.params}
    )


def versions_queue_refingerprint(
    *, version_ids: list[int], enqueue: Callable[[int], object], progress: Progress = no_progress
) -> datetime:
    """Note each version as requested, then queue it with `enqueue` (the task's `delay`); returns the time noted,
    which names this run's requests (`dedup.selectors.refingerprint_waiting`).

    The requests are committed before the first message is sent; a reason kept by an earlier run is cleared.
    """
    requested_at = timezone.now()
    with transaction.atomic():
        RefingerprintRequest.objects.bulk_create(
            (RefingerprintRequest(version_id=pk, requested_at=requested_at) for pk in version_ids),
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["version"],
            update_fields=["requested_at", "error_code", "error_params"],
        )
    with progress(total=len(version_ids), desc=_("Queuing"), unit="version") as bar:
        for pk in version_ids:
            enqueue(pk)
            bar.update()
    return requested_at


def _store_thumbnail(name: str, content: bytes) -> str:
    """Save one thumbnail under its fixed name; a store that cannot be written is a failure with its reason."""
    try:
        # Fixed names make a second run overwrite rather than pile up copies.
        return storage_replace(name, content)
    except STORAGE_ERRORS as exc:  # full, read-only, unmounted, bucket refused: these words, not "unexpected"
        logger.error("Could not write thumbnail %s: %s", name, exc)
        detail = getattr(exc, "strerror", None) or str(exc)
        raise FingerprintError(Failure.STORAGE_UNWRITABLE, detail=detail[:200]) from exc


@transaction.atomic
def fingerprint_record(*, version: Version, data: FingerprintData) -> Fingerprint:
    """Save the fingerprint, thumbnails, searchable hashes and embedded metadata."""
    thumbs = {
        size: _store_thumbnail(f"thumbs/{version.pk}/{size}.jpg", content) for size, content in data.thumbnails.items()
    }
    fingerprint, _created = Fingerprint.objects.update_or_create(
        version=version,
        defaults={
            "phash": to_signed(data.phash),
            "dhash": to_signed(data.dhash),
            "phash_trimmed": to_signed(data.phash_trimmed) if data.phash_trimmed is not None else None,
            "phash_dihedral": [to_signed(h) for h in data.phash_dihedral],
            "phash_centre": [to_signed(h) for h in data.phash_centre],
            "phash_reframed": [to_signed(h) for h in data.phash_reframed],
            "mode": data.mode,
            "bit_depth": data.bit_depth,
            "page_count": data.page_count,
            "orientation": data.orientation,
            "captured_at": (data.metadata.get("summary", {}).get("capture_date") or "")[:40],
            "rendition": data.rendition,
            "rendition_width": data.rendition_size[0],
            "rendition_height": data.rendition_size[1],
            "content": data.content,
            "content_width": data.content_size[0],
            "content_height": data.content_size[1],
            "detail": zlib.compress(data.detail, 6) if data.detail else b"",
            "detail_width": data.detail_size[0],
            "detail_height": data.detail_size[1],
            "detail_box": list(data.detail_box),
            "thumb_small": thumbs.get(THUMB_SMALL, ""),
            "timings": data.timings,
            "contract": CONTRACT,
        }
        # A photo fingerprinted from a reduced decode brings no preview: one already made from the same file
        # stays (a refingerprint would otherwise send every preview back to be decoded in full when shown).
        | ({"thumb_preview": thumbs[THUMB_PREVIEW]} if THUMB_PREVIEW in thumbs else {}),
    )
    hash_entries_replace(fingerprint=fingerprint)
    ImportedMetadata.objects.update_or_create(
        version=version, origin=ImportedMetadata.Origin.EMBEDDED, defaults={"data": data.metadata}
    )
    version.format = data.format
    version.width, version.height = data.width, data.height
    version.save(update_fields=["format", "width", "height"])
    return fingerprint


def version_preview_ensure(*, version_id: int) -> str:
    """The stored name of the version's large preview, made now from the original if fingerprinting left it out
    (a photo decoded reduced); "" when there is no fingerprint or the original cannot be read or decoded."""
    fingerprint = Fingerprint.objects.select_related("version").filter(version_id=version_id).first()
    if fingerprint is None or fingerprint.thumb_preview:
        return fingerprint.thumb_preview if fingerprint else ""
    version = fingerprint.version
    try:
        with version.file.open("rb") as handle:
            content = preview_file(
                handle,
                max_pixels=settings.DUPFINDER_MAX_PIXELS,
                page=version.page_number,
                max_pages=settings.DUPFINDER_MAX_PDF_PAGES,
            )
        name = _store_thumbnail(f"thumbs/{version_id}/{THUMB_PREVIEW}.jpg", content)
    except (FingerprintError, FileNotFoundError, *STORAGE_ERRORS) as exc:
        logger.warning("No preview for version %s: %s", version_id, exc)
        return ""
    Fingerprint.objects.filter(pk=fingerprint.pk).update(thumb_preview=name)
    return name


def version_dispatch_processing(
    *, version_id: int, enqueue: Callable[[int], object], inline: bool = False, record_queued: bool = True
) -> None:
    """Queue with `enqueue` (or, for --inline, run here) the processing of one version; note when it was queued.

    Runs after the upload committed: if the broker is down the file is already stored, so the version is
    left waiting for the requeue sweep (`requeue_stuck`, Celery beat) instead of failing the upload.
    `enqueue` is the task's `delay`, handed down by the layer that owns the tasks.
    """
    global _broker_down_until
    if inline:
        version_process(version_id=version_id)
        return
    if time.monotonic() < _broker_down_until:
        logger.warning("Broker unavailable: version %s left waiting for the requeue sweep.", version_id)
        return
    try:
        enqueue(version_id)
    except OperationalError:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("Could not queue version %s; left waiting for the requeue sweep.", version_id, exc_info=True)
        return
    if record_queued:
        Version.objects.filter(pk=version_id).update(queued_at=timezone.now())


def version_requeue_stuck(*, enqueue: Callable[[int], object], older_than_seconds: int | None = None) -> int:
    """Re-enqueue versions left behind by a broker outage or a killed worker; returns how many.

    A version still waiting is queued again once it was queued (or, never queued, uploaded) `older_than_seconds`
    ago, so a backlog is not queued again on every sweep. On PostgreSQL a version in 'processing' whose advisory
    lock no session holds is queued at once: its run is gone (the lock goes with the connection of a killed
    worker), and one whose lock is held is left to the live run. Tasks are idempotent: a message for a version
    already finished, or held by a live worker, changes nothing.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.DUPFINDER_REQUEUE_AFTER_SECONDS
    ids = _versions_claim_for_requeue(cutoff=timezone.now() - timedelta(seconds=older_than_seconds))
    for pk in ids:
        version_dispatch_processing(version_id=pk, enqueue=enqueue, record_queued=False)
    return len(ids)


# Whether any session holds the version's processing lock (_processing_lock): pg_locks shows a bigint advisory
# key as classid (high 32 bits) and objid (low 32 bits) with objsubid 1, in the database it was taken in.
_PROCESSING_LOCK_HELD = RawSQL(
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    f" AND classid::bigint = ((%s::bigint | {Version._meta.db_table}.id) >> 32)"
    f" AND objid::bigint = ((%s::bigint | {Version._meta.db_table}.id) & 4294967295))",
    [PROCESSING_LOCK_BASE, PROCESSING_LOCK_BASE],
    output_field=BooleanField(),
)


@transaction.atomic
def _versions_claim_for_requeue(*, cutoff: datetime) -> list[int]:
    """Mark the due versions queued now and return them; committed before any message is sent.

    SKIP LOCKED plus the moved queued_at keep two sweeps running at once (two beat hosts, beat and cron)
    from both queuing the same version: the second skips rows the first holds, or finds them no longer due.
    """
    waiting_too_long = Q(last_queued__lt=cutoff)
    if connection.vendor == "postgresql":
        abandoned = Q(status=Version.Status.PROCESSING, lock_held=False)
        due = (Q(status=Version.Status.PENDING) & waiting_too_long) | abandoned
        versions = Version.objects.alias(lock_held=_PROCESSING_LOCK_HELD)
    else:  # no processing locks to look at (SQLite): a version in 'processing' waits as long as a pending one
        due = Q(status__in=[Version.Status.PENDING, Version.Status.PROCESSING]) & waiting_too_long
        versions = Version.objects.all()
    ids = list(
        versions.select_for_update(skip_locked=True)
        .alias(last_queued=Coalesce("queued_at", "uploaded_at"))
        .filter(due)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Version.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    return ids
