"""Celery tasks: thin wrappers that take primary keys and call one service."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from dedup.imaging.errors import Failure, FingerprintError
from dedup.services import TransientStorageError, version_process, version_refingerprint, version_requeue_stuck

logger = logging.getLogger(__name__)

MAX_STORAGE_RETRIES = 5


def _failure_reason(task, version_id: int, exc: Exception) -> FingerprintError | None:
    """The failure an error of this run is recorded as; None while storage is worth retrying."""
    if isinstance(exc, FingerprintError):  # met after decoding, e.g. thumbnails the store would not take
        return exc
    if isinstance(exc, TransientStorageError):
        if task.request.retries < MAX_STORAGE_RETRIES:
            return None
        return FingerprintError(Failure.STORAGE_UNREADABLE, detail=str(exc)[:200])
    if isinstance(exc, SoftTimeLimitExceeded):
        return FingerprintError(Failure.TIMED_OUT)
    logger.exception("Unexpected error processing version %s", version_id)
    return FingerprintError(Failure.UNEXPECTED, version=version_id)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def process_version(self, version_id: int) -> None:
    """Fingerprint one version; retries only when storage is briefly unavailable."""
    # Failures are recorded inside version_process, while this run still holds the version's lock.
    try:
        version_process(version_id=version_id, failure_reason=lambda exc: _failure_reason(self, version_id, exc))
    except TransientStorageError as exc:
        raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 60)) from exc


@shared_task(bind=True, acks_late=True, ignore_result=True)
def refingerprint_version(self, version_id: int) -> None:
    """Fingerprint a done version again (`manage.py refingerprint`); an unreadable file keeps its old fingerprint."""
    try:
        version_refingerprint(version_id=version_id, failure_reason=lambda exc: _failure_reason(self, version_id, exc))
    except TransientStorageError as exc:
        raise self.retry(exc=exc, countdown=min(2 ** (self.request.retries + 1), 60)) from exc


@shared_task(ignore_result=True)
def requeue_stuck_versions() -> int:
    """Periodic sweep (Celery beat): queue again the versions a broker outage or a killed worker left behind."""
    return version_requeue_stuck(enqueue=process_version.delay)
