"""Count the dashboard's figures from scratch and keep them as its tallies."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reports.tallies import tallies_kept, tallies_recount


class Command(BaseCommand):
    help = "Count the dashboard's figures from scratch (after a restore or a bulk load made outside Django)."

    def handle(self, *args, **options):
        if not tallies_kept():
            raise CommandError(_("This database counts the dashboard's figures afresh on every visit."))
        counts = tallies_recount()
        self.stdout.write(_("Counted %(n)d figures from scratch.") % {"n": len(counts)})
