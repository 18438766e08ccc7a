"""Storage reclamation: superseded files go to quarantine, come back, or are purged after retention; all audited."""

import hashlib
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.models import Version
from collections_app.services import audit_record
from collections_app.storage import STORAGE_ERRORS, quarantine_storage
from dedup.services import version_preview_ensure
from reports.selectors import reclaim_candidates

CHUNK = 1024 * 1024


class ReclaimError(Exception):
    """A move that must not happen; the message is meant for the operator."""


def _sha256(storage: Storage, name: str) -> str:
    sha = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _copy_verified(*, source: Storage, name: str, target: Storage, sha256: str) -> str:
    """Copy a file between storages under the same name (or a free variant); the copy must match the checksum."""
    try:
        with source.open(name, "rb") as handle:
            stored = target.save(name, handle)
    except FileNotFoundError as exc:
        raise ReclaimError(_("The file %(name)s is missing; nothing was moved.") % {"name": name}) from exc
    except STORAGE_ERRORS as exc:  # a full disk, a bucket that refuses or cannot be reached
        raise ReclaimError(
            _("The file store could not copy %(name)s just now; nothing was moved.") % {"name": name}
        ) from exc
    if _sha256(target, stored) != sha256:
        target.delete(stored)
        raise ReclaimError(_("The copy of %(name)s does not match its checksum; nothing was moved.") % {"name": name})
    return stored


def _facts(version: Version) -> dict:
    return {
        "original_path": version.original_path,
        "source": version.source.name,
        "sha256": version.sha256,
        "bytes": version.byte_size,
        "duplicate_of": version.duplicate_of_id,
    }


def _locked(version_id: int) -> Version:
    try:
        return Version.objects.select_for_update().select_related("source").get(pk=version_id)
    except Version.DoesNotExist as exc:
        raise ReclaimError(_("There is no version %(id)d.") % {"id": version_id}) from exc


@transaction.atomic
def version_reclaim(*, version_id: int, actor: Any, reason: str = "") -> Version:
    """Move one superseded file to quarantine; the original is deleted only once the move is committed."""
    version = _locked(version_id)
    if not reclaim_candidates().filter(pk=version_id).exists():
        raise ReclaimError(
            _("Version %(id)d is not a superseded file of a resolved cluster, or it is held or already moved.")
            % {"id": version_id}
        )
    version_preview_ensure(version_id=version_id)  # made from the original while it is still there to read
    name = version.file.name
    version.quarantine_name = _copy_verified(
        source=default_storage, name=name, target=quarantine_storage(), sha256=version.sha256
    )
    version.quarantined_at = timezone.now()
    version.save(update_fields=["quarantine_name", "quarantined_at"])
    audit_record(
        actor=actor,
        action="version.reclaim",
        target=version,
        reason=reason,
        before={"storage": "default", "name": name},
        after={"storage": "quarantine", "name": version.quarantine_name, **_facts(version)},
    )
    transaction.on_commit(partial(default_storage.delete, name))
    return version


@transaction.atomic
def version_restore(*, version_id: int, actor: Any, reason: str = "") -> Version:
    """Bring a quarantined file back to main storage, byte-identical (checked against its SHA-256)."""
    version = _locked(version_id)
    if version.purged_at:
        raise ReclaimError(
            _("Version %(id)d was deleted for good on %(date)s and cannot be restored.")
            % {"id": version_id, "date": f"{timezone.localtime(version.purged_at):%Y-%m-%d}"}
        )
    if not version.quarantined_at:
        raise ReclaimError(_("Version %(id)d is not in quarantine.") % {"id": version_id})
    quarantined = version.quarantine_name
    version.file.name = _copy_verified(
        source=quarantine_storage(), name=quarantined, target=default_storage, sha256=version.sha256
    )
    version.quarantined_at = None
    version.quarantine_name = ""
    version.save(update_fields=["file", "quarantined_at", "quarantine_name"])
    audit_record(
        actor=actor,
        action="version.restore",
        target=version,
        reason=reason,
        before={"storage": "quarantine", "name": quarantined},
        after={"storage": "default", "name": version.file.name, **_facts(version)},
    )
    transaction.on_commit(partial(quarantine_storage().delete, quarantined))
    return version


def retention_check(*, older_than_days: int) -> None:
    minimum = settings.DUPFINDER_QUARANTINE_RETENTION_DAYS
    if older_than_days < minimum:
        raise ReclaimError(
            _("The retention period is %(min)d days; files younger than that cannot be purged.") % {"min": minimum}
        )


@transaction.atomic
def version_purge(*, version_id: int, actor: Any, older_than_days: int, reason: str = "") -> Version:
    """Delete a quarantined file for good; refused under a legal hold or before the retention period ends."""
    retention_check(older_than_days=older_than_days)
    version = _locked(version_id)
    if version.legal_hold:
        raise ReclaimError(_("Version %(id)d is under a legal hold and cannot be purged.") % {"id": version_id})
    if not version.quarantined_at or version.purged_at:
        raise ReclaimError(_("Version %(id)d is not in quarantine.") % {"id": version_id})
    if version.quarantined_at > timezone.now() - timedelta(days=older_than_days):
        raise ReclaimError(
            _("Version %(id)d has been in quarantine for less than %(days)d days.")
            % {"id": version_id, "days": older_than_days}
        )
    version.purged_at = timezone.now()
    version.save(update_fields=["purged_at"])
    audit_record(
        actor=actor,
        action="version.purge",
        target=version,
        reason=reason,
        before={
            "storage": "quarantine",
            "name": version.quarantine_name,
            "quarantined_at": version.quarantined_at.isoformat(),
        },
        after={"deleted": True, "original_filename": version.original_filename, **_facts(version)},
    )
    transaction.on_commit(partial(quarantine_storage().delete, version.quarantine_name))
    return version


@transaction.atomic
def version_set_legal_hold(*, version_id: int, hold: bool, actor: Any, reason: str) -> Version:
    """A records officer places or lifts a legal hold; a held file is never reclaimed or purged."""
    version = _locked(version_id)
    if version.legal_hold == hold:
        return version
    if hold and version.purged_at:
        raise ReclaimError(_("Version %(id)d was already deleted for good.") % {"id": version_id})
    version.legal_hold = hold
    version.save(update_fields=["legal_hold"])
    audit_record(
        actor=actor,
        action="version.legal_hold" if hold else "version.legal_hold_lift",
        target=version,
        reason=reason,
        before={"legal_hold": not hold},
        after={"legal_hold": hold, "in_quarantine": bool(version.quarantined_at)},
    )
    return version
