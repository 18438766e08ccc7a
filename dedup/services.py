"""Writes for duplicate detection: processing a version into a fingerprint."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from collections_app.models import ImportedMetadata, Version
from dedup.fingerprint import THUMB_PREVIEW, THUMB_SMALL, FingerprintError, fingerprint_file
from dedup.fingerprint import Fingerprint as FingerprintData
from dedup.index import to_signed
from dedup.matching import hash_entries_replace, version_match
from dedup.models import Fingerprint


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


def version_mark_failed(*, version_id: int, reason: str) -> None:
    Version.objects.filter(pk=version_id).exclude(status=Version.Status.DONE).update(
        status=Version.Status.FAILED, error=reason, processed_at=timezone.now()
    )


def version_process(*, version_id: int, failure_reason: Callable[[Exception], str | None] | None = None) -> str | None:
    """Fingerprint one version and record the result; returns the final status, None if nothing to do.

    Safe to run twice and from several workers at once: one run holds the version, the others return None.
    `failure_reason` maps an error of this run to the reason the version fails with; None lets it propagate.
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
            version_mark_failed(version_id=version_id, reason=reason)
            return Version.Status.FAILED


def _process(version_id: int) -> str:
    version = Version.objects.get(pk=version_id)
    try:
        with version.file.open("rb") as handle:
            data = fingerprint_file(handle, max_pixels=settings.DUPFINDER_MAX_PIXELS)
    except FingerprintError as exc:
        version_mark_failed(version_id=version_id, reason=exc.reason)
        return Version.Status.FAILED
    except FileNotFoundError:
        version_mark_failed(version_id=version_id, reason=gettext_noop("The stored file is missing."))
        return Version.Status.FAILED
    except OSError as exc:
        raise TransientStorageError(str(exc)) from exc
    fingerprint_record(version=version, data=data)
    version_match(version_id=version_id)
    # Done only once matched, so `ingest --wait` followed by `export_clusters` sees every cluster.
    Version.objects.filter(pk=version_id, status=Version.Status.PROCESSING).update(
        status=Version.Status.DONE, error="", processed_at=timezone.now()
    )
    return Version.Status.DONE


def _store_thumbnail(name: str, content: bytes) -> str:
    # Fixed names make a second run overwrite rather than pile up copies.
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


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
            "mode": data.mode,
            "bit_depth": data.bit_depth,
            "page_count": data.page_count,
            "orientation": data.orientation,
            "captured_at": (data.metadata.get("summary", {}).get("capture_date") or "")[:40],
            "rendition": data.rendition,
            "rendition_width": data.rendition_size[0],
            "rendition_height": data.rendition_size[1],
            "thumb_small": thumbs.get(THUMB_SMALL, ""),
            "thumb_preview": thumbs.get(THUMB_PREVIEW, ""),
            "timings": data.timings,
        },
    )
    hash_entries_replace(fingerprint=fingerprint)
    ImportedMetadata.objects.update_or_create(
        version=version, origin=ImportedMetadata.Origin.EMBEDDED, defaults={"data": data.metadata}
    )
    version.format = data.format
    version.width, version.height = data.width, data.height
    version.save(update_fields=["format", "width", "height"])
    return fingerprint
