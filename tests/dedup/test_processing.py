"""The processing task: idempotent, retries only storage errors, and always ends done or failed."""

import pytest
from django.db import connection
from django.db.models.fields.files import FieldFile

from collections_app.models import ImportedMetadata, Version
from dedup.models import Fingerprint, HashEntry
from dedup.services import PROCESSING_LOCK_BASE, TransientStorageError, version_process
from dedup.services import version_mark_failed as real_mark_failed
from dedup.tasks import process_version
from tests.images import encode, scene

pytestmark = pytest.mark.django_db


def test_processing_twice_changes_nothing(add_version):
    version = add_version("a.jpg", encode(scene(1)))
    before = (Fingerprint.objects.get(pk=version.pk).phash, HashEntry.objects.count(), version.processed_at)
    assert version_process(version_id=version.pk) is None
    version.refresh_from_db()
    after = (Fingerprint.objects.get(pk=version.pk).phash, HashEntry.objects.count(), version.processed_at)
    assert before == after
    assert ImportedMetadata.objects.filter(version=version).count() == 1


def test_a_storage_error_is_transient_and_leaves_the_version_waiting(add_version, monkeypatch):
    version = add_version("a.jpg", encode(scene(2)))
    Version.objects.filter(pk=version.pk).update(status=Version.Status.PENDING)

    def unavailable(self, mode="rb"):
        raise OSError("Stale file handle")

    monkeypatch.setattr(FieldFile, "open", unavailable)
    with pytest.raises(TransientStorageError):
        version_process(version_id=version.pk)
    version.refresh_from_db()
    assert version.status == Version.Status.PROCESSING


def test_the_task_gives_up_after_retries_with_a_reason(add_version, monkeypatch):
    version = add_version("a.jpg", encode(scene(3)))
    Version.objects.filter(pk=version.pk).update(status=Version.Status.PENDING)
    monkeypatch.setattr(FieldFile, "open", lambda self, mode="rb": (_ for _ in ()).throw(OSError("gone")))
    monkeypatch.setattr("dedup.tasks.MAX_STORAGE_RETRIES", 0)
    process_version.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.status == Version.Status.FAILED
    assert version.error_code == "storage_unreadable" and "could not be read" in version.error_text


def test_a_missing_version_is_ignored_quietly():
    assert version_process(version_id=987654) is None


def test_a_failure_is_recorded_while_the_run_still_holds_the_version(add_version, monkeypatch):
    version = add_version("a.jpg", encode(scene(4)))
    Version.objects.filter(pk=version.pk).update(status=Version.Status.PENDING)
    monkeypatch.setattr(FieldFile, "open", lambda self, mode="rb": (_ for _ in ()).throw(OSError("gone")))
    monkeypatch.setattr("dedup.tasks.MAX_STORAGE_RETRIES", 0)
    lock_held_when_failed = []

    def mark_failed(*, version_id, failure):
        key = PROCESSING_LOCK_BASE | version_id
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND classid = %s AND objid = %s AND granted",
                [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF],
            )
            lock_held_when_failed.append(cursor.fetchone()[0] == 1)
        real_mark_failed(version_id=version_id, failure=failure)

    monkeypatch.setattr("dedup.services.version_mark_failed", mark_failed)
    process_version.apply(args=[version.pk])
    assert lock_held_when_failed == [True]
    version.refresh_from_db()
    assert version.status == Version.Status.FAILED
