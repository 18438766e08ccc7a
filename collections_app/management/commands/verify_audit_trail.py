"""`manage.py verify_audit_trail`: recompute the audit trail's hash chain and say where it breaks."""

from django.core.management.base import BaseCommand, CommandError

from collections_app.selectors import audit_chain_verify

PROBLEMS = {
    "previous_hash": "its previous_hash does not match the event before it (an event was removed or inserted)",
    "entry_hash": "its contents do not match its hash (the event was changed)",
}


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exits with an error naming the first event that does not fit."

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if not report.intact:
            raise CommandError(
                f"Audit trail broken at event {report.broken_at}: {PROBLEMS[report.problem]}. "
                f"{report.checked} events before it are intact."
            )
        self.stdout.write(f"Audit trail intact: {report.checked} events. Head hash: {report.head_hash or '-'}")
