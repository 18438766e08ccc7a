"""`manage.py reclaim_storage [--dry-run]`: move superseded files of resolved clusters to quarantine."""

from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from collections_app.progress import progress
from reports.management.actor import command_actor
from reports.selectors import quarantined_not_superseded, reclaim_candidates
from reports.services import ReclaimError, version_reclaim


class Command(BaseCommand):
    help = "List (--dry-run) or move to quarantine the superseded files of resolved clusters; each move is audited."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only list the files and the bytes they hold.")
        parser.add_argument("--limit", type=int, help="Move at most this many files.")
        parser.add_argument("--user", help="Account recorded as the actor (default: the operating-system user).")
        parser.add_argument("--reason", default="", help="Reason written to the audit trail.")

    def handle(self, *args, dry_run=False, limit=None, user=None, reason="", **options):
        versions = list(reclaim_candidates()[:limit] if limit else reclaim_candidates())
        for version in versions:
            self.stdout.write(
                f"{version.pk}\t{filesizeformat(version.byte_size)}\t{version.source}\t{version}"
                f"\t→ {version.duplicate_of_id}"
            )
        total = sum(v.byte_size for v in versions)
        self._warn_stale()
        if dry_run:
            self.stdout.write(
                _("%(n)d superseded files hold %(size)s; nothing was moved (dry run).")
                % {"n": len(versions), "size": filesizeformat(total)}
            )
            return
        actor = command_actor(username=user, command="reclaim_storage")
        moved = freed = 0
        for version in progress(versions, desc=_("Reclaiming"), stream=self.stderr):
            try:
                version_reclaim(version_id=version.pk, actor=actor, reason=reason)
            except ReclaimError as exc:
                self.stderr.write(str(exc))
                continue
            moved += 1
            freed += version.byte_size
        self.stdout.write(
            _("Moved %(moved)d of %(n)d files (%(size)s) to quarantine; restore_version ID brings one back.")
            % {"moved": moved, "n": len(versions), "size": filesizeformat(freed)}
        )

    def _warn_stale(self) -> None:
        stale = list(quarantined_not_superseded().values_list("pk", flat=True)[:50])
        if stale:
            self.stderr.write(
                _("In quarantine but no longer superseded (merge undone or cluster reopened); restore them: %(ids)s")
                % {"ids": " ".join(map(str, stale))}
            )
