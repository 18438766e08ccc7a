"""Fixity checks: each stored file's SHA-256 recomputed and compared with the one taken at ingest, audited."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import Storage, default_storage, storages
from django.db.models import CharField, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from collections_app.models import AuditEvent, Version
from collections_app.services import audit_record

ACTION = "version.fixity_check"
CHUNK = 1024 * 1024


class Outcome:
    OK = "ok"
    CHANGED = "changed"
    MISSING = "missing"
    UNREADABLE = "unreadable"


OUTCOME_WORDS = {
    Outcome.OK: _("Intact"),
    Outcome.CHANGED: _("Changed"),
    Outcome.MISSING: _("Missing"),
    Outcome.UNREADABLE: _("Unreadable"),
}


@dataclass(frozen=True)
class FixityResult:
    version: Version
    outcome: str
    found: str  # the SHA-256 read now; blank when the file could not be read

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.OK


@dataclass
class FixityReport:
    checked: int = 0
    problems: list[FixityResult] = field(default_factory=list)


def _sha256(storage: Storage, name: str) -> str:
    sha = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _where(version: Version) -> tuple[str, Storage, str]:
    """Which storage holds the file now: reclamation moves superseded files to quarantine."""
    if version.quarantined_at:
        return "quarantine", storages["quarantine"], version.quarantine_name
    return "default", default_storage, version.file.name


def version_check_fixity(*, version: Version, actor: Any = None) -> FixityResult:
    """Recompute one file's SHA-256, compare it with the stored one, and record the check in the audit trail."""
    storage_name, storage, name = _where(version)
    try:
        found = _sha256(storage, name) if name else ""
        outcome = Outcome.OK if found == version.sha256 else (Outcome.CHANGED if found else Outcome.MISSING)
    except FileNotFoundError:
        found, outcome = "", Outcome.MISSING
    except OSError:  # the store itself failed (unmounted, permissions): not evidence the file changed
        found, outcome = "", Outcome.UNREADABLE
    audit_record(
        actor=actor,
        action=ACTION,
        target=version,
        after={
            "outcome": outcome,
            "algorithm": "SHA-256",
            "expected": version.sha256,
            "found": found,
            "storage": storage_name,
            "name": name,
        },
    )
    return FixityResult(version, outcome, found)


def fixity_due(*, sample: int | None = None) -> QuerySet[Version]:
    """Files still stored somewhere, least recently checked first (never-checked ones before all others).

    A scheduled run over a sample therefore works its way through the whole collection, run after run.
    """
    last_check = (
        AuditEvent.objects.filter(
            action=ACTION,
            target_type="collections_app.version",
            target_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    versions = (
        Version.objects.filter(purged_at__isnull=True)
        .annotate(last_fixity_check=Subquery(last_check))
        # PostgreSQL sorts NULLs last in ascending order; never-checked files must come first.
        .order_by(F("last_fixity_check").asc(nulls_first=True), "pk")
    )
    return versions[:sample] if sample else versions


def fixity_check_run(
    *, sample: int | None = None, actor: Any = None, progress: Callable[[int, int, FixityResult], None] | None = None
) -> FixityReport:
    """Check every stored file (or the `sample` least recently checked); each check is its own audit event."""
    due = list(fixity_due(sample=sample).values_list("pk", flat=True))
    report = FixityReport()
    for n, pk in enumerate(due, start=1):
        version = Version.objects.filter(pk=pk).first()
        if version is None:
            continue
        result = version_check_fixity(version=version, actor=actor)
        report.checked += 1
        if not result.ok:
            report.problems.append(result)
        if progress:
            progress(n, len(due), result)
    return report
