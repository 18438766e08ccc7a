"""Fixity checks recompute each stored file's SHA-256, audit every check and report changed or vanished files."""

import io

import pytest
from django.conf import settings
from django.core.files.storage import default_storage, storages
from django.core.management import CommandError, call_command

from collections_app.models import AuditEvent, Version
from records.fixity import fixity_check_run, fixity_due, version_check_fixity
from records.tasks import check_fixity
from reports.services import version_reclaim

pytestmark = pytest.mark.django_db


def _stored(collection) -> list[Version]:
    """The versions with a file (the failed factory row has none)."""
    return [collection[k] for k in ("a", "b", "c", "big", "small", "unique")]


def _checks() -> dict[int, str]:
    return {int(e.target_id): e.after["outcome"] for e in AuditEvent.objects.filter(action="version.fixity_check")}


def test_intact_files_pass_and_every_check_is_an_audit_event_in_the_chain(collection):
    collection["broken"].delete()  # a factory row with no file at all; see the next test
    out, err = io.StringIO(), io.StringIO()
    call_command("check_fixity", stdout=out, stderr=err)
    assert "Checked 6 files: 6 intact, 0 changed, missing or unreadable." in out.getvalue()
    assert "Checking fixity: 6/6 files (100%)" in err.getvalue()  # the shared progress lines, as in a log
    checks = _checks()
    assert checks == {v.pk: "ok" for v in _stored(collection)}
    for event in AuditEvent.objects.filter(action="version.fixity_check"):
        assert event.after["expected"] == event.after["found"] == Version.objects.get(pk=event.target_id).sha256
        assert event.actor is None and "check_fixity" in event.actor_label
    call_command("verify_audit_trail", stdout=io.StringIO())  # the chain still holds


def test_a_changed_file_and_a_vanished_file_are_reported_and_the_command_fails(collection):
    collection["broken"].delete()
    changed, vanished = collection["unique"], collection["small"]
    with default_storage.open(changed.file.name, "wb") as handle:
        handle.write(b"tampered")
    default_storage.delete(vanished.file.name)
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 changed, missing or unreadable"):
        call_command("check_fixity", stdout=out)
    text = out.getvalue()
    assert f"version {changed.pk} (photo/unique.jpg)" in text and "Changed" in text
    assert f"version {vanished.pk} (photo/small.jpg)" in text and "Missing" in text
    checks = _checks()
    assert checks[changed.pk] == "changed" and checks[vanished.pk] == "missing"
    event = AuditEvent.objects.get(action="version.fixity_check", target_id=str(changed.pk))
    assert event.after["found"] not in ("", changed.sha256)


def test_a_quarantined_file_is_checked_where_it_now_lies(collection, django_capture_on_commit_callbacks):
    a = collection["a"]
    with django_capture_on_commit_callbacks(execute=True):
        version_reclaim(version_id=a.pk, actor="ops")
    a.refresh_from_db()
    result = version_check_fixity(version=a)
    assert result.ok
    assert AuditEvent.objects.get(action="version.fixity_check").after["storage"] == "quarantine"
    with storages["quarantine"].open(a.quarantine_name, "wb") as handle:
        handle.write(b"bit rot")
    assert version_check_fixity(version=a).outcome == "changed"


def test_a_sample_takes_the_files_checked_longest_ago_so_runs_cover_the_collection(collection):
    stored = {v.pk for v in _stored(collection)} | {collection["broken"].pk}
    first = list(fixity_due(sample=3).values_list("pk", flat=True))
    fixity_check_run(sample=3)
    second = list(fixity_due(sample=4).values_list("pk", flat=True))
    assert not set(first) & set(second)
    assert set(first) | set(second) == stored
    fixity_check_run(sample=4)
    assert set(_checks()) == stored


def test_a_sample_must_be_positive(db):
    with pytest.raises(CommandError, match="--sample"):
        call_command("check_fixity", "--sample", "0")


def test_beat_runs_the_scheduled_check_with_the_configured_sample(collection, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["check-fixity"]
    assert entry["task"] == "records.tasks.check_fixity"
    assert entry["schedule"] == settings.DUPFINDER_FIXITY_INTERVAL_HOURS * 3600
    settings.DUPFINDER_FIXITY_SAMPLE = 2
    assert check_fixity.delay().get() == 0  # eager in unit tests: the task's return value is the failure count
    assert len(_checks()) == 2


def test_the_schedule_is_off_when_the_interval_is_zero(monkeypatch):
    import importlib

    import config.settings.base as base

    monkeypatch.setenv("DUPFINDER_FIXITY_INTERVAL_HOURS", "0")
    try:
        assert "check-fixity" not in importlib.reload(base).CELERY_BEAT_SCHEDULE
    finally:
        monkeypatch.delenv("DUPFINDER_FIXITY_INTERVAL_HOURS")
        importlib.reload(base)
    assert settings.CELERY_BEAT_SCHEDULE
