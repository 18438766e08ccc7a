"""`manage.py verify_statement FILE`: is this PDF a statement this collection issued, unchanged since?"""

import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from collections_app.selectors import audit_chain_verify
from records.statement import statement_find

CHUNK = 1 << 20


class Command(BaseCommand):
    help = "Hash a statement PDF and find the audit event that issued it; exits with an error when there is none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The statement PDF to check.")

    def handle(self, *args, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                sha.update(chunk)
        digest = sha.hexdigest()
        event = statement_find(sha256=digest)
        if event is None:
            raise CommandError(
                f"NOT FOUND: no statement with SHA-256 {digest} was issued by this collection. The file is not one "
                "of its statements, or it was changed after it was issued."
            )
        chain = audit_chain_verify()
        if not chain.intact:
            raise CommandError(
                f"The statement's issue is recorded as audit event {event.pk}, but the audit trail is broken at "
                f"event {chain.broken_at}, so the record cannot be relied on. Run verify_audit_trail."
            )
        after = event.after
        issued = timezone.localtime(event.created_at).isoformat(timespec="seconds")
        self.stdout.write(
            f"VERIFIED: this statement (SHA-256 {digest}) was issued by {event.actor_label} at {issued}, "
            f"audit event {event.pk} (event hash {event.entry_hash}).\n"
            f"It records a check made at {after.get('checked_at')} when the audit trail's head hash was "
            f"{after.get('chain_head') or '-'}, about: {', '.join(after.get('items') or []) or 'no item (no match)'}.\n"
            f"The audit trail is intact ({chain.checked} events)."
        )
