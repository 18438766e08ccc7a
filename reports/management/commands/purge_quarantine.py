"""`manage.py purge_quarantine --older-than DAYS [--yes]`: delete quarantined files for good, after retention."""

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from reports.management.actor import command_actor
from reports.selectors import purge_due
from reports.services import ReclaimError, retention_check, version_purge


class Command(BaseCommand):
    help = (
        "Delete for good the files in quarantine for more than DAYS days (at least the retention period), "
        "after confirmation; legal holds are refused; every deletion is written to the audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation (for scripts).")
        parser.add_argument("--user", help="Account recorded as the actor (default: the operating-system user).")
        parser.add_argument("--reason", default="", help="Reason written to the audit trail.")

    def handle(self, *args, older_than, yes=False, user=None, reason="", **options):
        try:
            retention_check(older_than_days=older_than)
        except ReclaimError as exc:
            raise CommandError(str(exc)) from exc
        due = list(purge_due(older_than_days=older_than).select_related("source"))
        held = [v for v in due if v.legal_hold]
        for version in held:
            self.stderr.write(_("Refused, under a legal hold: %(id)d %(name)s") % {"id": version.pk, "name": version})
        versions = [v for v in due if not v.legal_hold]
        if not versions:
            self.stdout.write(_("Nothing to purge."))
            return
        for version in versions:
            self.stdout.write(f"{version.pk}\t{filesizeformat(version.byte_size)}\t{version.source}\t{version}")
        total = filesizeformat(sum(v.byte_size for v in versions))
        question = _("Delete these %(n)d files (%(size)s) for good? Type 'yes' to confirm: ")
        if not yes and input(question % {"n": len(versions), "size": total}).strip().lower() != "yes":
            raise CommandError(_("Nothing was deleted."))
        actor = command_actor(username=user, command="purge_quarantine")
        purged = 0
        for version in versions:
            try:
                version_purge(version_id=version.pk, actor=actor, older_than_days=older_than, reason=reason)
                purged += 1
            except ReclaimError as exc:
                self.stderr.write(str(exc))
        self.stdout.write(_("Deleted %(n)d files for good; see the audit trail.") % {"n": purged})
