"""manage.py export_premis (--item ID | --from DATE --to DATE) [--output FILE]: the audit trail as PREMIS 3."""

import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from collections_app.models import Item
from collections_app.selectors import item_by_identifier
from records.premis import EmptyLog, item_premis, range_premis
from records.selectors import item_audit_events


class Command(BaseCommand):
    help = "Write the PREMIS 3 event log of one item, or of every audit event between two dates (both included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--item", help="An item identifier or accession number.")
        parser.add_argument("--from", dest="start", type=date.fromisoformat, help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="end", type=date.fromisoformat, help="Last day (YYYY-MM-DD).")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, item, start, end, output, **options) -> None:
        try:
            chunks = self._chunks(item, start, end)
        except EmptyLog as exc:
            raise CommandError(_("No audit event in that range touched an item or a version.")) from exc
        out = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115 (closed below)
        try:
            for chunk in chunks:
                out.write(chunk)
        finally:
            if output:
                out.close()

    def _chunks(self, identifier, start, end):
        if identifier:
            try:
                found = item_by_identifier(identifier=identifier)
            except Item.DoesNotExist as exc:
                raise CommandError(_("No item has this identifier or accession number.")) from exc
            return item_premis(item=found, events=item_audit_events(item=found))
        if not (start and end):
            raise CommandError(_("Give --item, or both --from and --to."))
        if start > end:
            raise CommandError(_("The start date is after the end date."))
        return range_premis(first=start, last=end)
