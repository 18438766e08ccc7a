"""Storage reclamation: superseded files go to quarantine and come back byte-identical; purge is guarded."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage, storages
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image

from collections_app.models import AuditEvent, Version
from dedup.imaging.renditions import THUMB_PREVIEW
from dedup.models import Fingerprint
from dedup.review.services import cluster_undo
from reports.selectors import quarantined_not_superseded, reclaim_candidates
from reports.services import ReclaimError, version_purge, version_reclaim, version_restore, version_set_legal_hold
from tests.reports.conftest import sha256

pytestmark = pytest.mark.django_db


def _read(storage, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        return handle.read()


def _age(version: Version, days: int) -> None:
    Version.objects.filter(pk=version.pk).update(quarantined_at=timezone.now() - timedelta(days=days))


def test_only_superseded_files_of_resolved_clusters_are_candidates(collection):
    assert set(reclaim_candidates().values_list("pk", flat=True)) == {collection["a"].pk, collection["c"].pk}


def test_reclaim_then_restore_leaves_the_file_byte_identical(collection, django_capture_on_commit_callbacks):
    a = collection["a"]
    name = a.file.name
    original = _read(default_storage, name)
    assert sha256(original) == a.sha256
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
    a.refresh_from_db()
    assert a.quarantined_at is not None
    assert not default_storage.exists(name)
    assert sha256(_read(storages["quarantine"], a.quarantine_name)) == a.sha256
    assert hasattr(a, "fingerprint") and a.imported_metadata.exists()  # everything but the file stays
    quarantined = a.quarantine_name
    with django_capture_on_commit_callbacks(execute=True):
        version_restore(version_id=a.pk, actor="ops")
    a.refresh_from_db()
    assert (a.quarantined_at, a.quarantine_name) == (None, "")
    assert sha256(_read(default_storage, a.file.name)) == sha256(original) == a.sha256
    assert not storages["quarantine"].exists(quarantined)
    assert list(
        AuditEvent.objects.filter(target_id=str(a.pk), action__startswith="version.").values_list("action", flat=True)
    ) == [
        "version.restore",
        "version.reclaim",
        "version.ingest",
    ]


def test_a_legal_hold_is_never_reclaimed(collection, make_user):
    a = collection["a"]
    version_set_legal_hold(version_id=a.pk, hold=True, actor=make_user("ro"), reason="Litigation 2026/14")
    assert a.pk not in reclaim_candidates().values_list("pk", flat=True)
    with pytest.raises(ReclaimError):
        version_reclaim(version_id=a.pk, actor="ops")
    call_command("reclaim_storage")
    a.refresh_from_db()
    assert a.quarantined_at is None and default_storage.exists(a.file.name)
    assert AuditEvent.objects.filter(action="version.legal_hold", target_id=str(a.pk)).exists()


def test_dry_run_lists_files_and_bytes_and_moves_nothing(collection, capsys):
    a, c = collection["a"], collection["c"]
    call_command("reclaim_storage", "--dry-run")
    out = capsys.readouterr().out
    assert f"{a.pk}\t" in out and f"{c.pk}\t" in out and "2 superseded files hold" in out
    assert not Version.objects.filter(quarantined_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="version.reclaim").exists()


def test_the_command_moves_every_candidate_and_audits_each_move(collection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reclaim_storage", "--reason", "Pilot clean-up")
    moved = Version.objects.filter(quarantined_at__isnull=False)
    assert set(moved.values_list("pk", flat=True)) == {collection["a"].pk, collection["c"].pk}
    events = AuditEvent.objects.filter(action="version.reclaim")
    assert events.count() == 2 and {e.reason for e in events} == {"Pilot clean-up"}
    assert all(not default_storage.exists(v.file.name) for v in moved)


def test_undoing_the_merge_flags_quarantined_files_for_restore(collection, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=collection["a"].pk, actor="ops")
    cluster_undo(cluster_id=collection["resolved"].pk, actor=collection["curator"])
    assert list(quarantined_not_superseded().values_list("pk", flat=True)) == [collection["a"].pk]


def test_purge_refuses_legal_holds_and_files_not_past_retention(
    collection, settings, make_user, django_capture_on_commit_callbacks
):
    settings.DUPFINDER_QUARANTINE_RETENTION_DAYS = 30
    a, c = collection["a"], collection["c"]
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
        version_reclaim(version_id=c.pk, actor="ops")
    with pytest.raises(ReclaimError, match="retention period"):
        version_purge(version_id=a.pk, actor="ops", older_than_days=7)
    with pytest.raises(ReclaimError, match="less than 30 days"):
        version_purge(version_id=a.pk, actor="ops", older_than_days=30)
    _age(a, 31)
    _age(c, 31)
    version_set_legal_hold(version_id=c.pk, hold=True, actor=make_user("ro"), reason="Court order")
    with pytest.raises(ReclaimError, match="legal hold"):
        version_purge(version_id=c.pk, actor="ops", older_than_days=30)
    c.refresh_from_db()
    assert c.purged_at is None and storages["quarantine"].exists(c.quarantine_name)
    assert not AuditEvent.objects.filter(action="version.purge").exists()


def test_purge_after_retention_deletes_for_good_and_writes_the_audit_trail(
    collection, make_user, django_capture_on_commit_callbacks, capsys
):
    a, c = collection["a"], collection["c"]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reclaim_storage")
    _age(a, 40)
    _age(c, 40)
    version_set_legal_hold(version_id=c.pk, hold=True, actor=make_user("ro"), reason="Court order")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_quarantine", "--older-than", "30", "--yes")
    assert "Refused, under a legal hold" in capsys.readouterr().err
    a.refresh_from_db()
    c.refresh_from_db()
    assert a.purged_at is not None and not storages["quarantine"].exists(a.quarantine_name)
    assert c.purged_at is None and storages["quarantine"].exists(c.quarantine_name)
    event = AuditEvent.objects.get(action="version.purge")
    assert event.target_id == str(a.pk)
    assert event.after["sha256"] == a.sha256 and event.after["original_path"] == "photo/a.jpg"
    with pytest.raises(ReclaimError, match="deleted for good"):
        version_restore(version_id=a.pk, actor="ops")


def test_purge_asks_for_confirmation_and_refuses_a_short_retention(
    collection, monkeypatch, django_capture_on_commit_callbacks
):
    a = collection["a"]
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
    _age(a, 40)
    with pytest.raises(CommandError, match="retention period"):
        call_command("purge_quarantine", "--older-than", "1", "--yes")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing was deleted"):
        call_command("purge_quarantine", "--older-than", "30")
    a.refresh_from_db()
    assert a.purged_at is None


def test_a_file_is_previewed_before_it_is_reclaimed_so_its_preview_outlives_the_move(
    collection, django_capture_on_commit_callbacks
):
    a = collection["a"]
    Fingerprint.objects.filter(version=a).update(thumb_preview="")  # as fingerprinting a reduced decode leaves it
    default_storage.delete(f"thumbs/{a.pk}/{THUMB_PREVIEW}.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
    name = Fingerprint.objects.get(version=a).thumb_preview
    assert name and Image.open(default_storage.open(name, "rb")).size == (a.width, a.height)
