"""`manage.py restore_version ID...`: bring quarantined files back to main storage, byte-identical."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reports.management.actor import command_actor
from reports.services import ReclaimError, version_restore


class Command(BaseCommand):
    help = "Move quarantined files back to main storage (checked against their SHA-256); each move is audited."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="+", type=int, metavar="ID", help="Version numbers.")
        parser.add_argument("--user", help="Account recorded as the actor (default: the operating-system user).")
        parser.add_argument("--reason", default="", help="Reason written to the audit trail.")

    def handle(self, *args, ids, user=None, reason="", **options):
        actor = command_actor(username=user, command="restore_version")
        errors = []
        for version_id in ids:
            try:
                version = version_restore(version_id=version_id, actor=actor, reason=reason)
            except ReclaimError as exc:
                errors.append(str(exc))
                continue
            self.stdout.write(_("Restored version %(id)d to %(name)s.") % {"id": version.pk, "name": version.file.name})
        if errors:
            raise CommandError("\n".join(errors))
